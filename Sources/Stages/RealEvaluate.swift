import Foundation
import GTN
import NN
import Pipeline
import Queue
import TensorCore
import StageContract

/// `real-evaluate`: once every `gtn-evaluate` job has finished, selects the
/// top `real_evaluation.top_k` architectures by GTN score plus a calibration
/// sample drawn uniformly from all scored ones, enqueues one job each, and
/// works on them (a job worker, like `gtn-evaluate`). Each job, from the
/// same initial weights as the architecture's GTN evaluation:
/// - the equal-compute real proxy: a run of its own with as many real steps
///   as the GTN evaluation takes on generated data (`ProxySettings`);
/// - the truth: `real_evaluation.steps` steps of SGD with momentum and a
///   cosine learning rate on real batches, recording the learning curve on
///   the GTN scoring images at 8, 16, 32, … steps and finally the validation
///   and test accuracies. It checkpoints every `checkpoint_every` steps and
///   when stopped, and a rerun resumes from there with the same result.
/// Exits 75 while GTN scoring is unfinished, 1 while some of it is dead.
public enum RealEvaluate {
    public static let name = StageName.realEvaluate.rawValue

    public static var stage: GTNStage {
        GTNStage(name: name,
              summary: "Train the GTN top-k and a calibration sample on real data (job worker; needs GTN scoring done).",
              plan: plan, run: run)
    }

    static func plan(_ context: GTNStageContext) throws -> StagePlan {
        try planFromJobsOrRun(context, whenNone: "selecting architectures once GTN scoring is done")
    }

