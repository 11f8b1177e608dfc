import Artifacts
import GTN
import Foundation
import Pipeline
import Queue
import Report
import TensorCore
import StageContract

/// Everything the report states, read from the campaign database and
/// artifacts. Whatever is missing is nil or empty; whatever could not be
/// read is described in `problems` instead of stopping the report.
struct CampaignFacts {
    /// The stages in pipeline order.
    static let stageNames = StageName.allCases.map(\.rawValue)

    let pipeline: GTNPipeline
    let pipelineSHA256: String?
    let databasePath: String
    let stages: [StageRecord]
    let runTotals: [String: (runs: Int, ended: Int, seconds: Double)]
    /// Per stage: runs still open and how the last one ended.
    let runOutcomes: [String: StageRunOutcome]
    let jobCounts: [String: JobCounts]
    /// Failed attempts plus expired leases, per job stage.
    let retries: [String: Int]
    let deadJobs: [DeadJobRecord]
    /// Recorded by `fetch-data`: train_count, validation_count, test_count.
    let splitCounts: [String: Int]
    let metaLoss: [MetricRecord]
    let validationAccuracy: [MetricRecord]
    /// Accuracy after each inner step per variant (`recordComparison`).
    let innerStepCurves: [InnerStepCurveRecord]
    /// Fresh learners each curve point is the mean of; nil in campaigns of earlier versions.
    let comparisonLearners: Int?
    let realDataLearningRate: Double?
    /// exp of the learned per-step log learning rates and log momenta.
    let learnedLearningRates: [Double], learnedMomenta: [Double]
    /// The curriculum's images [T][min(B, classes)][C·H·W] and their tile size.
    let curriculumTiles: [[[Float]]]
    let imageShape: (channels: Int, height: Int, width: Int)?
    /// Every architecture with a `gtn-evaluate` job, in proposal (job) order.
    let proposedArchitectures: [String]
    let gtnScores: [GTNScore]
    let realScores: [RealScore]
    /// As `real-evaluate` recorded it; nil until it has selected.
    let selection: RealSelection?
    let version: String
    let machine: [String]
    let writtenAt: Double
    let problems: [String]
    /// Seed of the report's bootstrap streams.
    let bootstrapSeed: UInt64

    /// Stages whose results were computed under more than one setting
    /// (a pipeline changed with `--force` after some were done).
    var mixedSettings: [String] {
        [(GTNEvaluate.name, gtnScores.map(\.computed?.settings)), (RealEvaluate.name, realScores.map(\.computed?.settings))]
            .filter { Set($0.1).count > 1 }.map(\.0)
    }

    /// How many results of each stage were computed with each BLAS kernel
    /// family and thread count (nil: results of earlier versions, which did not record it).
    var arithmetic: [(stage: String, counts: [(String?, Int)])] {
        let perStage: [(String, [String?])] = [(GTNEvaluate.name, gtnScores.map(\.computed?.arithmetic)),
                                               (RealEvaluate.name, realScores.map(\.computed?.arithmetic))]
        return perStage.filter { !$0.1.isEmpty }.map { stage, values in
            var counts: [String?: Int] = [:]
            for value in values { counts[value, default: 0] += 1 }
            return (stage, counts.sorted { ($0.key ?? "") < ($1.key ?? "") }.map { ($0.key, $0.value) })
        }
    }

