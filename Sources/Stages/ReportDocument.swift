import Foundation
import Pipeline
import Queue
import Report
import TensorCore
import StageContract

/// The report rendered from `CampaignFacts`: Markdown, its images (file name
/// in `imageFolder` → bytes) and the check's outcome.
struct ReportDocument {
    private(set) var markdown = ""
    private(set) var images: [(name: String, bytes: [UInt8])] = []
    private(set) var check: ReportCheck = .incomplete("")
    let facts: CampaignFacts
    let imageFolder: String

    /// GTN and real-data results by encoding.
    private let gtnByArchitecture: [String: GTNScore]
    private let realByArchitecture: [String: RealScore]

    init(facts: CampaignFacts, imageFolder: String) {
        self.facts = facts
        self.imageFolder = imageFolder
        gtnByArchitecture = Dictionary(facts.gtnScores.map { ($0.architecture, $0) }, uniquingKeysWith: { a, _ in a })
        realByArchitecture = Dictionary(facts.realScores.map { ($0.architecture, $0) }, uniquingKeysWith: { a, _ in a })
        let rank = rankCorrelationSection()
        check = rank.check
        markdown = "# GTN-NAS campaign report: \(facts.pipeline.campaign.name)\n\n"
            + checkLine() + "\n\n"
            + statusSection() + provenanceSection() + metaTrainingSection() + rank.text + searchOutcomeSection()
    }

    // MARK: Check

    private func checkLine() -> String {
        switch check {
        case .pass(let summary): return "**Check: PASS** — \(summary)"
        case .fail(let summary): return "**Check: FAIL** — \(summary)"
        case .incomplete(let summary): return "**Check: not yet possible** — \(summary)"
        }
    }

    // MARK: Status

    private func statusSection() -> String {
        var text = "## Status\n\n"
        var stages = MarkdownTable(["stage", "status", "started", "finished", "runs", "run time"],
                                   alignments: [.left, .left, .left, .left, .right, .right])
        for stage in facts.stages {
            let totals = facts.runTotals[stage.name]
            let status = stage.name == StageName.report.rawValue ? "writing this report"
                : stage.state(given: facts.runOutcomes[stage.name] ?? .neverRun)
            stages.append([stage.name, status, stage.startedAt.map { timestamp($0) } ?? "–",
                           stage.status == .done ? timestamp(stage.finishedAt) : "–",
                           "\(totals?.runs ?? 0)", totals.map { ProgressReporter.duration($0.seconds) } ?? "–"])
        }
        text += stages.markdown + "\n"
        var jobs = MarkdownTable(["job stage", "pending", "running", "waiting to retry", "done", "dead", "retries"],
                                 alignments: [.left, .right, .right, .right, .right, .right, .right])
        for stage in [GTNEvaluate.name, RealEvaluate.name] {
            let c = facts.jobCounts[stage] ?? JobCounts()
            jobs.append([stage, "\(c[.pending])", "\(c[.running])", "\(c[.failed])", "\(c[.done])", "\(c[.dead])",
                         "\(facts.retries[stage] ?? 0)"])
        }
        text += jobs.markdown + "\n"
        if facts.deadJobs.isEmpty {
            text += "No dead jobs.\n\n"
        } else {
            text += "Dead jobs (`campaign retry-dead` retries them):\n\n"
            var dead = MarkdownTable(["job", "stage", "failures", "lease expiries", "last error"])
            for job in facts.deadJobs {
                dead.append(["\(job.jobID)", job.stage, "\(job.failures)", "\(job.expiries)", String(job.lastError.prefix(300))])
            }
            text += dead.markdown + "\n"
        }
        if !facts.problems.isEmpty {
            text += "Could not be read:\n\n" + facts.problems.map { "- \($0)\n" }.joined() + "\n"
        }
        return text
    }

    // MARK: Provenance

