/// Square pooling window: kernel size, stride and symmetric padding.
/// Padding never wins a max and counts as zero in an average.
public struct PoolGeometry: Hashable, Sendable, CustomStringConvertible {
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public init(kernel: Int, stride: Int, padding: Int = 0) {
        require(kernel >= 1 && stride >= 1 && padding >= 0 && padding < kernel,
                     "invalid pooling geometry kernel \(kernel) stride \(stride) padding \(padding)")
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    public var description: String { "kernel \(kernel), stride \(stride), padding \(padding)" }

    /// Output shape for input [N, C, H, W].
    public func outputShape(_ x: [Int]) -> [Int] {
        require(x.count == 4, "pooling needs input [N,C,H,W], got \(x)")
        let ho = (x[2] + 2 * padding - kernel) / stride + 1
        let wo = (x[3] + 2 * padding - kernel) / stride + 1
        require(ho > 0 && wo > 0, "pooling window (\(self)) larger than padded input \(x)")
        return [x[0], x[1], ho, wo]
    }

    /// Calls `body(outputIndex, inputIndices)` for every output position, with
    /// the flat indices of the in-bounds window elements.
    @inline(__always)
    func forEachWindow(_ x: [Int], _ body: (Int, UnsafeBufferPointer<Int>) -> Void) {
        let out = outputShape(x)
        let (h, w, ho, wo) = (x[2], x[3], out[2], out[3])
        var window = [Int](repeating: 0, count: kernel * kernel)
        window.withUnsafeMutableBufferPointer { win in
            var o = 0
            for plane in 0..<(x[0] * x[1]) {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var used = 0
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride - padding + kx
                                if ix < 0 || ix >= w { continue }
                                win[used] = (plane * h + iy) * w + ix
                                used += 1
                            }
                        }
                        body(o, UnsafeBufferPointer(rebasing: win[0..<used]))
                        o += 1
                    }
                }
            }
        }
    }
}

extension NDArray {
    /// Index of the first maximum of `x` within each pooling window.
    @inline(__always)
    private static func windowArgmax(_ x: NDArray, _ g: PoolGeometry, _ body: (Int, Int) -> Void) {
        x.data.withUnsafeBufferPointer { xb in
            g.forEachWindow(x.shape) { o, window in
                var best = window[0]
                for i in window.dropFirst() where xb[i] > xb[best] { best = i }
                body(o, best)
            }
        }
    }

    /// For each pooling window, the element of `values` at the position of the
    /// maximum of `x` in that window. `maxPoolSelect(x, x)` is max pooling.
    /// x, values [N,C,H,W] → [N,C,Ho,Wo].
    @_specialize(exported: true, where S == Float)
    @_specialize(exported: true, where S == Double)
    public static func maxPoolSelect(_ x: NDArray, _ values: NDArray, _ g: PoolGeometry) -> NDArray {
        require(x.shape == values.shape, "maxPoolSelect: shapes \(x.shape) and \(values.shape) differ")
        let outShape = g.outputShape(x.shape)
        var out = [S](repeating: 0, count: Shape.count(outShape))
        windowArgmax(x, g) { o, i in out[o] = values.data[i] }
        return NDArray(shape: outShape, data: out)
    }

    /// Adjoint of `maxPoolSelect` in `values`: adds each element of `g`
    /// [N,C,Ho,Wo] at the position of its window's maximum of x [N,C,H,W].
    @_specialize(exported: true, where S == Float)
    @_specialize(exported: true, where S == Double)
    public static func maxPoolScatter(_ x: NDArray, _ grad: NDArray, _ g: PoolGeometry) -> NDArray {
        require(grad.shape == g.outputShape(x.shape),
                     "maxPoolScatter: gradient \(grad.shape) does not match pooled input \(x.shape) (\(g))")
        var out = [S](repeating: 0, count: x.count)
        windowArgmax(x, g) { o, i in out[i] += grad.data[o] }
        return NDArray(shape: x.shape, data: out)
    }

    /// Average pooling (padding counts as zero; divisor kernel²). [N,C,H,W] → [N,C,Ho,Wo].
    @_specialize(exported: true, where S == Float)
    @_specialize(exported: true, where S == Double)
    public static func avgPool(_ x: NDArray, _ g: PoolGeometry) -> NDArray {
        let outShape = g.outputShape(x.shape)
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](repeating: 0, count: Shape.count(outShape))
        x.data.withUnsafeBufferPointer { xb in
            g.forEachWindow(x.shape) { o, window in
                var acc: S = 0
                for i in window { acc += xb[i] }
                out[o] = acc * scale
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Transpose of `avgPool`: spreads each gradient element over its window.
    /// grad [N,C,Ho,Wo] → `inputShape`.
    @_specialize(exported: true, where S == Float)
    @_specialize(exported: true, where S == Double)
    public static func avgPoolTranspose(_ grad: NDArray, inputShape: [Int], _ g: PoolGeometry) -> NDArray {
        require(grad.shape == g.outputShape(inputShape),
                     "avgPoolTranspose: gradient \(grad.shape) does not match input \(inputShape) (\(g))")
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](repeating: 0, count: Shape.count(inputShape))
        grad.data.withUnsafeBufferPointer { gb in
            g.forEachWindow(inputShape) { o, window in
                let v = gb[o] * scale
                for i in window { out[i] += v }
            }
        }
        return NDArray(shape: inputShape, data: out)
    }
}
