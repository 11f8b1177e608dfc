/// Stride, symmetric zero padding and channel groups of a 2-D convolution.
/// `groups == inputChannels` gives a depthwise convolution.
public struct ConvGeometry: Hashable, Sendable, CustomStringConvertible {
    public var stride: Int
    public var padding: Int
    public var groups: Int

    public init(stride: Int = 1, padding: Int = 0, groups: Int = 1) {
        require(stride >= 1 && padding >= 0 && groups >= 1,
                     "invalid convolution geometry stride \(stride) padding \(padding) groups \(groups)")
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    public var description: String { "stride \(stride), padding \(padding), groups \(groups)" }

    /// Output spatial size for an input size and kernel size.
    public func outputSize(_ input: Int, kernel: Int) -> Int { (input + 2 * padding - kernel) / stride + 1 }

    /// Output shape [N, O, Ho, Wo] of input [N, C, H, W] with weight [O, C/groups, KH, KW].
    public func outputShape(input x: [Int], weight w: [Int]) -> [Int] {
        require(x.count == 4 && w.count == 4,
                     "conv2d needs input [N,C,H,W] and weight [O,C/groups,KH,KW], got \(x) and \(w)")
        require(x[1] == w[1] * groups && w[0] % groups == 0,
                     "conv2d input \(x) and weight \(w) do not match with \(groups) groups")
        let ho = outputSize(x[2], kernel: w[2]), wo = outputSize(x[3], kernel: w[3])
        require(ho > 0 && wo > 0, "conv2d kernel \(w) larger than padded input \(x) (\(self))")
        return [x[0], w[0], ho, wo]
    }
}

/// Precomputed sizes of one convolution problem.
struct ConvProblem {
    let n, c, h, w, o, kh, kw, ho, wo, groups, stride, padding: Int
    var cg: Int { c / groups }
    var og: Int { o / groups }
    var patch: Int { cg * kh * kw }   // rows of one group's column matrix
    var pixels: Int { ho * wo }       // columns of one image in the column matrix
    var imageSize: Int { c * h * w }
    var outputSize: Int { o * pixels }

    /// Whether an image's column matrix is the image itself (1×1 kernels,
    /// stride 1, no padding): its products then read and write the tensors
    /// in place.
    var columnsAreImage: Bool { kh == 1 && kw == 1 && stride == 1 && padding == 0 }

    init(input x: [Int], weight wt: [Int], _ g: ConvGeometry) {
        let out = g.outputShape(input: x, weight: wt)
        (n, c, h, w) = (x[0], x[1], x[2], x[3])
        (o, kh, kw) = (wt[0], wt[2], wt[3])
        (ho, wo) = (out[2], out[3])
        (groups, stride, padding) = (g.groups, g.stride, g.padding)
    }

    /// Output columns `ox` whose input column `ox·stride − padding + kx` lies
    /// inside the image.
    @inline(__always)
    func validColumns(kx: Int) -> Range<Int> {
        // ix = ox·stride − padding + kx ∈ [0, w)  ⇔  ox ∈ [ceil((padding − kx)/stride), floor((w − 1 + padding − kx)/stride)]
        let low = Swift.max(0, (padding - kx + stride - 1) / stride)
        let high = Swift.min(wo, (w - 1 + padding - kx) / stride + 1)
        return low..<Swift.max(low, high)
    }

