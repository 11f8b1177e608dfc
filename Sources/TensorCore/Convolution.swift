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
private struct ConvProblem {
    let n, c, h, w, o, kh, kw, ho, wo, groups, stride, padding: Int
    var cg: Int { c / groups }
    var og: Int { o / groups }
    var patch: Int { cg * kh * kw }   // rows of one group's column matrix
    var pixels: Int { ho * wo }       // columns of the column matrix
    /// 1x1, stride 1, no padding: the input itself is the column matrix.
    var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && padding == 0 }

    init(input x: [Int], weight wt: [Int], _ g: ConvGeometry) {
        let out = g.outputShape(input: x, weight: wt)
        (n, c, h, w) = (x[0], x[1], x[2], x[3])
        (o, kh, kw) = (wt[0], wt[2], wt[3])
        (ho, wo) = (out[2], out[3])
        (groups, stride, padding) = (g.groups, g.stride, g.padding)
    }

    /// Copies channel block [c0, c0+cg) of one image into column form [patch, pixels].
    @inline(__always)
    func im2col<S: TensorScalar>(_ image: UnsafePointer<S>, channel c0: Int, into cols: UnsafeMutablePointer<S>) {
        var row = 0
        for ci in c0..<(c0 + cg) {
            let plane = image + ci * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let dst = cols + row * pixels
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ky
                        let line = dst + oy * wo
                        if iy < 0 || iy >= h {
                            line.update(repeating: 0, count: wo)
                            continue
                        }
                        let src = plane + iy * w
                        for ox in 0..<wo {
                            let ix = ox * stride - padding + kx
                            line[ox] = (ix >= 0 && ix < w) ? src[ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Adds column form [patch, pixels] back into channel block [c0, c0+cg) of one image.
    @inline(__always)
    func col2imAdd<S: TensorScalar>(_ cols: UnsafePointer<S>, channel c0: Int, into image: UnsafeMutablePointer<S>) {
        var row = 0
        for ci in c0..<(c0 + cg) {
            let plane = image + ci * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let src = cols + row * pixels
                    for oy in 0..<ho {
                        let iy = oy * stride - padding + ky
                        if iy < 0 || iy >= h { continue }
                        let dst = plane + iy * w
                        let line = src + oy * wo
                        for ox in 0..<wo {
                            let ix = ox * stride - padding + kx
                            if ix >= 0 && ix < w { dst[ix] += line[ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }
}

extension NDArray {
    /// 2-D convolution (cross-correlation). x [N,C,H,W], w [O,C/groups,KH,KW] → [N,O,Ho,Wo].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func conv2d(_ x: NDArray, _ w: NDArray, _ geometry: ConvGeometry) -> NDArray {
        let p = ConvProblem(input: x.shape, weight: w.shape, geometry)
        var out = [S](repeating: 0, count: p.n * p.o * p.pixels)
        x.data.withUnsafeBufferPointer { xb in
            w.data.withUnsafeBufferPointer { wb in
                out.withUnsafeMutableBufferPointer { ob in
                    let (xp, wp, op) = (SharedPointer(base: UnsafeMutablePointer(mutating: xb.baseAddress!)),
                                        SharedPointer(base: UnsafeMutablePointer(mutating: wb.baseAddress!)),
                                        SharedPointer(base: ob.baseAddress!))
                    parallelChunks(p.n) { images, _ in
                        var cols = [S](repeating: 0, count: p.isPointwise ? 0 : p.patch * p.pixels)
                        cols.withUnsafeMutableBufferPointer { cb in
                            for i in images {
                                let image = UnsafePointer(xp.base) + i * p.c * p.h * p.w
                                for g in 0..<p.groups {
                                    let colPtr: UnsafePointer<S>
                                    if p.isPointwise {
                                        colPtr = image + g * p.cg * p.h * p.w
                                    } else {
                                        p.im2col(image, channel: g * p.cg, into: cb.baseAddress!)
                                        colPtr = UnsafePointer(cb.baseAddress!)
                                    }
                                    S.gemm(transposeA: false, transposeB: false, m: p.og, n: p.pixels, k: p.patch,
                                           alpha: 1, a: wp.base + g * p.og * p.patch, lda: p.patch,
                                           b: colPtr, ldb: p.pixels, beta: 0,
                                           c: op.base + (i * p.o + g * p.og) * p.pixels, ldc: p.pixels)
                                }
                            }
                        }
                    }
                }
            }
        }
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
        var dx = [S](repeating: 0, count: Shape.count(inputShape))
        gy.data.withUnsafeBufferPointer { gb in
            w.data.withUnsafeBufferPointer { wb in
                dx.withUnsafeMutableBufferPointer { db in
                    let (gp, wp, dp) = (SharedPointer(base: UnsafeMutablePointer(mutating: gb.baseAddress!)),
                                        SharedPointer(base: UnsafeMutablePointer(mutating: wb.baseAddress!)),
                                        SharedPointer(base: db.baseAddress!))
                    parallelChunks(p.n) { images, _ in
                        var cols = [S](repeating: 0, count: p.isPointwise ? 0 : p.patch * p.pixels)
                        cols.withUnsafeMutableBufferPointer { cb in
                            for i in images {
                                let image = dp.base + i * p.c * p.h * p.w
                                for g in 0..<p.groups {
                                    let target = p.isPointwise ? image + g * p.cg * p.h * p.w : cb.baseAddress!
                                    S.gemm(transposeA: true, transposeB: false, m: p.patch, n: p.pixels, k: p.og,
                                           alpha: 1, a: wp.base + g * p.og * p.patch, lda: p.patch,
                                           b: gp.base + (i * p.o + g * p.og) * p.pixels, ldb: p.pixels,
                                           beta: 0, c: target, ldc: p.pixels)
                                    if !p.isPointwise {
                                        p.col2imAdd(UnsafePointer(cb.baseAddress!), channel: g * p.cg, into: image)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return NDArray(shape: inputShape, data: dx)
    }

    /// Gradient of conv2d with respect to its weight: x [N,C,H,W], gy [N,O,Ho,Wo] → `weightShape`.
    /// Linear in both arguments. Each worker accumulates its own partial sum.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func conv2dGradWeight(_ x: NDArray, _ gy: NDArray, weightShape: [Int], _ geometry: ConvGeometry) -> NDArray {
        let p = ConvProblem(input: x.shape, weight: weightShape, geometry)
        require(gy.shape == [p.n, p.o, p.ho, p.wo],
                "conv2dGradWeight: output gradient \(gy.shape) does not match input \(x.shape) and weight \(weightShape)")
        let weightCount = Shape.count(weightShape)
        var partials = [S](repeating: 0, count: weightCount * BLASInfo.threadCount)
        x.data.withUnsafeBufferPointer { xb in
            gy.data.withUnsafeBufferPointer { gb in
                partials.withUnsafeMutableBufferPointer { pb in
                    let (xp, gp, pp) = (SharedPointer(base: UnsafeMutablePointer(mutating: xb.baseAddress!)),
                                        SharedPointer(base: UnsafeMutablePointer(mutating: gb.baseAddress!)),
                                        SharedPointer(base: pb.baseAddress!))
                    parallelChunks(p.n) { images, worker in
                        let dw = pp.base + worker * weightCount
                        var cols = [S](repeating: 0, count: p.isPointwise ? 0 : p.patch * p.pixels)
                        cols.withUnsafeMutableBufferPointer { cb in
                            for i in images {
                                let image = UnsafePointer(xp.base) + i * p.c * p.h * p.w
                                for g in 0..<p.groups {
                                    let colPtr: UnsafePointer<S>
                                    if p.isPointwise {
                                        colPtr = image + g * p.cg * p.h * p.w
                                    } else {
                                        p.im2col(image, channel: g * p.cg, into: cb.baseAddress!)
                                        colPtr = UnsafePointer(cb.baseAddress!)
                                    }
                                    S.gemm(transposeA: false, transposeB: true, m: p.og, n: p.patch, k: p.pixels,
                                           alpha: 1, a: gp.base + (i * p.o + g * p.og) * p.pixels, lda: p.pixels,
                                           b: colPtr, ldb: p.pixels, beta: 1,
                                           c: dw + g * p.og * p.patch, ldc: p.patch)
                                }
                            }
                        }
                    }
                }
            }
        }
        var dw = Array(partials[0..<weightCount])
        for worker in 1..<BLASInfo.threadCount {
            for k in 0..<weightCount { dw[k] += partials[worker * weightCount + k] }
        }
        return NDArray(shape: weightShape, data: dw)
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
