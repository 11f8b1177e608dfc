import Foundation
import SplitMix

/// The artifacts and summary numbers of a prepared dataset.
public struct PreparedDataset: Sendable {
    public let dataset: DatasetKind
    /// Artifacts of the training split, the validation split (both drawn
    /// from the official training set) and the official test set.
    public let trainURL: URL
    public let validationURL: URL
    public let testURL: URL
    public let trainCount: Int
    public let validationCount: Int
    public let testCount: Int
    /// `[channels, height, width]`.
    public let imageShape: [Int]
    public let classCount: Int
    /// Per-channel normalisation constants in [0, 1] pixel units, computed on
    /// the training split: stored images are `(pixel / 255 - mean) / std`.
    public let mean: [Float]
    public let std: [Float]
    /// SHA-256 of each source file that was read, by file name.
    public let sourceChecksums: [String: String]
}

/// The data path of the `fetch-data` stage: fetch and verify a dataset,
/// decode it, split the official training set into train and validation
/// from the campaign seed, normalise with the training split's statistics,
/// and write one artifact per split.
public enum DatasetPreparation {
    /// Names of the split artifacts inside the output directory.
    public static let trainFileName = "train." + ArtifactFile.fileExtension
    public static let validationFileName = "validation." + ArtifactFile.fileExtension
    public static let testFileName = "test." + ArtifactFile.fileExtension
    /// Identifies the split procedure in metadata (see `SplitMix64`).
    static let splitProcedure = "splitmix64-fisher-yates-v1"

    /// Prepares `source` into `directory` (created if missing):
    /// `train.safetensors.lz4`, `validation.safetensors.lz4` and
    /// `test.safetensors.lz4`, each holding
    /// - `images`: U8 `[N, C, H, W]`, the pixels as published (normalised
    ///   when read, by `normalizedImages(of:)`),
    /// - `labels`: I64 `[N]`,
    /// - `source_indices`: I64 `[N]`, each image's index in the official set,
    /// - `normalization.mean`, `normalization.std`: F32 `[C]`,
    /// and metadata (dataset, split, seed, counts, source checksums, plus
    /// `metadata`). Downloads, if any, go to `directory/downloads`.
    ///
    /// The split: `SplitMix64(seed)` permutes the official training indices;
    /// the first `trainCount` form the training split and the next
    /// `validationCount` the validation split, each then sorted ascending.
    /// Defaults: validation = one sixth of the official training set
    /// (10,000 of 60,000), train = the rest (50,000).
    ///
    /// Every file is written atomically; calling this again with the same
    /// arguments rewrites identical artifacts. `shouldStop` is asked between
    /// files read and splits written; when it says yes this throws
    /// `PreparationStopped`, having removed any split it had written.
    public static func prepare(
        source: DatasetSource = .debianFashionMNIST,
        seed: UInt64,
        trainCount: Int? = nil,
        validationCount: Int? = nil,
        into directory: URL,
        metadata: [String: String] = [:],
        shouldStop: () -> Bool = { false }
    ) throws -> PreparedDataset {
        try PosixFile.createDirectories(directory.path)
        let loaded = try load(source: source, downloadDirectory: directory.appendingPathComponent("downloads"),
                              shouldStop: shouldStop)
        let official = loaded.train
        let validationSize = validationCount ?? official.count / 6
        let trainSize = trainCount ?? official.count - validationSize
        guard trainSize > 0, validationSize >= 0, trainSize + validationSize <= official.count else {
            throw ArtifactError.invalidRequest(reason:
                "split sizes train \(trainSize) + validation \(validationSize) do not fit the \(official.count) images of \(source.dataset.rawValue)'s training set")
        }
        var generator = SplitMix64(seed: seed)
        let permutation = generator.permutation(of: official.count)
        let trainIndices = permutation[0..<trainSize].sorted()
        let validationIndices = permutation[trainSize..<(trainSize + validationSize)].sorted()

        let statistics = official.channelStatistics(of: trainIndices)
        let mean = statistics.mean.map(Float.init)
        let std = statistics.std.map { Float(max($0, 1e-12)) }

        var common = metadata
        common["producer"] = common["producer"] ?? "DatasetPreparation"
        common["dataset"] = source.dataset.rawValue
        common["seed"] = String(seed)
        common["split_procedure"] = splitProcedure
        common["train_count"] = String(trainSize)
        common["validation_count"] = String(validationSize)
        common["test_count"] = String(loaded.test.count)
        common["class_count"] = String(ImageSet.classCount)
        common["normalization"] = "images hold raw pixels; read them as (pixel / 255 - mean) / std per channel, "
            + "mean and std of the train split"
        for (name, sha) in loaded.checksums { common["source_sha256." + name] = sha }

        let urls = [trainFileName, validationFileName, testFileName].map(directory.appendingPathComponent)
        let splits: [(name: String, images: ImageSet, indices: [Int])] = [
            ("train", official, trainIndices),
            ("validation", official, validationIndices),
            ("test", loaded.test, Array(0..<loaded.test.count)),
        ]
        var written: [URL] = []
        for (split, url) in zip(splits, urls) {
            if shouldStop() {
                for url in written { try? FileManager.default.removeItem(at: url) }
                throw PreparationStopped()
            }
            var splitMetadata = common
            splitMetadata["split"] = split.name
            let archive = TensorArchive(tensors: [
                pixelImages(split.images, indices: split.indices),
                StoredTensor(name: "labels", shape: [split.indices.count], values: split.indices.map { Int64(split.images.labels[$0]) }),
                StoredTensor(name: "source_indices", shape: [split.indices.count], values: split.indices.map(Int64.init)),
                StoredTensor(name: "normalization.mean", shape: [mean.count], values: mean),
                StoredTensor(name: "normalization.std", shape: [std.count], values: std),
            ], metadata: splitMetadata)
            try ArtifactFile.write(archive, to: url)
            written.append(url)
        }
        return PreparedDataset(
            dataset: source.dataset, trainURL: urls[0], validationURL: urls[1], testURL: urls[2],
            trainCount: trainSize, validationCount: validationSize, testCount: loaded.test.count,
            imageShape: [official.channels, official.height, official.width], classCount: ImageSet.classCount,
            mean: mean, std: std, sourceChecksums: loaded.checksums)
    }

