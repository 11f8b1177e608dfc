/// Binary elementwise operations with NumPy broadcasting.
public enum BinaryOperator: Sendable {
    case add, subtract, multiply, divide
}

/// Unary elementwise operations.
public enum UnaryOperator: Sendable {
    case negate, exp, log
}

extension NDArray {
    /// `op(self, other)` elementwise; the result has the broadcast shape.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func applying(_ op: BinaryOperator, _ other: NDArray) -> NDArray {
        switch op {
        case .add: return zipBroadcast(other, Sum())
        case .subtract: return zipBroadcast(other, Difference())
        case .multiply: return zipBroadcast(other, Product())
        case .divide: return zipBroadcast(other, Quotient())
        }
    }

    /// `op(self)` elementwise.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func applying(_ op: UnaryOperator) -> NDArray {
        switch op {
        case .negate: return map(Negation())
        case .exp: return map(Exponential())
        case .log: return map(Logarithm())
        }
    }

    /// `f` of each element (same shape), split over the workers when large.
    @inline(__always)
    func map<F: UnaryElementFunction>(_ f: F) -> NDArray where F.S == S {
        var out = [S](overwrittenCount: count)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let (a, o) = sharedPointers(src, dst) else { return }
                parallelRanges(dst.count) { items in
                    for i in items { o.base[i] = f(a.base[i]) }
                }
            }
        }
        return NDArray(shape: shape, data: out)
    }

    /// `f(self, other)` elementwise over the broadcast shape, split over the
    /// workers when large.
    @inline(__always)
    func zipBroadcast<F: BinaryElementFunction>(_ other: NDArray, _ f: F) -> NDArray where F.S == S {
        let outShape = shape == other.shape ? shape : Shape.broadcast(shape, other.shape)
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { ab in
            other.data.withUnsafeBufferPointer { bb in
                out.withUnsafeMutableBufferPointer { ob in
                    guard let (a, o) = sharedPointers(ab, ob), let b = bb.baseAddress.map(SharedPointer.init) else { return }
                    if count == ob.count && other.count == ob.count {
                        parallelRanges(ob.count) { items in
                            for i in items { o.base[i] = f(a.base[i], b.base[i]) }
                        }
                    } else if other.count == 1 {
                        let y = b.base[0]
                        parallelRanges(ob.count) { items in
                            for i in items { o.base[i] = f(a.base[i], y) }
                        }
                    } else if count == 1 {
                        let x = a.base[0]
                        parallelRanges(ob.count) { items in
                            for i in items { o.base[i] = f(x, b.base[i]) }
                        }
                    } else {
                        let (rows, strides) = Shape.coalesced(outShape, [Shape.broadcastStrides(shape, to: outShape),
                                                                         Shape.broadcastStrides(other.shape, to: outShape),
                                                                         Shape.strides(outShape)])
                        let n = rows.last!
                        let ia = strides[0].last!, ib = strides[1].last!
                        parallelForEachRow(shape: rows, strides: strides) { off in
                            let (pa, pb, po) = (a.base + off[0], b.base + off[1], o.base + off[2])
                            switch (ia, ib) {
                            case (1, 0):
                                let y = pb[0]
                                for j in 0..<n { po[j] = f(pa[j], y) }
                            case (0, 1):
                                let x = pa[0]
                                for j in 0..<n { po[j] = f(x, pb[j]) }
                            default:
                                for j in 0..<n { po[j] = f(pa[j * ia], pb[j * ib]) }
                            }
                        }
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// `self` read as if broadcast to `target` (a materialised copy).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func expanded(to target: [Int]) -> NDArray {
        if shape == target { return self }
        return gathered(shape: target, sourceStrides: Shape.broadcastStrides(shape, to: target))
    }

    /// `values` where this array (the gate, same shape) is > 0, else
    /// `slope`·`values`: leaky ReLU of x is x gated by x, and its derivative
    /// rule is the incoming gradient gated by x.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func leakyReLUGating(_ values: NDArray, slope: S) -> NDArray {
        require(shape == values.shape, "leaky ReLU gate \(shape) for values \(values.shape)")
        return zipBroadcast(values, LeakyReLUGate(negativeSlope: slope))
    }

    /// `ifNonNegative` where the element is ≥ 0, else `ifNegative` (e.g. sign masks).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func mask(ifNonNegative: S, ifNegative: S) -> NDArray {
        map(SignChoice(ifNonNegative: ifNonNegative, ifNegative: ifNegative))
    }
}

// Elementwise functions as types rather than closures: the loops of `map` and
// `zipBroadcast` run in closures handed to the workers, and only a generic
// parameter (not a captured closure) gets each loop compiled, and vectorised,
// for its function.

/// A function of one element.
protocol UnaryElementFunction: Sendable {
    associatedtype S: TensorScalar
    func callAsFunction(_ x: S) -> S
}

/// A function of two elements.
protocol BinaryElementFunction: Sendable {
    associatedtype S: TensorScalar
    func callAsFunction(_ x: S, _ y: S) -> S
}

private struct Sum<S: TensorScalar>: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S, _ y: S) -> S { x + y }
}
private struct Difference<S: TensorScalar>: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S, _ y: S) -> S { x - y }
}
private struct Product<S: TensorScalar>: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S, _ y: S) -> S { x * y }
}
private struct Quotient<S: TensorScalar>: BinaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S, _ y: S) -> S { x / y }
}
private struct Negation<S: TensorScalar>: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S) -> S { -x }
}
private struct Exponential<S: TensorScalar>: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S) -> S { S.exp(x) }
}
private struct Logarithm<S: TensorScalar>: UnaryElementFunction {
    @inline(__always) func callAsFunction(_ x: S) -> S { S.log(x) }
}
/// y where the gate x > 0, else the negative slope times y.
private struct LeakyReLUGate<S: TensorScalar>: BinaryElementFunction {
    let negativeSlope: S
    @inline(__always) func callAsFunction(_ x: S, _ y: S) -> S { x > 0 ? y : y * negativeSlope }
}
/// One value for x ≥ 0, another for x < 0.
private struct SignChoice<S: TensorScalar>: UnaryElementFunction {
    let ifNonNegative: S, ifNegative: S
    @inline(__always) func callAsFunction(_ x: S) -> S { x >= 0 ? ifNonNegative : ifNegative }
}
