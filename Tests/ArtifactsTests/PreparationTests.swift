import Checksums
import Foundation
import SplitMix
import Testing
import TestSupport
@testable import Artifacts

@Suite struct PreparationTests {
    private typealias Fixtures = DatasetFixtures

    /// Population mean and standard deviation of `values`.
    private func statistics(_ values: [Float]) -> (mean: Double, std: Double) {
        let mean = values.reduce(0) { $0 + Double($1) } / Double(values.count)
        let variance = values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }

    /// Asked to stop after the training split is written, preparation
    /// throws and removes that split: no partial set of splits is left.
    @Test func stoppingPartWayKeepsNoSplit() throws {
        let data = TemporaryDirectory()
        let checksums = try Fixtures.writeIDXDataset(in: data, train: 120, test: 30)
        let source = DatasetSource(dataset: .mnist, location: data.url, checksums: checksums)
        let output = TemporaryDirectory()
        var questions = 0
        // Four files read, then the first split written: stop before the second.
        #expect(throws: PreparationStopped.self) {
            try DatasetPreparation.prepare(source: source, seed: 11, trainCount: 90, validationCount: 20, into: output.url,
                                           shouldStop: { questions += 1; return questions == 6 })
        }
        #expect(questions == 6)
        let left = try FileManager.default.contentsOfDirectory(atPath: output.url.path)
        #expect(!left.contains { $0.hasSuffix(ArtifactFile.fileExtension) }, "\(left)")
    }

    @Test func splitsNormalisesAndWritesThreeArtifacts() throws {
        let data = TemporaryDirectory()
        let checksums = try Fixtures.writeIDXDataset(in: data, train: 120, test: 30)
        let source = DatasetSource(dataset: .mnist, location: data.url, checksums: checksums)
        let output = TemporaryDirectory()
        let prepared = try DatasetPreparation.prepare(source: source, seed: 11, trainCount: 90, validationCount: 20,
                                                      into: output.url, metadata: ["campaign": "test"])
        #expect(prepared.trainCount == 90 && prepared.validationCount == 20 && prepared.testCount == 30)
        #expect(prepared.imageShape == [1, 6, 5] && prepared.classCount == 10)
        #expect(prepared.sourceChecksums == checksums)

        let original = try IDXReader.readImageSet(images: data.fileURL("train-images-idx3-ubyte.gz"), labels: data.fileURL("train-labels-idx1-ubyte.gz"))
        var seen: Set<Int64> = []
        for (url, split, count) in [(prepared.trainURL, "train", 90), (prepared.validationURL, "validation", 20)] {
            let archive = try ArtifactFile.read(url)
            #expect(archive.metadata["split"] == split && archive.metadata["seed"] == "11" && archive.metadata["campaign"] == "test")
            #expect(archive.metadata["producer"] == "DatasetPreparation" && archive.metadata["dataset"] == "mnist")
            #expect(archive.tensor(named: "images")?.shape == [count, 1, 6, 5])
            let indices = try archive.values("source_indices", as: Int64.self)
            #expect(indices == indices.sorted() && Set(indices).isDisjoint(with: seen))
            seen.formUnion(indices)
            #expect(try archive.values("labels", as: Int64.self) == indices.map { Int64(original.labels[Int($0)]) })
            // The pixels are stored as published; normalised when read, and undoing that gives them back.
            #expect(try archive.values("images", as: UInt8.self)
                    == indices.flatMap { original.pixels[(Int($0) * 30)..<(Int($0) * 30 + 30)] })
            let images = try DatasetPreparation.normalizedImages(of: archive).values
            for (position, index) in indices.enumerated() {
                for offset in 0..<30 {
                    let pixel = (images[position * 30 + offset] * prepared.std[0] + prepared.mean[0]) * 255
                    #expect(abs(pixel - Float(original.pixels[Int(index) * 30 + offset])) < 0.01)
                }
            }
            #expect(try archive.values("normalization.mean", as: Float.self) == prepared.mean)
            #expect(try archive.values("normalization.std", as: Float.self) == prepared.std)
        }
        // The training split is normalised to mean 0 and std 1.
        let train = statistics(try DatasetPreparation.normalizedImages(of: ArtifactFile.read(prepared.trainURL)).values)
        #expect(abs(train.mean) < 1e-4 && abs(train.std - 1) < 1e-4)
        // The official test set is kept apart, whole and in order.
        let test = try ArtifactFile.read(prepared.testURL)
        #expect(try test.values("source_indices", as: Int64.self) == (0..<30).map(Int64.init))
        #expect(try test.values("labels", as: Int64.self) == Fixtures.labels(count: 30, offset: 3).map(Int64.init))
    }

    @Test func splitDependsOnlyOnTheSeed() throws {
        let data = TemporaryDirectory()
        let checksums = try Fixtures.writeIDXDataset(in: data, train: 60, test: 6)
        let source = DatasetSource(dataset: .mnist, location: data.url, checksums: checksums)
        func prepare(seed: UInt64) throws -> (train: Data, indices: [Int64]) {
            let output = TemporaryDirectory()
            let prepared = try DatasetPreparation.prepare(source: source, seed: seed, into: output.url)
            #expect(prepared.trainCount == 50 && prepared.validationCount == 10)
            return (try Data(contentsOf: prepared.trainURL),
                    try ArtifactFile.read(prepared.validationURL).values("source_indices", as: Int64.self))
        }
        let first = try prepare(seed: 3)
        let again = try prepare(seed: 3)
        let other = try prepare(seed: 4)
        #expect(first.train == again.train)
        #expect(first.indices == again.indices)
        #expect(first.indices != other.indices)
        // The documented procedure: SplitMix64(seed) Fisher-Yates permutation, validation = positions 50..<60, sorted.
        var generator = SplitMix64(seed: 3)
        #expect(first.indices == generator.permutation(of: 60)[50..<60].sorted().map(Int64.init))
    }

    @Test func impossibleSplitSizesAreRefused() throws {
        let data = TemporaryDirectory()
        let checksums = try Fixtures.writeIDXDataset(in: data, train: 12, test: 2)
        let source = DatasetSource(dataset: .mnist, location: data.url, checksums: checksums)
        let error = expectArtifactError {
            _ = try DatasetPreparation.prepare(source: source, seed: 1, trainCount: 10, validationCount: 5, into: data.fileURL("out"))
        }
        #expect(error?.description.contains("do not fit the 12 images") == true, "\(String(describing: error))")
    }

    @Test func cifarPreparationNormalisesPerChannel() throws {
        let data = TemporaryDirectory()
        try Fixtures.writeCIFARBatches(in: data.url, perBatch: 4, test: 3)
        let batches = data.fileURL("cifar-10-batches-bin")
        var checksums: [String: String] = [:]
        for name in CIFAR10Reader.trainingBatches + [CIFAR10Reader.testBatch] {
            checksums[name] = try SHA256.hash(fileAt: batches.appendingPathComponent(name))
        }
        let source = DatasetSource(dataset: .cifar10, location: data.url, checksums: checksums)
        let output = TemporaryDirectory()
        let prepared = try DatasetPreparation.prepare(source: source, seed: 5, trainCount: 16, validationCount: 4, into: output.url)
        #expect(prepared.imageShape == [3, 32, 32] && prepared.mean.count == 3 && prepared.std.count == 3)
        #expect(prepared.testCount == 3)
        let images = try DatasetPreparation.normalizedImages(of: ArtifactFile.read(prepared.trainURL)).values
        for channel in 0..<3 {
            var plane: [Float] = []
            for image in 0..<16 {
                let start = image * 3072 + channel * 1024
                plane += images[start..<(start + 1024)]
            }
            let stats = statistics(plane)
            #expect(abs(stats.mean) < 1e-4 && abs(stats.std - 1) < 1e-4, "channel \(channel): \(stats)")
        }
    }
}

