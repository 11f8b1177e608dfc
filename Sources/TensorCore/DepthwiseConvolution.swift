import CDirectConv

// Depthwise convolutions (one input channel per group, one output channel
// each: the separable layers of the search space) as stencils over each
// [H, W] plane. im2col + BLAS would issue one product per channel with a
// single row of KH·KW weights, far too thin for OpenBLAS. Float32 problems
// with stride 1 (the search space's) run CDirectConv's stencils, which sum
// each output row's taps in vector registers; the rest run the generic
// loops below. Planes are split over the workers; every loop runs along a
// row of the plane.

extension ConvProblem {
    /// Whether this problem is depthwise: a group per channel, one output each.
    var isDepthwise: Bool { groups == c && o == c && groups > 1 }

    /// Whether Float32 calls of this depthwise problem run CDirectConv's
    /// stencils: stride 1, padding below the kernel's sides.
    var usesDepthwiseStencils: Bool { stride == 1 && padding < kh && padding < kw }

    /// Runs `body(shape, planes, scratch)` on contiguous ranges of the N·C
    /// planes, one per worker (`parallelRanges`), each with scratch of its own.
    private func forEachPlaneRange(_ body: @Sendable (UnsafePointer<dc_depthwise_shape>, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        var planeShape = dc_depthwise_shape(channels: c, height: h, width: w, kernel_height: kh, kernel_width: kw, padding: padding)
        let (shape, scratch) = (planeShape, dc_depthwise_scratch_count(&planeShape))
        parallelRanges(n * c, itemSize: h * w) { planes in
            var s = shape
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            defer { buffer.deallocate() }
            body(&s, planes, buffer)
        }
    }

    /// One stencil kernel over planes [first, first + count): (shape, first,
    /// count, input, weight, output, scratch).
    private typealias PlaneKernel = @Sendable (UnsafePointer<dc_depthwise_shape>, Int, Int, UnsafePointer<Float>,
                                               UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void

    /// Runs `kernel` on every plane of `input` with `weight`, the planes split
    /// over the workers; returns the `outputCount` output values.
    private func mapPlanes(_ input: NDArray<Float>, _ weight: NDArray<Float>, outputCount: Int, _ kernel: PlaneKernel) -> [Float] {
        var out = [Float](overwrittenCount: outputCount)
        input.data.withUnsafeBufferPointer { ib in weight.data.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer { ob in
            let (ip, wp, op) = (SharedPointer(ib.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(ob.baseAddress!))
            forEachPlaneRange { s, planes, scratch in kernel(s, planes.lowerBound, planes.count, ip.base, wp.base, op.base, scratch) }
        } } }
        return out
    }

    /// The stencils' forward: x [N,C,H,W], w [C,1,KH,KW] → y [N,C,Ho,Wo].
    func stencilForward(_ x: NDArray<Float>, _ weight: NDArray<Float>, _ code: DirectKernelCode = .fastest) -> NDArray<Float> {
        let kernel = code.code
        let y = mapPlanes(x, weight, outputCount: n * c * ho * wo) { dc_depthwise_forward(kernel, $0, $1, $2, $3, $4, $5, $6) }
        return NDArray(shape: [n, c, ho, wo], data: y)
    }

    /// The stencils' grad-input: gy [N,C,Ho,Wo], w [C,1,KH,KW] → dx [N,C,H,W].
    func stencilGradInput(_ gy: NDArray<Float>, _ weight: NDArray<Float>, _ code: DirectKernelCode = .fastest) -> NDArray<Float> {
        let kernel = code.code
        let dx = mapPlanes(gy, weight, outputCount: n * c * h * w) { dc_depthwise_grad_input(kernel, $0, $1, $2, $3, $4, $5, $6) }
        return NDArray(shape: [n, c, h, w], data: dx)
    }

    /// The stencils' grad-weight: x [N,C,H,W], gy [N,C,Ho,Wo] → dw [C,1,KH,KW],
    /// each plane's sums added over the batch in Float64 in a fixed order.
    func stencilGradWeight(_ x: NDArray<Float>, _ gy: NDArray<Float>, _ code: DirectKernelCode = .fastest) -> NDArray<Float> {
        var perPlane = [Double](repeating: 0, count: n * c * kh * kw)
        let kernel = code.code
        x.data.withUnsafeBufferPointer { xb in gy.data.withUnsafeBufferPointer { gb in perPlane.withUnsafeMutableBufferPointer { pb in
            let (xp, gp, pp) = (SharedPointer(xb.baseAddress!), SharedPointer(gb.baseAddress!), SharedPointer(pb.baseAddress!))
            forEachPlaneRange { s, planes, scratch in
                dc_depthwise_grad_weight(kernel, s, planes.lowerBound, planes.count, xp.base, gp.base, pp.base, scratch)
            }
        } } }
        return NDArray(shape: [c, 1, kh, kw], data: sumOverBatch(perPlane))
    }

    /// dw [C·KH·KW] from each plane's sums [N·C·KH·KW]: the batch's planes of
    /// each channel added in Float64, image by image.
    private func sumOverBatch<S: TensorScalar>(_ perPlane: [Double]) -> [S] {
        let taps = kh * kw
        var dw = [S](repeating: 0, count: c * taps)
        for channel in 0..<c {
            for tap in 0..<taps {
                dw[channel * taps + tap] = S((0..<n).reduce(0.0) { $0 + perPlane[($1 * c + channel) * taps + tap] })
            }
        }
        return dw
    }

    /// Output columns `ox` (of `wo`) whose input column ox·stride − padding + kx
    /// is inside the row, with that input column for the first of them.
    @inline(__always)
    private func columnSpan(kx: Int) -> (outputs: Range<Int>, firstInput: Int) {
        let valid = validColumns(kx: kx)
        return (valid, valid.lowerBound * stride - padding + kx)
    }

    /// x [N,C,H,W], w [C,1,KH,KW] → y [N,C,Ho,Wo].
    func depthwiseForward<S: TensorScalar>(_ x: NDArray<S>, _ weight: NDArray<S>) -> NDArray<S> {
        if S.self == Float.self && usesDepthwiseStencils {
            return stencilForward(x as! NDArray<Float>, weight as! NDArray<Float>) as! NDArray<S>
        }
        var y = [S](repeating: 0, count: n * c * ho * wo)
        x.data.withUnsafeBufferPointer { xb in weight.data.withUnsafeBufferPointer { wb in y.withUnsafeMutableBufferPointer { yb in
            let (xp, wp, yp) = (SharedPointer(xb.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(yb.baseAddress!))
            parallelFor(n * c) { plane in
                let (input, output) = (xp.base + plane * h * w, yp.base + plane * ho * wo)
                let kernel = wp.base + (plane % c) * kh * kw
                for oy in 0..<ho {
                    let row = output + oy * wo
                    for ky in 0..<kh {
                        let iy = oy * stride - padding + ky
                        guard iy >= 0 && iy < h else { continue }
                        for kx in 0..<kw {
                            let weight = kernel[ky * kw + kx]
                            let (outputs, first) = columnSpan(kx: kx)
                            addScaled(input + iy * w + first, step: stride, times: weight, into: row + outputs.lowerBound,
                                      step: 1, count: outputs.count)
                        }
                    }
                }
            }
        } } }
        return NDArray(shape: [n, c, ho, wo], data: y)
    }

    /// gy [N,C,Ho,Wo], w [C,1,KH,KW] → dx [N,C,H,W] (the transpose of the forward in x).
    func depthwiseGradInput<S: TensorScalar>(_ gy: NDArray<S>, _ weight: NDArray<S>) -> NDArray<S> {
        if S.self == Float.self && usesDepthwiseStencils {
            return stencilGradInput(gy as! NDArray<Float>, weight as! NDArray<Float>) as! NDArray<S>
        }
        var dx = [S](repeating: 0, count: n * c * h * w)
        gy.data.withUnsafeBufferPointer { gb in weight.data.withUnsafeBufferPointer { wb in dx.withUnsafeMutableBufferPointer { db in
            let (gp, wp, dp) = (SharedPointer(gb.baseAddress!), SharedPointer(wb.baseAddress!), SharedPointer(db.baseAddress!))
            parallelFor(n * c) { plane in
                let (gradient, input) = (gp.base + plane * ho * wo, dp.base + plane * h * w)
                let kernel = wp.base + (plane % c) * kh * kw
                for oy in 0..<ho {
                    let row = gradient + oy * wo
                    for ky in 0..<kh {
                        let iy = oy * stride - padding + ky
                        guard iy >= 0 && iy < h else { continue }
                        for kx in 0..<kw {
                            let weight = kernel[ky * kw + kx]
                            let (outputs, first) = columnSpan(kx: kx)
                            addScaled(row + outputs.lowerBound, step: 1, times: weight, into: input + iy * w + first,
                                      step: stride, count: outputs.count)
                        }
                    }
                }
            }
        } } }
        return NDArray(shape: [n, c, h, w], data: dx)
    }

    /// x [N,C,H,W], gy [N,C,Ho,Wo] → dw [C,1,KH,KW]: each plane's sums in S,
    /// added over the batch in Float64 in a fixed order (whatever the workers).
    func depthwiseGradWeight<S: TensorScalar>(_ x: NDArray<S>, _ gy: NDArray<S>) -> NDArray<S> {
        if S.self == Float.self && usesDepthwiseStencils {
            return stencilGradWeight(x as! NDArray<Float>, gy as! NDArray<Float>) as! NDArray<S>
        }
        let taps = kh * kw
        var perPlane = [Double](repeating: 0, count: n * c * taps)
        x.data.withUnsafeBufferPointer { xb in gy.data.withUnsafeBufferPointer { gb in perPlane.withUnsafeMutableBufferPointer { pb in
            let (xp, gp, pp) = (SharedPointer(xb.baseAddress!), SharedPointer(gb.baseAddress!), SharedPointer(pb.baseAddress!))
            parallelFor(n * c) { plane in
                let (input, gradient) = (xp.base + plane * h * w, gp.base + plane * ho * wo)
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let (outputs, first) = columnSpan(kx: kx)
                        var sum: S = 0
                        for oy in 0..<ho {
                            let iy = oy * stride - padding + ky
                            guard iy >= 0 && iy < h else { continue }
                            sum += dot(input + iy * w + first, step: stride, gradient + oy * wo + outputs.lowerBound, count: outputs.count)
                        }
                        pp.base[plane * taps + ky * kw + kx] = Double(sum)
                    }
                }
            }
        } } }
        return NDArray(shape: [c, 1, kh, kw], data: sumOverBatch(perPlane))
    }
}

/// target[j·targetStep] += a · source[j·sourceStep] for j < count (a loop the
/// compiler vectorises when both steps are 1).
@inline(__always)
private func addScaled<S: TensorScalar>(_ source: UnsafePointer<S>, step sourceStep: Int, times a: S,
                                        into target: UnsafeMutablePointer<S>, step targetStep: Int, count: Int) {
    if sourceStep == 1 && targetStep == 1 {
        for j in 0..<count { target[j] += a * source[j] }
    } else {
        for j in 0..<count { target[j * targetStep] += a * source[j * sourceStep] }
    }
}

/// Σ x[j·step] · y[j] for j < count, in four interleaved partial sums.
@inline(__always)
private func dot<S: TensorScalar>(_ x: UnsafePointer<S>, step: Int, _ y: UnsafePointer<S>, count: Int) -> S {
    var partial = (S(0), S(0), S(0), S(0))
    var j = 0
    while j + 4 <= count {
        partial.0 += x[j * step] * y[j]; partial.1 += x[(j + 1) * step] * y[j + 1]
        partial.2 += x[(j + 2) * step] * y[j + 2]; partial.3 += x[(j + 3) * step] * y[j + 3]
        j += 4
    }
    while j < count { partial.0 += x[j * step] * y[j]; j += 1 }
    return (partial.0 + partial.1) + (partial.2 + partial.3)
}
