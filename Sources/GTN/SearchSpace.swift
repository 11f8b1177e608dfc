import TensorCore

/// The architectures a campaign searches: every `Architecture` whose block
/// count is in `blocks`, whose blocks each have a layer count in
/// `layersPerBlock` and layers from `operations`, whose width is one of
/// `widths`, and whose skip flags are possible under `skipProbability`
/// (all off at 0, all on at 1, free otherwise).
///
/// Sampling is hierarchical, as random search is usually done: the width and
/// block count uniformly, each block's layer count uniformly, each layer's
/// operation uniformly, each skip flag on with `skipProbability`.
public struct SearchSpace: Sendable, Equatable {
    public let blocks: ClosedRange<Int>
    public let layersPerBlock: ClosedRange<Int>
    public let operations: [LayerOperation]
    public let widths: [Int]
    public let skipProbability: Double

    /// A space within `Architecture`'s limits; throws naming the setting that is not.
    public init(blocks: ClosedRange<Int> = 1...3, layersPerBlock: ClosedRange<Int> = 1...3,
                operations: [LayerOperation] = LayerOperation.allCases, widths: [Int] = [8, 16, 32],
                skipProbability: Double = 0.5) throws(SearchSpaceError) {
        func check(_ ok: Bool, _ field: String, _ found: String, _ expected: String) throws(SearchSpaceError) {
            if !ok { throw SearchSpaceError.invalidSetting(field: field, found: found, expected: expected) }
        }
        let b = Architecture.blockLimit, l = Architecture.layerLimit, w = Architecture.widthLimit
        try check(b.lowerBound <= blocks.lowerBound && blocks.upperBound <= b.upperBound, "blocks", "\(blocks)",
                  "a range within \(b)")
        try check(l.lowerBound <= layersPerBlock.lowerBound && layersPerBlock.upperBound <= l.upperBound,
                  "layers_per_block", "\(layersPerBlock)", "a range within \(l)")
        try check(!operations.isEmpty && Set(operations).count == operations.count, "operations",
                  "\(operations.map(\.rawValue))", "distinct operations from \(LayerOperation.allCases.map(\.rawValue))")
        try check(!widths.isEmpty && Set(widths).count == widths.count && widths.allSatisfy(w.contains), "widths",
                  "\(widths)", "distinct widths in \(w)")
        try check((0...1).contains(skipProbability), "skip_probability", "\(skipProbability)", "a probability in 0…1")
        self.blocks = blocks
        self.layersPerBlock = layersPerBlock
        self.operations = operations
        self.widths = widths
        self.skipProbability = skipProbability
    }

    /// The default space: 1–3 blocks of 1–3 layers from all six operations,
    /// widths 8, 16, 32, skip probability ½ (412,964,604 architectures).
    public static let standard: SearchSpace = {
        do { return try SearchSpace() } catch { requirementFailure("the default search space is invalid: \(error)") }
    }()

    /// Skip-flag values each block can take (1 when the probability is 0 or 1).
    var skipChoices: Int { skipProbability == 0 || skipProbability == 1 ? 1 : 2 }

    /// The number of distinct architectures in the space, saturating at
    /// `Int.max`: Σ over block counts B of |widths| · (Σ over layer counts L of
    /// |operations|^L)^B · skipChoices^B. Distinct architectures are exactly
    /// distinct encodings.
    public var distinctCount: Int {
        let perBlock = layersPerBlock.reduce(0) { sum, layers in
            sum.saturatingAdd(operations.count.saturatingPower(layers))
        }.saturatingMultiply(skipChoices)
        return blocks.reduce(0) { sum, count in
            sum.saturatingAdd(widths.count.saturatingMultiply(perBlock.saturatingPower(count)))
        }
    }

    /// `distinctCount` for people: "412,964,604", or "more than
    /// 9,223,372,036,854,775,806" where the count saturated.
    public var distinctCountDescription: String {
        let grouped = { (n: Int) -> String in
            var reversedText = ""
            for (offset, digit) in String(n).reversed().enumerated() {
                if offset > 0 && offset % 3 == 0 { reversedText.append(",") }
                reversedText.append(digit)
            }
            return String(reversedText.reversed())
        }
        return distinctCount == .max ? "more than \(grouped(.max - 1))" : grouped(distinctCount)
    }

