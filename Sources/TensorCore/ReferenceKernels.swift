/// Naive Float64 loops that define what the fast kernels compute. Tests compare
/// every fast kernel against these; nothing else should call them.
public enum ReferenceKernels {
    public static func matmul(_ a: NDArray<Double>, _ b: NDArray<Double>) -> NDArray<Double> {
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var out = NDArray<Double>(zeros: [m, n])
        for i in 0..<m { for j in 0..<n { for l in 0..<k {
            out.data[i * n + j] += a.data[i * k + l] * b.data[l * n + j]
        } } }
        return out
    }

    /// Calls body(outIndex, inIndex, weightIndex) for every multiply-add of a convolution.
    private static func convTerms(_ x: [Int], _ w: [Int], _ g: ConvGeometry, _ body: (Int, Int, Int) -> Void) {
        let out = g.outputShape(input: x, weight: w)
        let cg = x[1] / g.groups, og = w[0] / g.groups
        for n in 0..<x[0] { for o in 0..<w[0] { for oy in 0..<out[2] { for ox in 0..<out[3] {
            let outIndex = ((n * w[0] + o) * out[2] + oy) * out[3] + ox
            let group = o / og
            for ci in 0..<cg { for ky in 0..<w[2] { for kx in 0..<w[3] {
                let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                guard iy >= 0 && iy < x[2] && ix >= 0 && ix < x[3] else { continue }
                let c = group * cg + ci
                body(outIndex, ((n * x[1] + c) * x[2] + iy) * x[3] + ix, ((o * cg + ci) * w[2] + ky) * w[3] + kx)
            } } }
        } } } }
    }

    public static func conv2d(_ x: NDArray<Double>, _ w: NDArray<Double>, _ g: ConvGeometry) -> NDArray<Double> {
        var out = NDArray<Double>(zeros: g.outputShape(input: x.shape, weight: w.shape))
        convTerms(x.shape, w.shape, g) { o, i, k in out.data[o] += x.data[i] * w.data[k] }
        return out
    }

    public static func conv2dGradInput(_ gy: NDArray<Double>, _ w: NDArray<Double>, inputShape: [Int], _ g: ConvGeometry) -> NDArray<Double> {
        var dx = NDArray<Double>(zeros: inputShape)
        convTerms(inputShape, w.shape, g) { o, i, k in dx.data[i] += gy.data[o] * w.data[k] }
        return dx
    }

    public static func conv2dGradWeight(_ x: NDArray<Double>, _ gy: NDArray<Double>, weightShape: [Int], _ g: ConvGeometry) -> NDArray<Double> {
        var dw = NDArray<Double>(zeros: weightShape)
        convTerms(x.shape, weightShape, g) { o, i, k in dw.data[k] += gy.data[o] * x.data[i] }
        return dw
    }

    public static func maxPool(_ x: NDArray<Double>, _ g: PoolGeometry) -> NDArray<Double> {
        pool(x, g) { $0.max()! }
    }

    public static func avgPool(_ x: NDArray<Double>, _ g: PoolGeometry) -> NDArray<Double> {
        pool(x, g) { $0.reduce(0, +) / Double(g.kernel * g.kernel) }
    }

    private static func pool(_ x: NDArray<Double>, _ g: PoolGeometry, _ reduce: ([Double]) -> Double) -> NDArray<Double> {
        let outShape = g.outputShape(x.shape)
        var out = NDArray<Double>(zeros: outShape)
        for p in 0..<(x.shape[0] * x.shape[1]) { for oy in 0..<outShape[2] { for ox in 0..<outShape[3] {
            var values: [Double] = []
            for ky in 0..<g.kernel { for kx in 0..<g.kernel {
                let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                if iy >= 0 && iy < x.shape[2] && ix >= 0 && ix < x.shape[3] {
                    values.append(x.data[(p * x.shape[2] + iy) * x.shape[3] + ix])
                }
            } }
            out.data[(p * outShape[2] + oy) * outShape[3] + ox] = reduce(values)
        } } }
        return out
    }
}
