import Testing
import TensorCore
@testable import Report

/// Expected values computed with scipy 1.17 (`scipy.stats.spearmanr`,
/// `kendalltau(variant="b")`, `pearsonr`, `rankdata`) and numpy's `quantile`
/// and `std(ddof=1)`, then hard-coded; the small cases are also checked by
/// hand in the comments.
@Suite struct StatisticsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String, x: [Double], y: [Double]
        let spearman: Double, kendall: Double
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Ranks differ by d = (1, 1, 1, 1, 0): ρ = 1 − 6·4/(5·24) = 0.8; 8 concordant, 2 discordant pairs: τ = 6/10.
        Case(name: "no ties", x: [1, 2, 3, 4, 5], y: [2, 1, 4, 3, 5], spearman: 0.8, kendall: 0.6),
        Case(name: "ties in both", x: [1, 2, 2, 3, 4, 4, 4, 5], y: [3, 1, 2, 2, 5, 4, 6, 6],
             spearman: 0.7889568540593018, kendall: 0.6405126152203486),
        Case(name: "pairs tied in x and y together", x: [0.5, 0.5, 1.5, 1.5, 2.5, 3.5], y: [10, 10, 20, 5, 5, 30],
             spearman: 0.19696969696969693, kendall: 0.15384615384615385),
        // Pairs (0,1) tied in x, (0,2) and (1,2) concordant: τ_b = 2 / √((3 − 1)(3 − 0)).
        Case(name: "n = 3, one tie", x: [1, 1, 2], y: [1, 2, 3], spearman: 0.8660254037844387, kendall: 0.816496580927726),
        Case(name: "n = 2 increasing", x: [1, 2], y: [3, 5], spearman: 1, kendall: 1),
        Case(name: "n = 2 decreasing", x: [1, 2], y: [5, 3], spearman: -1, kendall: -1),
    ]

    @Test(arguments: cases)
    func rankCorrelations(_ c: Case) throws {
        let rho = try #require(spearman(c.x, c.y))
        let tau = try #require(kendallTauB(c.x, c.y))
        #expect(abs(rho - c.spearman) < 1e-12, "\(c.name): ρ = \(rho), expected \(c.spearman)")
        #expect(abs(tau - c.kendall) < 1e-12, "\(c.name): τ_b = \(tau), expected \(c.kendall)")
        // Both are symmetric in their arguments.
        #expect(spearman(c.y, c.x) == rho && kendallTauB(c.y, c.x) == tau)
    }

    @Test func undefinedCasesGiveNil() {
        let undefined: [(String, [Double], [Double])] = [
            ("empty", [], []), ("n = 1", [0.3], [0.7]),
            ("constant x", [3, 3, 3], [1, 2, 3]), ("constant y", [1, 2, 3], [0.1, 0.1, 0.1]),
            ("n = 2 with a tie", [1, 1], [1, 2]), ("both constant", [2, 2, 2, 2], [5, 5, 5, 5]),
        ]
        for (name, x, y) in undefined {
            #expect(spearman(x, y) == nil, "spearman \(name)")
            #expect(kendallTauB(x, y) == nil, "kendallTauB \(name)")
            #expect(pearson(x, y) == nil, "pearson \(name)")
        }
        // 0.1 × 3 / 3 rounds to 0.10000000000000002, not 0.1: constant input must still be caught.
        #expect(pearson([0.1, 0.1, 0.1], [1, 2, 3]) == nil)
    }

    @Test func ranksMeansAndDeviations() {
        #expect(averageRanks([1, 2, 2, 3, 4, 4, 4, 5]) == [1, 2.5, 2.5, 4, 6, 6, 6, 8])
        #expect(averageRanks([0.3, -1, 0.3]) == [2.5, 1, 2.5])
        #expect(averageRanks([]) == [])
        #expect(mean([2, 4, 4, 4, 5, 5, 7, 9]) == 5)
        #expect(abs(sampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9])! - 2.138089935299395) < 1e-12)
        #expect(mean([]) == nil && sampleStandardDeviation([1]) == nil)
        #expect(abs(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])! - 0.8) < 1e-12)
    }

    @Test func topKPrecisionCountsTheOverlap() {
        let gtn: [Double] = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
        let real: [Double] = [0.70, 0.95, 0.10, 0.20, 0.90, 0.30]
        // Top 2 by GTN {0, 1}; by real {1, 4}: one shared → 1/2. Top 3: {0, 1, 2} vs {1, 4, 0} → 2/3.
        #expect(topKPrecision(k: 2, predicted: gtn, actual: real) == 0.5)
        #expect(topKPrecision(k: 3, predicted: gtn, actual: real) == 2.0 / 3)
        #expect(topKPrecision(k: 6, predicted: gtn, actual: real) == 1)
        #expect(topKPrecision(k: 0, predicted: gtn, actual: real) == nil)
        #expect(topKPrecision(k: 7, predicted: gtn, actual: real) == nil)
        #expect(topKPrecision(k: 1, predicted: [], actual: []) == nil)
        // Ties keep index order: the boundary choice is deterministic.
        #expect(topIndices([1, 3, 3, 2, 3], count: 2) == [1, 2])
        #expect(topIndices([1, 2], count: 5) == [1, 0])
    }

    @Test func quantileInterpolatesLikeNumpy() {
        // numpy.quantile([1, 2, 3, 4, 10], p) for p = 0.025, 0.975, 0.5, 0, 1.
        let values: [Double] = [1, 2, 3, 4, 10]
        let expected: [(Double, Double)] = [(0.025, 1.1), (0.975, 9.399999999999999), (0.5, 3), (0, 1), (1, 10)]
        for (p, value) in expected {
            #expect(abs(quantile(sorted: values, p) - value) < 1e-12, "p = \(p)")
        }
    }

    static let x: [Double] = [0.61, 0.55, 0.72, 0.70, 0.48, 0.66, 0.59, 0.75, 0.52, 0.69, 0.64, 0.58]
    static let y: [Double] = [0.88, 0.84, 0.90, 0.91, 0.80, 0.86, 0.87, 0.92, 0.83, 0.85, 0.89, 0.82]

    @Test func bootstrapIsDeterministicUnderASeed() throws {
        let stream = RandomStream(seed: 42).derived("report/spearman")
        let first = try #require(bootstrapInterval(Self.x, Self.y, statistic: spearman, stream: stream))
        let again = try #require(bootstrapInterval(Self.x, Self.y, statistic: spearman, stream: stream))
        let other = try #require(bootstrapInterval(Self.x, Self.y, statistic: spearman,
                                                   stream: RandomStream(seed: 43).derived("report/spearman")))
        #expect(first == again)
        #expect(first != other)
        #expect(first.resamples == 2_000 && first.confidence == 0.95)
        let rho = try #require(spearman(Self.x, Self.y))
        #expect(first.lower <= rho && rho <= first.upper && first.upper <= 1, "\(first) around ρ = \(rho)")
        #expect(first.lower > 0, "strongly correlated data: \(first)")
    }

    @Test func bootstrapSkipsAndCountsUndefinedResamples() throws {
        // Mostly tied x: many resamples draw only tied values, where τ_b is undefined.
        let x: [Double] = [1, 1, 1, 1, 1, 2]
        let y: [Double] = [1, 2, 3, 4, 5, 6]
        var undefined = 0
        let interval = try #require(bootstrapInterval(x, y, statistic: { a, b in
            let tau = kendallTauB(a, b)
            if tau == nil { undefined += 1 }
            return tau
        }, resamples: 1_000, stream: RandomStream(seed: 7)))
        // P(no draw of index 5 in 6 draws) = (5/6)^6 ≈ 0.335.
        #expect(interval.skipped == undefined)
        #expect(interval.skipped > 250 && interval.skipped < 420, "\(interval.skipped)")
        #expect(interval.lower <= interval.upper)
        // Nothing defined at all, or too few pairs: nil, not NaN.
        #expect(bootstrapInterval([1, 1, 1], [1, 2, 3], statistic: spearman, stream: RandomStream(seed: 1)) == nil)
        #expect(bootstrapInterval([1], [2], statistic: spearman, stream: RandomStream(seed: 1)) == nil)
    }
}

