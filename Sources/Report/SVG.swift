import Foundation
import TensorCore

// SVG charts as plain strings: no scripts, no external fonts or styles, so
// they render in a Git forge, a browser or an image viewer. Output depends
// only on the input (coordinates are printed with two decimals), and all
// text is escaped, so every chart is well-formed XML.

/// One named line of a line chart: points (x[i], y[i]) joined in order.
public struct PlotSeries: Sendable, Equatable {
    public let name: String
    public let x: [Double]
    public let y: [Double]

    public init(name: String, x: [Double], y: [Double]) {
        require(x.count == y.count, "PlotSeries '\(name)': \(x.count) x values but \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
    }
}

/// A line chart of one or more series, with a legend, axes with ticks and
/// labels, and a title. Each series is a `polyline` of class `series` (a
/// non-finite point breaks the line there and is counted in a note under the
/// plot); series of at most 64 points also mark each point with a circle.
public func lineChart(title: String, xLabel: String, yLabel: String, series: [PlotSeries]) -> String {
    let finite = series.flatMap { zip($0.x, $0.y).filter { $0.0.isFinite && $0.1.isFinite } }
    let hidden = series.reduce(0) { $0 + $1.x.count } - finite.count
    let legend = series.enumerated().map { LegendEntry(name: $1.name, color: palette[$0 % palette.count], mark: .line) }
    return renderPlot(title: title, xLabel: xLabel, yLabel: yLabel, points: finite, legend: legend,
                      note: hidden > 0 ? "\(hidden) non-finite point\(hidden == 1 ? "" : "s") not shown" : nil) { svg, frame in
        for (index, line) in series.enumerated() {
            let color = palette[index % palette.count]
            svg.open("g", ["class": "series", "stroke": color, "fill": color])
            svg.element("title", [:], text: line.name)
            // Runs of consecutive finite points; a non-finite point ends a run.
            var run: [String] = []
            func flush() {
                if !run.isEmpty { svg.element("polyline", ["fill": "none", "stroke-width": "2", "points": run.joined(separator: " ")]) }
                run = []
            }
            for (x, y) in zip(line.x, line.y) {
                guard x.isFinite && y.isFinite else { flush(); continue }
                run.append("\(coordinate(frame.px(x))),\(coordinate(frame.py(y)))")
                if line.x.count <= 64 {
                    svg.element("circle", ["cx": coordinate(frame.px(x)), "cy": coordinate(frame.py(y)), "r": "2.5"])
                }
            }
            flush()
            svg.close("g")
        }
    }
}

/// A scatter plot of (x[i], y[i]) where the points whose indices are in
/// `highlighted` are drawn larger, in another colour and on top, named
/// `highlightedName` in the legend (the others `othersName`). Circles have
/// class `point` or `point highlighted`; non-finite points are left out and
/// counted in a note under the plot.
public func scatterPlot(title: String, xLabel: String, yLabel: String, x: [Double], y: [Double],
                        highlighted: Set<Int>, highlightedName: String, othersName: String) -> String {
    require(x.count == y.count, "scatterPlot: \(x.count) x values but \(y.count) y values")
    require(highlighted.allSatisfy { x.indices.contains($0) },
            "scatterPlot: highlighted indices \(highlighted.sorted()) outside 0..<\(x.count)")
    let shown = x.indices.filter { x[$0].isFinite && y[$0].isFinite }
    let hidden = x.count - shown.count
    let others = LegendEntry(name: othersName, color: "#7f7f7f", mark: .dot)
    let marked = LegendEntry(name: highlightedName, color: palette[1], mark: .dot)
    return renderPlot(title: title, xLabel: xLabel, yLabel: yLabel, points: shown.map { (x[$0], y[$0]) },
                      legend: [others, marked],
                      note: hidden > 0 ? "\(hidden) non-finite point\(hidden == 1 ? "" : "s") not shown" : nil) { svg, frame in
        for isHighlighted in [false, true] {
            let entry = isHighlighted ? marked : others
            svg.open("g", ["fill": entry.color, "fill-opacity": isHighlighted ? "0.9" : "0.6"])
            svg.element("title", [:], text: entry.name)
            for index in shown where highlighted.contains(index) == isHighlighted {
                svg.element("circle", ["class": isHighlighted ? "point highlighted" : "point",
                                       "cx": coordinate(frame.px(x[index])), "cy": coordinate(frame.py(y[index])),
                                       "r": isHighlighted ? "4" : "3"])
            }
            svg.close("g")
        }
    }
}

/// `text` with the XML special characters replaced by entities and the
/// control characters XML 1.0 forbids replaced by spaces.
public func xmlEscaped(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&apos;"
        case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: result += " "
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result
}

// MARK: - Shared plot frame

/// Line colours, cycled over series.
private let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

struct LegendEntry {
    enum Mark { case line, dot }
    let name: String
    let color: String
    let mark: Mark
}

/// An SVG document under construction; attribute values and text are escaped.
struct SVGBuilder {
    private(set) var text = ""
    private var depth = 0

    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String>) {
        line("<\(name)\(Self.render(attributes))>")
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        line("</\(name)>")
    }