    static func run(_ context: GTNStageContext) throws -> StageResult {
        let gtn = try context.jobs.counts(stage: GTNEvaluate.name)
        guard gtn.total > 0, gtn.unfinished == 0 else {
            let state = gtn.total == 0 ? "no architectures proposed yet" : gtn.summary
            return .incomplete(reason: "not ready: GTN scoring is not finished (\(state)); run \(StageName.gtnEvaluate.rawValue) first")
        }
        // Selecting from the survivors would rank an incomplete campaign as if it were whole.
        if gtn[.dead] > 0 { throw DeadJobsError(stage: GTNEvaluate.name, dead: gtn[.dead], done: gtn[.done]) }
        let selection = try select(context)
        guard !selection.all.isEmpty else { return .done(summary: "nothing to evaluate: no architecture has a GTN score") }
        let data = try DataSplits.loadRequired(context)
        let settings = context.pipeline.realEvaluation
        let scoring = GTNEvaluate.scoringImages(context, data: data)
        let proxy = ProxySettings(steps: context.pipeline.gtnEvaluationSteps, batch: context.pipeline.metaTraining.generatorBatch,
                                  learningRate: try proxyLearningRate(context, data: data, scoring: scoring, selection: selection))
        let ladder = learningCurveSteps(budget: settings.steps)
        let validation = leading(settings.validationImages, of: data.validation)
        // Both are leading images of the validation split.
        let scoringLeadsValidation = scoring.count == validation.count
            || (scoring.count < validation.count && scoring.count % predictionChunk == 0)
        let computed = ComputeRecord(
            settings: settingsFingerprint(context, sections: [CampaignSection.key, DataSection.key, MetaTrainingSection.key,
                                                         GTNEvaluationSection.key, RealEvaluationSection.key]),
            arithmetic: BLASKernelSelection.describe())
        let test = leading(settings.testImages, of: data.test)
        return try drainJobs(context) { job, context in
            let architecture = try ArchitectureJob.architecture(of: job)
            let encoding = architecture.description
            let learner = ArchitectureLearner(architecture: architecture, image: data.image)
            var initRNG = architectureStream(context, "learner-initialization", architecture)
            let initial: NDArray<Float> = learner.initialParameters(&initRNG)
            let checkpoint = context.artifacts.truthCheckpoint(architecture: encoding)
            let fingerprint = TruthCheckpoint.fingerprint(context, architecture: encoding, proxyLearningRate: proxy.learningRate)
            var progress = try TruthCheckpoint.load(checkpoint, fingerprint: fingerprint, parameterCount: learner.parameterCount)
                ?? TruthProgress(run: RealTrainingRun(initial: initial, batches: architectureStream(context, "real-evaluate/batches", architecture)),
                                 trainingSeconds: 0, curve: [], proxy: nil)
            if progress.run.stepsDone > 0 {
                context.say("job \(job.job.id): resuming `\(encoding)` from its checkpoint at step \(progress.run.stepsDone) of \(settings.steps)")
            }
            func save() throws { try TruthCheckpoint.save(progress, fingerprint: fingerprint, to: checkpoint) }
            do {
                if progress.proxy == nil {
                    progress.proxy = try proxy.score(learner, initial: initial, data: data, scoring: scoring,
                                                     stream: architectureStream(context, "real-evaluate/proxy-batches", architecture),
                                                     afterStep: job.heartbeatOrStop)
                }
                while progress.run.stepsDone < settings.steps {
                    let stepStarted = monotonicSeconds()
                    let step = progress.run.stepsDone + 1
                    progress.run.step(learner, on: data.train, batch: settings.batch,
                                      learningRate: cosineSchedule(step: step - 1, total: settings.steps, initial: settings.learningRate, final: 0),
                                      momentum: settings.momentum)
                    progress.trainingSeconds += monotonicSeconds() - stepStarted
                    if ladder.contains(step) && step < settings.steps {
                        let evaluationStarted = monotonicSeconds()
                        let value = accuracy(of: learner, parameters: progress.run.parameters, images: scoring.images, labels: scoring.labels)
                        progress.curve.append(CurvePoint(steps: step, accuracy: value,
                                                         seconds: progress.trainingSeconds + monotonicSeconds() - evaluationStarted))
                    }
                    if step % settings.checkpointEvery == 0 && step < settings.steps { try save() }
                    try job.heartbeatOrStop()
                }
            } catch let interrupted as JobInterrupted {
                try save()
                throw interrupted
            }
            let evaluationStarted = monotonicSeconds()
            let theta = progress.run.parameters
            let validationCorrect = correctPredictions(of: learner, parameters: theta, images: validation.images, labels: validation.labels)
            if progress.curve.last?.steps != settings.steps {
                // The curve's last point, on the scoring images: the first of the validation
                // images, so the same predictions when they fill whole chunks of that pass.
                let value = scoringLeadsValidation
                    ? fractionTrue(validationCorrect.prefix(scoring.count))
                    : accuracy(of: learner, parameters: theta, images: scoring.images, labels: scoring.labels)
                progress.curve.append(CurvePoint(steps: settings.steps, accuracy: value,
                                                 seconds: progress.trainingSeconds + monotonicSeconds() - evaluationStarted))
            }
            let validationAccuracy = fractionTrue(validationCorrect)
            let testAccuracy = accuracy(of: learner, parameters: theta, images: test.images, labels: test.labels)
            guard let proxyResult = progress.proxy else { requirementFailure("the proxy runs before the truth") }
            let result = encodeJSON(RealScore(
                architecture: encoding, validationAccuracy: validationAccuracy, testAccuracy: testAccuracy, steps: settings.steps,
                seconds: progress.trainingSeconds + monotonicSeconds() - evaluationStarted,
                proxyScore: proxyResult.score, proxySteps: proxy.steps, proxySeconds: proxyResult.seconds,
                proxyLearningRate: proxy.learningRate, proxyBatch: proxy.batch, learningCurve: progress.curve,
                parameters: learner.parameterCount, computed: computed))
            // The result is recorded next, in the transaction that ends the job; a
            // kill in between costs a rerun from scratch, which gives the same result.
            try? FileManager.default.removeItem(at: checkpoint)
            return result
        }
    }

    /// The selection: the one recorded in the stage's jobs, or (the first
    /// time) decided from the GTN scores and enqueued, one job per
    /// architecture with its roles, top-k first.
    static func select(_ context: GTNStageContext) throws -> RealSelection {
        let jobs = try context.jobs.jobs(stage: name)
        if !jobs.isEmpty {
            // Jobs of an earlier version carry no roles; the decision is deterministic, so it is made again.
            if let recorded = try RealSelection.recorded(in: jobs) { return recorded }
        }
        let selection = RealSelection(context, scores: try results(GTNScore.self, stage: GTNEvaluate.name, in: context))
        guard jobs.isEmpty else { return selection }
        let added = try context.jobs.enqueue(selection.jobs.map { job in
            NewJob(stage: name, parameters: job.json, priority: job.selectedAs?.topKRank == nil ? 0 : 1)
        })
        context.say("selected \(selection.topK.count) by GTN score and \(selection.calibration.count) for calibration "
                    + "(\(selection.all.count) architectures, \(added) new jobs)")
        return selection
    }

