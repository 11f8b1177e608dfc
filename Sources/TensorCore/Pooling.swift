import CDirectConv

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

    /// Stride 1 with the window centred (kernel 2·padding + 1): the output
    /// has the input's size, and average pooling is its own transpose.
    var keepsSize: Bool { stride == 1 && kernel == 2 * padding + 1 }

    /// Windows side by side without overlap or padding that cover input
    /// [N, C, H, W] exactly (stride = kernel, which divides H and W).
    func tiles(_ x: [Int]) -> Bool {
        stride == kernel && padding == 0 && x.count == 4 && x[2] % kernel == 0 && x[3] % kernel == 0
    }

    /// Output shape for input [N, C, H, W].
    public func outputShape(_ x: [Int]) -> [Int] {
        require(x.count == 4, "pooling needs input [N,C,H,W], got \(x)")
        let ho = (x[2] + 2 * padding - kernel) / stride + 1
        let wo = (x[3] + 2 * padding - kernel) / stride + 1
        require(ho > 0 && wo > 0, "pooling window (\(self)) larger than padded input \(x)")
        return [x[0], x[1], ho, wo]
    }

    /// The in-bounds input indices of each of `outputs` windows along one
    /// side of `side` elements.
    func windows(outputs: Int, side: Int) -> [Range<Int>] {
        (0..<outputs).map { o in
            let start = o * stride - padding
            return Swift.max(start, 0)..<Swift.min(start + kernel, side)
        }
    }

    /// Calls `body(outputIndex, planeOffset, rows, columns)` for every output
    /// position of the planes in `planes` (of the N·C of input `x`), with the
    /// in-bounds rows and columns of its window.
    @inline(__always)
    func forEachWindow(_ x: [Int], planes: Range<Int>, _ body: (Int, Int, Range<Int>, Range<Int>) -> Void) {
        let out = outputShape(x)
        let rows = windows(outputs: out[2], side: x[2]), columns = windows(outputs: out[3], side: x[3])
        var o = planes.lowerBound * rows.count * columns.count
        for plane in planes {
            let offset = plane * x[2] * x[3]
            for window in rows {
                for columnWindow in columns {
                    body(o, offset, window, columnWindow)
                    o += 1
                }
            }
        }
    }
}

/// Runs `body(planes)` over the N·C planes of an [N,C,H,W] array split over
/// the workers (`parallelRanges`, an item being a plane of H·W elements).
@inline(__always)
func parallelPlanes(_ shape: [Int], _ body: @Sendable (_ planes: Range<Int>) -> Void) {
    parallelRanges(shape[0] * shape[1], itemSize: shape[2] * shape[3], body)
}

