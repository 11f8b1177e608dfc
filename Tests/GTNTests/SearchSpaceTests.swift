import Testing
import GTN
import TensorCore

@Suite struct ArchitectureEncoding {
    @Test func sampledArchitecturesRoundTripThroughTheirStringForm() throws {
        let sample = try SearchSpace.standard.sample(3000, using: RandomStream(seed: 11))
        for architecture in sample {
            let text = architecture.description
            let parsed = try Architecture.parse(text)
            #expect(parsed == architecture, "\(text) parsed as \(parsed)")
            #expect(parsed.description == text)
        }
    }

    @Test func spaceSizesReadAsNumbersOrAsABound() throws {
        #expect(SearchSpace.standard.distinctCountDescription == "412,964,604")
        let huge = try SearchSpace(blocks: 1...8, layersPerBlock: 1...16)
        #expect(huge.distinctCount == .max)
        #expect(huge.distinctCountDescription == "more than 9,223,372,036,854,775,806")
    }

    @Test func aFilteredSampleIsTheUnfilteredSampleWithoutTheRejected() throws {
        let stream = RandomStream(seed: 14)
        let wide = { (a: Architecture) in a.width == 32 }
        let filtered = try SearchSpace.standard.sample(50, using: stream, accept: wide)
        #expect(filtered == (try SearchSpace.standard.sample(400, using: stream)).filter(wide).prefix(50).map { $0 })
        #expect(throws: SearchSpaceError.tooFewAccepted(requested: 5, accepted: 0, draws: 100)) {
            try SearchSpace.standard.sample(5, using: stream, maxDraws: 100) { _ in false }
        }
    }

    @Test func everyAcceptedStringIsCanonical() throws {
        // Single-character edits of valid encodings: each is rejected or reads back exactly.
        var rng = RandomStream(seed: 12)
        let alphabet = Array("wcspma0123456789|;,=k ")
        var accepted = 0
        for architecture in try SearchSpace.standard.sample(500, using: RandomStream(seed: 13)) {
            for _ in 0..<8 {
                var characters = Array(architecture.description)
                let i = rng.nextInt(below: characters.count)
                switch rng.nextInt(below: 3) {
                case 0: characters[i] = alphabet[rng.nextInt(below: alphabet.count)]
                case 1: characters.remove(at: i)
                default: characters.insert(alphabet[rng.nextInt(below: alphabet.count)], at: i)
                }
                let text = String(characters)
                guard let parsed = try? Architecture.parse(text) else { continue }
                accepted += 1
                #expect(parsed.description == text)
            }
        }
        #expect(accepted > 100, "only \(accepted) edited encodings were valid; the check says little")
    }

    @Test func theDocumentedExampleReadsAsDocumented() throws {
        let a = try Architecture.parse("w16|c3,s3,mp;c1,ap|skip=1,0")
        #expect(a.width == 16)
        #expect(a.blocks == [Architecture.Block(layers: [.conv3x3, .separable3x3, .maxPool3x3], skip: true),
                             Architecture.Block(layers: [.conv1x1, .avgPool3x3], skip: false)])
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        let text: String
        let column: Int
        let block: Int?
        let layer: Int?
        /// A fragment of `expected`.
        let expecting: String
        var testDescription: String { "\"\(text)\"" }
    }

    static let invalid: [Invalid] = [
        Invalid(text: "", column: 1, block: nil, layer: nil, expecting: "\"w\""),
        Invalid(text: "x16|c3|skip=0", column: 1, block: nil, layer: nil, expecting: "\"w\""),
        Invalid(text: "w|c3|skip=0", column: 2, block: nil, layer: nil, expecting: "width"),
        Invalid(text: "w0|c3|skip=0", column: 2, block: nil, layer: nil, expecting: "width"),
        Invalid(text: "w016|c3|skip=0", column: 2, block: nil, layer: nil, expecting: "leading zeros"),
        Invalid(text: "w2048|c3|skip=0", column: 2, block: nil, layer: nil, expecting: "1…1024"),
        Invalid(text: "w99999999999999999999|c3|skip=0", column: 2, block: nil, layer: nil, expecting: "width"),
        Invalid(text: "w16x|c3|skip=0", column: 4, block: nil, layer: nil, expecting: "\"|\""),
        Invalid(text: "w16|c3,c5|skip=0", column: 8, block: 1, layer: 2, expecting: "an operation"),
        Invalid(text: "w16|c3;C1|skip=0,0", column: 8, block: 2, layer: 1, expecting: "an operation"),
        Invalid(text: "w16|c3;;c1|skip=0,0,0", column: 8, block: 2, layer: 1, expecting: "an operation"),
        Invalid(text: "w16||skip=0", column: 5, block: 1, layer: 1, expecting: "an operation"),
        Invalid(text: "w16|c3,|skip=0", column: 8, block: 1, layer: 2, expecting: "an operation"),
        Invalid(text: "w16|c3 |skip=0", column: 5, block: 1, layer: 1, expecting: "an operation"),
        Invalid(text: "w16|c3", column: 7, block: 1, layer: nil, expecting: "\"|skip=\""),
        Invalid(text: "w16|c3|skp=0", column: 8, block: nil, layer: nil, expecting: "\"skip=\""),
        Invalid(text: "w16|c3|skip=2", column: 13, block: 1, layer: nil, expecting: "0 or 1"),
        Invalid(text: "w16|c3;mp;ap|skip=1,0", column: 22, block: 3, layer: nil, expecting: "3 block(s) take 3 skip flag(s)"),
        Invalid(text: "w16|c3|skip=1,0", column: 14, block: nil, layer: nil, expecting: "1 block(s) take 1 skip flag(s)"),
        Invalid(text: "w16|c3|skip=1|x", column: 14, block: nil, layer: nil, expecting: "the end of the encoding"),
        Invalid(text: "w16|c3|skip=1;", column: 14, block: nil, layer: nil, expecting: "the end of the encoding"),
        Invalid(text: "w16|" + Array(repeating: "c1", count: 17).joined(separator: ",") + "|skip=0", column: 53,
                block: 1, layer: 17, expecting: "at most 16 layers"),
        Invalid(text: "w16|" + Array(repeating: "c1", count: 9).joined(separator: ";") + "|skip=0", column: 29,
                block: 9, layer: nil, expecting: "at most 8 blocks"),
    ]

    @Test(arguments: invalid) func invalidEncodingIsRejectedAtItsPosition(_ bad: Invalid) {
        do throws(ArchitectureEncodingError) {
            let parsed = try Architecture.parse(bad.text)
            Issue.record("accepted as \(parsed)")
        } catch {
            #expect(error.encoding == bad.text)
            #expect(error.column == bad.column, "\(error)")
            #expect(error.block == bad.block, "\(error)")
            #expect(error.layer == bad.layer, "\(error)")
            #expect(error.expected.contains(bad.expecting), "\(error)")
            #expect(error.description.contains("column \(bad.column)"))
        }
    }

    @Test func theMessageShowsThePlaceAndAHint() {
        do throws(ArchitectureEncodingError) {
            let parsed = try Architecture.parse("w16|c3,x9|skip=0")
            Issue.record("accepted as \(parsed)")
        } catch {
            #expect(error.description == """
                invalid architecture encoding at column 8, block 1, layer 2: expected an operation (c3, c1, s3, s1, mp, ap), found "x9"
                  w16|c3,x9|skip=0
                         ^
                HINT: the form is w<width>|<op>,<op>;<op>…|skip=<0|1>,… with ops c3 c1 s3 s1 mp ap, e.g. w16|c3,s3,mp;c1,ap|skip=1,0
                """)
        }
    }
}

@Suite struct SearchSpaceSampling {
    @Test func theDefaultSpaceHoldsAtLeastTenThousandArchitectures() {
        #expect(SearchSpace.standard.distinctCount == 412_964_604)
        #expect(SearchSpace.standard.distinctCount >= 10_000)
    }

    /// A space small enough to draw completely: 1–2 blocks of 1–2 layers from
    /// {c3, mp}, widths 4 and 8, free skips: 2·(12 + 12²) = 312 architectures.
    static func small() throws -> SearchSpace {
        try SearchSpace(blocks: 1...2, layersPerBlock: 1...2, operations: [.conv3x3, .maxPool3x3], widths: [4, 8])
    }

    @Test func aSmallSpaceCanBeDrawnCompletelyAndNoFurther() throws {
        let space = try Self.small()
        #expect(space.distinctCount == 312)
        let all = try space.sample(312, using: RandomStream(seed: 3))
        #expect(Set(all).count == 312)
        #expect(all.allSatisfy { space.contains($0) })
        #expect(throws: SearchSpaceError.tooFewArchitectures(requested: 313, available: 312)) {
            try space.sample(313, using: RandomStream(seed: 3))
        }
    }

    @Test func fixedSkipProbabilitiesFixTheFlags() throws {
        for p in [0.0, 1.0] {
            let space = try SearchSpace(blocks: 1...2, layersPerBlock: 1...2, operations: [.conv3x3, .maxPool3x3],
                                        widths: [4, 8], skipProbability: p)
            #expect(space.distinctCount == 2 * (6 + 36))
            let all = try space.sample(space.distinctCount, using: RandomStream(seed: 4))
            #expect(all.allSatisfy { $0.blocks.allSatisfy { $0.skip == (p == 1) } })
        }
    }

    @Test func samplesAreDistinctDeterministicAndExtendable() throws {
        let space = SearchSpace.standard
        let a = try space.sample(2000, using: RandomStream(seed: 5))
        #expect(Set(a).count == 2000)
        #expect(a.allSatisfy { space.contains($0) })
        #expect(try space.sample(2000, using: RandomStream(seed: 5)) == a)
        #expect(try space.sample(1000, using: RandomStream(seed: 5)) == Array(a.prefix(1000)))
        let b = try space.sample(2000, using: RandomStream(seed: 6))
        #expect(b != a)
        #expect(Set(a).intersection(b).count < 1000, "two seeds drew largely the same architectures")
    }

    @Test func everyChoiceIsSampled() throws {
        let sample = try SearchSpace.standard.sample(2000, using: RandomStream(seed: 7))
        #expect(Set(sample.map(\.width)) == [8, 16, 32])
        #expect(Set(sample.map(\.blocks.count)) == [1, 2, 3])
        #expect(Set(sample.flatMap { $0.blocks.map(\.layers.count) }) == [1, 2, 3])
        #expect(Set(sample.flatMap { $0.blocks.flatMap(\.layers) }) == Set(LayerOperation.allCases))
        #expect(Set(sample.flatMap { $0.blocks.map(\.skip) }) == [false, true])
    }

    @Test func containsRejectsArchitecturesOutsideTheSpace() throws {
        let space = try Self.small()
        #expect(space.contains(try Architecture.parse("w4|c3,mp;mp|skip=1,0")))
        for outside in ["w16|c3|skip=0", "w4|s3|skip=0", "w4|c3,c3,c3|skip=0", "w4|c3;c3;c3|skip=0,0,0"] {
            #expect(!space.contains(try Architecture.parse(outside)), "\(outside)")
        }
    }

    @Test func invalidSettingsAreNamed() {
        #expect(throws: SearchSpaceError.invalidSetting(field: "widths", found: "[8, 0]", expected: "distinct widths in 1...1024")) {
            try SearchSpace(widths: [8, 0])
        }
        #expect(throws: SearchSpaceError.self) { try SearchSpace(blocks: 0...2) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace(layersPerBlock: 1...17) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace(operations: []) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace(operations: [.conv3x3, .conv3x3]) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace(widths: [8, 8]) }
        #expect(throws: SearchSpaceError.self) { try SearchSpace(skipProbability: 1.5) }
    }
}
