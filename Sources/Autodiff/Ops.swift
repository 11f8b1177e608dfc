import TensorCore

// The public operations. Each primitive has exactly one entry point here;
// composites (below the MARK) are built from them and have no rules of their own.

public prefix func - <S>(x: Tensor<S>) -> Tensor<S> { .apply1(.negate, x) }
public func + <S>(a: Tensor<S>, b: Tensor<S>) -> Tensor<S> { .apply1(.add, a, b) }
public func - <S>(a: Tensor<S>, b: Tensor<S>) -> Tensor<S> { .apply1(.subtract, a, b) }
public func * <S>(a: Tensor<S>, b: Tensor<S>) -> Tensor<S> { .apply1(.multiply, a, b) }
public func / <S>(a: Tensor<S>, b: Tensor<S>) -> Tensor<S> { .apply1(.divide, a, b) }
public func + <S>(a: Tensor<S>, b: S) -> Tensor<S> { a + Tensor(scalar: b) }
public func - <S>(a: Tensor<S>, b: S) -> Tensor<S> { a - Tensor(scalar: b) }
public func * <S>(a: Tensor<S>, b: S) -> Tensor<S> { a * Tensor(scalar: b) }
public func * <S>(a: S, b: Tensor<S>) -> Tensor<S> { Tensor(scalar: a) * b }
public func / <S>(a: Tensor<S>, b: S) -> Tensor<S> { a / Tensor(scalar: b) }
public func / <S>(a: S, b: Tensor<S>) -> Tensor<S> { Tensor(scalar: a) / b }
public func + <S>(a: S, b: Tensor<S>) -> Tensor<S> { Tensor(scalar: a) + b }
public func - <S>(a: S, b: Tensor<S>) -> Tensor<S> { Tensor(scalar: a) - b }

/// op(a) · op(b) for rank-2 tensors; op is an optional transpose.
public func matmul<S>(_ a: Tensor<S>, _ b: Tensor<S>, transposeA: Bool = false, transposeB: Bool = false) -> Tensor<S> {
    .apply1(.matmul(transposeA: transposeA, transposeB: transposeB), a, b)
}

/// Tensors joined along `axis`.
public func concat<S>(_ parts: [Tensor<S>], axis: Int) -> Tensor<S> {
    require(!parts.isEmpty, "concat needs at least one tensor")
    return Tensor.apply(.concat(axis: Shape.axis(axis, rank: parts[0].rank)), parts)[0]
}

/// 2-D convolution: x [N,C,H,W], w [O,C/groups,KH,KW] → [N,O,Ho,Wo].
public func conv2d<S>(_ x: Tensor<S>, _ w: Tensor<S>, _ geometry: ConvGeometry) -> Tensor<S> {
    .apply1(.conv2d(geometry), x, w)
}

/// The input-gradient of conv2d as a differentiable function of (gy, w).
public func conv2dGradInput<S>(_ gy: Tensor<S>, _ w: Tensor<S>, inputShape: [Int], _ geometry: ConvGeometry) -> Tensor<S> {
    .apply1(.conv2dGradInput(geometry, inputShape: inputShape), gy, w)
}

/// The weight-gradient of conv2d as a differentiable function of (x, gy).
public func conv2dGradWeight<S>(_ x: Tensor<S>, _ gy: Tensor<S>, weightShape: [Int], _ geometry: ConvGeometry) -> Tensor<S> {
    .apply1(.conv2dGradWeight(geometry, weightShape: weightShape), x, gy)
}

/// For each pooling window, the element of `values` where `x` is largest.
public func maxPoolSelect<S>(_ x: Tensor<S>, _ values: Tensor<S>, _ geometry: PoolGeometry) -> Tensor<S> {
    require(x.shape == values.shape, "maxPoolSelect: shapes \(x.shape) and \(values.shape) differ")
    return .apply1(.maxPoolSelect(geometry), x, values)
}

/// `values` where `gate` > 0, else `slope`·`values` (same shapes): leaky
/// ReLU is `leakyReLUGate(x, x)`; piecewise constant in the gate.
public func leakyReLUGate<S>(_ gate: Tensor<S>, _ values: Tensor<S>, slope: S) -> Tensor<S> {
    require(gate.shape == values.shape, "leakyReLUGate: shapes \(gate.shape) and \(values.shape) differ")
    return .apply1(.leakyReLUGate(slope: slope), gate, values)
}

/// Adjoint of `maxPoolSelect` in its values: `grad` placed at each window's maximum of `x`.
public func maxPoolScatter<S>(_ x: Tensor<S>, _ grad: Tensor<S>, _ geometry: PoolGeometry) -> Tensor<S> {
    require(grad.shape == geometry.outputShape(x.shape),
            "maxPoolScatter: gradient \(grad.shape) does not match pooled input \(x.shape) (\(geometry))")
    return .apply1(.maxPoolScatter(geometry), x, grad)
}

/// Average pooling [N,C,H,W] → [N,C,Ho,Wo] (padding counts as zero).
public func avgPool<S>(_ x: Tensor<S>, _ geometry: PoolGeometry) -> Tensor<S> {
    .apply1(.avgPool(geometry), x)
}

