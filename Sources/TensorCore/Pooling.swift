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

    /// Calls `body(outputIndex, planeOffset, rows, columns)` for every output
    /// position, with the in-bounds rows and columns of its window.
    @inline(__always)
    func forEachWindow(_ x: [Int], _ body: (Int, Int, Range<Int>, Range<Int>) -> Void) {
        let out = outputShape(x)
        let (h, w, ho, wo) = (x[2], x[3], out[2], out[3])
        var o = 0
        for plane in 0..<(x[0] * x[1]) {
            let offset = plane * h * w
            for oy in 0..<ho {
                let y0 = oy * stride - padding
                let rows = Swift.max(y0, 0)..<Swift.min(y0 + kernel, h)
                for ox in 0..<wo {
                    let x0 = ox * stride - padding
                    body(o, offset, rows, Swift.max(x0, 0)..<Swift.min(x0 + kernel, w))
                    o += 1
                }
            }
        }
    }
}

extension NDArray {
    /// Flat index into `x` of the first maximum of each pooling window.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func windowArgmax(_ x: NDArray, _ g: PoolGeometry) -> [Int] {
        var result = [Int](repeating: 0, count: Shape.count(g.outputShape(x.shape)))
        let w = x.shape[3]
        x.data.withUnsafeBufferPointer { xb in
            result.withUnsafeMutableBufferPointer { rb in
                g.forEachWindow(x.shape) { o, offset, rows, columns in
                    var best = offset + rows.lowerBound * w + columns.lowerBound
                    var bestValue = xb[best]
                    for iy in rows {
                        let row = offset + iy * w
                        for ix in columns where xb[row + ix] > bestValue {
                            bestValue = xb[row + ix]
                            best = row + ix
                        }
                    }
                    rb[o] = best
                }
            }
        }
        return result
    }

    /// For each pooling window, the element of `values` at the position of the
    /// maximum of `x` in that window. `maxPoolSelect(x, x)` is max pooling.
    /// x, values [N,C,H,W] → [N,C,Ho,Wo].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func maxPoolSelect(_ x: NDArray, _ values: NDArray, _ g: PoolGeometry) -> NDArray {
        require(x.shape == values.shape, "maxPoolSelect: shapes \(x.shape) and \(values.shape) differ")
        let outShape = g.outputShape(x.shape)
        let argmax = windowArgmax(x, g)
        let out = values.data.withUnsafeBufferPointer { vb in argmax.map { vb[$0] } }
        return NDArray(shape: outShape, data: out)
    }

    /// Adjoint of `maxPoolSelect` in `values`: adds each element of `g`
    /// [N,C,Ho,Wo] at the position of its window's maximum of x [N,C,H,W].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func maxPoolScatter(_ x: NDArray, _ grad: NDArray, _ g: PoolGeometry) -> NDArray {
        require(grad.shape == g.outputShape(x.shape),
                     "maxPoolScatter: gradient \(grad.shape) does not match pooled input \(x.shape) (\(g))")
        var out = [S](repeating: 0, count: x.count)
        let argmax = windowArgmax(x, g)
        grad.data.withUnsafeBufferPointer { gb in
            out.withUnsafeMutableBufferPointer { ob in
                for (o, i) in argmax.enumerated() { ob[i] += gb[o] }
            }
        }
        return NDArray(shape: x.shape, data: out)
    }

    /// Average pooling (padding counts as zero; divisor kernel²). [N,C,H,W] → [N,C,Ho,Wo].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func avgPool(_ x: NDArray, _ g: PoolGeometry) -> NDArray {
        let outShape = g.outputShape(x.shape)
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](overwrittenCount: Shape.count(outShape))
        let w = x.shape[3]
        x.data.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                g.forEachWindow(x.shape) { o, offset, rows, columns in
                    var acc: S = 0
                    for iy in rows { for ix in columns { acc += xb[offset + iy * w + ix] } }
                    ob[o] = acc * scale
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Transpose of `avgPool`: spreads each gradient element over its window.
    /// grad [N,C,Ho,Wo] → `inputShape`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func avgPoolTranspose(_ grad: NDArray, inputShape: [Int], _ g: PoolGeometry) -> NDArray {
        require(grad.shape == g.outputShape(inputShape),
                     "avgPoolTranspose: gradient \(grad.shape) does not match input \(inputShape) (\(g))")
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](repeating: 0, count: Shape.count(inputShape))
        let w = inputShape[3]
        grad.data.withUnsafeBufferPointer { gb in
            out.withUnsafeMutableBufferPointer { ob in
                g.forEachWindow(inputShape) { o, offset, rows, columns in
                    let v = gb[o] * scale
                    for iy in rows { for ix in columns { ob[offset + iy * w + ix] += v } }
                }
            }
        }
        return NDArray(shape: inputShape, data: out)
    }
}