    /// Whether `architecture` is one of this space's.
    public func contains(_ architecture: Architecture) -> Bool {
        widths.contains(architecture.width) && blocks.contains(architecture.blocks.count)
            && architecture.blocks.allSatisfy { block in
                layersPerBlock.contains(block.layers.count) && block.layers.allSatisfy(operations.contains)
                    && (skipChoices == 2 || block.skip == (skipProbability == 1))
            }
    }

    /// One architecture drawn hierarchically (see the type's description).
    func draw(_ rng: inout RandomStream) -> Architecture {
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + rng.nextInt(below: range.count) }
        let width = widths[rng.nextInt(below: widths.count)]
        let blockList = (0..<pick(blocks)).map { _ in
            let layers = (0..<pick(layersPerBlock)).map { _ in operations[rng.nextInt(below: operations.count)] }
            return Architecture.Block(layers: layers, skip: rng.nextDouble() < skipProbability)
        }
        return Architecture(width: width, blocks: blockList)
    }

    /// `count` distinct architectures drawn from `stream` (draws that repeat an
    /// earlier one, or that `accept` rejects, are skipped). The same stream
    /// gives the same list, and a longer list starts with the shorter one, so
    /// a campaign can be extended. Asking for most of a large space is slow
    /// (each new one is found by redrawing); throws when `count` exceeds
    /// `distinctCount`, or when `maxDraws` draws found fewer than `count`
    /// acceptable ones.
    public func sample(_ count: Int, using stream: RandomStream, maxDraws: Int = .max,
                       accept: (Architecture) -> Bool = { _ in true }) throws(SearchSpaceError) -> [Architecture] {
        require(count >= 0, "sample(\(count)): a negative count")
        guard count <= distinctCount else { throw SearchSpaceError.tooFewArchitectures(requested: count, available: distinctCount) }
        var rng = stream
        var seen = Set<Architecture>()
        var result: [Architecture] = []
        result.reserveCapacity(count)
        var draws = 0
        while result.count < count {
            guard draws < maxDraws else {
                throw SearchSpaceError.tooFewAccepted(requested: count, accepted: result.count, draws: draws)
            }
            draws += 1
            let architecture = draw(&rng)
            if seen.insert(architecture).inserted && accept(architecture) { result.append(architecture) }
        }
        return result
    }
}

/// A search space that is invalid or too small for a request.
public enum SearchSpaceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `field` (as named in the pipeline file) holds `found`, but `expected` was expected.
    case invalidSetting(field: String, found: String, expected: String)
    /// More distinct architectures were requested than the space holds.
    case tooFewArchitectures(requested: Int, available: Int)
    /// `draws` draws gave only `accepted` distinct acceptable architectures.
    case tooFewAccepted(requested: Int, accepted: Int, draws: Int)

    public var description: String {
        switch self {
        case .invalidSetting(let field, let found, let expected):
            return "search space: \(field) is \(found); expected \(expected)."
        case .tooFewArchitectures(let requested, let available):
            return "search space holds \(available) distinct architectures; \(requested) were requested.\n"
                + "HINT: ask for at most \(available), or widen the space (more blocks, layers, operations or widths)."
        case .tooFewAccepted(let requested, let accepted, let draws):
            return "search space: \(draws) draws gave \(accepted) distinct architectures within the limits; "
                + "\(requested) were requested.\n"
                + "HINT: widen search.parameter_band, or ask for fewer architectures."
        }
    }
}

extension Int {
    func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    func saturatingMultiply(_ other: Int) -> Int {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }

    /// self^exponent, saturating at `Int.max` (self ≥ 0).
    func saturatingPower(_ exponent: Int) -> Int {
        (0..<exponent).reduce(1) { power, _ in power.saturatingMultiply(self) }
    }
}