extension NDArray {
    /// Flat index into `x` [N,C,H,W] of the first maximum (in row-major
    /// order) of each pooling window: the positions max pooling selects,
    /// [N·C·Ho·Wo]. Separable: each input row's first maximum over every
    /// output column's window, then the first of those over the window's
    /// rows; for inputs without NaN, the same positions as scanning each
    /// window in row-major order. Float32 runs CDirectConv's vector loops
    /// (the same positions), other types the loops below.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func maxPoolPositions(_ x: NDArray, _ g: PoolGeometry) -> [Int32] {
        require(x.count <= Int(Int32.max), "max pooling of \(x.count) elements needs 64-bit positions")
        if S.self == Float.self { return NDArray<Float>.vectorMaxPoolPositions(x as! NDArray<Float>, g) }
        return scalarMaxPoolPositions(x, g)
    }

    /// Max pooling [N,C,H,W] → [N,C,Ho,Wo]: each window's first maximum, the
    /// same values as `maxPoolSelect(x, positions: maxPoolPositions(x, g), …)`,
    /// without the positions when the values are all a forward pass needs.
    /// Float32 runs CDirectConv's vector loops.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func maxPool(_ x: NDArray, _ g: PoolGeometry) -> NDArray {
        if S.self == Float.self { return NDArray<Float>.vectorMaxPool(x as! NDArray<Float>, g) as! NDArray }
        return maxPoolSelect(x, positions: maxPoolPositions(x, g), outputShape: g.outputShape(x.shape))
    }

    /// `maxPoolPositions` by the generic scalar loops.
    static func scalarMaxPoolPositions(_ x: NDArray, _ g: PoolGeometry) -> [Int32] {
        let outShape = g.outputShape(x.shape)
        let (h, w, ho, wo) = (x.shape[2], x.shape[3], outShape[2], outShape[3])
        let rows = g.windows(outputs: ho, side: h), columns = g.windows(outputs: wo, side: w)
        var result = [Int32](repeating: 0, count: Shape.count(outShape))
        x.data.withUnsafeBufferPointer { xb in
            result.withUnsafeMutableBufferPointer { rb in
                guard let (xp, rp) = sharedPointers(xb, rb) else { return }
                parallelPlanes(x.shape) { planes in
                    // Per input row y: the maximum of output column ox's window and its column, at y·Wo + ox.
                    let rowMaximum = UnsafeMutablePointer<S>.allocate(capacity: h * wo)
                    let rowArgmax = UnsafeMutablePointer<Int32>.allocate(capacity: h * wo)
                    defer { rowMaximum.deallocate(); rowArgmax.deallocate() }
                    for plane in planes {
                        let input = xp.base + plane * h * w
                        for y in 0..<h {
                            for (ox, window) in columns.enumerated() {
                                let (column, value) = firstMaximum(input + y * w, window, step: 1)
                                (rowMaximum[y * wo + ox], rowArgmax[y * wo + ox]) = (value, Int32(truncatingIfNeeded: column))
                            }
                        }
                        let output = rp.base + plane * ho * wo, planeOffset = Int32(truncatingIfNeeded: plane * h * w)
                        for oy in 0..<ho {
                            let window = rows[oy]
                            for ox in 0..<wo {
                                let bestRow = firstMaximum(rowMaximum + ox, window, step: wo).index
                                output[oy * wo + ox] = planeOffset &+ Int32(truncatingIfNeeded: bestRow * w) &+ rowArgmax[bestRow * wo + ox]
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The first maximum of `values[i·step]` over the indices `indices` (not
    /// empty), and its index. Kept in registers and chosen by selects, not
    /// branches: which element wins is data, not a pattern to predict.
    @inline(__always)
    private static func firstMaximum(_ values: UnsafePointer<S>, _ indices: Range<Int>, step: Int) -> (index: Int, value: S) {
        var best = indices.lowerBound, bestValue = values[best * step]
        for i in indices.dropFirst() {
            let value = values[i * step], larger = value > bestValue
            best = larger ? i : best
            bestValue = larger ? value : bestValue
        }
        return (best, bestValue)
    }

    /// The elements of `values` at `positions` (from `maxPoolPositions` of some
    /// x [N,C,H,W]), shaped `outputShape` [N,C,Ho,Wo]: with x's own positions
    /// (`values` = x) this is max pooling.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func maxPoolSelect(_ values: NDArray, positions: [Int32], outputShape: [Int]) -> NDArray {
        require(positions.count == Shape.count(outputShape),
                "maxPoolSelect: \(positions.count) positions for output \(outputShape)")
        var out = [S](overwrittenCount: positions.count)
        values.data.withUnsafeBufferPointer { vb in positions.withUnsafeBufferPointer { pb in out.withUnsafeMutableBufferPointer { ob in
            guard let (pp, op) = sharedPointers(pb, ob), let vp = vb.baseAddress.map(SharedPointer.init) else { return }
            parallelRanges(ob.count) { items in
                for o in items { op.base[o] = vp.base[Int(pp.base[o])] }
            }
        } } }
        return NDArray(shape: outputShape, data: out)
    }

    /// Adjoint of `maxPoolSelect` in `values`: each element of `grad`
    /// [N,C,Ho,Wo] added at its position in a zero array of `inputShape`
    /// [N,C,H,W]. Positions of a plane's outputs lie in the same plane.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func maxPoolScatter(_ grad: NDArray, positions: [Int32], inputShape: [Int]) -> NDArray {
        require(positions.count == grad.count, "maxPoolScatter: \(positions.count) positions for gradient \(grad.shape)")
        require(inputShape.count == 4 && grad.rank == 4 && grad.shape[0] * grad.shape[1] == inputShape[0] * inputShape[1],
                "maxPoolScatter: gradient \(grad.shape) for input \(inputShape)")
        var out = [S](overwrittenCount: Shape.count(inputShape))
        let (planeIn, planeOut) = (inputShape[2] * inputShape[3], grad.shape[2] * grad.shape[3])
        grad.data.withUnsafeBufferPointer { gb in
            out.withUnsafeMutableBufferPointer { ob in
                positions.withUnsafeBufferPointer { pb in
                    guard let (gp, op) = sharedPointers(gb, ob), let pp = pb.baseAddress.map(SharedPointer.init) else { return }
                    parallelPlanes(inputShape) { planes in
                        (op.base + planes.lowerBound * planeIn).update(repeating: 0, count: planes.count * planeIn)
                        for o in (planes.lowerBound * planeOut)..<(planes.upperBound * planeOut) {
                            op.base[Int(pp.base[o])] += gp.base[o]
                        }
                    }
                }
            }
        }
        return NDArray(shape: inputShape, data: out)
    }

    /// Average pooling (padding counts as zero; divisor kernel²). [N,C,H,W] → [N,C,Ho,Wo].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func avgPool(_ x: NDArray, _ g: PoolGeometry) -> NDArray {
        if g.keepsSize { return boxAverage(x, g) }
        let outShape = g.outputShape(x.shape)
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](overwrittenCount: Shape.count(outShape))
        let w = x.shape[3]
        x.data.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                guard let (xp, op) = sharedPointers(xb, ob) else { return }
                parallelPlanes(x.shape) { planes in
                    g.forEachWindow(x.shape, planes: planes) { o, offset, rows, columns in
                        var acc: S = 0
                        for iy in rows { for ix in columns { acc += xp.base[offset + iy * w + ix] } }
                        op.base[o] = acc * scale
                    }
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
        // A same-size window is symmetric about its centre: the transpose is the same average.
        if g.keepsSize { return boxAverage(grad, g) }
        if g.tiles(inputShape) { return tileSpread(grad, inputShape: inputShape, g) }
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](overwrittenCount: Shape.count(inputShape))
        let (w, plane) = (inputShape[3], inputShape[2] * inputShape[3])
        grad.data.withUnsafeBufferPointer { gb in
            out.withUnsafeMutableBufferPointer { ob in
                guard let (gp, op) = sharedPointers(gb, ob) else { return }
                parallelPlanes(inputShape) { planes in
                    (op.base + planes.lowerBound * plane).update(repeating: 0, count: planes.count * plane)
                    g.forEachWindow(inputShape, planes: planes) { o, offset, rows, columns in
                        let v = gp.base[o] * scale
                        for iy in rows { for ix in columns { op.base[offset + iy * w + ix] += v } }
                    }
                }
            }
        }
        return NDArray(shape: inputShape, data: out)
    }

    /// `avgPoolTranspose` for windows that tile the input (`tiles`): each
    /// input element is written once, with its window's gradient / kernel²
    /// (nearest-neighbour upsampling, scaled). grad [N,C,Ho,Wo] → `inputShape`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func tileSpread(_ grad: NDArray, inputShape: [Int], _ g: PoolGeometry) -> NDArray {
        let (k, ho, wo) = (g.kernel, grad.shape[2], grad.shape[3])
        let scale = 1 / S(k * k)
        var out = [S](overwrittenCount: Shape.count(inputShape))
        grad.data.withUnsafeBufferPointer { gb in
            out.withUnsafeMutableBufferPointer { ob in
                guard let (gp, op) = sharedPointers(gb, ob) else { return }
                parallelPlanes(inputShape) { planes in
                    for plane in planes {
                        for oy in 0..<ho {
                            let source = UnsafePointer(gp.base) + (plane * ho + oy) * wo
                            let first = op.base + (plane * ho + oy) * k * wo * k
                            for ox in 0..<wo {
                                let v = source[ox] * scale
                                for kx in 0..<k { first[ox * k + kx] = v }
                            }
                            for ky in 1..<k { (first + ky * wo * k).update(from: first, count: wo * k) }
                        }
                    }
                }
            }
        }
        return NDArray(shape: inputShape, data: out)
    }

    /// Average pooling of a same-size geometry (`keepsSize`) as two passes of
    /// running sums, along rows and then along columns: 2k additions per
    /// element instead of k², in loops over whole rows. [N,C,H,W] → [N,C,H,W].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func boxAverage(_ x: NDArray, _ g: PoolGeometry) -> NDArray {
        _ = g.outputShape(x.shape)
        let (h, w, r) = (x.shape[2], x.shape[3], g.padding)
        let scale = 1 / S(g.kernel * g.kernel)
        var out = [S](overwrittenCount: x.count)
        x.data.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                guard let (xp, op) = sharedPointers(xb, ob) else { return }
                parallelPlanes(x.shape) { planes in
                    let t = UnsafeMutablePointer<S>.allocate(capacity: h * w)
                    defer { t.deallocate() }
                    for plane in planes {
                        let src = UnsafePointer(xp.base) + plane * h * w, dst = op.base + plane * h * w
                        // Along each row: t[y, i] = Σ x[y, i+d] for |d| ≤ r, inside the row.
                        t.update(from: src, count: h * w)
                        for y in 0..<h {
                            let (line, row) = (src + y * w, t + y * w)
                            for d in Swift.stride(from: 1, through: Swift.min(r, w - 1), by: 1) {
                                for i in 0..<(w - d) { row[i] += line[i + d] }
                                for i in d..<w { row[i] += line[i - d] }
                            }
                        }
                        // Along each column: out[y] = Σ t[y+d] for |d| ≤ r, inside the image; then scale.
                        dst.update(repeating: 0, count: h * w)
                        for y in 0..<h {
                            let row = dst + y * w
                            for d in Swift.max(-r, -y)...Swift.min(r, h - 1 - y) {
                                let other = t + (y + d) * w
                                for i in 0..<w { row[i] += other[i] }
                            }
                            for i in 0..<w { row[i] *= scale }
                        }
                    }
                }
            }
        }
        return NDArray(shape: x.shape, data: out)
    }
}