    private func provenanceSection() -> String {
        let p = facts.pipeline
        let splits = [Metric.trainCount, .validationCount, .testCount].map { facts.splitCounts[$0.name].map(String.init) ?? "?" }
        var lines = [
            "pipeline: `\(p.origin)`, SHA-256 of its canonical JSON `\(facts.pipelineSHA256 ?? "unrecorded")`",
            "campaign database: `\(facts.databasePath)`",
            "dataset: \(p.data.dataset.rawValue) from `\(p.data.source)`; "
                + "train / validation / test images: \(splits.joined(separator: " / "))"
                + (facts.splitCounts.isEmpty ? " (\(StageName.fetchData.rawValue) has not run)" : ""),
            "campaign seed: \(p.campaign.seed) (every stage's streams derive from it and the stage, job or purpose)",
            "project version: \(facts.version)",
        ]
        for (stage, counts) in facts.arithmetic {
            let list = counts.map { arithmetic, count in
                arithmetic.map { "\(count) computed with \($0)" } ?? "\(count) computed by an earlier version, which did not record its BLAS kernels"
            }.joined(separator: "; ")
            lines.append("\(stage) results: \(list)"
                         + (counts.count > 1 ? " — **mixed arithmetic**: their last bits differ" : ""))
        }
        lines.append("machine writing this report: " + facts.machine.joined(separator: "; "))
        lines.append("written: \(timestamp(facts.writtenAt))")
        return "## Provenance\n\n" + lines.map { "- \($0)\n" }.joined() + "\n"
    }

    // MARK: Meta-training

    private mutating func metaTrainingSection() -> String {
        let m = facts.pipeline.metaTraining
        var text = "## Meta-training\n\n"
        text += "Generator and learner width \(formatNumber(m.width, digits: 3)), T = \(m.innerSteps) inner steps of "
            + "\(m.generatorBatch) generated images, meta batch \(m.metaBatch), \(m.iterations) meta-iterations, "
            + "curriculum `\(m.curriculum.rawValue)`.\n\n"
        guard !facts.metaLoss.isEmpty else { return text + "Meta-training has not started yet.\n\n" }
        let lossFile = "meta-loss.svg"
        addImage(lossFile, lineChart(title: "Meta-loss", xLabel: "meta-iteration", yLabel: "meta-loss (NLL on a real batch)",
                                     series: [PlotSeries(name: "meta-loss", x: facts.metaLoss.map { Double($0.step) },
                                                         y: facts.metaLoss.map(\.value))]))
        text += "![meta-loss](\(imageFolder)/\(lossFile))\n\n"
        if !facts.validationAccuracy.isEmpty {
            let file = "validation-accuracy.svg"
            addImage(file, lineChart(title: "Validation accuracy of a fresh learner after \(m.innerSteps) steps",
                                     xLabel: "meta-iteration", yLabel: "validation accuracy",
                                     series: [PlotSeries(name: "fresh learner", x: facts.validationAccuracy.map { Double($0.step) },
                                                         y: facts.validationAccuracy.map(\.value))]))
            text += "![validation accuracy](\(imageFolder)/\(file))\n\n"
            if let last = facts.validationAccuracy.last {
                text += "Last: \(formatNumber(last.value)) after meta-iteration \(last.step)"
                    + (m.learners == .searchSpace ? " (each point is one architecture drawn from the space, so the curve is noisy)" : "")
                    + ".\n\n"
            }
        }
        if !facts.learnedLearningRates.isEmpty {
            text += "Learned inner optimiser, per step:\n\n"
            var table = MarkdownTable(["inner step", "learning rate", "momentum"], alignments: [.right, .right, .right])
            for (k, (rate, momentum)) in zip(facts.learnedLearningRates, facts.learnedMomenta).enumerated() {
                table.append(["\(k + 1)", formatNumber(rate, digits: 4), formatNumber(momentum, digits: 3)])
            }
            text += table.markdown + "\n"
        }
        if let shape = facts.imageShape, !facts.curriculumTiles.isEmpty, [1, 3].contains(shape.channels) {
            let file = "curriculum.png"
            let grid = imageGrid(facts.curriculumTiles, channels: shape.channels, height: shape.height, width: shape.width)
            images.append((file, grid.pngData()))
            text += "The learned curriculum, one row per inner step (first to last), one column per class:\n\n"
                + "![curriculum](\(imageFolder)/\(file))\n\n"
        }
        if facts.innerStepCurves.isEmpty {
            text += "The accuracy-vs-inner-step comparison is recorded when meta-training finishes; not yet.\n\n"
        } else {
            text += innerStepComparison()
        }
        return text
    }