/// Transpose of `avgPool`: [N,C,Ho,Wo] → `inputShape`.
public func avgPoolTranspose<S>(_ grad: Tensor<S>, inputShape: [Int], _ geometry: PoolGeometry) -> Tensor<S> {
    .apply1(.avgPoolTranspose(geometry, inputShape: inputShape), grad)
}

/// Gradient checkpointing: runs `body` now without keeping its intermediate
/// values, and runs it again during the backward pass. Memory of a long
/// unroll is then bounded by one block plus the block boundaries.
///
/// `body` must be deterministic and receive every differentiable tensor it
/// uses through `inputs` (a captured tensor would get no gradient). It may
/// itself compute gradients (e.g. inner training steps).
public func checkpoint<S>(_ inputs: [Tensor<S>], _ body: @escaping ([Tensor<S>]) -> [Tensor<S>]) -> [Tensor<S>] {
    Tensor.apply(.checkpoint(body), inputs)
}

extension Tensor {
    public func exp() -> Tensor { .apply1(.exp, self) }
    public func log() -> Tensor { .apply1(.log, self) }

    /// Sum over `axes`, kept as size-1 axes.
    public func sum(axes: [Int]) -> Tensor {
        .apply1(.sum(axes: axes.map { Shape.axis($0, rank: rank) }), self)
    }

    /// Broadcast to `shape` (NumPy rules).
    public func expanded(to shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        _ = Shape.broadcast(self.shape, shape)
        return .apply1(.expand(to: shape), self)
    }

    public func reshaped(_ shape: [Int]) -> Tensor {
        if self.shape == shape { return self }
        require(Shape.count(shape) == value.count, "cannot reshape \(self.shape) to \(shape)")
        return .apply1(.reshape(to: shape), self)
    }

    /// Result axis i is input axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor { .apply1(.permute(permutation), self) }

    /// Pieces of `sizes` along `axis`.
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        Tensor.apply(.split(axis: Shape.axis(axis, rank: rank), sizes: sizes), [self])
    }

    /// Reflection padding of the last two axes ([a b c] by 1 → [b a b c b]):
    /// [..., H, W] → [..., H+2a, W+2a].
    public func reflectionPadded(_ amount: Int) -> Tensor {
        amount == 0 ? self : .apply1(.reflectionPad(amount: amount), self)
    }

    /// Adjoint of `reflectionPadded`: [..., H+2a, W+2a] → [..., H, W].
    public func reflectionPadAdjoint(_ amount: Int) -> Tensor {
        amount == 0 ? self : .apply1(.reflectionPadAdjoint(amount: amount), self)
    }

    // MARK: - Composites (no rules of their own)

    /// Sum of all elements, rank 0.
    public func sum() -> Tensor { sum(axes: Array(0..<rank)).reshaped([]) }

    /// Mean over `axes`, kept as size-1 axes.
    public func mean(axes: [Int]) -> Tensor {
        let n = axes.reduce(1) { $0 * shape[Shape.axis($1, rank: rank)] }
        return sum(axes: axes) / S(n)
    }

    /// Mean of all elements, rank 0.
    public func mean() -> Tensor { sum() / S(value.count) }

    public func squareRoot() -> Tensor { (log() * 0.5).exp() }

    /// 1 / (1 + e⁻ˣ), computed from e^(−|x|) so nothing overflows (a naive
    /// exp(−x) reaches ∞ for x < −88 in Float32, and its rule then yields 0·∞).
    public func sigmoid() -> Tensor {
        let positive = Tensor(value.mask(ifNonNegative: 1, ifNegative: 0))
        let e = (self * (1 - positive * 2)).exp()         // e^(−|x|) ≤ 1
        return (positive + (1 - positive) * e) / (1 + e)
    }

    /// (1 − e^(−2|x|)) / (1 + e^(−2|x|)) with the sign of x (no overflow; see `sigmoid`).
    public func tanh() -> Tensor {
        let sign = Tensor(value.mask(ifNonNegative: 1, ifNegative: -1))
        let e = (self * sign * -2).exp()
        return sign * (1 - e) / (1 + e)
    }

    /// x where x > 0, slope·x elsewhere: x gated by itself (zero second derivative).
    public func leakyReLU(slope: S) -> Tensor { leakyReLUGate(self, self, slope: slope) }

    /// Nearest-neighbour upsampling of [N,C,H,W] by an integer factor: the
    /// transpose of average pooling over factor×factor blocks, times factor².
    public func upsampledNearest(_ factor: Int) -> Tensor {
        require(rank == 4 && factor >= 1, "upsampledNearest needs [N,C,H,W] and a factor ≥ 1, got \(shape), \(factor)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return avgPoolTranspose(self * S(factor * factor), inputShape: [n, c, h * factor, w * factor],
                                PoolGeometry(kernel: factor, stride: factor))
    }

    /// Max pooling: `maxPoolSelect(x, x)`.
    public func maxPooled(_ geometry: PoolGeometry) -> Tensor { maxPoolSelect(self, self, geometry) }

    /// Log-softmax over axis 1 of [N, classes] (stabilised by the row maximum, a constant).
    public func logSoftmax() -> Tensor {
        require(rank == 2, "logSoftmax needs [N, classes], got \(shape)")
        let shifted = self - Tensor(value.max(axis: 1))
        return shifted - shifted.exp().sum(axes: [1]).log()
    }
}
