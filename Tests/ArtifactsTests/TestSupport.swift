import Foundation
import Testing
import TestSupport
@testable import Artifacts

/// Path of the built `artifact-tool`.
let artifactToolPath = productsDirectory + "/artifact-tool"

/// `bytes` gzip-compressed by the system's `gzip`.
func gzipped(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> [UInt8] {
    let name = "gzip-input-\(UUID().uuidString)"
    let input = try directory.write(bytes, to: name)
    let result = try runProcess("/bin/gzip", ["-n", "-f", input.path])
    #expect(result.status == 0, "gzip failed: \(result.error)")
    let compressed = directory.fileURL(name + ".gz")
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