    /// Copies channel block [c0, c0+cg) of one image into column form
    /// [patch, pixels].
    @inline(__always)
    func im2col<S: TensorScalar>(_ image: UnsafePointer<S>, channel c0: Int, into cols: UnsafeMutablePointer<S>) {
        var row = 0
        for ci in c0..<(c0 + cg) {
            let plane = image + ci * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let dst = cols + row * pixels
                    row += 1
                    if stride == 1 && wo == w {
                        shiftedPlane(plane, ky: ky, kx: kx, into: dst)
                        continue
                    }
                    let valid = validColumns(kx: kx)
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ky
                        let line = dst + oy * wo
                        if iy < 0 || iy >= h || valid.isEmpty {
                            line.update(repeating: 0, count: wo)
                            continue
                        }
                        line.update(repeating: 0, count: valid.lowerBound)
                        (line + valid.upperBound).update(repeating: 0, count: wo - valid.upperBound)
                        let src = plane + iy * w + valid.lowerBound * stride - padding + kx
                        copyEvery(stride, from: src, to: line + valid.lowerBound, count: valid.count)
                    }
                }
            }
        }
    }

    /// `dst[j] = src[j·stride]` for j in 0..<count, without overflow checks
    /// (which keep the strided loop scalar); stride 2 (the reductions
    /// between blocks) as a constant, which the compiler vectorises.
    @inline(__always)
    func copyEvery<S: TensorScalar>(_ stride: Int, from src: UnsafePointer<S>, to dst: UnsafeMutablePointer<S>, count: Int) {
        switch stride {
        case 1: dst.update(from: src, count: count)
        case 2: for j in 0..<count { dst[j] = src[j &<< 1] }
        default: for j in 0..<count { dst[j] = src[j &* stride] }
        }
    }

    /// Where row (ky, kx) of an image's column matrix [ho·wo] meets the
    /// plane when the stride is 1 and the output as wide as the input:
    /// column-matrix index k is plane index k + `offset`, for k in `span`
    /// (the output `rows` with an input row, clipped to the plane); within
    /// `span` the columns outside `validColumns(kx:)` wrap into the
    /// neighbouring rows.
    @inline(__always)
    func shift(ky: Int, kx: Int) -> (offset: Int, rows: Range<Int>, span: Range<Int>) {
        let offset = (ky - padding) * w + kx - padding
        let top = Swift.min(ho, Swift.max(0, padding - ky))
        let rows = top..<Swift.max(top, Swift.min(ho, h + padding - ky))
        let low = Swift.min(Swift.max(rows.lowerBound * wo, -offset), rows.upperBound * wo)
        let high = Swift.max(low, Swift.min(rows.upperBound * wo, h * w - offset))
        return (offset, rows, low..<high)
    }

    /// Sets to zero the entries of column-matrix row `row` [ho·wo] in output
    /// `rows` whose column lies outside `validColumns(kx:)`.
    @inline(__always)
    func zeroWrappedColumns<S: TensorScalar>(_ row: UnsafeMutablePointer<S>, rows: Range<Int>, kx: Int) {
        let valid = validColumns(kx: kx)
        for ox in 0..<wo where !valid.contains(ox) {
            for oy in rows { row[oy * wo + ox] = 0 }
        }
    }

    /// Row (ky, kx) of an image's column matrix [ho·wo] when the stride is 1
    /// and the output as wide as the input: the plane moved by ky − padding
    /// rows and kx − padding columns, zero outside it. One contiguous copy
    /// (`shift`) instead of one per row; the columns that copy wraps into
    /// from the neighbouring rows are zeroed.
    @inline(__always)
    func shiftedPlane<S: TensorScalar>(_ plane: UnsafePointer<S>, ky: Int, kx: Int, into dst: UnsafeMutablePointer<S>) {
        let (offset, rows, span) = shift(ky: ky, kx: kx)
        dst.update(repeating: 0, count: span.lowerBound)
        (dst + span.lowerBound).update(from: plane + span.lowerBound + offset, count: span.count)
        (dst + span.upperBound).update(repeating: 0, count: ho * wo - span.upperBound)
        zeroWrappedColumns(dst, rows: rows, kx: kx)
    }

    /// Adds column form [patch, pixels] back into channel block [c0, c0+cg)
    /// of one image. `cols` is scratch: its entries that fall outside the
    /// image may be zeroed on the way.
    @inline(__always)
    func col2imAdd<S: TensorScalar>(_ cols: UnsafeMutablePointer<S>, channel c0: Int, into image: UnsafeMutablePointer<S>) {
        var row = 0
        for ci in c0..<(c0 + cg) {
            let plane = image + ci * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let src = cols + row * pixels
                    row += 1
                    if stride == 1 && wo == w {
                        addShifted(src, ky: ky, kx: kx, into: plane)
                        continue
                    }
                    let valid = validColumns(kx: kx)
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h { continue }
                        let dst = plane + iy * w + valid.lowerBound * stride - padding + kx
                        let line = src + oy * wo + valid.lowerBound
                        if stride == 1 {
                            for j in 0..<valid.count { dst[j] += line[j] }
                        } else {
                            for j in 0..<valid.count { dst[j &* stride] += line[j] }
                        }
                    }
                }
            }
        }
    }

    /// Adds row (ky, kx) of an image's column matrix [ho·wo] into `plane`
    /// when the stride is 1 and the output as wide as the input: the
    /// transpose of `shiftedPlane`, one contiguous add (`shift`) instead of
    /// one per row. The entries that add would wrap into the neighbouring
    /// rows are zeroed in `src` first.
    @inline(__always)
    func addShifted<S: TensorScalar>(_ src: UnsafeMutablePointer<S>, ky: Int, kx: Int, into plane: UnsafeMutablePointer<S>) {
        let (offset, rows, span) = shift(ky: ky, kx: kx)
        zeroWrappedColumns(src, rows: rows, kx: kx)
        let source = src + span.lowerBound, target = plane + (span.lowerBound + offset)
        for k in 0..<span.count { target[k] += source[k] }
    }
}

