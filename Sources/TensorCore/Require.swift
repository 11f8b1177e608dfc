/// Stops the program with `message` when `condition` is false — for
/// programming mistakes such as mismatched shapes. Unlike `precondition`, the
/// message survives optimised (release) builds, where all numeric code runs.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// Always stops the program with `message` (see `require`).
public func requirementFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message, file: file, line: line)
}