    /// Which learner the inner-step comparison trains, and, when meta-training
    /// drew its learners from the search space, that this one was not among them.
    static func comparisonLearnerSentence(learners: MetaTrainingLearners, width: Double) -> String {
        "The learners are the paper's learner at width \(formatNumber(width))"
            + (learners == .searchSpace
                ? ", not drawn from the search space the generator was meta-trained on: this shows how well it teaches "
                  + "a network it never saw, not how well it ranks the space (that is the rank correlation below)."
                : ".")
    }

    private mutating func innerStepComparison() -> String {
        let curves = facts.innerStepCurves
        let file = "inner-steps.svg"
        let learners = facts.comparisonLearners.map { "\($0) " } ?? ""
        addImage(file, lineChart(title: "Test accuracy after k inner steps (mean over \(learners)fresh learners)",
                                 xLabel: "inner step k", yLabel: "test accuracy",
                                 series: curves.map { PlotSeries(name: $0.variant.title,
                                                                 x: $0.steps.map(Double.init), y: $0.mean) }))
        let m = facts.pipeline.metaTraining
        let text = "Accuracy on the first \(m.evaluationImages) test images of fresh learners "
            + "after k inner steps, mean ± standard deviation over "
            + (facts.comparisonLearners.map { "\($0) learners" } ?? "fresh learners") + ". "
            + Self.comparisonLearnerSentence(learners: m.learners, width: m.width) + " "
            + "All generated variants use the final generator: the learned curriculum in order, fresh random noise "
            + "instead of the curriculum, or the curriculum's batches in random order. The real-data control trains "
            + "the same learner on real batches of the same size"
            + (facts.realDataLearningRate.map { " at learning rate \(formatNumber($0, digits: 3)) (chosen on validation data)" } ?? "")
            + ".\n\n![accuracy vs inner step](\(imageFolder)/\(file))\n\n"
        var table = MarkdownTable(["k"] + curves.map(\.variant.title),
                                  alignments: [.right] + curves.map { _ in .right })
        for (row, step) in (curves.first?.steps ?? []).enumerated() {
            table.append(["\(step)"] + curves.map { curve in
                guard row < curve.mean.count else { return "–" }
                let deviation = row < curve.standardDeviation.count ? " ± " + formatNumber(curve.standardDeviation[row]) : ""
                return formatNumber(curve.mean[row]) + deviation
            })
        }
        return text + table.markdown + "\n"
    }

    // MARK: Rank correlation