/// The real Fashion-MNIST files from Debian's `dataset-fashion-mnist`.
@Suite struct FashionMNISTPackageTests {
    static let directory = DatasetSource.debianFashionMNIST.location.path
    static let present = FileManager.default.fileExists(atPath: directory)

    @Test(.enabled(if: present, "skipped: \(directory) is absent (install the Debian package dataset-fashion-mnist)"))
    func decodesToTheKnownCountsAndStatistics() throws {
        let loaded = try DatasetPreparation.load(source: .debianFashionMNIST, downloadDirectory: URL(fileURLWithPath: "/nonexistent"))
        #expect(loaded.train.count == 60_000 && loaded.test.count == 10_000)
        #expect(loaded.train.height == 28 && loaded.train.width == 28 && loaded.train.channels == 1)
        #expect(loaded.train.labelCounts(classCount: 10) == [Int](repeating: 6_000, count: 10))
        #expect(loaded.test.labelCounts(classCount: 10) == [Int](repeating: 1_000, count: 10))
        let statistics = loaded.train.channelStatistics(of: Array(0..<60_000))
        print("Fashion-MNIST training set: mean \(statistics.mean[0]), std \(statistics.std[0]) (pixel / 255)")
        #expect(abs(statistics.mean[0] - 0.286) < 0.0005 && abs(statistics.std[0] - 0.353) < 0.0005)
    }

    @Test(.enabled(if: present, "skipped: \(directory) is absent (install the Debian package dataset-fashion-mnist)"))
    func defaultPreparationGivesFiftyTenAndTenThousand() throws {
        let output = TemporaryDirectory()
        let prepared = try DatasetPreparation.prepare(seed: 2026, into: output.url)
        #expect(prepared.trainCount == 50_000 && prepared.validationCount == 10_000 && prepared.testCount == 10_000)
        print("Fashion-MNIST train split (seed 2026): mean \(prepared.mean[0]), std \(prepared.std[0])")
        #expect(abs(prepared.mean[0] - 0.286) < 0.002 && abs(prepared.std[0] - 0.353) < 0.002)
        let train = try ArtifactFile.read(prepared.trainURL)
        #expect(train.tensor(named: "images")?.shape == [50_000, 1, 28, 28])
        #expect(try train.values("labels", as: Int64.self).count == 50_000)
        let info = try runProcess(artifactToolPath, ["info", prepared.testURL.path])
        #expect(info.status == 0 && info.output.contains("images  U8  [10000, 1, 28, 28]"), "\(info.output)\(info.error)")
    }
}