    /// Fetches, verifies and decodes the official training and test sets of
    /// `source`, without splitting or normalising. Returns the SHA-256 of
    /// every file read, by file name.
    public static func load(source: DatasetSource, downloadDirectory: URL, shouldStop: () -> Bool = { false }) throws
        -> (train: ImageSet, test: ImageSet, checksums: [String: String])
    {
        let fetcher = DatasetFetcher(source: source, downloadDirectory: downloadDirectory)
        var checksums: [String: String] = [:]
        func fetch(_ published: String) throws -> URL {
            if shouldStop() { throw PreparationStopped() }
            // Local directories may hold the files extracted (without ".gz").
            let file = try fetcher.fetch(oneOf: [published, String(published.dropLast(3))])
            checksums[file.url.lastPathComponent] = file.sha256
            return file.url
        }
        switch source.dataset {
        case .fashionMNIST, .mnist, .kmnist:
            let names = DatasetKind.idxFiles
            let train = try IDXReader.readImageSet(images: fetch(names.trainImages), labels: fetch(names.trainLabels))
            let test = try IDXReader.readImageSet(images: fetch(names.testImages), labels: fetch(names.testLabels))
            return (train, test, checksums)
        case .cifar10:
            let extracted = ["", "cifar-10-batches-bin/"].first { fetcher.hasLocalFile($0 + CIFAR10Reader.testBatch) }
            if let directory = extracted, !fetcher.hasLocalFile(CIFAR10Reader.archiveName) {
                func batch(_ name: String) throws -> URL {
                    let file = try fetcher.fetch(oneOf: [directory + name])
                    checksums[name] = file.sha256
                    return file.url
                }
                let sets = try CIFAR10Reader.readBatches(train: CIFAR10Reader.trainingBatches.map(batch),
                                                         test: batch(CIFAR10Reader.testBatch))
                return (sets.train, sets.test, checksums)
            }
            let archive = try fetcher.fetch(oneOf: [CIFAR10Reader.archiveName])
            checksums[CIFAR10Reader.archiveName] = archive.sha256
            let sets = try CIFAR10Reader.readArchive(archive.url)
            return (sets.train, sets.test, checksums)
        }
    }

    /// The images at `indices` as U8 `[N, C, H, W]`, as published.
    private static func pixelImages(_ images: ImageSet, indices: [Int]) -> StoredTensor {
        StoredTensor(name: "images", shape: [indices.count, images.channels, images.height, images.width]) {
            (output: UnsafeMutableBufferPointer<UInt8>) in
            images.pixels.withUnsafeBufferPointer { pixels in
                for (position, index) in indices.enumerated() {
                    let source = index * images.imageSize, destination = position * images.imageSize
                    for offset in 0..<images.imageSize { output[destination + offset] = pixels[source + offset] }
                }
            }
        }
    }

    /// The `images` of a split artifact as F32 `[N, C, H, W]`, normalised:
    /// `(pixel / 255 - mean) / std` per channel with the artifact's
    /// `normalization.mean` and `normalization.std` (splits of earlier
    /// versions, stored as F32 already normalised, are returned as stored).
    public static func normalizedImages(of archive: TensorArchive) throws -> (shape: [Int], values: [Float]) {
        guard let tensor = archive.tensor(named: "images"), tensor.shape.count == 4 else {
            throw ArtifactError.missingTensor(path: archive.origin, name: "images", available: archive.tensors.map(\.name))
        }
        if tensor.dtype == .float32 { return (tensor.shape, try archive.values("images", as: Float.self)) }
        let pixels = try archive.values("images", as: UInt8.self)
        let mean = try archive.values("normalization.mean", as: Float.self)
        let std = try archive.values("normalization.std", as: Float.self)
        let channels = tensor.shape[1], plane = tensor.shape[2] * tensor.shape[3]
        guard mean.count == channels, std.count == channels else {
            throw ArtifactError.damaged(path: archive.origin, reason: "normalization constants for \(mean.count) channels, "
                                        + "images with \(channels)")
        }
        let tables: [[Float]] = (0..<channels).map { channel in
            (0...255).map { (pixel: Int) -> Float in (Float(pixel) / 255 - mean[channel]) / std[channel] }
        }
        let values = [Float](unsafeUninitializedCapacity: pixels.count) { output, initialized in
            pixels.withUnsafeBufferPointer { input in
                for start in stride(from: 0, to: input.count, by: plane) {
                    let table = tables[(start / plane) % channels]
                    for offset in start..<(start + plane) { output[offset] = table[Int(input[offset])] }
                }
            }
            initialized = pixels.count
        }
        return (tensor.shape, values)
    }
}

/// `DatasetPreparation` stopped because its caller asked it to; nothing it
/// was writing is left behind.
public struct PreparationStopped: Error, Sendable {}