    private mutating func rankCorrelationSection() -> (text: String, check: ReportCheck) {
        var text = "## Rank correlation\n\n"
        let threshold = facts.pipeline.report.spearmanThreshold
        let realCounts = facts.jobCounts[RealEvaluate.name] ?? JobCounts()
        let deadJobs = deadJobsFailure(facts.jobCounts.mapValues { $0[.dead] })
        let gtnCounts = facts.jobCounts[GTNEvaluate.name] ?? JobCounts()
        guard gtnCounts.total > 0, gtnCounts.unfinished == 0 else {
            let state = gtnCounts.total == 0 ? "no architectures proposed yet" : "GTN scoring: \(gtnCounts.summary)"
            return (text + "Not available yet: \(state).\n\n", deadJobs ?? .incomplete("GTN scoring is not finished (\(state))"))
        }
        guard let selection = facts.selection, realCounts.total > 0, realCounts.unfinished == 0 else {
            let state = realCounts.total == 0 ? "not started" : realCounts.summary
            return (text + "Not available yet: real-data evaluation \(state).\n\n",
                    deadJobs ?? .incomplete("the real-data evaluation is not finished (\(state))"))
        }
        let pairs = scored(selection.calibration)
        let real = facts.pipeline.realEvaluation
        text += "Calibration sample: \(pairs.count) architectures drawn uniformly from the \(facts.gtnScores.count) scored "
            + "(\(real.calibration) requested). **Truth**: real validation accuracy (\(real.validationImages) images) after "
            + "a budget of \(real.steps) steps of SGD with momentum on real batches of \(real.batch) (cosine learning rate "
            + "from \(formatNumber(real.learningRate))). Predictors (the trained ones scored on the GTN scoring images, the first "
            + "\(facts.pipeline.gtnEvaluation.validationImages) validation images): the **GTN score** "
            + "(after \(facts.pipeline.gtnEvaluationSteps) steps on generated data); the **equal-compute real proxy** (a run of "
            + "its own with as many steps on as many real images, its learning rate chosen on validation data); the "
            + "**truth run after k steps** (early stopping); the **parameter count** and **FLOPs** (multiply-adds per image; both "
            + "free); the training-free scores "
            + "**synflow** and **NASWOT** (one batch at the initial weights; a singular NASWOT kernel ranks last). "
            + "Statistics with 95% bootstrap "
            + "intervals (\(facts.pipeline.report.bootstrapResamples) resamples, seeded); \"ρ given size\" is Spearman's "
            + "partial correlation controlling for the parameter count: what a predictor knows beyond size.\n\n"
        let k = facts.pipeline.report.precisionK
        let resamples = facts.pipeline.report.bootstrapResamples
        let root = RandomStream(seed: facts.bootstrapSeed)
        let actual = pairs.map(\.1.validationAccuracy)
        let size = pairs.map { Double($0.0.parameters) }
        let gtn = Predictor(name: "GTN score", role: .gtn, scores: pairs.map(\.0.score), seconds: mean(pairs.map(\.0.seconds)))
        let predictors = [gtn,
                          Predictor(name: Self.proxyName, role: .baseline, scores: pairs.map(\.1.proxyScore),
                                    seconds: mean(pairs.map(\.1.proxySeconds)))]
            + Self.curvePredictors(pairs.map(\.1))
            + [Predictor(name: Self.sizeName, role: .baseline, scores: size, seconds: 0)]
            + Self.multiplyAddPredictors(pairs.map(\.0))
            + Self.trainingFreePredictors(pairs.map(\.0))
        let analyses = predictors.map { predictor in
            RankAnalysis(score: predictor.scores, actual: actual, size: size, precisionK: k, resamples: resamples,
                         stream: root.derived(predictor.name))
        }
        let gtnRho = analyses[0].spearman
        let baselines = zip(predictors, analyses).filter { $0.0.role == .baseline }.map { baseline, analysis in
            BaselineResult(name: baseline.name, spearman: analysis.spearman,
                           differenceInterval: RankAnalysis.spearmanDifference(
                               gtn.scores, baseline.scores, actual: actual, resamples: resamples,
                               stream: root.derived("difference/\(baseline.name)")))
        }
        let check = decideRankCheck(RankCheckFacts(
            threshold: threshold, calibrationSelected: selection.calibration.count, calibrationScored: pairs.count,
            deadJobs: facts.jobCounts.mapValues { $0[.dead] }, mixedSettings: facts.mixedSettings, gtnSpearman: gtnRho,
            gtnInterval: analyses[0].spearmanInterval, baselines: baselines))
        guard !pairs.isEmpty else {
            return (text + "No calibration architecture has both results, so the ranking cannot be checked.\n\n", check)
        }
        func cell(_ value: Double?, _ interval: BootstrapInterval?) -> String {
            formatNumber(value) + (interval.map { " \(formatInterval($0))" } ?? "")
        }
        var table = MarkdownTable(["predictor (n = \(pairs.count))", "Spearman ρ", "Kendall τ-b", "ρ, top half by score",
                                   "precision@\(k)", "ρ given size", "seconds per architecture"],
                                  alignments: [.left, .left, .left, .right, .right, .left, .right])
        for (predictor, analysis) in zip(predictors, analyses) {
            table.append([predictor.name, cell(analysis.spearman, analysis.spearmanInterval),
                          cell(analysis.kendall, analysis.kendallInterval), formatNumber(analysis.topHalfSpearman),
                          formatNumber(analysis.precision), cell(analysis.givenSize, analysis.givenSizeInterval),
                          formatNumber(predictor.seconds, digits: 2)])
        }
        text += table.markdown + "\n"
        var versus = MarkdownTable(["GTN against", "its ρ", "GTN ρ − its ρ", "95% interval (paired)", "on this sample"],
                                   alignments: [.left, .right, .right, .left, .left])
        for baseline in baselines {
            let difference = gtnRho.flatMap { gtn in baseline.spearman.map { gtn - $0 } }
            versus.append([baseline.name, formatNumber(baseline.spearman), formatNumber(difference),
                           formatInterval(baseline.differenceInterval), Self.verdict(difference, baseline.differenceInterval)])
        }
        text += versus.markdown + "\n"
        let curvePoints = zip(predictors, analyses).compactMap { predictor, analysis -> (steps: Int, rho: Double)? in
            guard case .earlyStopping(let steps) = predictor.role, let rho = analysis.spearman else { return nil }
            return (steps, rho)
        }
        if let gtnRho, let worth = Self.equivalentRealSteps(rho: gtnRho, curve: curvePoints) {
            text += "**GTN's ranking is worth \(worth) real steps per architecture** (read off the early-stopping curve), "
                + "at \(formatNumber(gtn.seconds, digits: 2)) s per architecture.\n\n"
        }
        text += rankCostPlot(predictors: predictors, analyses: analyses)
        text += scatterPlot(selection: selection)
        return (text, check)
    }

