import Artifacts
import Foundation
import GTN
import NN
import Pipeline
import TensorCore
import StageContract

/// `meta-train-generator`: meta-learns the generator, its curriculum and the
/// inner optimiser's per-step learning rates and momenta (the `meta_training`
/// section), checkpointing every `checkpoint_every` meta-iterations and when
/// stopped, resuming from the last checkpoint, and finally writing
/// `artifacts/<campaign>/meta-training/generator.safetensors.lz4` and the
/// curriculum's images.
public enum MetaTrainGenerator {
    public static var stage: GTNStage {
        GTNStage(name: StageName.metaTrainGenerator.rawValue,
              summary: "Meta-train the generator, curriculum and inner learning rates on the training split.",
              plan: plan, run: run)
    }

    static func plan(_ context: GTNStageContext) throws -> StagePlan {
        try planFromStatus(context, outputs: [context.artifacts.generator], present: "generator artifact present")
    }

    /// The trainer the pipeline describes, for this data.
    static func trainer(_ context: GTNStageContext, data: DataSplits) -> MetaTrainer {
        let m = context.pipeline.metaTraining
        let setup = GeneratorArtifact.teachingSetup(context, image: data.image, outputRange: data.normalisedRange)
        var config = MetaTrainingConfig(iterations: m.iterations)
        config.metaBatch = m.metaBatch
        config.learningRate = m.learningRate
        config.finalLearningRateFraction = m.finalLearningRateFraction
        config.gradientClipNorm = m.gradientClipNorm > 0 ? m.gradientClipNorm : nil
        config.curriculum = m.curriculum
        config.learners = m.learners == .searchSpace ? .searchSpace(context.pipeline.search.space) : .fixed
        return MetaTrainer(setup: setup, config: config, seed: stageSeed(context, "meta-train-generator"))
    }

    static func run(_ context: GTNStageContext) throws -> StageResult {
        guard let data = try DataSplits.load(context) else {
            return .incomplete(reason: "not ready: the dataset splits are missing; run \(StageName.fetchData.rawValue) first")
        }
        let trainer = trainer(context, data: data)
        let m = context.pipeline.metaTraining
        let fingerprint = GeneratorArtifact.fingerprint(context)
        let checkpointURL = context.artifacts.metaTrainingCheckpoint
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
        try GeneratorArtifact.write(meta: state.meta, setup: trainer.setup, metadata: GeneratorArtifact.metadata(context, iteration: state.iteration),
                                    to: context.artifacts)
        progress.finish(done: state.iteration)
        context.say("comparing the learned curriculum with fresh noise, shuffled batches and real data")
        try recordComparison(trainer, state: state, data: data, validation: evaluation, context: context)
        return .done(summary: "\(m.iterations) meta-iterations; generator in \(context.artifacts.generator.path)")
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
                                 validation: LabelledImages, context: GTNStageContext) throws {
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
        try context.record(.comparisonLearners, step: 0, value: Double(comparisonLearners))
        try context.record(.realDataLearningRate, step: 0, value: learningRate)
    }
}
