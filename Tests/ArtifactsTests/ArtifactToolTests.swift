import Foundation
import Testing
import TestSupport
@testable import Artifacts

/// End-to-end checks of the built `artifact-tool` binary.
@Suite struct ArtifactToolTests {
    @Test func helpAndBadUsage() throws {
        let help = try runProcess(artifactToolPath, ["--help"])
        #expect(help.status == 0)
        for command in ["info FILE", "verify FILE", "write-test-file FILE", "bench"] {
            #expect(help.output.contains(command), "--help does not mention \(command)")
        }
        #expect(try runProcess(artifactToolPath, []).status == 2)
        let unknown = try runProcess(artifactToolPath, ["frobnicate"])
        #expect(unknown.status == 2 && unknown.error.contains("unknown command 'frobnicate'"))
        #expect(try runProcess(artifactToolPath, ["verify"]).status == 2)
    }

    @Test func infoListsTensorsAndMetadata() throws {
        let directory = TemporaryDirectory()
        let url = directory.fileURL("sample.safetensors.lz4")
        try ArtifactFile.write(sampleArchive(), to: url)
        let info = try runProcess(artifactToolPath, ["info", url.path])
        #expect(info.status == 0)
        #expect(info.output.contains("generator.fc1.weight  F32  [2, 3]"))
        #expect(info.output.contains("scalars.f64  F64  []"))
        #expect(info.output.contains("format_version = 1") && info.output.contains("producer = tests"))
        let missing = try runProcess(artifactToolPath, ["info", directory.fileURL("absent").path])
        #expect(missing.status == 1 && missing.error.contains("open failed: No such file or directory"), "\(missing.error)")
    }
}
