import Artifacts
import Foundation
import Pipeline
import Report

/// `report`: writes `artifacts/<campaign>/report.md` and its images (in
/// `report/` next to it) from the campaign database and artifacts, at any
/// point of a campaign, saying what is missing or still running, and
/// `results.csv` beside it. The check at its top (`decideRankCheck`) passes
/// only when GTN's Spearman ρ against real validation accuracy on the
/// calibration sample reaches `report.spearman_threshold` and is at least
/// the equal-compute real proxy's and the parameter count's, with no dead
/// jobs: exit 0 on PASS, 3 on FAIL, 75 while the real evaluation is unfinished.
public enum ReportStage {
    public static var stage: Stage {
        Stage(name: "report",
              summary: "Write the campaign report (report.md, results.csv) and check the GTN ranking against real training and its baselines (exit 3 on FAIL).",
              plan: { _ in .run(reason: "reporting on the campaign as it stands") }, run: run)
    }

    /// `artifacts/<campaign>/report.md`.
    public static func reportFile(_ context: StageContext) -> URL {
        URL(fileURLWithPath: context.artifactsDirectory).appendingPathComponent("report.md")
    }

    /// The folder of the report's images, relative to the report.
    static let imageFolder = "report"

    static func run(_ context: StageContext) throws -> StageResult {
        let facts = try CampaignFacts.gather(context)
        let document = ReportDocument(facts: facts, imageFolder: imageFolder)
        let reportURL = reportFile(context)
        let images = reportURL.deletingLastPathComponent().appendingPathComponent(imageFolder)
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for (name, bytes) in document.images {
            try AtomicFile.write(bytes, to: images.appendingPathComponent(name))
        }
        let tableURL = reportURL.deletingLastPathComponent().appendingPathComponent(ResultsTable.fileName)
        try AtomicFile.write(Array(ResultsTable.csv(facts).utf8), to: tableURL)
        try AtomicFile.write(Array(document.markdown.utf8), to: reportURL)
        context.say("report written to \(reportURL.path) (one row per architecture in \(tableURL.lastPathComponent))")
        switch document.check {
        case .pass(let summary):
            return .done(summary: "PASS: \(summary)")
        case .fail(let summary):
            throw CheckFailed("FAIL: \(summary)\nthe report is in \(reportURL.path)")
        case .incomplete(let summary):
            return .incomplete(reason: "not final: \(summary)")
        }
    }
}