    /// A way of ranking architectures: its score for each calibration
    /// architecture and its mean cost.
    struct Predictor {
        enum Role: Equatable {
            /// The GTN score, which the check judges.
            case gtn
            /// A cheaper or equal-compute alternative GTN must not lose to.
            case baseline
            /// The truth run stopped after `steps` steps (more compute than GTN; shown, not a baseline of the check).
            case earlyStopping(steps: Int)
        }
        let name: String
        let role: Role
        let scores: [Double]
        let seconds: Double?
    }

    /// One predictor per step count that every result's learning curve has:
    /// the truth run stopped early after k steps.
    static func curvePredictors(_ results: [RealScore]) -> [Predictor] {
        guard let first = results.first?.learningCurve, results.allSatisfy({ $0.learningCurve?.map(\.steps) == first.map(\.steps) })
        else { return [] }
        return first.indices.map { i in
            Predictor(name: "truth run after \(first[i].steps) steps", role: .earlyStopping(steps: first[i].steps),
                      scores: results.map { $0.learningCurve![i].accuracy }, seconds: mean(results.map { $0.learningCurve![i].seconds }))
        }
    }

    /// FLOPs (multiply-adds per image), when every result has them.
    static func multiplyAddPredictors(_ results: [GTNScore]) -> [Predictor] {
        let counts = results.compactMap(\.multiplyAdds)
        guard !counts.isEmpty, counts.count == results.count else { return [] }
        return [Predictor(name: flopsName, role: .baseline, scores: counts.map(Double.init), seconds: 0)]
    }

    static let flopsName = "FLOPs"

    /// synflow and NASWOT, when every result has them.
    static func trainingFreePredictors(_ results: [GTNScore]) -> [Predictor] {
        let records = results.compactMap(\.trainingFree)
        guard !records.isEmpty, records.count == results.count else { return [] }
        return [Predictor(name: synflowName, role: .baseline, scores: records.map(\.synflow),
                          seconds: mean(records.map(\.synflowSeconds))),
                Predictor(name: naswotName, role: .baseline, scores: records.map { $0.naswot ?? -Double.greatestFiniteMagnitude },
                          seconds: mean(records.map(\.naswotSeconds)))]
    }

    static let synflowName = "synflow"
    static let naswotName = "NASWOT"

    /// How many real steps of early stopping rank as well as ρ: the step
    /// count where the curve (ρ by steps, ascending steps) first reaches ρ,
    /// interpolated in log₂ steps between its points; "fewer than k₁" below
    /// its first point, "more than k_last" above its last. nil without a curve.
    static func equivalentRealSteps(rho: Double, curve: [(steps: Int, rho: Double)]) -> String? {
        guard let first = curve.first, let last = curve.last else { return nil }
        if rho < first.rho { return "fewer than \(first.steps)" }
        for (a, b) in zip(curve, curve.dropFirst()) where rho >= a.rho && rho <= b.rho {
            let fraction = b.rho == a.rho ? 0 : (rho - a.rho) / (b.rho - a.rho)
            let steps = exp2(log2(Double(a.steps)) + fraction * (log2(Double(b.steps)) - log2(Double(a.steps))))
            return "about \(Int(steps.rounded()))"
        }
        return rho >= last.rho ? "at least \(last.steps)" : "about \(first.steps)"
    }

