import Dispatch

/// A pointer that may cross into worker threads; each worker must touch a
/// disjoint part of the memory.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    init(_ base: UnsafePointer<T>) { self.base = UnsafeMutablePointer(mutating: base) }
}

/// Runs `body(i)` for i in 0..<count on up to `BLASInfo.threadCount` threads.
/// For memory-bound loops around BLAS calls (im2col, col2im, layout copies):
/// OpenBLAS serialises concurrent calls, so BLAS itself is never called here;
/// it parallelises its own (large) products instead.
func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    let workers = min(BLASInfo.threadCount, count)
    guard workers > 1 else {
        for i in 0..<count { body(i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        for i in (count * w / workers)..<(count * (w + 1) / workers) { body(i) }
    }
}
