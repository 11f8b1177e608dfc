import JSONText
import Artifacts
import Foundation
import GTN
import NN
import Pipeline
import Queue
import StageContract

/// Meta-training checkpoints: the whole `MetaTrainingState` (meta-parameters,
/// Adam's moments and step, the iteration count) as one artifact, written
/// atomically, tied to the settings that made it by the generator's
/// fingerprint (`GeneratorArtifact.fingerprint`).
enum Checkpoint {
    static func save(_ state: MetaTrainingState, fingerprint: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let count = state.meta.count
        let archive = TensorArchive(tensors: [
            StoredTensor(name: "meta", shape: [count], values: state.meta),
            StoredTensor(name: "adam.first_moment", shape: [count], values: state.adam.firstMoment),
            StoredTensor(name: "adam.second_moment", shape: [count], values: state.adam.secondMoment),
            StoredTensor(name: "adam.step", shape: [], values: [Int64(state.adam.step)]),
            StoredTensor(name: "iteration", shape: [], values: [Int64(state.iteration)]),
        ], metadata: ["stage": StageName.metaTrainGenerator.rawValue, "kind": "checkpoint", "settings_sha256": fingerprint])
        try ArtifactFile.write(archive, to: url)
    }

    /// The saved state, or nil when there is no checkpoint yet.
    static func load(_ url: URL, fingerprint: String, metaCount: Int) throws -> MetaTrainingState? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let archive = try ArtifactFile.read(url)
        guard archive.metadata["settings_sha256"] == fingerprint else {
            throw InputError("checkpoint \(url.path) was written for other campaign/data/meta_training settings\n"
                             + "HINT: delete it to start meta-training over with the current pipeline")
        }
        let meta = try archive.values("meta", as: Float.self)
        let first = try archive.values("adam.first_moment", as: Float.self)
        let second = try archive.values("adam.second_moment", as: Float.self)
        guard meta.count == metaCount, first.count == metaCount, second.count == metaCount else {
            throw ArtifactError.damaged(path: url.path, reason: "checkpoint holds \(meta.count) meta-parameters, expected \(metaCount)")
        }
        let step = try archive.values("adam.step", as: Int64.self), iteration = try archive.values("iteration", as: Int64.self)
        return MetaTrainingState(meta: meta, adam: Adam(firstMoment: first, secondMoment: second, step: Int(step[0])),
                                 iteration: Int(iteration[0]))
    }
}
