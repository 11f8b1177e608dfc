import Foundation
import Testing
@testable import Artifacts

/// A fresh temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func write(_ bytes: [UInt8], to name: String) throws -> URL {
        let target = file(name)
        try Data(bytes).write(to: target)
        return target
    }
}

/// The result of running a child process.
struct ProcessResult {
    let status: Int32
    let output: String
    let error: String
}

/// Runs `executable` with `arguments` to completion, capturing standard
/// output and error through temporary files (no pipe can fill up).
@discardableResult
func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
    let scratch = try TemporaryDirectory()
    let outputURL = scratch.file("stdout")
    let errorURL = scratch.file("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    process.standardError = try FileHandle(forWritingTo: errorURL)
    try process.run()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         output: try String(contentsOf: outputURL, encoding: .utf8),
                         error: try String(contentsOf: errorURL, encoding: .utf8))
}

/// The directory holding the built products (the test bundle's directory).
let productsDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// Path of the built `artifact-tool`.
let artifactToolPath = productsDirectory.appendingPathComponent("artifact-tool").path

/// `bytes` gzip-compressed by the system's `gzip`.
func gzipped(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> [UInt8] {
    let name = "gzip-input-\(UUID().uuidString)"
    let input = try directory.write(bytes, to: name)
    let result = try runProcess("/bin/gzip", ["-n", "-f", input.path])
    #expect(result.status == 0, "gzip failed: \(result.error)")
    let compressed = directory.file(name + ".gz")
    defer { try? FileManager.default.removeItem(at: compressed) }
    return Array(try Data(contentsOf: compressed))
}

/// Runs `body` and returns the `ArtifactError` it throws; records an issue
/// if it throws nothing or another error type.
func expectArtifactError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ArtifactError? {
    do {
        try body()
        Issue.record("expected an ArtifactError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ArtifactError {
        return error
    } catch {
        Issue.record("expected an ArtifactError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
