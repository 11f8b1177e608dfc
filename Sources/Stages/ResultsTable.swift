import Report
import StageContract

/// `results.csv` beside the report: one row per proposed architecture (in
/// proposal order), for pandas or R. Empty cells where an architecture has
/// no such result (not trained on real data, or its job is not done);
/// `flops` counts multiply-adds per image; `naswot` is `-inf` where its
/// kernel is singular.
/// Numbers are written in full (shortest round-trip form), not rounded as
/// in the report.
enum ResultsTable {
    static let columns = ["architecture", "selection", "parameters", "flops", "gtn_score", "gtn_seconds", "real_proxy_score",
                          "real_proxy_seconds", "truth_validation_accuracy", "truth_test_accuracy", "truth_seconds", "synflow",
                          "naswot"]

    /// The CSV text (RFC 4180: comma-separated, CRLF-free, quoted where needed).
    static func csv(_ facts: CampaignFacts) -> String {
        let gtn = Dictionary(facts.gtnScores.map { ($0.architecture, $0) }, uniquingKeysWith: { a, _ in a })
        let real = Dictionary(facts.realScores.map { ($0.architecture, $0) }, uniquingKeysWith: { a, _ in a })
        let topK = Set(facts.selection?.topK ?? []), calibration = Set(facts.selection?.calibration ?? [])
        var lines = [columns.joined(separator: ",")]
        for architecture in facts.proposedArchitectures {
            let g = gtn[architecture], r = real[architecture]
            let selection = [topK.contains(architecture) ? "top-k" : nil, calibration.contains(architecture) ? "calibration" : nil]
                .compactMap { $0 }.joined(separator: "+")
            let parameters = g?.parameters ?? r?.parameters
            let cells: [String] = [
                architecture, selection, parameters.map(String.init) ?? "", g?.multiplyAdds.map(String.init) ?? "",
                number(g?.score), number(g?.seconds), number(r?.proxyScore), number(r?.proxySeconds),
                number(r?.validationAccuracy), number(r?.testAccuracy), number(r?.seconds),
                number(g?.trainingFree?.synflow), g?.trainingFree.map { $0.naswot.map { "\($0)" } ?? "-inf" } ?? "",
            ]
            lines.append(cells.map(quoted).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }

    /// `cell`, quoted when it holds a comma, a quote or a line break.
    static func quoted(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
