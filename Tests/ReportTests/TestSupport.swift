import Foundation
import QueueTestSupport

/// Runs `command` (looked up on PATH) to completion; returns its exit status
/// and standard output and error, captured through files so no pipe fills up.
func run(_ command: [String]) throws -> (status: Int32, output: String, error: String) {
    let scratch = TemporaryDirectory()
    let (outputPath, errorPath) = (scratch.file("stdout"), scratch.file("stderr"))
    for path in [outputPath, errorPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOfFile: outputPath, encoding: .utf8),
            try String(contentsOfFile: errorPath, encoding: .utf8))
}
