import Artifacts
import Foundation
import Pipeline
import Report

/// `report`: writes `artifacts/<campaign>/report.md` and its images (in
/// `report/` next to it) from the campaign database and artifacts, at any
/// point of a campaign, saying what is missing or still running. The check
/// at its top compares Spearman's ρ between GTN score and real validation
/// accuracy on the calibration sample with `report.spearman_threshold`:
/// exit 0 on PASS, 3 on FAIL, 75 while the real evaluation is unfinished.
public enum ReportStage {
    public static var stage: Stage {
        Stage(name: "report",
              summary: "Write the campaign report (report.md) and check the GTN-vs-real rank correlation (exit 3 on FAIL).",
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
        try AtomicFile.write(Array(document.markdown.utf8), to: reportURL)
        context.say("report written to \(reportURL.path)")
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

/// The outcome of the report's check.
enum ReportCheck: Equatable {
    case pass(String)
    case fail(String)
    /// The real evaluation has not finished, so there is nothing to check yet.
    case incomplete(String)
}