    static func gather(_ context: GTNStageContext) throws -> CampaignFacts {
        var problems: [String] = []
        /// `body`'s value, or `fallback` with the error noted in `problems`.
        func attempt<T>(_ what: String, _ fallback: T, _ body: () throws -> T) -> T {
            do { return try body() } catch {
                problems.append("\(what): \(error)")
                return fallback
            }
        }
        let campaign = context.campaign
        let queue = context.jobs
        let jobStages = [GTNEvaluate.name, RealEvaluate.name]
        var counts: [String: JobCounts] = [:], retries: [String: Int] = [:]
        for stage in jobStages {
            counts[stage] = try queue.counts(stage: stage)
            retries[stage] = try queue.jobs(stage: stage).reduce(0) { $0 + $1.failures + $1.expiries }
        }
        var splits: [String: Int] = [:]
        for metric in [Metric.trainCount, .validationCount, .testCount] {
            if let value = try campaign.values(of: metric).first?.value { splits[metric.name] = Int(value) }
        }
        let curves = try TeachingVariant.allCases.compactMap { variant -> InnerStepCurveRecord? in
            let means = try campaign.values(of: .innerStepAccuracy(variant))
            guard !means.isEmpty else { return nil }
            let deviations = try campaign.values(of: .innerStepAccuracyStandardDeviation(variant))
            return InnerStepCurveRecord(variant: variant, steps: means.map(\.step), mean: means.map(\.value),
                                        standardDeviation: deviations.count == means.count ? deviations.map(\.value) : [])
        }

        let generatorURL = context.artifacts.generator
        var rates: [Double] = [], momenta: [Double] = []
        if FileManager.default.fileExists(atPath: generatorURL.path) {
            attempt("generator artifact \(generatorURL.path)", ()) {
                (rates, momenta) = try GeneratorArtifact.innerOptimiser(generatorURL)
            }
        }
        let (tiles, shape) = attempt("curriculum images", ([], nil)) { try curriculumTiles(context) }

        let proposed = attempt("proposed architectures", []) {
            try queue.jobs(stage: GTNEvaluate.name).map { try decodeJSON(ArchitectureJob.self, $0.parameters).architecture }
        }
        let gtnScores = attempt("GTN results", []) { try results(GTNScore.self, stage: GTNEvaluate.name, in: context) }
        let realScores = attempt("real-data results", []) { try results(RealScore.self, stage: RealEvaluate.name, in: context) }
        let selection = attempt("real-data selection", nil) { () throws -> RealSelection? in
            let jobs = try queue.jobs(stage: RealEvaluate.name)
            // Jobs of earlier versions did not record their roles; the decision is deterministic, so it is made again.
            return jobs.isEmpty ? nil : try RealSelection.recorded(in: jobs) ?? RealSelection(context, scores: gtnScores)
        }

        return CampaignFacts(
            pipeline: context.pipeline, pipelineSHA256: try campaign.pipeline()?.sha256, databasePath: campaign.path,
            stages: try stageNames.map { try campaign.stage($0) }, runTotals: try campaign.stageRunTotals(),
            runOutcomes: Dictionary(uniqueKeysWithValues: try stageNames.map { ($0, try campaign.runOutcome(of: $0)) }),
            jobCounts: counts, retries: retries, deadJobs: try queue.deadJobs(stage: nil), splitCounts: splits,
            metaLoss: try campaign.values(of: .metaLoss), validationAccuracy: try campaign.values(of: .validationAccuracy),
            innerStepCurves: curves, comparisonLearners: try campaign.values(of: .comparisonLearners).first.map { Int($0.value) },
            realDataLearningRate: try campaign.values(of: .realDataLearningRate).first?.value,
            learnedLearningRates: rates, learnedMomenta: momenta, curriculumTiles: tiles, imageShape: shape,
            proposedArchitectures: proposed, gtnScores: gtnScores, realScores: realScores, selection: selection, version: projectVersion(),
            machine: machineDescription(), writtenAt: Date().timeIntervalSince1970, problems: problems,
            bootstrapSeed: stageSeed(context, "report/bootstrap"))
    }

    /// The curriculum's images, one row per inner step and one tile per class
    /// (labels cycle through the classes), from the meta-training artifact.
    static func curriculumTiles(_ context: GTNStageContext) throws -> ([[[Float]]], (channels: Int, height: Int, width: Int)?) {
        let url = context.artifacts.curriculumImages
        guard FileManager.default.fileExists(atPath: url.path) else { return ([], nil) }
        let (values, shape) = try GeneratorArtifact.curriculumImages(url)
        let (steps, batch, tile) = (shape[0], shape[1], shape[2] * shape[3] * shape[4])
        let columns = min(batch, 10)
        let rows = (0..<steps).map { t in
            (0..<columns).map { b in Array(values[((t * batch + b) * tile)..<((t * batch + b + 1) * tile)]) }
        }
        return (rows, (shape[2], shape[3], shape[4]))
    }

    /// The git commit of the checkout the executable was built in, if any.
    static func projectVersion() -> String {
        let directory = Bundle.main.executableURL?.deletingLastPathComponent().path ?? FileManager.default.currentDirectoryPath
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", directory] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let commit = git(["rev-parse", "--short=12", "HEAD"]) else { return "unknown (not built in a git checkout)" }
        let dirty = git(["status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty } ?? false
        return "git \(commit)" + (dirty ? " with uncommitted changes" : "")
    }

    /// CPU model, cores and BLAS kernels of the machine writing the report.
    static func machineDescription() -> [String] {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        return ["CPU: \(model)", "cores: \(ProcessInfo.processInfo.activeProcessorCount)",
                BLASKernelSelection.describe(),
                "host: \(ProcessInfo.processInfo.hostName)"]
    }
}

/// One variant's accuracy after each inner step, as recorded.
struct InnerStepCurveRecord {
    let variant: TeachingVariant
    let steps: [Int]
    let mean: [Double]
    /// Empty when not recorded.
    let standardDeviation: [Double]
}
