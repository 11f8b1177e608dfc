import Foundation
import TensorCore

/// GFLOP/s of the convolution and matmul kernels at the learner's shapes
/// (and the input GB/s of max pooling),
/// relative to a large sgemm measured alongside each kernel, and the minor
/// page faults per call (a fresh, untouched output buffer costs one per 4 KiB
/// page), the ceiling a plain read of each kernel's inputs sets, measured
/// alongside, and the share of the CPUs' time the hypervisor took meanwhile.
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

    /// Reads every element of `arrays` once (but a last partial vector),
    /// split over `BLASInfo.threadCount` threads with 8-float vector loads:
    /// the least memory traffic a kernel taking these arrays as input has to do.
    static func readOnce(_ arrays: [NDArray<Float>]) {
        let threads = BLASInfo.threadCount
        nonisolated(unsafe) let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)   // keeps the loads
        defer { sums.deallocate() }
        for array in arrays {
            array.data.withUnsafeBufferPointer { elements in
                nonisolated(unsafe) let base = UnsafeRawPointer(elements.baseAddress!)
                let vectors = elements.count / 8
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    var (a, b) = (SIMD8<Float>(), SIMD8<Float>())
                    var i = vectors * t / threads
                    let end = vectors * (t + 1) / threads
                    while i + 1 < end {
                        a += base.loadUnaligned(fromByteOffset: 32 * i, as: SIMD8<Float>.self)
                        b += base.loadUnaligned(fromByteOffset: 32 * i + 32, as: SIMD8<Float>.self)
                        i += 2
                    }
                    if i < end { a += base.loadUnaligned(fromByteOffset: 32 * i, as: SIMD8<Float>.self) }
                    sums[t] = (a + b).sum()
                }
            }
        }
    }

    static func run(repeats: Int) {
        _ = sgemmReference(repeats: repeats)
        var rng = RandomStream(seed: 1)
        // glibc maps blocks above its mmap threshold afresh (a page fault per
        // 4 KiB) until a block that large has been freed, which raises the
        // threshold; a long-running process is past that point, so the
        // benchmark frees one the size of the largest output first.
        UnsafeMutableRawPointer.allocate(byteCount: 128 * 64 * 28 * 28 * 4, alignment: 64).deallocate()

        // This machine's speed changes by up to 2x within minutes (other
        // tenants), so each kernel's ratio is taken against an sgemm timed
        // alongside it: the two alternate, and each keeps its best time. The
        // ceiling is a plain read of the kernel's inputs, timed alongside too
        // and, like the kernel, right after an sgemm: no kernel reading its
        // inputs from the same caches can be faster (the conv 1->64 gradients
        // read a 25.7 MB gy that the memory's current bandwidth bounds).
        let size = 1536
        let a: NDArray<Float> = rng.normal([size, size]), b: NDArray<Float> = rng.normal([size, size])
        let sgemmFlops = 2 * pow(Double(size), 3)
        print("kernel                                    GFLOP/s   sgemm \(size)³ alongside   ratio   input-read ceiling   page faults/call   host steal")
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK))), cpus = Double(ProcessInfo.processInfo.activeProcessorCount)

        /// Best seconds of `body`, of the sgemm alongside and of a plain read
        /// of `inputs`; minor page faults per call; the host's steal meanwhile.
        func measure(inputs: [NDArray<Float>], _ body: () -> Void)
            -> (kernel: Double, sgemm: Double, read: Double, faultsPerCall: Double, steal: String) {
            _ = NDArray.matmul(a, b)
            body()   // warm-up
            var (bestKernel, bestSgemm, bestRead, faults) = (Double.infinity, Double.infinity, Double.infinity, 0)
            let (stolenBefore, start) = (stolenTicks(), DispatchTime.now().uptimeNanoseconds)
            for _ in 0..<repeats {
                bestSgemm = min(bestSgemm, seconds { _ = NDArray.matmul(a, b) })
                let faultsBefore = minorPageFaults()
                bestKernel = min(bestKernel, seconds(body))
                faults += minorPageFaults() - faultsBefore
            }
            // A loop of its own: reads between the kernel's calls make glibc
            // serve some of its outputs from fresh pages (627 faults a call).
            for _ in 0..<repeats {
                bestSgemm = min(bestSgemm, seconds { _ = NDArray.matmul(a, b) })
                bestRead = min(bestRead, seconds { readOnce(inputs) })
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            // The VM's CPU time the host gave to others while this row was
            // measured, as a share of both CPUs' time: a missing virtual CPU
            // would slow the short kernel calls far more than the sgemm.
            let steal = stolenTicks().flatMap { after in stolenBefore.map { before in
                String(format: "%9.1f%%", 100 * Double(after - before) / ticksPerSecond / (elapsed * cpus))
            } } ?? "      n/a"
            return (bestKernel, bestSgemm, bestRead, Double(faults) / Double(repeats), steal)
        }

        func report(_ name: String, flops: Double, inputs: [NDArray<Float>], _ body: () -> Void) {
            let best = measure(inputs: inputs, body)
            let sgemm: Double = sgemmFlops / best.sgemm / 1e9
            let gflops: Double = flops / best.kernel / 1e9, ceiling: Double = flops / best.read / 1e9
            let figures = String(format: " %8.1f   %20.1f   %4.0f%%   %17.0f%%   %16.0f   ", gflops, sgemm, 100 * gflops / sgemm,
                                 100 * ceiling / sgemm, best.faultsPerCall)
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0) + figures + best.steal)
        }

        // The paper's learner (batch 128), a search-space learner's 3×3
        // layers (batch 64: 8 and 32 channels at full size, a block's
        // stride-2 reduction) and the generator's 128 → 64 convolution.
        let shapes: [(label: String, input: [Int], weight: [Int], stride: Int)] = [
            ("conv 1->64 28x28", [128, 1, 28, 28], [64, 1, 3, 3], 1),
            ("conv 64->128 14x14", [128, 64, 14, 14], [128, 64, 3, 3], 1),
            ("conv 8->8 28x28 (n 64)", [64, 8, 28, 28], [8, 8, 3, 3], 1),
            ("conv 32->32 28x28 (n 64)", [64, 32, 28, 28], [32, 32, 3, 3], 1),
            ("conv 32->64 /2 14x14 (n 64)", [64, 32, 14, 14], [64, 32, 3, 3], 2),
            ("generator 128->64 14x14", [128, 128, 14, 14], [64, 128, 3, 3], 1),
        ]
        for shape in shapes {
            let x: NDArray<Float> = rng.normal(shape.input), w: NDArray<Float> = rng.normal(shape.weight)
            let g = ConvGeometry(stride: shape.stride, padding: 1)
            let y = NDArray.conv2d(x, w, g)
            let flops = 2 * Double(y.count) * Double(w.count / w.shape[0])
            report("\(shape.label) forward", flops: flops, inputs: [x, w]) { _ = NDArray.conv2d(x, w, g) }
            report("\(shape.label) grad-input", flops: flops, inputs: [y, w]) {
                _ = NDArray.conv2dGradInput(y, w, inputShape: x.shape, g)
            }
            report("\(shape.label) grad-weight", flops: flops, inputs: [x, y]) {
                _ = NDArray.conv2dGradWeight(x, y, weightShape: w.shape, g)
            }
        }
        let h: NDArray<Float> = rng.normal([128, 6272]), fc: NDArray<Float> = rng.normal([256, 6272])
        report("linear 6272->256 (x·Wᵀ)", flops: 2 * 128 * 6272 * 256, inputs: [h, fc]) { _ = NDArray.matmul(h, fc, transposeB: true) }
        let h2: NDArray<Float> = rng.normal([128, 256]), fc2: NDArray<Float> = rng.normal([10, 256])
        report("linear 256->10 (x·Wᵀ)", flops: 2 * 128 * 256 * 10, inputs: [h2, fc2]) { _ = NDArray.matmul(h2, fc2, transposeB: true) }

        // Max pooling moves data rather than computing: its figure is the
        // input it reads per second, beside a plain read of that input.
        // The standard learner's pools (width 0.25) on an accuracy chunk of
        // 500 images, and the search space's `mp` on a batch of 64.
        print("\nmax pooling                               input GB/s   plain read GB/s   share   page faults/call   host steal")
        let pools: [(label: String, input: [Int], geometry: PoolGeometry)] = [
            ("3x3/2 16ch 28x28 (n 500)", [500, 16, 28, 28], PoolGeometry(kernel: 3, stride: 2, padding: 1)),
            ("3x3/2 32ch 14x14 (n 500)", [500, 32, 14, 14], PoolGeometry(kernel: 3, stride: 2, padding: 1)),
            ("3x3/1 32ch 28x28 (n 64)", [64, 32, 28, 28], PoolGeometry(kernel: 3, stride: 1, padding: 1)),
        ]
        for pool in pools {
            let x: NDArray<Float> = rng.normal(pool.input)
            let bytes = Double(x.count * MemoryLayout<Float>.size)
            for (mode, body) in [("values", { _ = NDArray.maxPool(x, pool.geometry) }),
                                 ("positions", { _ = NDArray.maxPoolPositions(x, pool.geometry) })] as [(String, () -> Void)] {
                let best = measure(inputs: [x], body)
                let figures = String(format: " %10.1f   %15.1f   %4.0f%%   %16.0f   ", bytes / best.kernel / 1e9, bytes / best.read / 1e9,
                                     100 * best.read / best.kernel, best.faultsPerCall)
                print("\(pool.label) \(mode)".padding(toLength: 40, withPad: " ", startingAt: 0) + figures + best.steal)
            }
        }
    }
}
