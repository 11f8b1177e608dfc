@testable import Report
@testable import Stages
import Testing

/// The report's check as a decision table over recorded facts (`decideRankCheck`).
@Suite struct RankCheckTests {
    static let interval = BootstrapInterval(lower: -0.5, upper: -0.1, confidence: 0.95, resamples: 100, skipped: 0)

    static func facts(gtn: Double? = 0.6, proxy: Double? = 0.5, size: Double? = 0.4, threshold: Double = 0.3,
                      selected: Int = 30, scored: Int = 30, dead: [String: Int] = [:]) -> RankCheckFacts {
        RankCheckFacts(threshold: threshold, calibrationSelected: selected, calibrationScored: scored, deadJobs: dead,
                       gtnSpearman: gtn, gtnInterval: nil,
                       baselines: [BaselineResult(name: "equal-compute real proxy", spearman: proxy, differenceInterval: interval),
                                   BaselineResult(name: "parameter count", spearman: size, differenceInterval: nil)])
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let facts: RankCheckFacts
        /// nil: PASS; otherwise FAIL with this text in the message.
        let failure: String?
        var testDescription: String { name }
    }

    static let table: [Row] = [
        Row(name: "GTN above both baselines and the threshold", facts: facts(), failure: nil),
        Row(name: "GTN equal to the proxy", facts: facts(gtn: 0.5, proxy: 0.5), failure: nil),
        Row(name: "GTN below the proxy", facts: facts(gtn: 0.53, proxy: 0.9),
            failure: "the equal-compute real proxy ranks better (ρ 0.900; GTN − it: -0.370, 95% interval [-0.500, -0.100])"),
        Row(name: "GTN below the parameter count", facts: facts(gtn: 0.6, proxy: 0.5, size: 0.91),
            failure: "the parameter count ranks better (ρ 0.910)"),
        Row(name: "GTN below both", facts: facts(gtn: 0.46, proxy: 0.8, size: 0.91),
            failure: "the equal-compute real proxy ranks better (ρ 0.800; GTN − it: -0.340, 95% interval [-0.500, -0.100]) and the parameter count ranks better"),
        Row(name: "undefined baselines cannot beat GTN", facts: facts(proxy: nil, size: nil), failure: nil),
        Row(name: "below the threshold", facts: facts(gtn: 0.2, proxy: 0.1, size: 0.1), failure: "below the threshold 0.300"),
        Row(name: "below the threshold and a baseline", facts: facts(gtn: 0.2, proxy: 0.1, size: 0.7),
            failure: "is 0.200, below the threshold 0.300, and the parameter count ranks better (ρ 0.700): GTN's ranking is worse"),
        Row(name: "GTN undefined", facts: facts(gtn: nil, proxy: nil, size: nil), failure: "is undefined"),
        Row(name: "a calibration architecture lacks a result", facts: facts(scored: 29),
            failure: "only 29 of the 30 calibration architectures"),
        Row(name: "dead jobs", facts: facts(dead: ["real-evaluate": 1, "gtn-evaluate": 0]),
            failure: "the campaign has dead jobs (1 real-evaluate)"),
        Row(name: "dead jobs outrank a good ranking", facts: facts(gtn: 0.99, dead: ["gtn-evaluate": 2]),
            failure: "dead jobs (2 gtn-evaluate)"),
        Row(name: "empty calibration sample", facts: facts(selected: 0, scored: 0), failure: "the calibration sample is empty"),
    ]

    @Test(arguments: table)
    func decision(_ row: Row) {
        let check = decideRankCheck(row.facts)
        switch (check, row.failure) {
        case (.pass, nil): break
        case (.fail(let message), let expected?):
            #expect(message.contains(expected), "\(row.name): \(message)")
        default:
            Issue.record("\(row.name): got \(check), expected \(row.failure.map { "FAIL with \($0)" } ?? "PASS")")
        }
    }

    /// A PASS names the baselines it beat, so the user sees what it was measured against.
    @Test func baselinesAreNamedAsInASentence() {
        #expect(BaselineResult(name: "parameter count", spearman: nil, differenceInterval: nil).phrase == "the parameter count")
        #expect(BaselineResult(name: "NASWOT", spearman: nil, differenceInterval: nil).phrase == "NASWOT")
        #expect(BaselineResult(name: "synflow", spearman: nil, differenceInterval: nil).phrase == "synflow")
        #expect(BaselineResult(name: "FLOPs", spearman: nil, differenceInterval: nil).phrase == "FLOPs")
    }

    @Test func resultsUnderDifferentSettingsAreNeverRanked() {
        var mixed = Self.facts()
        mixed.mixedSettings = ["gtn-evaluate"]
        guard case .fail(let message) = decideRankCheck(mixed) else {
            Issue.record("mixed settings did not fail the check")
            return
        }
        #expect(message.contains("the results of gtn-evaluate were computed under different settings"), "\(message)")
    }

    @Test func deadJobsFailEvenBeforeThereIsARanking() {
        #expect(deadJobsFailure([:]) == nil)
        #expect(deadJobsFailure(["gtn-evaluate": 0, "real-evaluate": 0]) == nil)
        guard case .fail(let message)? = deadJobsFailure(["real-evaluate": 2, "gtn-evaluate": 1]) else {
            Issue.record("dead jobs did not fail the check")
            return
        }
        #expect(message.contains("dead jobs (1 gtn-evaluate, 2 real-evaluate)"), "\(message)")
    }

    @Test func passNamesTheBaselines() {
        guard case .pass(let message) = decideRankCheck(Self.facts()) else { Issue.record("expected PASS"); return }
        #expect(message.contains("at least the equal-compute real proxy (0.500) and the parameter count (0.400)"), "\(message)")
    }

    @Test func verdictOfThePairedDifference() {
        let excludes = BootstrapInterval(lower: 0.1, upper: 0.3, confidence: 0.95, resamples: 10, skipped: 0)
        let spans = BootstrapInterval(lower: -0.1, upper: 0.3, confidence: 0.95, resamples: 10, skipped: 0)
        #expect(ReportDocument.verdict(0.2, excludes) == "GTN better (interval excludes 0)")
        #expect(ReportDocument.verdict(0.1, spans) == "GTN better (within noise)")
        #expect(ReportDocument.verdict(-0.3, Self.interval) == "**GTN worse** (interval excludes 0)")
        #expect(ReportDocument.verdict(nil, nil) == "undefined")
    }
}
