import Dispatch

/// Runs `body(0)`, …, `body(count - 1)` on all cores and returns when every
/// call has returned. The calls must touch disjoint memory.
func concurrently(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count == 1 {
        body(0)
    } else if count > 1 {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
}

/// Hands pointers to the calls of `concurrently`, which touch disjoint parts.
struct Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
