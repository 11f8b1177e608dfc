import JSONText
import Artifacts
import Foundation
import GTN
import NN
import Pipeline
import Queue

/// Meta-training checkpoints: the whole `MetaTrainingState` (meta-parameters,
/// Adam's moments and step, the iteration count) as one artifact, written
/// atomically. A fingerprint of the campaign seed and the `data` and
/// `meta_training` sections (and `search`, when meta-training samples its
/// learners from it) ties a checkpoint to the configuration that made it.
enum Checkpoint {
    /// SHA-256 of the canonical JSON of the settings a checkpoint depends on.
    static func fingerprint(_ context: StageContext) -> String {
        settingsFingerprint(context, sections: sections(context))
    }

    /// `{"campaign":…,"data":…,"meta_training":…}` as canonical JSON (each
    /// section as written, or `{}` when defaulted), plus `"search":…` when
    /// meta-training draws its learners from the search space.
    static func settings(_ context: StageContext) -> String {
        JSONValue.object(pipelineSections(context, sections(context))).canonicalText
    }

    /// The sections the generator depends on.
    static func sections(_ context: StageContext) -> [String] {
        ["campaign", "data", "meta_training"] + (context.pipeline.metaTraining.learners == .searchSpace ? ["search"] : [])
    }

    /// Metadata of the stage's artifacts.
    static func metadata(_ context: StageContext, iteration: Int) -> [String: String] {
        ["stage": StageName.metaTrainGenerator.rawValue, "campaign": context.pipeline.campaign.name,
         "campaign_seed": String(context.pipeline.campaign.seed), "meta_iterations": String(iteration),
         "settings": settings(context), "settings_sha256": fingerprint(context)]
    }

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
