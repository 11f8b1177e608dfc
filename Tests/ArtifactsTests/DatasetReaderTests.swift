import Foundation
import Testing
import TestSupport
@testable import Artifacts

@Suite struct IDXReaderTests {
    private typealias Fixtures = DatasetFixtures

    @Test(arguments: [false, true])
    func readsImagesAndLabels(gzip: Bool) throws {
        let directory = TemporaryDirectory()
        try Fixtures.writeIDXDataset(in: directory, train: 12, test: 4, gzip: gzip)
        let suffix = gzip ? ".gz" : ""
        let set = try IDXReader.readImageSet(images: directory.fileURL("train-images-idx3-ubyte" + suffix),
                                             labels: directory.fileURL("train-labels-idx1-ubyte" + suffix))
        #expect(set.count == 12 && set.channels == 1 && set.height == 6 && set.width == 5)
        #expect(set.pixels == Fixtures.pixels(count: 12, size: 30, seed: 1))
        #expect(set.labels == Fixtures.labels(count: 12))
    }

    /// Reads images and labels written as given and returns the error.
    private func failure(images: [UInt8], labels: [UInt8], gzipImages: Bool = false) throws -> ArtifactError? {
        let directory = TemporaryDirectory()
        let imagesURL = try directory.write(gzipImages ? try gzipped(images, in: directory) : images, to: "images")
        let labelsURL = try directory.write(labels, to: "labels")
        return expectArtifactError { _ = try IDXReader.readImageSet(images: imagesURL, labels: labelsURL) }
    }

    private let goodImages = Fixtures.idx(dimensions: [10, 6, 5], elements: Fixtures.pixels(count: 10, size: 30, seed: 1))
    private let goodLabels = Fixtures.idx(dimensions: [10], elements: Fixtures.labels(count: 10))

    @Test func wrongMagic() throws {
        var images = goodImages
        images[0] = 0x08
        let error = try failure(images: images, labels: goodLabels)
        #expect(error?.description.contains("wrong magic number") == true, "\(String(describing: error))")
    }

    @Test func unsupportedElementType() throws {
        let images = Fixtures.idx(dimensions: [10, 6, 5], elements: [], type: 0x0D)
        let error = try failure(images: images, labels: goodLabels)
        #expect(error?.description.contains("element type 0x0d") == true, "\(String(describing: error))")
    }

    @Test func wrongDimensions() throws {
        let images = Fixtures.idx(dimensions: [10, 30], elements: Fixtures.pixels(count: 10, size: 30, seed: 1))
        let error = try failure(images: images, labels: goodLabels)
        #expect(error?.description.contains("wrong dimensions: images must have 3 dimension(s), the file has 2") == true, "\(String(describing: error))")
        let zero = try failure(images: Fixtures.idx(dimensions: [0, 6, 5], elements: []), labels: goodLabels)
        #expect(zero?.description.contains("wrong dimensions") == true, "\(String(describing: zero))")
    }

    @Test func labelImageCountMismatch() throws {
        let labels = Fixtures.idx(dimensions: [9], elements: Fixtures.labels(count: 9))
        let error = try failure(images: goodImages, labels: labels)
        #expect(error?.description.contains("holds 9 labels but images holds 10 images") == true, "\(String(describing: error))")
    }

    @Test func truncatedRawAndGzipFiles() throws {
        let raw = try failure(images: Array(goodImages.dropLast(7)), labels: goodLabels)
        #expect(raw?.description.contains("truncated: ended after 293 of the 300 bytes") == true, "\(String(describing: raw))")

        let directory = TemporaryDirectory()
        let compressed = try gzipped(goodImages, in: directory)
        for cut in [compressed.count / 2, compressed.count - 4, 11] {
            let url = try directory.write(Array(compressed[..<cut]), to: "cut-\(cut).gz")
            let error = expectArtifactError { _ = try IDXReader.read(url, rank: 3, what: "images") }
            #expect(error?.description.contains(url.path) == true)
            #expect(error?.description.contains("truncated") == true, "cut at \(cut): \(String(describing: error))")
        }
    }

