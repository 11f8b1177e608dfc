import Foundation
import GTN
import Pipeline
import Queue
import TensorCore
import StageContract

/// `gtn-evaluate`: a job worker (run as many at once as you like). For each
/// architecture job it builds the learner, trains it for
/// `gtn_evaluation.steps` SGD steps on the generator's curriculum with the
/// learned per-step learning rates and momenta, and scores it on the first
/// `gtn_evaluation.validation_images` validation images; it also records the
/// architecture's training-free scores (synflow, NASWOT) at the same initial
/// weights, the baselines NAS users know. The initial weights
/// and any fresh noise come from the campaign seed and the encoding, so a job
/// gives the same score on any worker and after any interruption.
public enum GTNEvaluate {
    public static let name = StageName.gtnEvaluate.rawValue

    public static var stage: GTNStage {
        GTNStage(name: name,
              summary: "Score proposed architectures by training each on the generator's synthetic data (job worker).",
              plan: plan, run: run)
    }

    static func plan(_ context: GTNStageContext) throws -> StagePlan {
        try planFromJobsOrRun(context, whenNone: "no architectures proposed yet")
    }

    /// The validation images architectures are scored on (also the
    /// equal-compute proxy's, in `real-evaluate`).
    static func scoringImages(_ context: GTNStageContext, data: DataSplits) -> LabelledImages {
        leading(context.pipeline.gtnEvaluation.validationImages, of: data.validation)
    }

    /// Images NASWOT's kernel is built on (NASLib's default batch): the
    /// first ones of the training split.
    static let naswotImages = 64

    /// synflow and NASWOT of `learner` at its initial weights, timed.
    static func trainingFreeScores(_ learner: ArchitectureLearner, initial: NDArray<Float>,
                                   batch: LabelledImages) -> TrainingFreeRecord {
        var started = monotonicSeconds()
        let synflow = TrainingFreeScores.synflow(learner, parameters: initial)
        let synflowSeconds = monotonicSeconds() - started
        started = monotonicSeconds()
        let naswot = TrainingFreeScores.naswot(learner, parameters: initial, images: batch.images)
        return TrainingFreeRecord(synflow: synflow, synflowSeconds: synflowSeconds, naswot: naswot,
                                  naswotSeconds: monotonicSeconds() - started, naswotImages: batch.count)
    }

    static func run(_ context: GTNStageContext) throws -> StageResult {
        guard try context.jobs.counts(stage: name).total > 0 else {
            return .incomplete(reason: "not ready: no architectures proposed yet; run \(StageName.proposeArchitectures.rawValue) first")
        }
        let data = try DataSplits.loadRequired(context)
        guard let teaching = try GeneratorArtifact.teaching(context, image: data.image, outputRange: data.normalisedRange) else {
            throw InputError("the generator artifact \(context.artifacts.generator.path) does not exist\n"
                             + "HINT: run \(StageName.metaTrainGenerator.rawValue) first")
        }
        let scoring = scoringImages(context, data: data)
        let naswotBatch = leading(naswotImages, of: data.train)
        let steps = context.pipeline.gtnEvaluationSteps
        let mode = context.pipeline.metaTraining.curriculum
        let computed = ComputeRecord(settings: settingsFingerprint(context, sections: GeneratorArtifact.sections(context) + [GTNEvaluationSection.key]),
                                     arithmetic: BLASKernelSelection.describe())
        // The learned curriculum is the same for every architecture: generated once, here.
        let shared = mode == .learned ? teaching.setup.curriculum(meta: teaching.meta) : nil
        return try drainJobs(context) { job, context in
            let started = monotonicSeconds()
            let architecture = try ArchitectureJob.architecture(of: job)
            let learner = ArchitectureLearner(architecture: architecture, image: data.image)
            var initRNG = architectureStream(context, "learner-initialization", architecture)
            let initial: NDArray<Float> = learner.initialParameters(&initRNG)
            let curriculum = shared ?? teaching.setup.curriculum(
                meta: teaching.meta, mode: mode, noiseStream: architectureStream(context, "gtn-evaluate/noise", architecture))
            let trained = try teaching.setup.replacingLearner(learner).trainLearner(
                on: curriculum, learnerInitial: initial, steps: steps) { _, _ in try job.heartbeatOrStop() }
            let score = accuracy(of: learner, parameters: trained, images: scoring.images, labels: scoring.labels)
            let seconds = monotonicSeconds() - started
            return encodeJSON(GTNScore(architecture: architecture.description, score: score, steps: steps, seconds: seconds,
                                       parameters: learner.parameterCount, multiplyAdds: learner.multiplyAdds,
                                       trainingFree: trainingFreeScores(learner, initial: initial, batch: naswotBatch),
                                       computed: computed))
        }
    }
}