extension NDArray<Float> {
    /// `maxPoolPositions` of Float32 `x` by CDirectConv's `code` instance.
    static func vectorMaxPoolPositions(_ x: NDArray, _ g: PoolGeometry, _ code: DirectKernelCode = .fastest) -> [Int32] {
        var result = [Int32](repeating: 0, count: Shape.count(g.outputShape(x.shape)))
        result.withUnsafeMutableBufferPointer { rb in
            guard let rp = rb.baseAddress.map(SharedPointer.init) else { return }
            forEachPoolShare(x, g) { shape, planes, input, scratch in
                dc_max_pool_positions(code.code, shape, planes.lowerBound, planes.count, input, rp.base, scratch)
            }
        }
        return result
    }

    /// `maxPool` of Float32 `x` by CDirectConv's `code` instance.
    static func vectorMaxPool(_ x: NDArray, _ g: PoolGeometry, _ code: DirectKernelCode = .fastest) -> NDArray {
        let outShape = g.outputShape(x.shape)
        var result = [Float](overwrittenCount: Shape.count(outShape))
        result.withUnsafeMutableBufferPointer { rb in
            guard let rp = rb.baseAddress.map(SharedPointer.init) else { return }
            forEachPoolShare(x, g) { shape, planes, input, scratch in
                dc_max_pool_values(code.code, shape, planes.lowerBound, planes.count, input, rp.base, scratch)
            }
        }
        return NDArray(shape: outShape, data: result)
    }

    /// Runs `body(shape, planes, x, scratch)` on each worker's share of the
    /// planes of `x` [N,C,H,W] (`parallelPlanes`), with the C kernels' plane
    /// shape for `g` and scratch of the worker's own.
    private static func forEachPoolShare(_ x: NDArray, _ g: PoolGeometry,
                                         _ body: @Sendable (UnsafePointer<dc_pool_shape>, Range<Int>, UnsafePointer<Float>,
                                                            UnsafeMutableRawPointer) -> Void) {
        let outShape = g.outputShape(x.shape)
        var shape = dc_pool_shape(height: x.shape[2], width: x.shape[3], kernel: g.kernel, stride: g.stride, padding: g.padding,
                                  output_height: outShape[2], output_width: outShape[3])
        let (planeShape, scratchBytes) = (shape, dc_max_pool_scratch_bytes(&shape))
        x.data.withUnsafeBufferPointer { xb in
            guard let xp = xb.baseAddress.map(SharedPointer.init) else { return }
            parallelPlanes(x.shape) { planes in
                var s = planeShape
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
                defer { scratch.deallocate() }
                body(&s, planes, xp.base, scratch)
            }
        }
    }
}