    /// The equal-compute real proxy's learning rate: the pipeline's
    /// `real_evaluation.proxy_learning_rate`, else the one recorded for the
    /// campaign, else chosen now from `RealDataControl`'s grid by mean
    /// accuracy on the scoring images over the first (up to) three
    /// calibration architectures, and recorded, so every worker and every
    /// later run uses the same rate.
    ///
    /// The choice is a set of trials (architecture × rate), each recorded as
    /// it is taken and when it finishes, so workers started side by side
    /// share them: a worker first runs trials nobody has taken, then any
    /// taken but unfinished (still running elsewhere, or left by a stopped
    /// worker). Trials are deterministic, so whoever runs one records the
    /// same accuracy, and every worker sums them in the same order.
    static func proxyLearningRate(_ context: GTNStageContext, data: DataSplits, scoring: LabelledImages,
                                  selection: RealSelection) throws -> Double {
        if let given = context.pipeline.realEvaluation.proxyLearningRate { return given }
        if let recorded = try context.campaign.values(of: .proxyLearningRate).first?.value { return recorded }
        let sample = Array((selection.calibration.isEmpty ? selection.all : selection.calibration).prefix(3))
        let steps = context.pipeline.gtnEvaluationSteps, batch = context.pipeline.metaTraining.generatorBatch
        let trials = try sample.flatMap { encoding in
            let architecture = try Architecture.parse(encoding)
            let control = RealDataControl(learner: ArchitectureLearner(architecture: architecture, image: data.image),
                                          steps: steps, batch: batch)
            return control.learningRateGrid.map { (architecture: architecture, control: control, rate: $0) }
        }
        func finished() throws -> [Int: Double] {
            Dictionary(try context.campaign.values(of: .proxyRateTrialAccuracy).map { ($0.step, $0.value) }) { $1 }
        }
        for takeUnfinished in [false, true] {
            for (index, trial) in trials.enumerated() {
                guard try finished()[index] == nil else { continue }
                if !takeUnfinished, try context.campaign.values(of: .proxyRateTrialStarted).contains(where: { $0.step == index }) { continue }
                try context.record(.proxyRateTrialStarted, step: index, value: 1)
                var initRNG = architectureStream(context, "learner-initialization", trial.architecture)
                let theta = trial.control.train(initial: trial.control.learner.initialParameters(&initRNG), on: data.train,
                                                learningRate: trial.rate,
                                                stream: architectureStream(context, "real-evaluate/proxy-rate-batches", trial.architecture)) { _, _ in }
                try context.record(.proxyRateTrialAccuracy, step: index,
                                   value: accuracy(of: trial.control.learner, parameters: theta, images: scoring.images, labels: scoring.labels))
            }
        }
        let accuracies = try finished()
        var totals: [Double: Double] = [:]
        for (index, trial) in trials.enumerated() {
            guard let value = accuracies[index] else { requirementFailure("proxy learning-rate trial \(index) has no accuracy") }
            totals[trial.rate, default: 0] += value
        }
        let chosen = totals.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key ?? RealDataControl.defaultLearningRate
        try context.record(.proxyLearningRate, step: 0, value: chosen)
        context.say("equal-compute real proxy: learning rate \(chosen) chosen on validation data over \(sample.count) "
                    + "calibration architectures (\(steps) steps of \(batch) images)")
        return chosen
    }
}

/// The equal-compute real proxy: `steps` SGD steps on real batches of `batch`
/// images (as many and as large as `gtn-evaluate`'s generated ones) at a
/// constant learning rate, with `RealDataControl`'s momentum, scored on the
/// GTN scoring images.
struct ProxySettings {
    let steps: Int
    let batch: Int
    let learningRate: Double

    func score(_ learner: ArchitectureLearner, initial: NDArray<Float>, data: DataSplits, scoring: LabelledImages,
               stream: RandomStream, afterStep: () throws -> Void) throws -> ProxyResult {
        let started = monotonicSeconds()
        let control = RealDataControl(learner: learner, steps: steps, batch: batch)
        let theta = try control.train(initial: initial, on: data.train, learningRate: learningRate, stream: stream) { _, _ in try afterStep() }
        let score = accuracy(of: learner, parameters: theta, images: scoring.images, labels: scoring.labels)
        return ProxyResult(score: score, seconds: monotonicSeconds() - started)
    }
}
