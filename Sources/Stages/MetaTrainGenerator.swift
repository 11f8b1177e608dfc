import Artifacts
import Foundation
import GTN
import NN
import Pipeline
import TensorCore

/// `meta-train-generator`: meta-learns the generator, its curriculum and the
/// inner optimiser's per-step learning rates and momenta (the `meta_training`
/// section), checkpointing every `checkpoint_every` meta-iterations and when
/// stopped, resuming from the last checkpoint, and finally writing
/// `artifacts/<campaign>/meta-training/generator.safetensors.lz4` and the
/// curriculum's images.
public enum MetaTrainGenerator {
    public static var stage: Stage {
        Stage(name: StageName.metaTrainGenerator.rawValue,
              summary: "Meta-train the generator, curriculum and inner learning rates on the training split.",
              plan: plan, run: run)
    }

    static let checkpointName = "checkpoint." + ArtifactFile.fileExtension
    static let generatorName = "generator." + ArtifactFile.fileExtension
    static let curriculumImagesName = "curriculum-images." + ArtifactFile.fileExtension

    /// `artifacts/<campaign>/meta-training/`.
    public static func directory(_ context: StageContext) -> URL {
        URL(fileURLWithPath: context.artifactsDirectory).appendingPathComponent("meta-training")
    }

    /// The final generator artifact (what later stages read).
    public static func generatorFile(_ context: StageContext) -> URL { directory(context).appendingPathComponent(generatorName) }

    static func plan(_ context: StageContext) throws -> StagePlan {
        try planFromStatus(context, outputs: [generatorFile(context)], present: "generator artifact present")
    }

    /// The teaching setup the pipeline describes, for this data (with the
    /// standard learner; `trainer` replaces it per meta-iteration when
    /// `meta_training.learners` is `search_space`).
    static func teachingSetup(_ context: StageContext, data: DataSplits) -> TeachingSetup {
        let m = context.pipeline.metaTraining
        return TeachingSetup(
            generator: Generator(image: data.image, noiseSize: m.noiseSize, width: m.width, outputRange: data.normalisedRange),
            learner: StandardLearner(image: data.image, width: m.width),
            innerSteps: m.innerSteps, batch: m.generatorBatch, recomputeBlock: m.recomputeBlock,
            intermediateLossEvery: m.intermediateLossEvery, initialLearningRate: m.innerLearningRate, initialMomentum: m.innerMomentum)
    }

    /// The trainer the pipeline describes, for this data.
    static func trainer(_ context: StageContext, data: DataSplits) -> MetaTrainer {
        let m = context.pipeline.metaTraining
        let setup = teachingSetup(context, data: data)
        var config = MetaTrainingConfig(iterations: m.iterations)
        config.metaBatch = m.metaBatch
        config.learningRate = m.learningRate
        config.finalLearningRateFraction = m.finalLearningRateFraction
        config.gradientClipNorm = m.gradientClipNorm > 0 ? m.gradientClipNorm : nil
        config.curriculum = m.curriculum
        config.learners = m.learners == .searchSpace ? .searchSpace(context.pipeline.search.space) : .fixed
        return MetaTrainer(setup: setup, config: config, seed: stageSeed(context, "meta-train-generator"))
    }

    static func run(_ context: StageContext) throws -> StageResult {
        guard let data = try DataSplits.load(context) else {
            return .incomplete(reason: "not ready: the dataset splits are missing; run fetch-data first")
        }
        let trainer = trainer(context, data: data)
        let m = context.pipeline.metaTraining
        let fingerprint = Checkpoint.fingerprint(context)
        let checkpointURL = directory(context).appendingPathComponent(checkpointName)
        var state = try Checkpoint.load(checkpointURL, fingerprint: fingerprint, metaCount: trainer.setup.layout.count)
            ?? trainer.initialState()
        if state.iteration > 0 { context.say("resuming from the checkpoint at meta-iteration \(state.iteration)") }
        let evaluation = data.validation.subset(Array(0..<min(m.evaluationImages, data.validation.count)))
        let progress = context.progress(total: m.iterations, startDone: state.iteration)
        var done = 0
        func save() throws { try Checkpoint.save(state, fingerprint: fingerprint, to: checkpointURL) }

        while state.iteration < m.iterations {
            if let reason = context.stopReason(unitsDone: done) {
                try save()
                return .incomplete(reason: "\(reason) at meta-iteration \(state.iteration) of \(m.iterations) (checkpoint saved)")
            }
            let step = try trainer.step(&state, train: data.train)
            done += 1
            try context.record(.metaLoss, step: step.iteration, value: step.metaLoss)
            try context.record(.metaGradientNorm, step: step.iteration, value: step.gradientNorm)
            try context.record(.metaLearningRate, step: step.iteration, value: step.learningRate)
            var fields = [("meta-loss", String(format: "%.4f", step.metaLoss))]
            if state.iteration % m.checkpointEvery == 0 || state.iteration == m.iterations {
                let accuracy = trainer.evaluate(state, on: evaluation)
                try context.record(.validationAccuracy, step: state.iteration, value: accuracy)
                fields.append(("validation accuracy", String(format: "%.4f", accuracy)))
                try save()
            }
            progress.update(done: state.iteration, fields: fields.map { (key: $0.0, value: $0.1) })
        }
        try save()
        try writeResults(trainer, state: state, context: context)
        progress.finish(done: state.iteration)
        context.say("comparing the learned curriculum with fresh noise, shuffled batches and real data")
        try recordComparison(trainer, state: state, data: data, validation: evaluation, context: context)
        return .done(summary: "\(m.iterations) meta-iterations; generator in \(generatorFile(context).path)")
    }

