import Foundation
import Testing
import TensorCore

/// OpenBLAS's workers stop spinning when idle (BLASInfo.idleWorkerWait).
@Suite struct OpenBLASIdleWorkers {
    /// The wait OpenBLAS itself reports (its exported `openblas_thread_timeout`).
    private func waitOpenBLASUses() -> Int32? {
        guard let library = dlopen(nil, RTLD_NOW), let entry = dlsym(library, "openblas_thread_timeout") else { return nil }
        return unsafeBitCast(entry, to: (@convention(c) () -> Int32).self)()
    }

    @Test func productsRunWithTheShortWaitOnTheSameThreads() throws {
        let threads = BLASInfo.threadCount
        let a = NDArray<Float>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = NDArray<Float>(shape: [3, 1], data: [1, 0, -1])
        #expect(NDArray.matmul(a, b).data == [-2, -2])   // the first product applies the wait
        // Debian's pthread OpenBLAS has the entry points, so the variable is
        // set now (by the environment or by BLASInfo) and OpenBLAS uses it.
        let configured = try #require(getenv("OPENBLAS_THREAD_TIMEOUT").map { String(cString: $0) })
        if BLASInfo.idleWorkerWaitApplied { #expect(configured == String(BLASInfo.idleWorkerWait)) }
        #expect(waitOpenBLASUses() == Int32(configured))
        #expect(BLASInfo.threadCount == threads)
        // Products after the workers' restart still use them and agree.
        let n = 96   // large enough for OpenBLAS to hand part of it to a worker (measured: 48³ is not)
        var rng = RandomStream(seed: 3)
        let x: NDArray<Float> = rng.normal([n, n]), y: NDArray<Float> = rng.normal([n, n])
        let product = NDArray.matmul(x, y)
        let row = (0..<n).map { j in (0..<n).reduce(Float(0)) { $0 + x.data[$1] * y.data[$1 * n + j] } }
        #expect(zip(product.data.prefix(n), row).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) })
    }
}
