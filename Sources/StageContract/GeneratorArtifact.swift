import Artifacts
import Foundation
import GTN
import JSONText
import Pipeline
import TensorCore

/// The artifacts `meta-train-generator` hands to later stages: the generator
/// artifact (every meta-parameter by name) and the curriculum's images,
/// both with the settings they were trained under in their metadata
/// (docs/artifact-format.md).
public enum GeneratorArtifact {
    /// The named parts of the meta-parameters as stored: `generator.<parameter>`
    /// for each generator parameter, then `curriculum`,
    /// `inner.log_learning_rate`, `inner.log_momentum`; each with its range in
    /// the flat meta-parameter vector [setup.layout.count].
    static func storedParts(_ setup: TeachingSetup) -> [(name: String, shape: [Int], range: Range<Int>)] {
        setup.layout.entries.flatMap { entry -> [(name: String, shape: [Int], range: Range<Int>)] in
            guard entry.name == TeachingSetup.generatorPart else {
                return [(entry.name, entry.shape, entry.offset..<(entry.offset + entry.count))]
            }
            return setup.generator.layout.entries.map { part in
                ("\(TeachingSetup.generatorPart).\(part.name)", part.shape,
                 (entry.offset + part.offset)..<(entry.offset + part.offset + part.count))
            }
        }
    }

    /// SHA-256 of the canonical JSON of the settings the generator (and its checkpoints) depend on.
    public static func fingerprint(_ context: GTNStageContext) -> String {
        settingsFingerprint(context, sections: sections(context))
    }

    /// `{"campaign":…,"data":…,"meta_training":…}` as canonical JSON (each
    /// section as written, or `{}` when defaulted), plus `"search":…` when
    /// meta-training draws its learners from the search space.
    static func settings(_ context: GTNStageContext) -> String {
        JSONValue.object(pipelineSections(context, sections(context))).canonicalText
    }

    /// The sections the generator depends on.
    public static func sections(_ context: GTNStageContext) -> [String] {
        [CampaignSection.key, DataSection.key, MetaTrainingSection.key]
            + (context.pipeline.metaTraining.learners == .searchSpace ? [SearchSection.key] : [])
    }

    /// Metadata of the stage's artifacts.
    public static func metadata(_ context: GTNStageContext, iteration: Int) -> [String: String] {
        ["stage": StageName.metaTrainGenerator.rawValue, "campaign": context.pipeline.campaign.name,
         "campaign_seed": String(context.pipeline.campaign.seed), "meta_iterations": String(iteration),
         "settings": settings(context), settingsKey: fingerprint(context)]
    }

    /// The teaching setup the pipeline describes for images of `image`
    /// normalised to `outputRange` (with the standard learner; meta-training
    /// replaces it per meta-iteration when `meta_training.learners` is
    /// `search_space`).
    public static func teachingSetup(_ context: GTNStageContext, image: ImageShape, outputRange: ClosedRange<Double>) -> TeachingSetup {
        let m = context.pipeline.metaTraining
        return TeachingSetup(
            generator: Generator(image: image, noiseSize: m.noiseSize, width: m.width, outputRange: outputRange),
            learner: StandardLearner(image: image, width: m.width),
            innerSteps: m.innerSteps, batch: m.generatorBatch, recomputeBlock: m.recomputeBlock,
            intermediateLossEvery: m.intermediateLossEvery, initialLearningRate: m.innerLearningRate, initialMomentum: m.innerMomentum)
    }

    /// The meta-trained teaching data: the setup the pipeline describes and
    /// the meta-parameters [setup.layout.count] of the campaign's generator
    /// artifact; nil when it does not exist yet.
    public static func teaching(_ context: GTNStageContext, image: ImageShape,
                                outputRange: ClosedRange<Double>) throws -> (setup: TeachingSetup, meta: NDArray<Float>)? {
        let setup = teachingSetup(context, image: image, outputRange: outputRange)
        return try read(context.artifacts, setup: setup, fingerprint: fingerprint(context)).map { (setup, $0) }
    }

    static let curriculumImagesTensor = "curriculum_images", labelsTensor = "labels"
    /// The metadata key of the settings fingerprint an artifact was written under.
    public static let settingsKey = "settings_sha256"

    /// Writes the generator artifact of `meta` [setup.layout.count] and the
    /// curriculum's images [T, B, C, H, W] with their labels [B], each with
    /// `metadata` (which holds `settingsKey`).
    public static func write(meta: [Float], setup: TeachingSetup, metadata: [String: String], to artifacts: CampaignArtifacts) throws {
        let tensors = storedParts(setup).map { StoredTensor(name: $0.name, shape: $0.shape, values: Array(meta[$0.range])) }
        try FileManager.default.createDirectory(at: artifacts.metaTrainingDirectory, withIntermediateDirectories: true)
        try ArtifactFile.write(TensorArchive(tensors: tensors, metadata: metadata), to: artifacts.generator)

        let images = setup.curriculumImages(meta: NDArray(shape: [meta.count], data: meta))
        let shape = [setup.innerSteps, setup.batch] + Array(images.shape.dropFirst())
        try ArtifactFile.write(TensorArchive(tensors: [StoredTensor(name: curriculumImagesTensor, shape: shape, values: images.data),
                                                       StoredTensor(name: labelsTensor, shape: [setup.batch],
                                                                    values: setup.labels.map(Int64.init))],
                                             metadata: metadata),
                               to: artifacts.curriculumImages)
    }

    /// The meta-parameters [setup.layout.count] of the generator artifact in
    /// `artifacts`, which must have been written under `fingerprint`; nil
    /// when it does not exist yet.
    public static func read(_ artifacts: CampaignArtifacts, setup: TeachingSetup, fingerprint: String) throws -> NDArray<Float>? {
        let url = artifacts.generator
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let archive = try ArtifactFile.read(url)
        guard archive.metadata[settingsKey] == fingerprint else {
            throw InputError("\(url.path) was written for other campaign/data/meta_training settings\n"
                             + "HINT: run \(StageName.metaTrainGenerator.rawValue) again after deleting it and its checkpoint")
        }
        var meta = [Float](repeating: 0, count: setup.layout.count)
        for part in storedParts(setup) {
            let values = try archive.values(part.name, as: Float.self)
            guard values.count == part.range.count else {
                throw ArtifactError.damaged(path: url.path, reason: "\(part.name) holds \(values.count) values, expected \(part.range.count)")
            }
            meta.replaceSubrange(part.range, with: values)
        }
        return NDArray(shape: [meta.count], data: meta)
    }

    /// The learned per-step learning rates and momenta [T] stored in the
    /// generator artifact at `url` (for the report, which has no setup).
    public static func innerOptimiser(_ url: URL) throws -> (learningRates: [Double], momenta: [Double]) {
        let archive = try ArtifactFile.read(url)
        return (try archive.values(TeachingSetup.logLearningRatePart, as: Float.self).map { Foundation.exp(Double($0)) },
                try archive.values(TeachingSetup.logMomentumPart, as: Float.self).map { Foundation.exp(Double($0)) })
    }

    /// The curriculum's images as stored at `url`: values and shape [T, B, C, H, W].
    public static func curriculumImages(_ url: URL) throws -> (values: [Float], shape: [Int]) {
        let archive = try ArtifactFile.read(url)
        guard let shape = archive.tensor(named: curriculumImagesTensor)?.shape, shape.count == 5 else {
            throw ArtifactError.damaged(path: url.path, reason: "\(curriculumImagesTensor) is not [T, B, C, H, W]")
        }
        return (try archive.values(curriculumImagesTensor, as: Float.self), shape)
    }
}