    /// An element with escaped text content, or empty (`<name …/>`) if `text` is nil.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, text content: String? = nil) {
        if let content {
            line("<\(name)\(Self.render(attributes))>\(xmlEscaped(content))</\(name)>")
        } else {
            line("<\(name)\(Self.render(attributes))/>")
        }
    }

    private mutating func line(_ markup: String) {
        text += String(repeating: "  ", count: depth) + markup + "\n"
    }

    private static func render(_ attributes: KeyValuePairs<String, String>) -> String {
        attributes.map { " \($0.key)=\"\(xmlEscaped($0.value))\"" }.joined()
    }
}

/// The data-to-pixel mapping of a plot area.
struct PlotFrame {
    static let width = 640.0, height = 420.0
    static let left = 72.0, right = 24.0, bottom = 64.0
    /// The plot area's top: under the title and the legend's rows.
    let top: Double
    let xAxis: Axis
    let yAxis: Axis

    func px(_ x: Double) -> Double {
        Self.left + (x - xAxis.low) / (xAxis.high - xAxis.low) * (Self.width - Self.left - Self.right)
    }

    func py(_ y: Double) -> Double {
        Self.height - Self.bottom - (y - yAxis.low) / (yAxis.high - yAxis.low) * (Self.height - top - Self.bottom)
    }
}

/// An axis range widened to round tick values.
struct Axis {
    let low: Double
    let high: Double
    let ticks: [Double]
    /// Decimals that print every tick exactly.
    let decimals: Int

    /// Ticks spaced 1, 2, 2.5 or 5 × 10^k apart, about five of them, with the
    /// range extended to whole steps; a single value gets a range around it,
    /// no values the range 0…1.
    init(covering values: [Double]) {
        var low = values.min() ?? 0, high = values.max() ?? 1
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        let rough = (high - low) / 5
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let multiples: [Double] = [1, 2, 2.5, 5, 10]
        let multiple = multiples.first { rough <= $0 * magnitude * (1 + 1e-9) } ?? 10
        let step = multiple * magnitude
        let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
        self.low = first * step
        self.high = last * step
        ticks = (0...Int(last - first)).map { (first + Double($0)) * step }
        decimals = min(12, max(0, -Int((log10(step)).rounded(.down)) + (multiple == 2.5 ? 1 : 0)))
    }
}

/// Where each legend entry goes (the middle of its mark): side by side from
/// `left`, a new row 16 pixels lower whenever the next would pass `right`
/// (its width estimated from its name at 7 pixels a character).
func legendLayout(_ legend: [LegendEntry], from left: Double, to right: Double)
    -> (entries: [(LegendEntry, x: Double, y: Double)], rows: Int) {
    var x = left, y = 40.0, rows = legend.isEmpty ? 0 : 1
    var entries: [(LegendEntry, x: Double, y: Double)] = []
    for entry in legend {
        let width = 40 + 7 * Double(entry.name.count)
        if x > left && x + width - 16 > right {
            (x, y, rows) = (left, y + 16, rows + 1)
        }
        entries.append((entry, x, y))
        x += width
    }
    return (entries, rows)
}

/// A pixel coordinate as printed in the SVG.
private func coordinate(_ value: Double) -> String { formatNumber(value, digits: 2) }

