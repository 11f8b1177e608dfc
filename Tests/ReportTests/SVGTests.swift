import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Report

/// Elements of an XML document in order, with attributes and text, as
/// FoundationXML's parser reports them; `error` is set if it is not well-formed.
private final class ParsedXML: NSObject, XMLParserDelegate {
    struct Element { let name: String; let attributes: [String: String]; var text: String }
    private(set) var elements: [Element] = []
    private var open: [Int] = []
    private(set) var error: Error?

    init(_ text: String) {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        if !parser.parse() { error = parser.parserError ?? CocoaError(.coderReadCorrupt) }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        open.append(elements.count)
        elements.append(Element(name: name, attributes: attributes, text: ""))
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func named(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    func withClass(_ name: String) -> [Element] { elements.filter { $0.attributes["class"] == name } }
}

@Suite struct SVGTests {
    @Test func lineChartIsWellFormedWithSeriesAxesAndEscapedText() throws {
        let steps = (0..<100).map(Double.init)
        let svg = lineChart(title: "Meta-loss & accuracy <run \"a\">", xLabel: "outer step", yLabel: "loss",
                            series: [PlotSeries(name: "meta-loss", x: steps, y: steps.map { 2.3 * exp(-$0 / 30) }),
                                     PlotSeries(name: "validation 'loss'", x: steps, y: steps.map { 2.5 - $0 / 50 })])
        let xml = ParsedXML(svg)
        #expect(xml.error == nil, "not well-formed: \(String(describing: xml.error))")
        #expect(xml.elements.first?.name == "svg" && xml.elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(xml.withClass("title").first?.text == "Meta-loss & accuracy <run \"a\">")
        #expect(xml.named("title").first?.text == "Meta-loss & accuracy <run \"a\">")
        #expect(xml.withClass("x-label").first?.text == "outer step" && xml.withClass("y-label").first?.text == "loss")
        #expect(xml.withClass("series").count == 2)
        #expect(xml.named("polyline").count == 2)
        let points = try #require(xml.named("polyline").first?.attributes["points"]).split(separator: " ")
        #expect(points.count == 100)
        #expect(xml.named("circle").isEmpty, "over 64 points: no markers")
        // Legend names both series; tick labels are round numbers: x 0…100 by 20, y 0…2.5 by 0.5.
        let texts = Set(xml.named("text").map(\.text))
        #expect(texts.isSuperset(of: ["meta-loss", "validation 'loss'", "0", "20", "100", "0.0", "0.5", "2.5"]), "\(texts)")
        #expect(xml.withClass("note").isEmpty)
        #expect(svg == lineChart(title: "Meta-loss & accuracy <run \"a\">", xLabel: "outer step", yLabel: "loss",
                                 series: [PlotSeries(name: "meta-loss", x: steps, y: steps.map { 2.3 * exp(-$0 / 30) }),
                                          PlotSeries(name: "validation 'loss'", x: steps, y: steps.map { 2.5 - $0 / 50 })]))
    }

    /// Every plotted series is named in the legend, and every legend entry
    /// lies inside the picture (rows wrap), however long the names.
    @Test func everySeriesIsNamedInsideThePicture() {
        let names = ["learned curriculum", "no curriculum (fresh noise)", "curriculum shuffled", "real data"]
        let steps = (1...16).map(Double.init)
        let xml = ParsedXML(lineChart(title: "t", xLabel: "k", yLabel: "accuracy",
                                      series: names.map { PlotSeries(name: $0, x: steps, y: steps.map { $0 / 16 }) }))
        #expect(xml.error == nil)
        #expect(xml.named("polyline").count == names.count)
        let legendTexts = xml.named("text").filter { names.contains($0.text) }
        #expect(legendTexts.map(\.text) == names)
        for text in legendTexts {
            let x = Double(text.attributes["x"] ?? "") ?? .infinity
            #expect(x + 7 * Double(text.text.count) <= PlotFrame.width, "\(text.text) at x \(x) runs off the picture")
        }
        #expect(legendLayout([], from: 0, to: 100).rows == 0)
    }

    @Test func lineChartBreaksAtNonFinitePointsAndSurvivesDegenerateInput() {
        let broken = ParsedXML(lineChart(title: "t", xLabel: "x", yLabel: "y",
                                         series: [PlotSeries(name: "s", x: [0, 1, 2, 3, 4], y: [1, 2, .nan, 3, 4])]))
        #expect(broken.error == nil)
        #expect(broken.named("polyline").count == 2)
        #expect(broken.named("circle").count == 4)
        #expect(broken.withClass("note").first?.text == "1 non-finite point not shown")
        for series in [[], [PlotSeries(name: "one point", x: [3], y: [0.5])], [PlotSeries(name: "empty", x: [], y: [])]] {
            let xml = ParsedXML(lineChart(title: "t", xLabel: "x", yLabel: "y", series: series))
            #expect(xml.error == nil)
            #expect(!xml.named("text").contains { $0.text.contains("nan") || $0.text.contains("inf") })
        }
    }

    @Test func scatterPlotMarksTheHighlightedSubset() {
        let x = (0..<30).map { Double($0) / 30 }
        let y = x.map { 0.8 + 0.1 * $0 }
        let top = Set(topIndices(x, count: 3))
        let svg = scatterPlot(title: "GTN score vs real accuracy", xLabel: "GTN score", yLabel: "real accuracy",
                              x: x + [.infinity], y: y + [0.5], highlighted: top,
                              highlightedName: "GTN top 10%", othersName: "other architectures")
        let xml = ParsedXML(svg)
        #expect(xml.error == nil, "not well-formed: \(String(describing: xml.error))")
        #expect(xml.withClass("point").count == 27)
        let marked = xml.withClass("point highlighted")
        #expect(marked.count == 3)
        #expect(xml.withClass("note").first?.text == "1 non-finite point not shown")
        #expect(Set(xml.named("text").map(\.text)).isSuperset(of: ["GTN top 10%", "other architectures", "GTN score", "real accuracy"]))
        // The highlighted points are the rightmost ones (largest x).
        let markedX = marked.compactMap { $0.attributes["cx"].flatMap(Double.init) }
        let otherX = xml.withClass("point").compactMap { $0.attributes["cx"].flatMap(Double.init) }
        #expect(markedX.min()! > otherX.max()!)
    }

    @Test func escapingCoversSpecialAndControlCharacters() {
        #expect(xmlEscaped("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;")
        #expect(xmlEscaped("bell\u{7}tab\tline\n") == "bell tab\tline\n")
        #expect(ParsedXML(lineChart(title: "\u{1}\u{1b}]", xLabel: "é — ü", yLabel: "y", series: [])).error == nil)
    }
}