    /// Spearman ρ against seconds per architecture: the early-stopping curve
    /// as a line, every other predictor as a point of its own series.
    private mutating func rankCostPlot(predictors: [Predictor], analyses: [RankAnalysis]) -> String {
        let rows = zip(predictors, analyses).compactMap { predictor, analysis -> (Predictor, Double)? in
            guard let rho = analysis.spearman, predictor.seconds != nil else { return nil }
            return (predictor, rho)
        }
        let seconds = { (p: Predictor) in log10(max(p.seconds!, 0.001)) }
        let isCurve = { (p: Predictor) -> Bool in if case .earlyStopping = p.role { return true } else { return false } }
        let curve = rows.filter { isCurve($0.0) }
        var series = [PlotSeries]()
        if !curve.isEmpty {
            series.append(PlotSeries(name: "real training stopped after k steps", x: curve.map { seconds($0.0) }, y: curve.map(\.1)))
        }
        for (predictor, rho) in rows where !isCurve(predictor) {
            series.append(PlotSeries(name: predictor.name, x: [seconds(predictor)], y: [rho]))
        }
        guard !series.isEmpty else { return "" }
        let file = "rank-vs-cost.svg"
        addImage(file, lineChart(title: "Rank correlation with the truth against cost", xLabel: "log10 seconds per architecture "
                                 + "(the parameter count is free; drawn at 1 ms)", yLabel: "Spearman ρ", series: series))
        return "![rank correlation against seconds per architecture](\(imageFolder)/\(file))\n\n"
    }

    static let proxyName = "equal-compute real proxy"
    static let sizeName = "parameter count"

    /// Whether GTN ranked the sample better or worse than a baseline, and
    /// whether the paired interval excludes a tie.
    static func verdict(_ difference: Double?, _ interval: BootstrapInterval?) -> String {
        guard let difference else { return "undefined" }
        let sure = interval.map { $0.lower > 0 || $0.upper < 0 } ?? false
        if difference < 0 { return sure ? "**GTN worse** (interval excludes 0)" : "**GTN worse** (within noise)" }
        if difference > 0 { return sure ? "GTN better (interval excludes 0)" : "GTN better (within noise)" }
        return "tie"
    }

    /// GTN score against real validation accuracy for every architecture
    /// trained on real data, the GTN top 10% (of all scored) marked.
    private mutating func scatterPlot(selection: RealSelection) -> String {
        let evaluated = scored(selection.all)
        let topCount = max(1, Int((Double(facts.gtnScores.count) * 0.1).rounded(.up)))
        let top = Set(GTNScore.ranked(facts.gtnScores).prefix(topCount).map(\.architecture))
        let file = "rank-scatter.svg"
        addImage(file, Report.scatterPlot(
            title: "GTN score vs real validation accuracy", xLabel: "GTN score", yLabel: "real validation accuracy",
            x: evaluated.map(\.0.score), y: evaluated.map(\.1.validationAccuracy),
            highlighted: Set(evaluated.indices.filter { top.contains(evaluated[$0].0.architecture) }),
            highlightedName: "GTN top 10% (\(topCount) of \(facts.gtnScores.count))", othersName: "other evaluated"))
        return "Every architecture trained on real data (top-k and calibration sample):\n\n![rank scatter](\(imageFolder)/\(file))\n\n"
    }

    // MARK: Search outcome

