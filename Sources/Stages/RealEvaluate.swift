import Foundation
import GTN
import NN
import Pipeline
import Queue
import TensorCore

/// `real-evaluate`: once every `gtn-evaluate` job has finished, selects the
/// top `real_evaluation.top_k` architectures by GTN score plus a calibration
/// sample drawn uniformly from all scored ones, enqueues one job each, and
/// works on them (a job worker, like `gtn-evaluate`): each architecture is
/// trained on real training batches with SGD, momentum and a cosine learning
/// rate, from the same initial weights as its GTN evaluation, and its
/// validation and test accuracies are recorded, together with its score on
/// the GTN scoring images after as many real steps as the GTN evaluation
/// took (the equal-compute real-data proxy). Exits 75 while GTN scoring is
/// unfinished.
public enum RealEvaluate {
    public static let name = "real-evaluate"

    public static var stage: Stage {
        Stage(name: name,
              summary: "Train the GTN top-k and a calibration sample on real data (job worker; needs GTN scoring done).",
              plan: plan, run: run)
    }

    static func plan(_ context: StageContext) throws -> StagePlan {
        try planFromJobsOrRun(context, whenNone: "selecting architectures once GTN scoring is done")
    }

    static func run(_ context: StageContext) throws -> StageResult {
        let gtn = try context.jobs.counts(stage: GTNEvaluate.name)
        guard gtn.total > 0, gtn.unfinished == 0 else {
            let state = gtn.total == 0 ? "no architectures proposed yet" : gtn.summary
            return .incomplete(reason: "not ready: GTN scoring is not finished (\(state)); run gtn-evaluate first")
        }
        let selection = RealSelection(context, scores: try results(GTNScore.self, stage: GTNEvaluate.name, in: context))
        let topK = Set(selection.topK)
        let added = try context.jobs.enqueue(selection.all.map { architecture in
            NewJob(stage: name, parameters: ArchitectureJob(architecture: architecture).json, priority: topK.contains(architecture) ? 1 : 0)
        })
        if added > 0 {
            context.say("selected \(selection.topK.count) by GTN score and \(selection.calibration.count) for calibration "
                        + "(\(selection.all.count) architectures, \(added) new jobs)")
        }
        guard !selection.all.isEmpty else { return .done(summary: "nothing to evaluate: no architecture has a GTN score") }
        let data = try DataSplits.loadRequired(context)
        let settings = context.pipeline.realEvaluation
        let proxyScoring = GTNEvaluate.scoringImages(context, data: data)
        let proxySteps = min(context.pipeline.gtnEvaluationSteps, settings.steps)
        let validation = leading(settings.validationImages, of: data.validation)
        let test = leading(settings.testImages, of: data.test)
        return try drainJobs(context) { job, context in
            let started = monotonicSeconds()
            let architecture = try ArchitectureJob.architecture(of: job)
            let learner = ArchitectureLearner(architecture: architecture, image: data.image)
            var initRNG = architectureStream(context, "learner-initialization", architecture)
            var proxy: (score: Double, seconds: Double, scoringSeconds: Double)?
            let trained = try trainOnRealData(
                learner, initial: learner.initialParameters(&initRNG), on: data.train, steps: settings.steps,
                batch: settings.batch, momentum: settings.momentum,
                learningRate: { cosineSchedule(step: $0 - 1, total: settings.steps, initial: settings.learningRate, final: 0) },
                stream: architectureStream(context, "real-evaluate/batches", architecture)) { step, theta in
                    try job.heartbeatOrStop()
                    guard step == proxySteps else { return }
                    let scoringStarted = monotonicSeconds()
                    let score = accuracy(of: learner, parameters: theta, images: proxyScoring.images, labels: proxyScoring.labels)
                    let now = monotonicSeconds()
                    proxy = (score, now - started, now - scoringStarted)
                }
            let validationAccuracy = accuracy(of: learner, parameters: trained, images: validation.images, labels: validation.labels)
            let testAccuracy = accuracy(of: learner, parameters: trained, images: test.images, labels: test.labels)
            guard let proxy else { requirementFailure("the proxy is scored at step \(proxySteps) of \(settings.steps)") }
            return encodeJSON(RealScore(
                architecture: architecture.description, validationAccuracy: validationAccuracy, testAccuracy: testAccuracy,
                steps: settings.steps, seconds: monotonicSeconds() - started - proxy.scoringSeconds,
                proxyScore: proxy.score, proxySteps: proxySteps, proxySeconds: proxy.seconds, parameters: learner.parameterCount))
        }
    }
}
