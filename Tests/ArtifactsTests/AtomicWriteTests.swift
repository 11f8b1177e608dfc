import Foundation
import SplitMix
import Testing
import TestSupport
@testable import Artifacts

/// A writer killed with SIGKILL at a random moment leaves the previous
/// complete file or the new complete one, never a partial file.
@Suite struct AtomicWriteTests {
    private let mebibytes = 16

    /// Reads `url` and checks it is one complete generation written by
    /// `artifact-tool write-test-file`; returns the generation.
    private func completeGeneration(_ url: URL) throws -> Int {
        let archive = try ArtifactFile.read(url)
        let generation = try #require(Int(archive.metadata["generation"] ?? ""))
        let values = try archive.values("values", as: Int32.self)
        #expect(values == ArtifactTool.testFileValues(generation: generation, count: mebibytes << 18))
        return generation
    }

    @Test func sigkillDuringWritesLeavesOldOrNewFile() throws {
        let directory = TemporaryDirectory()
        let url = directory.fileURL("target.safetensors.lz4")
        let first = try runProcess(artifactToolPath, ["write-test-file", url.path, "--mebibytes", "\(mebibytes)", "--generations", "1"])
        #expect(first.status == 0, "\(first.error)")
        #expect(try completeGeneration(url) == 1)

        var generator = SplitMix64(seed: 5)
        var killedMidWrite = 0
        var generationsSeen: Set<Int> = []
        let kills = 12
        for _ in 0..<kills {
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: artifactToolPath)
            writer.arguments = ["write-test-file", url.path, "--mebibytes", "\(mebibytes)"]
            writer.standardOutput = FileHandle.nullDevice
            try writer.run()
            usleep(UInt32(50_000 + generator.next(below: 600_000)))
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
            #expect(writer.terminationReason == .uncaughtSignal && writer.terminationStatus == SIGKILL)

            generationsSeen.insert(try completeGeneration(url))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
                .filter(AtomicFile.isTemporaryName)
            if !leftovers.isEmpty { killedMidWrite += 1 }
            // The killed writer's temporary file is stale: removed, and nothing else is.
            #expect(AtomicFile.removeStale(under: directory.url).map { URL(fileURLWithPath: $0).lastPathComponent }.sorted()
                    == leftovers.sorted())
            #expect(FileManager.default.fileExists(atPath: url.path))
        }
        print("AtomicWriteTests: \(kills) kills, \(killedMidWrite) during a write (temporary file left behind), generations found: \(generationsSeen.sorted())")
        // Kills that never hit a write in progress would not test anything.
        #expect(killedMidWrite > 0)
    }

    /// Temporary files whose writer may still be at work are never removed.
    @Test func liveWritersTemporaryFilesAreKept() throws {
        let directory = TemporaryDirectory()
        let mine = ".a.safetensors.lz4.tmp-\(AtomicFile.hostTag)-\(getpid())-7"
        let otherHost = ".b.safetensors.lz4.tmp-elsewhere-1-7"
        let earlierVersion = ".c.safetensors.lz4.tmp-1-7"
        for name in [mine, otherHost, earlierVersion] { _ = try directory.write([1], to: name) }
        #expect(AtomicFile.removeStale(under: directory.url).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).count == 3)
    }
}
