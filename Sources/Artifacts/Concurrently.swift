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

/// `concurrently(count, body)` while one more task adds `pieces` to
/// `checksum`, in order. The checksum is the first task, so that it starts
/// first and does not run alone at the end; with no pieces there is none.
func concurrently(_ count: Int, checksumming pieces: [UnsafeRawBufferPointer], into checksum: inout XXH32,
                  _ body: @Sendable (Int) -> Void) {
    let shared = Unchecked(pieces)
    let checksumTasks = pieces.isEmpty ? 0 : 1
    withUnsafeMutablePointer(to: &checksum) { pointer in
        let hasher = Unchecked(pointer)
        concurrently(checksumTasks + count) { task in
            if task < checksumTasks {
                for piece in shared.value { hasher.value.pointee.update(piece) }
            } else {
                body(task - checksumTasks)
            }
        }
    }
}