/// The chart around `drawData`: background, title, legend, grid, axes with
/// tick labels, axis labels, and an optional note under the plot.
private func renderPlot(title: String, xLabel: String, yLabel: String, points: [(Double, Double)],
                        legend: [LegendEntry], note: String?, drawData: (inout SVGBuilder, PlotFrame) -> Void) -> String {
    let (width, height) = (PlotFrame.width, PlotFrame.height)
    let (plotLeft, plotRight) = (PlotFrame.left, width - PlotFrame.right)
    let placed = legendLayout(legend, from: plotLeft, to: plotRight)
    let frame = PlotFrame(top: 44 + 16 * Double(placed.rows), xAxis: Axis(covering: points.map(\.0)),
                          yAxis: Axis(covering: points.map(\.1)))
    let (plotTop, plotBottom) = (frame.top, height - PlotFrame.bottom)
    var svg = SVGBuilder()
    svg.open("svg", ["xmlns": "http://www.w3.org/2000/svg", "width": coordinate(width), "height": coordinate(height),
                     "viewBox": "0 0 \(coordinate(width)) \(coordinate(height))",
                     "font-family": "sans-serif", "font-size": "12"])
    svg.element("title", [:], text: title)
    svg.element("rect", ["width": "100%", "height": "100%", "fill": "white"])
    svg.element("text", ["class": "title", "x": coordinate(width / 2), "y": "22", "text-anchor": "middle",
                         "font-size": "15", "font-weight": "bold"], text: title)

    // Legend: rows under the title, entries side by side, every entry within the plot's width.
    svg.open("g", ["class": "legend"])
    for (entry, x, y) in placed.entries {
        switch entry.mark {
        case .line:
            svg.element("line", ["x1": coordinate(x), "y1": coordinate(y), "x2": coordinate(x + 18), "y2": coordinate(y),
                                 "stroke": entry.color, "stroke-width": "2"])
        case .dot:
            svg.element("circle", ["cx": coordinate(x + 9), "cy": coordinate(y), "r": "4", "fill": entry.color])
        }
        svg.element("text", ["x": coordinate(x + 24), "y": coordinate(y + 4)], text: entry.name)
    }
    svg.close("g")

    // Grid lines and tick labels.
    svg.open("g", ["class": "axes", "stroke": "#dddddd"])
    for tick in frame.xAxis.ticks {
        let x = coordinate(frame.px(tick))
        svg.element("line", ["x1": x, "y1": coordinate(plotTop), "x2": x, "y2": coordinate(plotBottom)])
    }
    for tick in frame.yAxis.ticks {
        let y = coordinate(frame.py(tick))
        svg.element("line", ["x1": coordinate(plotLeft), "y1": y, "x2": coordinate(plotRight), "y2": y])
    }
    svg.element("rect", ["x": coordinate(plotLeft), "y": coordinate(plotTop), "width": coordinate(plotRight - plotLeft),
                         "height": coordinate(plotBottom - plotTop), "fill": "none", "stroke": "#333333"])
    svg.close("g")
    svg.open("g", ["class": "ticks", "fill": "#333333"])
    for tick in frame.xAxis.ticks {
        svg.element("text", ["x": coordinate(frame.px(tick)), "y": coordinate(plotBottom + 16), "text-anchor": "middle"],
                    text: formatNumber(tick, digits: frame.xAxis.decimals))
    }
    for tick in frame.yAxis.ticks {
        svg.element("text", ["x": coordinate(plotLeft - 6), "y": coordinate(frame.py(tick) + 4), "text-anchor": "end"],
                    text: formatNumber(tick, digits: frame.yAxis.decimals))
    }
    svg.close("g")

    let yLabelX = coordinate(16), yLabelY = coordinate((plotTop + plotBottom) / 2)
    svg.element("text", ["class": "x-label", "x": coordinate((plotLeft + plotRight) / 2), "y": coordinate(plotBottom + 38),
                         "text-anchor": "middle"], text: xLabel)
    svg.element("text", ["class": "y-label", "x": yLabelX, "y": yLabelY, "text-anchor": "middle",
                         "transform": "rotate(-90 \(yLabelX) \(yLabelY))"], text: yLabel)
    if let note {
        svg.element("text", ["class": "note", "x": coordinate(plotLeft), "y": coordinate(height - 6), "font-size": "11"],
                    text: note)
    }

    drawData(&svg, frame)
    svg.close("svg")
    return svg.text
}
