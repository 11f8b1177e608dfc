import Testing
import Autodiff
import NN
import TensorCore

/// The test that guards the whole point of the engine: the gradient of a
/// meta-loss through an unrolled inner training loop (second order: the inner
/// gradients are themselves differentiated) against finite differences.
///
/// Learner: weight-normalised conv3x3 1→2 (pad 1), mean-only batch norm, leaky
/// ReLU, max pool 2/2, weight-normalised linear 18→3, log-softmax/NLL. Inner
/// loop: 3 steps of SGD with momentum on "generated" batches [4,1,6,6] with a
/// learned learning rate and momentum per step. Meta-loss: NLL on a "real" batch.
struct TinyUnroll {
    static let steps = 3
    let layout: ParameterLayout = {
        var l = ParameterLayout()
        l.add("conv.direction", shape: [2, 1, 3, 3]); l.add("conv.gain", shape: [2]); l.add("conv.bias", shape: [2])
        l.add("bn.bias", shape: [2])
        l.add("fc.direction", shape: [3, 18]); l.add("fc.gain", shape: [3]); l.add("fc.bias", shape: [3])
        return l
    }()
    let initialParameters: NDArray<Double>
    let images: [NDArray<Double>]        // one generated batch per step
    let learningRates: NDArray<Double>   // [steps]
    let momenta: NDArray<Double>         // [steps]
    let realImages: NDArray<Double>
    let innerLabels = [0, 1, 2, 0]
    let realLabels = [2, 1, 0, 1]

    init() {
        var rng = RandomStream(seed: 2024)
        var theta: NDArray<Double> = rng.normal([layout.count], std: 0.5)
        for name in ["conv.gain", "fc.gain"] {   // gains near 1
            let e = layout.entry(name)
            for i in e.offset..<(e.offset + e.count) { theta.data[i] = 1 + 0.1 * theta.data[i] }
        }
        initialParameters = theta
        images = (0..<Self.steps).map { _ in rng.normal([4, 1, 6, 6]) }
        learningRates = NDArray(shape: [Self.steps], data: [0.3, 0.25, 0.2])
        momenta = NDArray(shape: [Self.steps], data: [0.5, 0.6, 0.7])
        realImages = rng.normal([4, 1, 6, 6])
    }

    func logits(_ theta: Tensor<Double>, _ x: Tensor<Double>) -> Tensor<Double> {
        let p = layout.views(of: theta)
        var h = convolution(x, weight: weightNormalized(p["conv.direction"]!, gain: p["conv.gain"]!),
                            bias: p["conv.bias"]!, ConvGeometry(stride: 1, padding: 1))
        h = meanOnlyBatchNorm(h, bias: p["bn.bias"]!).leakyReLU(slope: 0.1)
        h = h.maxPooled(PoolGeometry(kernel: 2, stride: 2)).reshaped([x.shape[0], 18])
        return linear(h, weight: weightNormalized(p["fc.direction"]!, gain: p["fc.gain"]!), bias: p["fc.bias"]!)
    }

    /// One inner step: inputs [θ, velocity, images, lr, momentum] → [θ', velocity'].
    func innerStep(_ s: [Tensor<Double>]) -> [Tensor<Double>] {
        let loss = crossEntropy(logits: logits(s[0], s[2]), labels: innerLabels)
        let grad = gradients(of: loss, wrt: [s[0]], createGraph: true)[0]
        let next = sgdMomentumStep(parameters: s[0], velocity: s[1], gradient: grad, learningRate: s[3], momentum: s[4])
        return [next.parameters, next.velocity]
    }

    /// Meta-loss as a function of (images per step, learning rates, momenta).
    func metaLoss(images: [Tensor<Double>], learningRates: Tensor<Double>, momenta: Tensor<Double>,
                  recompute: Bool) -> Tensor<Double> {
        var theta = Tensor(initialParameters, requiresGrad: true)
        var velocity = Tensor(NDArray<Double>(zeros: [layout.count]))
        let lrs = learningRates.split(axis: 0, sizes: [1, 1, 1]), moms = momenta.split(axis: 0, sizes: [1, 1, 1])
        for t in 0..<Self.steps {
            let inputs = [theta, velocity, images[t], lrs[t].reshaped([]), moms[t].reshaped([])]
            let out = recompute ? checkpoint(inputs, innerStep) : innerStep(inputs)
            (theta, velocity) = (out[0], out[1])
        }
        return crossEntropy(logits: logits(theta, Tensor(realImages)), labels: realLabels)
    }

    /// Meta-loss value at given raw inputs (for finite differences).
    func metaLossValue(_ x: [NDArray<Double>]) -> Double {
        metaLoss(images: x[0..<Self.steps].map { Tensor($0) }, learningRates: Tensor(x[Self.steps]),
                 momenta: Tensor(x[Self.steps + 1]), recompute: false).scalar
    }

    var point: [NDArray<Double>] { images + [learningRates, momenta] }

    /// Meta-gradients with respect to every image batch, the learning rates and the momenta.
    func metaGradients(recompute: Bool) -> [NDArray<Double>] {
        let leaves = GradCheck.leaves(point)
        let loss = metaLoss(images: Array(leaves[0..<Self.steps]), learningRates: leaves[Self.steps],
                            momenta: leaves[Self.steps + 1], recompute: recompute)
        return gradients(of: loss, wrt: leaves).map(\.value)
    }
}

@Suite struct MetaGradient {
    static let tolerance = 1e-5   // relative error, as the acceptance criterion states

    @Test func matchesFiniteDifferences() {
        let unroll = TinyUnroll()
        let grads = unroll.metaGradients(recompute: false)
        let x = unroll.point
        var rng = RandomStream(seed: 99)

        // Generated images: a random direction through all three batches.
        let v = x.indices.map { i in i < TinyUnroll.steps ? rng.normal(x[i].shape) : NDArray<Double>(zeros: x[i].shape) }
        let ad = GradCheck.dot(grads, v)
        let fd = GradCheck.directional(unroll.metaLossValue, at: x, along: v)
        #expect(GradCheck.relativeError(ad, fd) < Self.tolerance, "images: autodiff \(ad) vs finite differences \(fd)")

        // Every learning rate and momentum, one coordinate at a time.
        for (which, index) in [("learning rate", TinyUnroll.steps), ("momentum", TinyUnroll.steps + 1)] {
            for t in 0..<TinyUnroll.steps {
                var e = x.map { NDArray<Double>(zeros: $0.shape) }
                e[index].data[t] = 1
                let fd = GradCheck.directional(unroll.metaLossValue, at: x, along: e)
                let ad = grads[index].data[t]
                if which == "momentum" && t == 0 {
                    // The velocity starts at zero, so the first momentum has no effect.
                    #expect(ad == 0 && abs(fd) < 1e-10, "momentum step 0: autodiff \(ad), finite differences \(fd)")
                    continue
                }
                #expect(abs(ad) > 1e-6, "\(which) \(t): meta-gradient is essentially zero (\(ad)); the check would be vacuous")
                #expect(GradCheck.relativeError(ad, fd) < Self.tolerance,
                        "\(which) step \(t): autodiff \(ad) vs finite differences \(fd)")
            }
        }
    }

    @Test func recomputeGivesIdenticalGradients() {
        let unroll = TinyUnroll()
        let plain = unroll.metaGradients(recompute: false)
        let recomputed = unroll.metaGradients(recompute: true)
        for (a, b) in zip(plain, recomputed) {
            #expect(a == b, "recompute changed the meta-gradient: max difference \(zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0)")
        }
    }
}