    /// Learners compared per variant in `recordComparison`.
    static let comparisonLearners = 3

    /// Records the test accuracy after each inner step k = 1…T (first
    /// `evaluation_images` test images) of fresh learners trained with the
    /// learned curriculum, with fresh noise, with shuffled batches and on real
    /// data, as metrics `inner_step_accuracy.<variant>` (mean over
    /// `comparisonLearners`) and `inner_step_accuracy_std.<variant>` at step k,
    /// and the real-data control's learning rate (chosen on `validation`).
    static func recordComparison(_ trainer: MetaTrainer, state: MetaTrainingState, data: DataSplits,
                                 validation: LabelledImages, context: StageContext) throws {
        let (curves, learningRate) = compareInnerSteps(
            trainer.setup, meta: NDArray(shape: [state.meta.count], data: state.meta), train: data.train,
            validation: validation, evaluation: leading(context.pipeline.metaTraining.evaluationImages, of: data.test),
            learners: comparisonLearners, stream: RandomStream(seed: stageSeed(context, "meta-train-generator/comparison")))
        for curve in curves {
            for (k, (mean, deviation)) in zip(curve.mean, curve.standardDeviation).enumerated() {
                try context.record(.innerStepAccuracy(curve.variant), step: k + 1, value: mean)
                try context.record(.innerStepAccuracyStandardDeviation(curve.variant), step: k + 1, value: deviation)
            }
        }
        try context.record(.realDataLearningRate, step: 0, value: learningRate)
    }

    /// The named parts of the meta-parameters as stored in the generator
    /// artifact: `generator.<parameter>` for each generator parameter, then
    /// `curriculum`, `inner.log_learning_rate`, `inner.log_momentum`; each
    /// with its range in the flat meta-parameter vector.
    static func storedParts(_ setup: TeachingSetup) -> [(name: String, shape: [Int], range: Range<Int>)] {
        setup.layout.entries.flatMap { entry -> [(name: String, shape: [Int], range: Range<Int>)] in
            guard entry.name == "generator" else { return [(entry.name, entry.shape, entry.offset..<(entry.offset + entry.count))] }
            return setup.generator.layout.entries.map { part in
                ("generator.\(part.name)", part.shape, (entry.offset + part.offset)..<(entry.offset + part.offset + part.count))
            }
        }
    }

    /// The meta-trained teaching data: the setup the pipeline describes and
    /// the meta-parameters [setup.layout.count] read from the generator
    /// artifact; nil when the artifact does not exist yet.
    static func loadTeaching(_ context: StageContext, data: DataSplits) throws -> (setup: TeachingSetup, meta: NDArray<Float>)? {
        let url = generatorFile(context)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let archive = try ArtifactFile.read(url)
        let setup = teachingSetup(context, data: data)
        guard archive.metadata["settings_sha256"] == Checkpoint.fingerprint(context) else {
            throw InputError("\(url.path) was written for other campaign/data/meta_training settings\n"
                             + "HINT: run meta-train-generator again after deleting it and its checkpoint")
        }
        var meta = [Float](repeating: 0, count: setup.layout.count)
        for part in storedParts(setup) {
            let values = try archive.values(part.name, as: Float.self)
            guard values.count == part.range.count else {
                throw ArtifactError.damaged(path: url.path, reason: "\(part.name) holds \(values.count) values, expected \(part.range.count)")
            }
            meta.replaceSubrange(part.range, with: values)
        }
        return (setup, NDArray(shape: [meta.count], data: meta))
    }

    /// The generator artifact (every meta-parameter by name, plus the setup in
    /// the metadata) and the curriculum's images [T, B, C, H, W].
    static func writeResults(_ trainer: MetaTrainer, state: MetaTrainingState, context: StageContext) throws {
        let setup = trainer.setup
        let meta = NDArray(shape: [state.meta.count], data: state.meta)
        let tensors = storedParts(setup).map { StoredTensor(name: $0.name, shape: $0.shape, values: Array(state.meta[$0.range])) }
        let metadata = Checkpoint.metadata(context, iteration: state.iteration)
        try FileManager.default.createDirectory(at: directory(context), withIntermediateDirectories: true)
        try ArtifactFile.write(TensorArchive(tensors: tensors, metadata: metadata), to: generatorFile(context))

        let images = setup.curriculumImages(meta: meta)
        let shape = [setup.innerSteps, setup.batch] + Array(images.shape.dropFirst())
        try ArtifactFile.write(TensorArchive(tensors: [StoredTensor(name: "curriculum_images", shape: shape, values: images.data),
                                                       StoredTensor(name: "labels", shape: [setup.batch],
                                                                    values: setup.labels.map(Int64.init))],
                                             metadata: metadata),
                               to: directory(context).appendingPathComponent(curriculumImagesName))
    }
}
