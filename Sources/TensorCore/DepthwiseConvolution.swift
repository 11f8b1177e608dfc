// Depthwise convolutions (one input channel per group, one output channel
// each: the separable layers of the search space) as stencils over each
// [H, W] plane. im2col + BLAS would issue one product per channel with a
// single row of KH·KW weights, far too thin for OpenBLAS. Planes are split
// over the workers by `parallelFor`; every loop runs along a row of the plane.

extension ConvProblem {
    /// Whether this problem is depthwise: a group per channel, one output each.
    var isDepthwise: Bool { groups == c && o == c && groups > 1 }

    /// Output columns `ox` (of `wo`) whose input column ox·stride − padding + kx
    /// is inside the row, with that input column for the first of them.
    @inline(__always)
    private func columnSpan(kx: Int) -> (outputs: Range<Int>, firstInput: Int) {
        let valid = validColumns(kx: kx)
        return (valid, valid.lowerBound * stride - padding + kx)
    }

    /// x [N,C,H,W], w [C,1,KH,KW] → y [N,C,Ho,Wo].
    func depthwiseForward<S: TensorScalar>(_ x: NDArray<S>, _ weight: NDArray<S>) -> NDArray<S> {
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
        var dw = [S](repeating: 0, count: c * taps)
        for channel in 0..<c {
            for tap in 0..<taps {
                dw[channel * taps + tap] = S((0..<n).reduce(0.0) { $0 + perPlane[($1 * c + channel) * taps + tap] })
            }
        }
        return NDArray(shape: [c, 1, kh, kw], data: dw)
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