extension ConvProblem {
    /// Runs `body(share, images, scratch)` on each worker's share of the
    /// batch (`parallelShares`: each worker issues its own single-threaded
    /// products), with `scratch` values of its own.
    @inline(__always)
    func forEachShare<S>(scratch: Int, _ body: @Sendable (_ share: Int, _ images: Range<Int>, _ scratch: UnsafeMutablePointer<S>) -> Void) {
        parallelShares(n) { share, images in
            let buffer = UnsafeMutablePointer<S>.allocate(capacity: scratch)
            defer { buffer.deallocate() }
            body(share, images, buffer)
        }
    }

    /// Scratch for one group's column matrix of one image, [patch, pixels]
    /// (none when `columnsAreImage`).
    var columnScratch: Int { columnsAreImage ? 0 : patch * pixels }

    /// Runs `body(share, image, group, columns)` for every image of `x`
    /// [N,C,H,W] and every group, each worker on its share of the batch
    /// (`forEachShare`); `columns` is the group's column matrix of the image,
    /// [patch, pixels]: the image's own channels when `columnsAreImage`, else
    /// their im2col in the worker's scratch.
    @inline(__always)
    func forEachColumnMatrix<S: TensorScalar>(of x: SharedPointer<S>,
                                              _ body: @Sendable (_ share: Int, _ image: Int, _ group: Int, _ columns: UnsafePointer<S>) -> Void) {
        forEachShare(scratch: columnScratch) { (share, images, scratch: UnsafeMutablePointer<S>) in
            for i in images {
                let image = UnsafePointer(x.base) + i * imageSize
                for g in 0..<groups {
                    if columnsAreImage {
                        body(share, i, g, image + g * cg * pixels)
                    } else {
                        im2col(image, channel: g * cg, into: scratch)
                        body(share, i, g, UnsafePointer(scratch))
                    }
                }
            }
        }
    }
}