    @Test func corruptGzipAndTrailingData() throws {
        let directory = TemporaryDirectory()
        var compressed = try gzipped(goodImages, in: directory)
        compressed[compressed.count / 2] ^= 0xFF
        let corrupt = try directory.write(compressed, to: "corrupt.gz")
        let error = expectArtifactError { _ = try IDXReader.read(corrupt, rank: 3, what: "images") }
        #expect(error?.description.contains("gzip data is corrupt") == true, "\(String(describing: error))")

        let long = try failure(images: goodImages + [1, 2, 3], labels: goodLabels)
        #expect(long?.description.contains("data continues after the 300 elements") == true, "\(String(describing: long))")
    }

    @Test func labelOutOfRange() throws {
        var labels = goodLabels
        labels[labels.count - 1] = 12
        let error = try failure(images: goodImages, labels: labels)
        #expect(error?.description.contains("label 12 at index 9") == true, "\(String(describing: error))")
    }
}

@Suite struct CIFAR10ReaderTests {
    private typealias Fixtures = DatasetFixtures

    private func expectFixture(_ sets: (train: ImageSet, test: ImageSet)) {
        #expect(sets.train.count == 15 && sets.test.count == 4)
        #expect(sets.train.channels == 3 && sets.train.height == 32 && sets.train.width == 32)
        let expectedTrain = (1...5).flatMap { Fixtures.cifarBatch(count: 3, seed: UInt64($0)) }
        #expect(sets.train.labels == (0..<15).map { expectedTrain[$0 * 3073] })
        #expect(sets.train.pixels[0..<3072] == expectedTrain[1..<3073])
        #expect(sets.test.pixels.suffix(3072) == Fixtures.cifarBatch(count: 4, seed: 6).suffix(3072))
    }

    @Test func readsExtractedBatchesAndTheTarGzArchive() throws {
        let directory = TemporaryDirectory()
        try Fixtures.writeCIFARBatches(in: directory.url, perBatch: 3, test: 4)
        let batches = directory.fileURL("cifar-10-batches-bin")
        expectFixture(try CIFAR10Reader.readBatches(
            train: CIFAR10Reader.trainingBatches.map(batches.appendingPathComponent),
            test: batches.appendingPathComponent(CIFAR10Reader.testBatch)))

        let archive = directory.fileURL(CIFAR10Reader.archiveName)
        let tar = try runProcess("/bin/tar", ["-czf", archive.path, "-C", directory.url.path, "cifar-10-batches-bin"])
        #expect(tar.status == 0, "\(tar.error)")
        expectFixture(try CIFAR10Reader.readArchive(archive))
    }

    @Test func wrongSizeMissingBatchAndDamagedTar() throws {
        let directory = TemporaryDirectory()
        try Fixtures.writeCIFARBatches(in: directory.url, perBatch: 3, test: 4)
        let batches = directory.fileURL("cifar-10-batches-bin")
        let test = batches.appendingPathComponent(CIFAR10Reader.testBatch)
        try Data(Fixtures.cifarBatch(count: 4, seed: 6).dropLast(100)).write(to: test)
        let wrongSize = expectArtifactError {
            _ = try CIFAR10Reader.readBatches(train: CIFAR10Reader.trainingBatches.map(batches.appendingPathComponent), test: test)
        }
        #expect(wrongSize?.description.contains("is not a positive multiple of 3073") == true, "\(String(describing: wrongSize))")

        try FileManager.default.removeItem(at: test)
        let archive = directory.fileURL(CIFAR10Reader.archiveName)
        #expect(try runProcess("/bin/tar", ["-czf", archive.path, "-C", directory.url.path, "cifar-10-batches-bin"]).status == 0)
        let missing = expectArtifactError { _ = try CIFAR10Reader.readArchive(archive) }
        #expect(missing?.description.contains("archive has no test_batch.bin") == true, "\(String(describing: missing))")

        // A tar whose first header is damaged (uncompressed tar, byte 10 of the name changed).
        let plainTar = directory.fileURL("plain.tar")
        #expect(try runProcess("/bin/tar", ["-cf", plainTar.path, "-C", directory.url.path, "cifar-10-batches-bin"]).status == 0)
        var bytes = Array(try Data(contentsOf: plainTar))
        bytes[10] ^= 0x01
        let damaged = try directory.write(bytes, to: "damaged.tar")
        let checksum = expectArtifactError { _ = try CIFAR10Reader.readArchive(damaged) }
        #expect(checksum?.description.contains("tar header checksum mismatch") == true, "\(String(describing: checksum))")
    }
}
