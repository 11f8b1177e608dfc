import Foundation
import TensorCore

/// A GitHub-flavoured Markdown table, built row by row.
///
///     var table = MarkdownTable(["architecture", "GTN score"], alignments: [.left, .right])
///     table.append(["conv3-64 | pool", formatNumber(0.8123)])
///     print(table.markdown)
///
/// Cells are escaped (`|` and `\` get a backslash, line breaks become spaces),
/// so any text is safe in a cell.
public struct MarkdownTable: Sendable, Equatable {
    /// Column alignment, written in the delimiter row.
    public enum Alignment: Sendable {
        case left, center, right
    }

    public let headers: [String]
    public let alignments: [Alignment]
    public private(set) var rows: [[String]] = []

    /// A table with these column `headers`; `alignments` default to left.
    public init(_ headers: [String], alignments: [Alignment]? = nil) {
        require(!headers.isEmpty, "MarkdownTable needs at least one column")
        let alignments = alignments ?? Array(repeating: .left, count: headers.count)
        require(alignments.count == headers.count,
                "MarkdownTable: \(alignments.count) alignments for \(headers.count) columns")
        self.headers = headers
        self.alignments = alignments
    }

    /// Adds a row of unescaped cell texts, one per column.
    public mutating func append(_ row: [String]) {
        require(row.count == headers.count, "MarkdownTable: row has \(row.count) cells, table has \(headers.count) columns")
        rows.append(row)
    }

    /// The table as Markdown lines, each ending in a newline.
    public var markdown: String {
        let delimiters = alignments.map { alignment -> String in
            switch alignment {
            case .left: ":---"
            case .center: ":---:"
            case .right: "---:"
            }
        }
        return ([headers.map(Self.escaped), delimiters] + rows.map { $0.map(Self.escaped) })
            .map { "| " + $0.joined(separator: " | ") + " |\n" }
            .joined()
    }

    /// `text` made safe for one table cell.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case "|": result += "\\|"
            case "\n", "\r", "\r\n": result += " "
            default: result.append(character)
            }
        }
        return result
    }
}

/// `value` with `digits` digits after the decimal point ("0.812"), or
/// "undefined" for nil: the statistics return nil where they are undefined.
/// Non-finite values print as "nan", "inf" or "-inf", so a value that should
/// never occur is visible rather than disguised.
public func formatNumber(_ value: Double?, digits: Int = 3) -> String {
    require(digits >= 0, "formatNumber: digits must not be negative, got \(digits)")
    guard let value else { return "undefined" }
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    let text = String(format: "%.\(digits)f", value)
    // Rounding a small negative value can give "-0.000"; print it unsigned.
    return text.allSatisfy({ "-0.".contains($0) }) ? String(text.dropFirst(text.hasPrefix("-") ? 1 : 0)) : text
}

/// A bootstrap interval as "[lower, upper]" with `digits` decimals, or
/// "undefined" for nil.
public func formatInterval(_ interval: BootstrapInterval?, digits: Int = 3) -> String {
    guard let interval else { return "undefined" }
    return "[\(formatNumber(interval.lower, digits: digits)), \(formatNumber(interval.upper, digits: digits))]"
}
