import Autodiff
import Foundation
import NN
import TensorCore

/// One full meta-gradient of the paper's MNIST learner (conv3x3 1→64, max pool,
/// BN, lReLU; conv3x3 64→128, max pool, BN, lReLU; linear 6272→256, BN, lReLU;
/// linear 256→10; weight-normalised, mean-only BN) trained for T SGD-momentum
/// steps on leaf "generated" images, differentiated back to those images.
enum MetaGradientBenchmark {
    static func run(steps: Int, block: Int, batch: Int, width: Int) {
        let c1 = 64 * width, c2 = 128 * width, hidden = 256 * width
        var layout = ParameterLayout()
        layout.add("conv1.direction", shape: [c1, 1, 3, 3]); layout.add("conv1.gain", shape: [c1]); layout.add("bn1.bias", shape: [c1])
        layout.add("conv2.direction", shape: [c2, c1, 3, 3]); layout.add("conv2.gain", shape: [c2]); layout.add("bn2.bias", shape: [c2])
        layout.add("fc1.direction", shape: [hidden, c2 * 49]); layout.add("fc1.gain", shape: [hidden]); layout.add("bn3.bias", shape: [hidden])
        layout.add("fc2.direction", shape: [10, hidden]); layout.add("fc2.gain", shape: [10]); layout.add("fc2.bias", shape: [10])
        var rng = RandomStream(seed: 7)
        var theta: NDArray<Float> = rng.normal([layout.count], std: 0.05)
        for e in layout.entries where e.name.hasSuffix(".gain") {
            for i in e.offset..<(e.offset + e.count) { theta.data[i] = 1 }
        }
        let labels = (0..<batch).map { $0 % 10 }
        let geometry = ConvGeometry(stride: 1, padding: 1), pool = PoolGeometry(kernel: 2, stride: 2)

        func logits(_ theta: Tensor<Float>, _ x: Tensor<Float>) -> Tensor<Float> {
            let p = layout.views(of: theta)
            var h = conv2d(x, weightNormalized(p["conv1.direction"]!, gain: p["conv1.gain"]!), geometry).maxPooled(pool)
            h = meanOnlyBatchNorm(h, bias: p["bn1.bias"]!).leakyReLU(slope: 0.1)
            h = conv2d(h, weightNormalized(p["conv2.direction"]!, gain: p["conv2.gain"]!), geometry).maxPooled(pool)
            h = meanOnlyBatchNorm(h, bias: p["bn2.bias"]!).leakyReLU(slope: 0.1).reshaped([x.shape[0], c2 * 49])
            h = matmul(h, weightNormalized(p["fc1.direction"]!, gain: p["fc1.gain"]!), transposeB: true)
            h = meanOnlyBatchNorm(h, bias: p["bn3.bias"]!).leakyReLU(slope: 0.1)
            return linear(h, weight: weightNormalized(p["fc2.direction"]!, gain: p["fc2.gain"]!), bias: p["fc2.bias"]!)
        }

        /// Inputs [θ, velocity, images, lr, momentum] → [θ', velocity'].
        func innerStep(_ s: [Tensor<Float>]) -> [Tensor<Float>] {
            let loss = crossEntropy(logits: logits(s[0], s[1 + 1]), labels: labels)
            let grad = gradients(of: loss, wrt: [s[0]], createGraph: true)[0]
            let next = sgdMomentumStep(parameters: s[0], velocity: s[1], gradient: grad, learningRate: s[3], momentum: s[4])
            return [next.parameters, next.velocity]
        }

        let images = (0..<steps).map { _ in Tensor(rng.normal([batch, 1, 28, 28], std: 1) as NDArray<Float>, requiresGrad: true) }
        let realImages = Tensor(rng.normal([batch, 1, 28, 28]) as NDArray<Float>)
        let lr = Tensor(NDArray<Float>(scalar: 0.02), requiresGrad: true)
        let momentum = Tensor(NDArray<Float>(scalar: 0.5), requiresGrad: true)
        print("meta-gradient: T = \(steps), batch \(batch), width \(width), \(layout.count) learner parameters, recompute block \(block == 0 ? "off" : String(block))")

        let start = DispatchTime.now().uptimeNanoseconds
        var theta0 = Tensor(theta, requiresGrad: true)
        var velocity = Tensor(NDArray<Float>(zeros: [layout.count]))
        var t = 0
        while t < steps {
            let span = block == 0 ? 1 : min(block, steps - t)
            let first = t
            let blockImages = Array(images[first..<(first + span)])
            let run: ([Tensor<Float>]) -> [Tensor<Float>] = { s in
                var state = [s[0], s[1]]
                for k in 0..<span { state = innerStep([state[0], state[1], s[4 + k], s[2], s[3]]) }
                return state
            }
            let inputs = [theta0, velocity, lr, momentum] + blockImages
            let out = block == 0 ? run(inputs) : checkpoint(inputs, run)
            (theta0, velocity) = (out[0], out[1])
            t += span
        }
        let metaLoss = crossEntropy(logits: logits(theta0, realImages), labels: labels)
        let forward = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let grads = gradients(of: metaLoss, wrt: images + [lr, momentum])
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let norm = grads.dropLast(2).map { $0.value.data.reduce(0) { $0 + $1 * $1 } }.reduce(0, +).squareRoot()
        print(String(format: "meta-loss %.4f, |d/d images| %.4g, d/d lr %.4g", metaLoss.scalar, norm, grads[steps].scalar))
        print(String(format: "time: forward %.2f s, total %.2f s (%.3f s per inner step); peak memory %.0f MiB",
                     forward, total, total / Double(steps), peakMemoryMiB()))
    }
}