    private func searchOutcomeSection() -> String {
        var text = "## Search outcome\n\n"
        guard !facts.gtnScores.isEmpty else { return text + "No architecture has a GTN score yet.\n\n" }
        let byGTN = GTNScore.ranked(facts.gtnScores)
        let gtnRank = Dictionary(uniqueKeysWithValues: byGTN.enumerated().map { ($1.architecture, $0 + 1) })
        func real(_ architecture: String, _ value: (RealScore) -> Double) -> String {
            realByArchitecture[architecture].map { formatNumber(value($0)) } ?? "–"
        }
        text += "Best \(min(10, byGTN.count)) of \(byGTN.count) by GTN score:\n\n"
        var best = MarkdownTable(["GTN rank", "architecture", "parameters", "GTN score", "real validation", "real test"],
                                 alignments: [.right, .left, .right, .right, .right, .right])
        for (rank, score) in byGTN.prefix(10).enumerated() {
            best.append(["\(rank + 1)", "`\(score.architecture)`", "\(score.parameters)", formatNumber(score.score),
                         real(score.architecture, \.validationAccuracy), real(score.architecture, \.testAccuracy)])
        }
        text += best.markdown + "\n"
        let byReal = facts.realScores.sorted { ($0.validationAccuracy, $1.architecture) > ($1.validationAccuracy, $0.architecture) }
        guard let bestReal = byReal.first else { return text + "No architecture has been trained on real data yet.\n\n" }
        text += "Best \(min(10, byReal.count)) of the \(byReal.count) trained on real data, by real validation accuracy:\n\n"
        var realTable = MarkdownTable(["architecture", "parameters", "real validation", "real test", "GTN score", "GTN rank"],
                                      alignments: [.left, .right, .right, .right, .right, .right])
        for score in byReal.prefix(10) {
            realTable.append(["`\(score.architecture)`", "\(score.parameters)", formatNumber(score.validationAccuracy),
                              formatNumber(score.testAccuracy), gtnByArchitecture[score.architecture].map { formatNumber($0.score) } ?? "–",
                              gtnRank[score.architecture].map(String.init) ?? "–"])
        }
        text += realTable.markdown + "\n"
        if let pick = realByArchitecture[byGTN[0].architecture] {
            text += "Regret of picking the GTN top-1 (`\(pick.architecture)`) instead of the best architecture trained on "
                + "real data: \(formatNumber(bestReal.validationAccuracy - pick.validationAccuracy)) validation accuracy "
                + "(\(formatNumber(pick.validationAccuracy)) vs \(formatNumber(bestReal.validationAccuracy))), "
                + "\(formatNumber(bestReal.testAccuracy - pick.testAccuracy)) test accuracy.\n\n"
        } else {
            text += "The GTN top-1 was not trained on real data (real_evaluation.top_k is 0), so its regret is unknown.\n\n"
        }
        return text + computeAccounting()
    }

    private func computeAccounting() -> String {
        func perArchitecture(_ seconds: [Double]) -> Double? { mean(seconds) }
        let gtn = perArchitecture(facts.gtnScores.map(\.seconds))
        let real = perArchitecture(facts.realScores.map(\.seconds))
        let proxy = perArchitecture(facts.realScores.map(\.proxySeconds))
        var table = MarkdownTable(["", "architectures", "seconds per architecture", "total seconds"],
                                  alignments: [.left, .right, .right, .right])
        table.append(["GTN evaluation (\(facts.pipeline.gtnEvaluationSteps) steps)", "\(facts.gtnScores.count)",
                      formatNumber(gtn, digits: 2), formatNumber(facts.gtnScores.map(\.seconds).reduce(0, +), digits: 1)])
        table.append(["real evaluation (\(facts.pipeline.realEvaluation.steps) steps)", "\(facts.realScores.count)",
                      formatNumber(real, digits: 2), formatNumber(facts.realScores.map(\.seconds).reduce(0, +), digits: 1)])
        table.append(["equal-compute real proxy (part of the real evaluation)", "\(facts.realScores.count)",
                      formatNumber(proxy, digits: 2), ""])
        var text = "Compute:\n\n" + table.markdown + "\n"
        if let gtn, let real, gtn > 0 {
            text += "GTN scoring is \(formatNumber(real / gtn, digits: 1))× faster per architecture than real evaluation. "
        }
        let total = facts.runTotals.filter { $0.key != StageName.report.rawValue }.values.reduce(0) { $0 + $1.seconds }
        let meta = facts.runTotals[StageName.metaTrainGenerator.rawValue]?.seconds ?? 0
        text += "Run time of all stage runs so far: \(ProgressReporter.duration(total)) "
            + "(meta-training \(ProgressReporter.duration(meta))); worker processes running at once each count.\n\n"
        return text
    }

    /// The GTN and real-data results of those of `architectures` that have both.
    private func scored(_ architectures: [String]) -> [(GTNScore, RealScore)] {
        architectures.compactMap { architecture in
            guard let gtn = gtnByArchitecture[architecture], let real = realByArchitecture[architecture] else { return nil }
            return (gtn, real)
        }
    }

    // MARK: Images

    private mutating func addImage(_ name: String, _ svg: String) {
        images.append((name, Array(svg.utf8)))
    }
}