// The three convolution kernels split the batch over the workers; each
// worker takes its images one by one and, per group, forms the image's
// column matrix [patch, pixels] in its own scratch (im2col; 1×1 convolutions
// use the image itself) and issues one single-threaded BLAS product that
// reads and writes the image's tensors in place. Depthwise problems run the
// stencils of DepthwiseConvolution.swift, and Float32 problems with few
// input values per pixel or few outputs (`usesDirectKernels`, per kernel)
// the direct kernels of DirectConvolution.swift instead.
extension NDArray {
    /// 2-D convolution (cross-correlation). x [N,C,H,W], w [O,C/groups,KH,KW] → [N,O,Ho,Wo].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func conv2d(_ x: NDArray, _ w: NDArray, _ geometry: ConvGeometry) -> NDArray {
        let p = ConvProblem(input: x.shape, weight: w.shape, geometry)
        if p.isDepthwise { return p.depthwiseForward(x, w) }
        if S.self == Float.self && p.usesDirectKernels(.forward) {
            return p.directForward(x as! NDArray<Float>, w as! NDArray<Float>) as! NDArray
        }
        return blasConv2d(x, w, p)
    }

    /// conv2d as one BLAS product per image and group (im2col + BLAS).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func blasConv2d(_ x: NDArray, _ w: NDArray, _ p: ConvProblem) -> NDArray {
        var out = [S](overwrittenCount: p.n * p.outputSize)
        x.data.withUnsafeBufferPointer { xb in w.data.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer { ob in
            let (xp, wp, op) = (SharedPointer(xb.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(ob.baseAddress!))
            p.forEachColumnMatrix(of: xp) { _, i, g, columns in
                S.gemm(transposeA: false, transposeB: false, m: p.og, n: p.pixels, k: p.patch,
                       alpha: 1, a: wp.base + g * p.og * p.patch, lda: p.patch, b: columns, ldb: p.pixels,
                       beta: 0, c: op.base + i * p.outputSize + g * p.og * p.pixels, ldc: p.pixels)
            }
        } } }
        return NDArray(shape: [p.n, p.o, p.ho, p.wo], data: out)
    }

    /// Gradient of conv2d with respect to its input: gy [N,O,Ho,Wo], w → [N,C,H,W] (`inputShape`).
    /// Linear in both arguments; it is the transpose of conv2d in x.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func conv2dGradInput(_ gy: NDArray, _ w: NDArray, inputShape: [Int], _ geometry: ConvGeometry) -> NDArray {
        let p = ConvProblem(input: inputShape, weight: w.shape, geometry)
        require(gy.shape == [p.n, p.o, p.ho, p.wo],
                "conv2dGradInput: output gradient \(gy.shape) does not match input \(inputShape) and weight \(w.shape)")
        if p.isDepthwise { return p.depthwiseGradInput(gy, w) }
        if S.self == Float.self && p.usesDirectKernels(.gradInput) {
            return p.directGradInput(gy as! NDArray<Float>, w as! NDArray<Float>) as! NDArray
        }
        return blasConv2dGradInput(gy, w, p)
    }

    /// conv2dGradInput as one BLAS product per image and group, added back
    /// into the image by col2im.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func blasConv2dGradInput(_ gy: NDArray, _ w: NDArray, _ p: ConvProblem) -> NDArray {
        let inputShape = [p.n, p.c, p.h, p.w]
        var dx = [S](overwrittenCount: Shape.count(inputShape))
        gy.data.withUnsafeBufferPointer { gb in w.data.withUnsafeBufferPointer { wb in dx.withUnsafeMutableBufferPointer { db in
            let (gp, wp, dp) = (SharedPointer(gb.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(db.baseAddress!))
            p.forEachShare(scratch: p.columnScratch) { (_, images, columns: UnsafeMutablePointer<S>) in
                for i in images {
                    let image = dp.base + i * p.imageSize
                    if !p.columnsAreImage { image.update(repeating: 0, count: p.imageSize) }
                    for g in 0..<p.groups {
                        let gradient = UnsafePointer(gp.base) + i * p.outputSize + g * p.og * p.pixels
                        S.gemm(transposeA: true, transposeB: false, m: p.patch, n: p.pixels, k: p.og,
                               alpha: 1, a: wp.base + g * p.og * p.patch, lda: p.patch, b: gradient, ldb: p.pixels,
                               beta: 0, c: p.columnsAreImage ? image + g * p.cg * p.pixels : columns, ldc: p.pixels)
                        if !p.columnsAreImage { p.col2imAdd(columns, channel: g * p.cg, into: image) }
                    }
                }
            }
        } } }
        return NDArray(shape: inputShape, data: dx)
    }

    /// Gradient of conv2d with respect to its weight: x [N,C,H,W], gy [N,O,Ho,Wo] → `weightShape`.
    /// Linear in both arguments.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func conv2dGradWeight(_ x: NDArray, _ gy: NDArray, weightShape: [Int], _ geometry: ConvGeometry) -> NDArray {
        let p = ConvProblem(input: x.shape, weight: weightShape, geometry)
        require(gy.shape == [p.n, p.o, p.ho, p.wo],
                "conv2dGradWeight: output gradient \(gy.shape) does not match input \(x.shape) and weight \(weightShape)")
        if p.isDepthwise { return p.depthwiseGradWeight(x, gy) }
        if S.self == Float.self && p.usesDirectKernels(.gradWeight) {
            return p.directGradWeight(x as! NDArray<Float>, gy as! NDArray<Float>) as! NDArray
        }
        return blasConv2dGradWeight(x, gy, p)
    }

    /// conv2dGradWeight as one BLAS product per image and group, summed per
    /// worker; the workers' sums are added in order at the end.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func blasConv2dGradWeight(_ x: NDArray, _ gy: NDArray, _ p: ConvProblem) -> NDArray {
        let weightShape = [p.o, p.cg, p.kh, p.kw]
        let count = Shape.count(weightShape)
        var sums = [S](repeating: 0, count: shareCount(p.n) * count)
        x.data.withUnsafeBufferPointer { xb in gy.data.withUnsafeBufferPointer { gb in sums.withUnsafeMutableBufferPointer { sb in
            let (xp, gp, sp) = (SharedPointer(xb.baseAddress!), SharedPointer(gb.baseAddress!), SharedPointer(sb.baseAddress!))
            p.forEachColumnMatrix(of: xp) { share, i, g, columns in
                S.gemm(transposeA: false, transposeB: true, m: p.og, n: p.patch, k: p.pixels,
                       alpha: 1, a: UnsafePointer(gp.base) + i * p.outputSize + g * p.og * p.pixels, lda: p.pixels,
                       b: columns, ldb: p.pixels, beta: 1, c: sp.base + share * count + g * p.og * p.patch, ldc: p.patch)
            }
        } } }
        return NDArray(shape: weightShape, data: sumOfShares(sums, count: count))
    }

    /// Matrix product of rank-2 arrays: op(a) · op(b), op = optional transpose.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func matmul(_ a: NDArray, _ b: NDArray, transposeA: Bool = false, transposeB: Bool = false) -> NDArray {
        require(a.rank == 2 && b.rank == 2, "matmul needs rank-2 arrays, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        require(k == k2, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        var out = [S](repeating: 0, count: m * n)
        if m > 0 && n > 0 && k > 0 {
            a.data.withUnsafeBufferPointer { ab in
                b.data.withUnsafeBufferPointer { bb in
                    out.withUnsafeMutableBufferPointer { ob in
                        S.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               alpha: 1, a: ab.baseAddress!, lda: a.shape[1],
                               b: bb.baseAddress!, ldb: b.shape[1], beta: 0, c: ob.baseAddress!, ldc: n)
                    }
                }
            }
        }
        return NDArray(shape: [m, n], data: out)
    }
}
