import CDirectConv

// Float32 convolutions with few input values per output pixel, the learner's
// first layer (3x3 on 1 or 3 channels), or with few outputs, the generator's
// image layer (→ 1 or 3 channels), run CDirectConv's kernels instead of
// im2col + BLAS: every product there has a dimension of C·KH·KW (9 for one
// channel) or O, too thin for OpenBLAS. The batch is split over the workers
// (`parallelShares`), each running the kernels image by image in its own scratch.

/// Which instance of the direct kernels runs: the fastest this CPU has
/// (AVX2+FMA on x86-64 when present), or the portable one, which the tests
/// also check.
enum DirectKernelCode {
    case fastest, portable

    var code: dc_code { self == .portable ? dc_portable : dc_fastest_code() }
}

/// The three kernels of a convolution.
enum ConvKernel: CaseIterable, Hashable, Sendable { case forward, gradInput, gradWeight }

extension ConvProblem {
    /// Whether Float32 calls of `kernel` on this problem run the direct
    /// kernels rather than im2col + BLAS (one group only):
    /// - all three kernels with at most 27 input values per output pixel
    ///   (C·KH·KW: 3×3 on 1 or 3 channels) or at most 3 outputs (the
    ///   generator's image layer): products with a dimension of 1 to 27;
    /// - otherwise none for 1×1 convolutions with stride 1 and no padding,
    ///   whose products read and write the tensors in place;
    /// - otherwise the forward and grad-weight up to 72 input values per
    ///   pixel (3×3 on 8 channels), and grad-input up to 64 outputs: its BLAS
    ///   product sums only O terms into each of the C·KH·KW × Ho·Wo column
    ///   values, then col2im adds them up again. At the search space's 3×3
    ///   shapes (batch 64, 8 to 64 channels) the direct grad-input ran
    ///   1.2–1.8× faster, from 64 outputs on level (`gtn-bench kernels`,
    ///   Zen 2, December 2026).
    func usesDirectKernels(_ kernel: ConvKernel) -> Bool {
        guard groups == 1 else { return false }
        if patch <= 27 || o <= 3 { return true }
        if columnsAreImage { return false }
        switch kernel {
        case .forward, .gradWeight: return patch <= 72
        case .gradInput: return o <= 64
        }
    }

    /// Output bytes from which the forward writes with streaming stores: an
    /// output this large leaves the caches before it is read back anyway, and
    /// streaming saves reading every line before writing it (measured on the
    /// learner's first layer, 25.7 MB: `git log -p docs/benchmarks.md`).
    static let streamingOutputBytes = 16 << 20

    private func directShape(streamOutput: Bool = false) -> dc_shape {
        dc_shape(channels: c, height: h, width: w, outputs: o, kernel_height: kh, kernel_width: kw,
                 output_height: ho, output_width: wo, stride: stride, padding: padding, stream_output: streamOutput ? 1 : 0)
    }

    /// Scratch values one worker's kernels need.
    private var directScratch: Int {
        var shape = directShape()
        return dc_scratch_count(&shape)
    }

    /// One image's kernel: (shape, input image, weight, output image, scratch).
    private typealias ImageKernel = @Sendable (UnsafePointer<dc_shape>, UnsafePointer<Float>, UnsafePointer<Float>,
                                               UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void

    /// Runs `kernel` on every image of `input` (`inputSize` values each) with
    /// the shared `weight`, the batch split over the workers; returns the
    /// outputs, `outputSize` values per image.
    private func mapImages(_ input: NDArray<Float>, inputSize: Int, _ weight: NDArray<Float>, outputSize: Int,
                           shape: dc_shape, _ kernel: ImageKernel) -> [Float] {
        var out = [Float](overwrittenCount: n * outputSize)
        input.data.withUnsafeBufferPointer { ib in weight.data.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer { ob in
            let (ip, wp, op) = (SharedPointer(ib.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(ob.baseAddress!))
            forEachShare(scratch: directScratch) { (_, images, scratch: UnsafeMutablePointer<Float>) in
                var s = shape
                for i in images { kernel(&s, ip.base + i * inputSize, wp.base, op.base + i * outputSize, scratch) }
            }
        } } }
        return out
    }

    /// x [N,C,H,W], w [O,C,KH,KW] → [N,O,Ho,Wo]. `streamOutput` (default:
    /// from `streamingOutputBytes`) only changes how y is stored, not its values.
    func directForward(_ x: NDArray<Float>, _ weight: NDArray<Float>, _ code: DirectKernelCode = .fastest,
                       streamOutput: Bool? = nil) -> NDArray<Float> {
        let kernel = code.code
        let stream = streamOutput ?? (n * outputSize * MemoryLayout<Float>.size >= Self.streamingOutputBytes)
        let y = mapImages(x, inputSize: imageSize, weight, outputSize: outputSize, shape: directShape(streamOutput: stream)) {
            dc_forward(kernel, $0, $1, $2, $3, $4)
        }
        return NDArray(shape: [n, o, ho, wo], data: y)
    }

    /// gy [N,O,Ho,Wo], w [O,C,KH,KW] → [N,C,H,W].
    func directGradInput(_ gy: NDArray<Float>, _ weight: NDArray<Float>, _ code: DirectKernelCode = .fastest) -> NDArray<Float> {
        let kernel = code.code
        let dx = mapImages(gy, inputSize: outputSize, weight, outputSize: imageSize, shape: directShape()) { dc_grad_input(kernel, $0, $1, $2, $3, $4) }
        return NDArray(shape: [n, c, h, w], data: dx)
    }

    /// x [N,C,H,W], gy [N,O,Ho,Wo] → [O,C,KH,KW]. Each worker sums its images
    /// in Float64; the workers' sums are added at the end.
    func directGradWeight(_ x: NDArray<Float>, _ gy: NDArray<Float>, _ code: DirectKernelCode = .fastest) -> NDArray<Float> {
        let count = o * patch
        var sums = [Double](repeating: 0, count: shareCount(n) * count)
        let (shape, kernel) = (directShape(), code.code)
        x.data.withUnsafeBufferPointer { xb in gy.data.withUnsafeBufferPointer { gb in sums.withUnsafeMutableBufferPointer { sb in
            let (xp, gp, sp) = (SharedPointer(xb.baseAddress!), SharedPointer(gb.baseAddress!), SharedPointer(sb.baseAddress!))
            forEachShare(scratch: directScratch) { (share, images, scratch: UnsafeMutablePointer<Float>) in
                var s = shape
                for i in images { dc_grad_weight(kernel, &s, xp.base + i * imageSize, gp.base + i * outputSize, sp.base + share * count, scratch) }
            }
        } } }
        return NDArray(shape: [o, c, kh, kw], data: sumOfShares(sums, count: count).map { Float($0) })
    }
}
