import Artifacts
import Foundation
import GTN
import Pipeline
import TensorCore

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
    static func loadRequired(_ context: StageContext) throws -> DataSplits {
        guard let data = try load(context) else {
            throw InputError("the dataset splits in \(FetchData.directory(context).path) are missing\nHINT: run fetch-data first")
        }
        return data
    }

    /// Loads all three splits; a missing one means `fetch-data` has not run.
    static func load(_ context: StageContext) throws -> DataSplits? {
        let files = FetchData.splitFiles(context)
        guard files.allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) else { return nil }
        let archives = try files.map(ArtifactFile.read)
        let sets = try zip(files, archives).map { try labelledImages($1, from: $0) }
        guard let classes = archives[0].metadata["class_count"].flatMap(Int.init) else {
            throw ArtifactError.damaged(path: files[0].path, reason: "metadata has no class_count")
        }
        let shape = sets[0].images.shape
        return DataSplits(train: sets[0], validation: sets[1], test: sets[2],
                          image: ImageShape(channels: shape[1], height: shape[2], width: shape[3], classes: classes),
                          mean: try archives[0].values("normalization.mean", as: Float.self),
                          std: try archives[0].values("normalization.std", as: Float.self))
    }
}

