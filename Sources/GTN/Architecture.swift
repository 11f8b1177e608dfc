import TensorCore

/// One layer of a block. Every operation keeps the block's channel count and
/// image size (stride 1, "same" padding), so layers compose freely and a skip
/// connection around a block is always a plain add.
public enum LayerOperation: String, CaseIterable, Sendable {
    /// 3×3 convolution.
    case conv3x3 = "c3"
    /// 1×1 convolution.
    case conv1x1 = "c1"
    /// Depthwise 3×3 convolution, then a pointwise 1×1 convolution.
    case separable3x3 = "s3"
    /// Depthwise 1×1 convolution (a per-channel scale), then a pointwise 1×1 convolution.
    case separable1x1 = "s1"
    /// 3×3 max pooling.
    case maxPool3x3 = "mp"
    /// 3×3 average pooling (padding counts as zero).
    case avgPool3x3 = "ap"

    /// Kernel side of a convolution or pooling window.
    var kernel: Int {
        switch self {
        case .conv3x3, .separable3x3, .maxPool3x3, .avgPool3x3: return 3
        case .conv1x1, .separable1x1: return 1
        }
    }
}

/// A convolutional learner architecture: a 3×3 stem to `width` channels, then
/// blocks of layers. Before every block but the first, a stride-2 3×3
/// convolution halves the image sides and doubles the channels. A block with
/// `skip` adds its input to its output.
///
/// String form (see `parse`): `w16|c3,s3,mp;c1,ap|skip=1,0`.
public struct Architecture: Hashable, Sendable, CustomStringConvertible {
    public struct Block: Hashable, Sendable {
        public let layers: [LayerOperation]
        /// Residual connection: the block's output is its input plus its layers' output.
        public let skip: Bool

        public init(layers: [LayerOperation], skip: Bool) {
            self.layers = layers
            self.skip = skip
        }
    }

    /// Channels of the stem and the first block (block b has width·2^b).
    public let width: Int
    public let blocks: [Block]

    /// Stem widths an encoding may name (a guard against typos such as `w1600`).
    public static let widthLimit = 1...1024
    public static let blockLimit = 1...8
    public static let layerLimit = 1...16

    /// An architecture within the limits (a programming mistake otherwise;
    /// `parse` checks user input and throws).
    public init(width: Int, blocks: [Block]) {
        require(Self.widthLimit.contains(width) && Self.blockLimit.contains(blocks.count)
                    && blocks.allSatisfy { Self.layerLimit.contains($0.layers.count) },
                "architecture outside the limits: width \(width), layers per block \(blocks.map(\.layers.count))")
        self.width = width
        self.blocks = blocks
    }

    /// The canonical string form; `parse` reads it back exactly.
    public var description: String {
        let blockText = blocks.map { $0.layers.map(\.rawValue).joined(separator: ",") }.joined(separator: ";")
        let skips = blocks.map { $0.skip ? "1" : "0" }.joined(separator: ",")
        return "w\(width)|\(blockText)|skip=\(skips)"
    }

