import Foundation
import TensorCore

/// GFLOP/s of the convolution and matmul kernels at the learner's shapes,
/// relative to a large sgemm measured in the same run, and the minor page
/// faults per call (a fresh, untouched output buffer costs one per 4 KiB page).
enum KernelBenchmark {
    /// The machine's reference throughput in GFLOP/s: the best large square
    /// sgemm (this machine is shared and noisy), printed as it is measured.
    static func sgemmReference(repeats: Int) -> Double {
        var rng = RandomStream(seed: 1)
        let peak = [1024, 1536, 2048].map { n -> Double in
            let a: NDArray<Float> = rng.normal([n, n]), b: NDArray<Float> = rng.normal([n, n])
            return 2 * pow(Double(n), 3) / fastestSeconds(repeats: repeats) { _ = NDArray.matmul(a, b) } / 1e9
        }.max()!
        print(String(format: "sgemm (best of 1024³, 1536³, 2048³): %.1f GFLOP/s (reference)", peak))
        return peak
    }

    static func run(repeats: Int) {
        let peak = sgemmReference(repeats: repeats)
        var rng = RandomStream(seed: 1)
        print("kernel                                    GFLOP/s   ratio to sgemm   page faults/call")

        func report(_ name: String, flops: Double, _ body: () -> Void) {
            let faultsBefore = minorPageFaults()
            let gflops = flops / fastestSeconds(repeats: repeats, body) / 1e9
            let faults = Double(minorPageFaults() - faultsBefore) / Double(repeats + 1)   // + 1: the warm-up call
            let padded = name.padding(toLength: 40, withPad: " ", startingAt: 0)
            print(padded + String(format: " %8.1f   %5.0f%%   %16.0f", gflops, 100 * gflops / peak, faults))
        }

        let x1: NDArray<Float> = rng.normal([128, 1, 28, 28]), w1: NDArray<Float> = rng.normal([64, 1, 3, 3])
        let x2: NDArray<Float> = rng.normal([128, 64, 14, 14]), w2: NDArray<Float> = rng.normal([128, 64, 3, 3])
        let g = ConvGeometry(stride: 1, padding: 1)
        for (label, x, w) in [("conv 1->64 28x28", x1, w1), ("conv 64->128 14x14", x2, w2)] {
            let y = NDArray.conv2d(x, w, g)
            let flops = 2 * Double(y.count) * Double(w.count / w.shape[0])
            report("\(label) forward", flops: flops) { _ = NDArray.conv2d(x, w, g) }
            report("\(label) grad-input", flops: flops) { _ = NDArray.conv2dGradInput(y, w, inputShape: x.shape, g) }
            report("\(label) grad-weight", flops: flops) { _ = NDArray.conv2dGradWeight(x, y, weightShape: w.shape, g) }
        }
        let h: NDArray<Float> = rng.normal([128, 6272]), fc: NDArray<Float> = rng.normal([256, 6272])
        report("linear 6272->256 (x·Wᵀ)", flops: 2 * 128 * 6272 * 256) { _ = NDArray.matmul(h, fc, transposeB: true) }
        let h2: NDArray<Float> = rng.normal([128, 256]), fc2: NDArray<Float> = rng.normal([10, 256])
        report("linear 256->10 (x·Wᵀ)", flops: 2 * 128 * 256 * 10) { _ = NDArray.matmul(h2, fc2, transposeB: true) }
    }
}
