import CBLAS
import Dispatch

/// A pointer that may cross into worker threads; each worker must touch a
/// disjoint part of the memory.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Splits `count` independent items (e.g. the images of a batch) over the BLAS
/// thread count, running BLAS single-threaded inside each worker: for the many
/// small matrix products of a convolution this beats threading each product.
/// `body(range, worker)` handles items `range` using scratch slot `worker`.
func parallelChunks(_ count: Int, _ body: @Sendable (Range<Int>, Int) -> Void) {
    let workers = min(BLASInfo.threadCount, count)
    guard workers > 1 else {
        body(0..<count, 0)
        return
    }
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(BLASInfo.configuredThreads)) }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        body((count * w / workers)..<(count * (w + 1) / workers), w)
    }
}
