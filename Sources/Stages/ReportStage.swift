import Artifacts
import Checksums
import Foundation
import Pipeline
import Report
import StageContract

/// `report`: writes `artifacts/<campaign>/report.md` and its images (in
/// `report/` next to it) from the campaign database and artifacts, at any
/// point of a campaign, saying what is missing or still running, and
/// `results.csv` beside it. The check at its top (`decideRankCheck`) passes
/// only when GTN's Spearman ρ against real validation accuracy on the
/// calibration sample reaches `report.spearman_threshold` and is at least
/// the equal-compute real proxy's and the parameter count's, with no dead
/// jobs: exit 0 on PASS, 3 on FAIL, 75 while the real evaluation is unfinished.
/// When nothing it reads has changed since the last report (`inputsDigest`),
/// it says so and exits as that report's check did, without rewriting it.
public enum ReportStage {
    public static var stage: GTNStage {
        GTNStage(name: StageName.report.rawValue,
              summary: "Write the campaign report (\(CampaignArtifacts.reportFileName), \(CampaignArtifacts.resultsTableFileName)) and check the GTN ranking against real training and its baselines (exit 3 on FAIL).",
              plan: { _ in .run(reason: "reporting on the campaign as it stands") }, run: run)
    }

    /// What the last report was written from and what its check said,
    /// beside the report (written last, so a report killed midway is redone).
    struct State: Codable, Equatable {
        /// `inputsDigest` when it was written.
        let inputs: String
        /// "pass", "fail" or "incomplete", and the check's summary.
        let check: String
        let summary: String
        let writtenAt: Double
    }

    /// SHA-256 of everything the report is made from except the clock and the
    /// machine writing it: the project version, the pipeline, the other
    /// stages' records, every job's state and retries, the metrics, and the
    /// meta-training artifacts' sizes and times.
    static func inputsDigest(_ context: GTNStageContext) throws -> String {
        let database = context.campaign.database
        var parts = [CampaignFacts.projectVersion(), context.pipeline.document.canonicalText]
        parts += try database.query("""
            SELECT name || ':' || status || ':' || coalesce(finished_at, '') FROM stages WHERE name <> ? ORDER BY name
            """, [.text(stage.name)]) { $0.text(0) }
        parts += try database.query("""
            SELECT id || ':' || state || ':' || attempt || ':' || failures || ':' || expiries || ':' || coalesce(finished_at, '')
            FROM jobs ORDER BY id
            """, []) { $0.text(0) }
        parts += try database.query("SELECT count(*) || ':' || coalesce(max(id), 0) FROM metrics", []) { $0.text(0) }
        parts += try database.query("SELECT count(*) || ':' || coalesce(max(id), 0) FROM stage_runs WHERE stage <> ?",
                                    [.text(stage.name)]) { $0.text(0) }
        for url in [context.artifacts.generator, context.artifacts.curriculumImages] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
            parts.append("\(url.lastPathComponent):\(attributes?[.size] ?? "-"):"
                         + "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)")
        }
        return SHA256.hash(parts.joined(separator: "\n"))
    }

    /// The stage's outcome for a check: PASS done, FAIL exit 3, incomplete 75.
    static func outcome(check: String, summary: String, report: URL) throws -> StageResult {
        switch check {
        case "pass": return .done(summary: "PASS: \(summary)")
        case "fail": throw CheckFailed("FAIL: \(summary)\nthe report is in \(report.path)")
        default: return .incomplete(reason: "not final: \(summary)")
        }
    }

    static func run(_ context: GTNStageContext) throws -> StageResult {
        let artifacts = context.artifacts, reportURL = context.artifacts.report
        let inputs = try inputsDigest(context)
        if let text = try? String(contentsOf: artifacts.reportState, encoding: .utf8), let state = try? decodeJSON(State.self, text),
           state.inputs == inputs, FileManager.default.fileExists(atPath: reportURL.path) {
            context.say("nothing the report reads has changed since it was written (\(timestamp(state.writtenAt))); not rewritten")
            return try outcome(check: state.check, summary: state.summary, report: reportURL)
        }
        let facts = try CampaignFacts.gather(context)
        let document = ReportDocument(facts: facts, imageFolder: CampaignArtifacts.reportImageFolder)
        try FileManager.default.createDirectory(at: artifacts.reportImages, withIntermediateDirectories: true)
        for (name, bytes) in document.images {
            try AtomicFile.write(bytes, to: artifacts.reportImages.appendingPathComponent(name))
        }
        let tableURL = artifacts.resultsTable
        try AtomicFile.write(Array(ResultsTable.csv(facts).utf8), to: tableURL)
        try AtomicFile.write(Array(document.markdown.utf8), to: reportURL)
        context.say("report written to \(reportURL.path) (one row per architecture in \(tableURL.lastPathComponent))")
        let (check, summary): (String, String)
        switch document.check {
        case .pass(let text): (check, summary) = ("pass", text)
        case .fail(let text): (check, summary) = ("fail", text)
        case .incomplete(let text): (check, summary) = ("incomplete", text)
        }
        let state = State(inputs: inputs, check: check, summary: summary, writtenAt: facts.writtenAt)
        try AtomicFile.write(Array(encodeJSON(state).utf8), to: artifacts.reportState)
        return try outcome(check: check, summary: summary, report: reportURL)
    }
}
