import Foundation
import TensorCore

/// GFLOP/s of the convolution and matmul kernels at the learner's shapes,
/// relative to a large sgemm measured alongside each kernel, and the minor
/// page faults per call (a fresh, untouched output buffer costs one per 4 KiB
/// page); the memory roofline of the conv 1->64 kernels, measured in the same run.
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

    /// Best write and read bandwidth in GB/s over a buffer of `count` floats,
    /// already touched, split over `BLASInfo.threadCount` threads: plain
    /// vector stores and loads, as the kernels do.
    static func memoryBandwidth(floats count: Int, repeats: Int) -> (write: Double, read: Double) {
        let threads = BLASInfo.threadCount, vectors = count / 8
        nonisolated(unsafe) let buffer = UnsafeMutableRawPointer.allocate(byteCount: 32 * vectors, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: Float.self, repeating: 0, count: 8 * vectors)
        nonisolated(unsafe) let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)   // keeps the reads
        defer { sums.deallocate() }
        let write = fastestSeconds(repeats: repeats) {
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in (vectors * t / threads)..<(vectors * (t + 1) / threads) {
                    buffer.storeBytes(of: SIMD8<Float>(repeating: 1), toByteOffset: 32 * i, as: SIMD8<Float>.self)
                }
            }
        }
        let read = fastestSeconds(repeats: repeats) {
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                var sum = SIMD8<Float>()
                for i in (vectors * t / threads)..<(vectors * (t + 1) / threads) {
                    sum += buffer.load(fromByteOffset: 32 * i, as: SIMD8<Float>.self)
                }
                sums[t] = sum.sum()
            }
        }
        return (Double(32 * vectors) / write / 1e9, Double(32 * vectors) / read / 1e9)
    }

    static func run(repeats: Int) {
        let peak = sgemmReference(repeats: repeats)
        var rng = RandomStream(seed: 1)

        // Roofline of the 1->64 convolution: no kernel can beat the time its
        // compulsory memory traffic takes (the 25.7 MB output written, or read
        // back by both gradients) at the bandwidth measured here.
        let (outputBytes, imageBytes) = (Double(128 * 64 * 28 * 28 * 4), Double(128 * 28 * 28 * 4))
        let bandwidth = memoryBandwidth(floats: 128 * 64 * 28 * 28, repeats: 4 * repeats)
        print(String(format: "memory, %.1f MB buffer (the conv 1->64 output), %d threads: write %.1f GB/s, read %.1f GB/s",
                     outputBytes / 1e6, BLASInfo.threadCount, bandwidth.write, bandwidth.read))
        let convFlops = 2.0 * 128 * 64 * 28 * 28 * 9
        let ceilings = [("forward", imageBytes / bandwidth.read + outputBytes / bandwidth.write),
                        ("grad-input", outputBytes / bandwidth.read + imageBytes / bandwidth.write),
                        ("grad-weight", (outputBytes + imageBytes) / bandwidth.read)].map { name, nanoseconds in
            let gflops = convFlops / nanoseconds   // bytes / (GB/s) = ns
            return String(format: "%@ %.0f GFLOP/s (%.0f%%)", name, gflops, 100 * gflops / peak)
        }
        print("memory ceiling of conv 1->64 28x28: " + ceilings.joined(separator: ", "))

        // This machine's speed changes by up to 2x within minutes (other
        // tenants), so each kernel's ratio is taken against an sgemm timed
        // alongside it: the two alternate, and each keeps its best time.
        let size = 1536
        let a: NDArray<Float> = rng.normal([size, size]), b: NDArray<Float> = rng.normal([size, size])
        let sgemmFlops = 2 * pow(Double(size), 3)
        print("kernel                                    GFLOP/s   sgemm \(size)³ alongside   ratio   page faults/call")

        func report(_ name: String, flops: Double, _ body: () -> Void) {
            _ = NDArray.matmul(a, b)
            body()   // warm-up
            var (bestKernel, bestSgemm, faults) = (Double.infinity, Double.infinity, 0)
            for _ in 0..<repeats {
                bestSgemm = min(bestSgemm, seconds { _ = NDArray.matmul(a, b) })
                let faultsBefore = minorPageFaults()
                bestKernel = min(bestKernel, seconds(body))
                faults += minorPageFaults() - faultsBefore
            }
            let (gflops, sgemm) = (flops / bestKernel / 1e9, sgemmFlops / bestSgemm / 1e9)
            let padded = name.padding(toLength: 40, withPad: " ", startingAt: 0)
            print(padded + String(format: " %8.1f   %20.1f   %4.0f%%   %16.0f", gflops, sgemm, 100 * gflops / sgemm,
                                  Double(faults) / Double(repeats)))
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