/// Spearman's partial correlation given a third variable, and the bootstrap
/// over case indices that the paired differences use.
@Suite struct PartialSpearmanTests {
    /// x = 1…5, y = (2, 1, 4, 3, 5), z = (1, 3, 2, 5, 4), all without ties:
    /// ρ_xy = 1 − 6·4/120 = 0.8 (d = 1, 1, 1, 1, 0); ρ_xz = 0.8 (d = 0, 1, 1, 1, 1);
    /// ρ_yz = 1 − 6·14/120 = 0.3 (d = 1, 2, 2, 2, 1);
    /// ρ_xy·z = (0.8 − 0.8·0.3) / √((1 − 0.64)(1 − 0.09)) = 0.56 / √0.3276 = 0.978399180940457.
    @Test func handCheckedValue() throws {
        let x: [Double] = [1, 2, 3, 4, 5], y: [Double] = [2, 1, 4, 3, 5], z: [Double] = [1, 3, 2, 5, 4]
        let value = try #require(partialSpearman(x, y, given: z))
        #expect(abs(value - 0.978399180940457) < 1e-12, "ρ_xy·z = \(value)")
    }

    /// A predictor that is the size itself knows nothing beyond size: undefined,
    /// as is any statistic with a constant input.
    @Test func undefinedWhenAPredictorIsTheControl() {
        let x: [Double] = [1, 2, 3, 4], y: [Double] = [4, 1, 3, 2]
        #expect(partialSpearman(x, y, given: x) == nil)
        #expect(partialSpearman([1, 1, 1, 1], y, given: [2, 1, 4, 3]) == nil)
    }

    /// y depends on z alone; x = z plus a small rank swap: ρ_xy is high, but
    /// given z it drops well below.
    @Test func sizeExplainsMostOfARanking() throws {
        let z: [Double] = [1, 2, 3, 4, 5, 6, 7, 8], y: [Double] = [1, 2, 3, 4, 5, 6, 7, 8]
        let x: [Double] = [2, 1, 3, 4, 6, 5, 7, 8]
        let plain = try #require(spearman(x, y))
        #expect(plain > 0.95)
        #expect(partialSpearman(x, y, given: z) == nil)   // y ranks exactly as z
        let noisyY: [Double] = [1, 3, 2, 4, 5, 7, 6, 8]
        let given = try #require(partialSpearman(x, noisyY, given: z))
        #expect(given < plain - 0.5, "ρ given z \(given) vs ρ \(plain)")
    }

    /// The index form draws the same resamples as the paired form.
    @Test func indexBootstrapMatchesThePairedForm() {
        let x: [Double] = [0.3, 0.1, 0.5, 0.9, 0.7, 0.2], y: [Double] = [0.2, 0.4, 0.5, 0.8, 0.6, 0.1]
        let stream = RandomStream(seed: 9)
        let paired = bootstrapInterval(x, y, statistic: spearman, resamples: 500, stream: stream)
        let indexed = bootstrapInterval(count: 6, resamples: 500, stream: stream) { indices in
            spearman(indices.map { x[$0] }, indices.map { y[$0] })
        }
        #expect(paired != nil && paired == indexed)
    }
}
