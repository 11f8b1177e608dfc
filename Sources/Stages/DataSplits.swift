import Artifacts
import Foundation
import GTN
import Pipeline
import TensorCore
import StageContract

/// The dataset splits `fetch-data` wrote, loaded for the stages that train.
struct DataSplits {
    let train: LabelledImages
    let validation: LabelledImages
    let test: LabelledImages
    let image: ImageShape
    /// Per-channel normalisation constants of the training split.
    let mean: [Float], std: [Float]

    /// The range normalised pixels take ([0, 1] before normalisation), for the
    /// generator's output (first channel's range for multi-channel data).
    var normalisedRange: ClosedRange<Double> {
        let low = (0..<mean.count).map { Double(-mean[$0] / std[$0]) }.min()!
        let high = (0..<mean.count).map { Double((1 - mean[$0]) / std[$0]) }.max()!
        return low...high
    }

    /// Loads all three splits for a stage that cannot start without them
    /// (invalid input, naming the stage to run first).
    static func loadRequired(_ context: GTNStageContext) throws -> DataSplits {
        guard let data = try load(context) else {
            throw InputError("the dataset splits in \(context.artifacts.dataDirectory.path) are missing\nHINT: run \(StageName.fetchData.rawValue) first")
        }
        return data
    }

    /// Loads all three splits; a missing one means `fetch-data` has not run.
    /// Each must say it is the split expected at its path, of this
    /// campaign's dataset, seed and split sizes, so swapped or foreign files
    /// are refused instead of giving different scores silently.
    static func load(_ context: GTNStageContext) throws -> DataSplits? {
        let files = context.artifacts.splitFiles
        guard files.allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) else { return nil }
        let archives = try files.map(ArtifactFile.read)
        for (file, (archive, split)) in zip(files, zip(archives, ["train", "validation", "test"])) {
            try checkIdentity(archive, at: file, split: split, context: context)
        }
        let sets = try archives.map(labelledImages)
        guard let classes = archives[0].metadata["class_count"].flatMap(Int.init) else {
            throw ArtifactError.damaged(path: files[0].path, reason: "metadata has no class_count")
        }
        let shape = sets[0].images.shape
        return DataSplits(train: sets[0], validation: sets[1], test: sets[2],
                          image: ImageShape(channels: shape[1], height: shape[2], width: shape[3], classes: classes),
                          mean: try archives[0].values("normalization.mean", as: Float.self),
                          std: try archives[0].values("normalization.std", as: Float.self))
    }

    /// Throws naming the first recorded fact of `archive` that differs from
    /// what `split` of this campaign must be.
    static func checkIdentity(_ archive: TensorArchive, at file: URL, split: String, context: GTNStageContext) throws {
        let data = context.pipeline.data
        let expected = ["split": split, "dataset": data.dataset.rawValue,
                        "campaign_seed": String(context.pipeline.campaign.seed),
                        "train_count": String(data.trainCount), "validation_count": String(data.validationCount)]
        func refuse(_ what: String) -> InputError {
            InputError("\(file.path) is not this campaign's \(split) split: \(what)\n"
                       + "HINT: the data files were replaced or mixed up; delete \(file.deletingLastPathComponent().path) "
                       + "and run \(StageName.fetchData.rawValue) again")
        }
        for key in expected.keys.sorted() where archive.metadata[key] != expected[key] {
            throw refuse("its \(key) is \(archive.metadata[key].map { "\"\($0)\"" } ?? "missing"), expected \"\(expected[key]!)\"")
        }
        let labels = archive.tensor(named: "labels")?.shape.first
        if labels.map(String.init) != archive.metadata["\(split)_count"] {
            throw refuse("it holds \(labels.map(String.init) ?? "no") labels, but its \(split)_count is "
                         + "\(archive.metadata["\(split)_count"] ?? "missing")")
        }
    }
}

