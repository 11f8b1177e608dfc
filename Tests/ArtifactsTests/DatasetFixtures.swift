import Checksums
import Foundation
import TestSupport
@testable import Artifacts
import SplitMix

/// Small datasets the Artifacts tests generate (seeded pixels) in the
/// published file formats (`TestSupport.DatasetFixtures`).
extension DatasetFixtures {
    /// Deterministic pixels for `count` images of `size` bytes each.
    static func pixels(count: Int, size: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<(count * size)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
    }

    static func labels(count: Int, offset: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(($0 + offset) % 10) }
    }

    /// An MNIST-style directory with `train` and `test` images of
    /// `height x width`, gzip-compressed when `gzip` is set; returns the
    /// SHA-256 of every file by name.
    @discardableResult
    static func writeIDXDataset(in directory: TemporaryDirectory, train: Int, test: Int, height: Int = 6, width: Int = 5,
                                gzip: Bool = true) throws -> [String: String] {
        let names = DatasetKind.idxFiles
        let files: [(String, [UInt8])] = [
            (names.trainImages, idx(dimensions: [train, height, width], elements: pixels(count: train, size: height * width, seed: 1))),
            (names.trainLabels, idx(dimensions: [train], elements: labels(count: train))),
            (names.testImages, idx(dimensions: [test, height, width], elements: pixels(count: test, size: height * width, seed: 2))),
            (names.testLabels, idx(dimensions: [test], elements: labels(count: test, offset: 3))),
        ]
        var checksums: [String: String] = [:]
        for (name, content) in files {
            let bytes = gzip ? try gzipped(content, in: directory) : content
            let fileName = gzip ? name : String(name.dropLast(3))
            _ = try directory.write(bytes, to: fileName)
            checksums[fileName] = SHA256.hash(bytes)
        }
        return checksums
    }

    /// One CIFAR-10 batch file: per image, a label byte then 3x32x32 pixels.
    static func cifarBatch(count: Int, seed: UInt64) -> [UInt8] {
        let images = pixels(count: count, size: 3072, seed: seed)
        let labels = labels(count: count, offset: Int(seed))
        return cifarBatch((0..<count).map { (labels[$0], Array(images[($0 * 3072)..<(($0 + 1) * 3072)])) })
    }

    /// `cifar-10-batches-bin/` with five training batches of `perBatch`
    /// images (seeds 1...5) and a test batch of `test` images (seed 6).
    static func writeCIFARBatches(in directory: URL, perBatch: Int, test: Int) throws {
        let batches = directory.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: batches, withIntermediateDirectories: true)
        for index in 1...5 {
            try Data(cifarBatch(count: perBatch, seed: UInt64(index))).write(to: batches.appendingPathComponent("data_batch_\(index).bin"))
        }
        try Data(cifarBatch(count: test, seed: 6)).write(to: batches.appendingPathComponent("test_batch.bin"))
        try Data("CIFAR-10 test fixture\n".utf8).write(to: batches.appendingPathComponent("readme.html"))
    }
}