    /// Reads the string form:
    ///
    ///     architecture = "w" width "|" block { ";" block } "|skip=" flag { "," flag }
    ///     block        = op { "," op }
    ///     op           = "c3" | "c1" | "s3" | "s1" | "mp" | "ap"
    ///     flag         = "0" | "1"            (one per block)
    ///
    /// `width` is a decimal number in `widthLimit` without leading zeros; at
    /// most `blockLimit.upperBound` blocks of at most `layerLimit.upperBound`
    /// layers; no spaces. Only the canonical form is accepted, so for every
    /// accepted string `parse(s).description == s`.
    /// Throws an error naming the column, block and layer and what was expected.
    public static func parse(_ text: String) throws(ArchitectureEncodingError) -> Architecture {
        var s = EncodingScanner(text)
        try s.expect("w", "\"w\" and the stem width, e.g. w16")
        let width = try s.width()
        try s.expect("|", "\"|\" after the width")
        var layers: [[LayerOperation]] = []
        repeat {
            (s.block, s.layer) = (layers.count + 1, nil)
            guard layers.count < blockLimit.upperBound else { throw s.failure("at most \(blockLimit.upperBound) blocks") }
            var ops: [LayerOperation] = []
            repeat {
                s.layer = ops.count + 1
                guard ops.count < layerLimit.upperBound else {
                    throw s.failure("at most \(layerLimit.upperBound) layers in a block")
                }
                let start = s.position
                guard let op = LayerOperation(rawValue: s.word()) else {
                    s.position = start
                    throw s.failure("an operation (\(LayerOperation.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                ops.append(op)
            } while s.take(",")
            layers.append(ops)
        } while s.take(";")
        s.layer = nil
        try s.expect("|", "\",\" and a layer, \";\" and a block, or \"|skip=\" and the skip flags")
        s.block = nil
        try s.expect("skip=", "\"skip=\" and one skip flag (0 or 1) per block")
        var skips: [Bool] = []
        while true {
            s.block = skips.count + 1
            let start = s.position
            switch s.word() {
            case "0": skips.append(false)
            case "1": skips.append(true)
            default:
                s.position = start
                throw s.failure("a skip flag, 0 or 1")
            }
            guard s.peek(",") else { break }
            guard skips.count < layers.count else {
                s.block = nil
                throw s.failure("the end of the encoding: \(layers.count) block(s) take \(layers.count) skip flag(s)")
            }
            s.position += 1
        }
        guard skips.count == layers.count else {
            s.block = skips.count + 1
            throw s.failure("\",\" and the skip flag of block \(skips.count + 1): \(layers.count) block(s) take \(layers.count) skip flag(s)")
        }
        s.block = nil
        guard s.atEnd else { throw s.failure("the end of the encoding") }
        return Architecture(width: width, blocks: zip(layers, skips).map { Block(layers: $0, skip: $1) })
    }
}

/// A bad architecture encoding: where (1-based column, and the block and
/// layer when inside the block or skip list) and what was expected there.
public struct ArchitectureEncodingError: Error, Equatable, Sendable, CustomStringConvertible {
    public let encoding: String
    /// 1-based character position; `encoding.count + 1` is the end of the text.
    public let column: Int
    /// 1-based block (of the block list, or whose skip flag is read), if any.
    public let block: Int?
    /// 1-based layer within `block`, if any.
    public let layer: Int?
    public let expected: String
    /// The text found there, quoted, or "the end of the encoding".
    public let found: String

    public var description: String {
        var place = "column \(column)"
        if let block { place += ", block \(block)" }
        if let layer { place += ", layer \(layer)" }
        return """
            invalid architecture encoding at \(place): expected \(expected), found \(found)
              \(encoding)
              \(String(repeating: " ", count: column - 1))^
            HINT: the form is w<width>|<op>,<op>;<op>…|skip=<0|1>,… with ops c3 c1 s3 s1 mp ap, e.g. w16|c3,s3,mp;c1,ap|skip=1,0
            """
    }
}

/// Reads an encoding left to right and reports failures at its position.
struct EncodingScanner {
    let text: String
    let characters: [Character]
    var position = 0
    var block: Int?
    var layer: Int?

    init(_ text: String) {
        self.text = text
        characters = Array(text)
    }

    var atEnd: Bool { position == characters.count }

    func peek(_ literal: String) -> Bool {
        let wanted = Array(literal)
        return characters.count - position >= wanted.count && Array(characters[position..<(position + wanted.count)]) == wanted
    }

    /// Consumes `literal` if it comes next.
    mutating func take(_ literal: String) -> Bool {
        guard peek(literal) else { return false }
        position += literal.count
        return true
    }

    mutating func expect(_ literal: String, _ expected: String) throws(ArchitectureEncodingError) {
        guard take(literal) else { throw failure(expected) }
    }

    /// The characters up to the next separator (`,` `;` `|`) or the end.
    mutating func word() -> String {
        let start = position
        while !atEnd && !",;|".contains(characters[position]) { position += 1 }
        return String(characters[start..<position])
    }

    /// The stem width: digits without a leading zero, within `Architecture.widthLimit`.
    mutating func width() throws(ArchitectureEncodingError) -> Int {
        let start = position
        while !atEnd && characters[position].isASCII && characters[position].isNumber { position += 1 }
        let digits = String(characters[start..<position])
        position = start
        let limit = Architecture.widthLimit
        guard !digits.isEmpty, digits.first != "0", let width = Int(digits), limit.contains(width) else {
            throw failure("a width \(limit.lowerBound)…\(limit.upperBound) without leading zeros")
        }
        position += digits.count
        return width
    }

    /// A failure at the current position, quoting the word found there.
    func failure(_ expected: String) -> ArchitectureEncodingError {
        var found = "the end of the encoding"
        if !atEnd {
            var copy = self
            let word = copy.word()
            found = "\"\(word.isEmpty ? String(characters[position]) : word)\""
        }
        return ArchitectureEncodingError(encoding: text, column: position + 1, block: block, layer: layer,
                                         expected: expected, found: found)
    }
}
