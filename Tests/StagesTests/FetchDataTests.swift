import Checksums
import Foundation
import TestSupport
import Testing

/// End-to-end runs of the built `fetch-data` on a small MNIST-format dataset
/// the test writes (raw IDX files: 100 training and 30 test images of 6×5).
@Suite struct FetchDataStage {
    /// Writes the four IDX files (100 training and 30 test images of
    /// `height`×`width`); returns their SHA-256 by file name.
    static func writeDataset(in directory: String, height: Int = 6, width: Int = 5) throws -> [String: String] {
        let idx = { (dimensions: [Int], elements: [UInt8]) in DatasetFixtures.idx(dimensions: dimensions, elements: elements) }
        let pixels = { (n: Int) in (0..<(n * height * width)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) } }
        let files: [(String, [UInt8])] = [
            ("train-images-idx3-ubyte", idx([100, height, width], pixels(100))),
            ("train-labels-idx1-ubyte", idx([100], (0..<100).map { UInt8($0 % 10) })),
            ("t10k-images-idx3-ubyte", idx([30, height, width], pixels(30))),
            ("t10k-labels-idx1-ubyte", idx([30], (0..<30).map { UInt8($0 % 10) })),
        ]
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var checksums: [String: String] = [:]
        for (name, bytes) in files {
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
            checksums[name] = SHA256.hash(bytes)
        }
        return checksums
    }

    /// A pipeline over that dataset; `extra` adds sections (`"meta_training": {…}`).
    static func pipeline(name: String, source: String, checksums: [String: String], extra: String = "") -> String {
        let sha = checksums.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        return """
            {"campaign": {"name": "\(name)", "seed": 5},
             "data": {"dataset": "mnist", "source": "\(source)", "sha256": {\(sha)},
                      "train_count": 80, "validation_count": 20}\(extra.isEmpty ? "" : ",\n " + extra)}
            """
    }

    @Test func writesSplitsThenSkipsThenRefusesBadChecksums() throws {
        let directory = TemporaryDirectory()
        let checksums = try Self.writeDataset(in: directory.file("mnist"))
        let pipeline = directory.write("p.json", Self.pipeline(name: "c", source: directory.file("mnist"), checksums: checksums))
        let common = ["--pipeline", pipeline, "--db", directory.file("c.sqlite"), "--artifacts", directory.file("art")]

        let first = try runProduct("fetch-data", common, in: directory)
        #expect(first.termination == .exited(0), "stderr: \(first.stderr)")
        #expect(first.stdout.contains("fetch-data: running: not started yet"))
        #expect(first.stdout.contains("80 train, 20 validation, 30 test images (1x6x5)"))
        for split in ["train", "validation", "test"] {
            #expect(FileManager.default.fileExists(atPath: directory.file("art/data/\(split).safetensors.lz4")))
        }

        let second = try runProduct("fetch-data", common, in: directory)
        #expect(second.termination == .exited(0))
        #expect(second.stdout.contains("fetch-data: skipping: done since"), "stdout: \(second.stdout)")

        var wrong = checksums
        wrong["train-labels-idx1-ubyte"] = String(repeating: "0", count: 64)
        let badPipeline = directory.write("bad.json", Self.pipeline(name: "d", source: directory.file("mnist"), checksums: wrong))
        let bad = try runProduct("fetch-data", ["--pipeline", badPipeline, "--db", directory.file("d.sqlite"),
                                                "--artifacts", directory.file("art-d")], in: directory)
        #expect(bad.termination == .exited(2))
        #expect(bad.stderr.contains("train-labels-idx1-ubyte"), "stderr: \(bad.stderr)")

        let missing = directory.write("missing.json", Self.pipeline(name: "e", source: directory.file("nowhere"), checksums: checksums))
        let absent = try runProduct("fetch-data", ["--pipeline", missing, "--db", directory.file("e.sqlite"),
                                                   "--artifacts", directory.file("art-e")], in: directory)
        #expect(absent.termination == .exited(2), "stderr: \(absent.stderr)")
        #expect(absent.stderr.contains("nowhere"), "stderr: \(absent.stderr)")
    }

    /// A first run that stops on a missing checksum has finished nothing, so
    /// the pipeline corrected as its hint says is accepted without --force.
    @Test func aPipelineCorrectedBeforeAnyWorkIsAccepted() throws {
        let directory = TemporaryDirectory()
        let checksums = try Self.writeDataset(in: directory.file("mnist"))
        var partial = checksums
        partial["t10k-labels-idx1-ubyte"] = nil
        let arguments = { (file: String) in ["--pipeline", file, "--db", directory.file("c.sqlite"), "--artifacts", directory.file("art")] }
        let first = try runProduct("fetch-data", arguments(directory.write("first.json", Self.pipeline(
            name: "c", source: directory.file("mnist"), checksums: partial))), in: directory)
        #expect(first.termination == .exited(2) && first.stderr.contains("t10k-labels-idx1-ubyte"), "\(first.stderr)")
        let corrected = try runProduct("fetch-data", arguments(directory.write("corrected.json", Self.pipeline(
            name: "c", source: directory.file("mnist"), checksums: checksums))), in: directory)
        #expect(corrected.termination == .exited(0), "\(corrected.stdout)\n\(corrected.stderr)")
    }
}
