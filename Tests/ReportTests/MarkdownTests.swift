import Testing
@testable import Report

@Suite struct MarkdownTests {
    @Test func tableEscapesCellsAndAligns() {
        var table = MarkdownTable(["architecture", "GTN score", "note"], alignments: [.left, .right, .center])
        table.append(["conv3 | pool", formatNumber(0.81234), "a\\b"])
        table.append(["two\nlines", formatNumber(nil), ""])
        #expect(table.markdown == """
            | architecture | GTN score | note |
            | :--- | ---: | :---: |
            | conv3 \\| pool | 0.812 | a\\\\b |
            | two lines | undefined |  |

            """)
        #expect(MarkdownTable(["a"]).markdown == "| a |\n| :--- |\n")
    }

    @Test func numbersPrintUndefinedForNil() {
        #expect(formatNumber(nil) == "undefined")
        #expect(formatNumber(0.55823) == "0.558")
        #expect(formatNumber(-0.0004) == "0.000")
        #expect(formatNumber(-1.23456, digits: 2) == "-1.23")
        #expect(formatNumber(12.7, digits: 0) == "13")
        #expect(formatNumber(3, digits: 2) == "3.00")
        #expect(formatNumber(.nan) == "nan" && formatNumber(-.infinity) == "-inf")
        #expect(formatInterval(nil) == "undefined")
        #expect(formatInterval(BootstrapInterval(lower: 0.1234, upper: 0.9, confidence: 0.95, resamples: 1_000, skipped: 0))
                == "[0.123, 0.900]")
    }
}
