import Dispatch

/// A pointer that may cross into worker threads; each worker must touch a
/// disjoint part of the memory.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    init(_ base: UnsafePointer<T>) { self.base = UnsafeMutablePointer(mutating: base) }
}

/// Shareable pointers to a source and a destination buffer, or nil when the
/// destination is empty (an empty buffer may have no address).
@inline(__always)
func sharedPointers<Source, Destination>(_ source: UnsafeBufferPointer<Source>,
                                         _ destination: UnsafeMutableBufferPointer<Destination>)
    -> (SharedPointer<Source>, SharedPointer<Destination>)? {
    guard !destination.isEmpty, let s = source.baseAddress, let d = destination.baseAddress else { return nil }
    return (SharedPointer(s), SharedPointer(d))
}

/// Runs `body(i)` for i in 0..<count on up to `BLASInfo.threadCount` threads,
/// in contiguous ranges. For loops without matrix products (stencils,
/// pooling); `body` must not issue BLAS products (`parallelShares` does).
func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    forEachWorkerShare(count) { _, items in
        for i in items { body(i) }
    }
}

/// Elements of work per worker below which a memory-bound loop stays on the
/// calling thread: waking a worker costs about as much as streaming this many
/// values.
let memoryBoundGrain = 1 << 14

/// Runs `body(items)` on contiguous ranges covering 0..<count: one range per
/// worker (up to `BLASInfo.threadCount`), each worth at least
/// `memoryBoundGrain` elements when an item is `itemSize` elements, else one
/// range on the calling thread. For memory-bound loops (elementwise,
/// pooling, layout) whose items write disjoint outputs; `body` must not issue
/// BLAS products.
func parallelRanges(_ count: Int, itemSize: Int = 1, _ body: @Sendable (_ items: Range<Int>) -> Void) {
    let workers = min(BLASInfo.threadCount, count, count * itemSize / memoryBoundGrain)
    forEachWorkerShare(count, workers: max(1, workers)) { _, items in body(items) }
}

/// How many shares `parallelShares` splits `count` items into.
func shareCount(_ count: Int) -> Int { max(1, min(BLASInfo.threadCount, count)) }

/// Runs `body(share, items)` for `shareCount(count)` contiguous shares of
/// 0..<count, one per worker, with OpenBLAS single-threaded meanwhile so that
/// each worker issues its own products. For work made of many small products
/// (a convolution image by image): OpenBLAS threads such products poorly, and
/// each worker's data stays in its own core's cache.
func parallelShares(_ count: Int, _ body: @Sendable (_ share: Int, _ items: Range<Int>) -> Void) {
    guard shareCount(count) > 1 else {
        body(0, 0..<count)
        return
    }
    BLASInfo.withSingleThreadedProducts { forEachWorkerShare(count, body) }
}

/// The elementwise sum of the consecutive blocks of `count` values in
/// `blocks` (one per share of `parallelShares`), added in share order.
func sumOfShares<T: AdditiveArithmetic>(_ blocks: [T], count: Int) -> [T] {
    guard blocks.count > count else { return blocks }
    return (0..<count).map { k in stride(from: k, to: blocks.count, by: count).reduce(.zero) { $0 + blocks[$1] } }
}

/// Runs `body(share, items)` on `workers` (default `shareCount(count)`)
/// workers, each with its contiguous share of 0..<count (in the calling
/// thread when there is one).
private func forEachWorkerShare(_ count: Int, workers: Int? = nil,
                                _ body: @Sendable (_ share: Int, _ items: Range<Int>) -> Void) {
    let workers = workers ?? shareCount(count)
    guard workers > 1 else {
        body(0, 0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        body(w, (count * w / workers)..<(count * (w + 1) / workers))
    }
}
