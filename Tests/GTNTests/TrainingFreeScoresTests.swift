import Foundation
@testable import GTN
import TensorCore
import Testing

/// synflow and NASWOT against hand-computed values.
@Suite struct TrainingFreeScoresTests {
    /// "w1|mp|skip=0" on 1×3×3 images with 2 classes: a 3×3 stem conv to one
    /// channel, its bias, max pool 3×3 (stride 1, padding 1), mean, head.
    static let image = ImageShape(channels: 1, height: 3, width: 3, classes: 2)

    /// Parameters (already positive): stem direction all 1 (norm 3) with gain 3,
    /// so every stem weight is 1; stem bias b = 0.5; head direction (1, 1),
    /// gains g = (1, 2), biases (0.25, 0.75).
    ///
    /// On the all-ones image without batch norm the stem gives 9 at the centre
    /// (4 at corners, 6 at edges) plus b; every pooling window holds the
    /// centre, so the pooled mean is P = 9 + b = 9.5 and R = Σ_c (g_c·P + bias_c).
    /// |θ·∂R/∂θ| summed: head biases 0.25 + 0.75 = 1; head gains (1 + 2)·9.5 = 28.5;
    /// stem bias 0.5·(1 + 2) = 1.5; stem gain: P = 3·gain + b, so 3·3·(1 + 2) = 27;
    /// directions: weight normalisation makes R invariant to their scale and
    /// the gradient is 0 (stem: 3·(1/3 − 9·1/27) = 0; head rows of one entry).
    /// synflow = 1 + 28.5 + 1.5 + 27 = 58.
    @Test func synflowOfATinyNetwork() throws {
        let learner = ArchitectureLearner(architecture: try Architecture.parse("w1|mp|skip=0"), image: Self.image)
        var values = [Float](repeating: 0, count: learner.parameterCount)
        func set(_ name: String, _ numbers: [Float]) {
            let entry = learner.layout.entry(name)
            #expect(entry.count == numbers.count, "\(name)")
            for (i, value) in numbers.enumerated() { values[entry.offset + i] = value }
        }
        set("stem.direction", [Float](repeating: 1, count: 9))
        set("stem.gain", [3])
        set("stem.bn.bias", [0.5])
        set("head.direction", [1, 1])
        set("head.gain", [1, 2])
        set("head.bias", [0.25, 0.75])
        #expect(learner.parameterCount == 17)
        let score = TrainingFreeScores.synflow(learner, parameters: NDArray(shape: [17], data: values))
        #expect(abs(score - 58) < 1e-9, "synflow \(score)")
        // Signs do not matter: synflow takes absolute values first.
        let negated = TrainingFreeScores.synflow(learner, parameters: NDArray(shape: [17], data: values.map { -$0 }))
        #expect(abs(negated - 58) < 1e-9, "synflow of −θ \(negated)")
    }

    /// Codes from 0/1 rows (one per image), appended in two layers.
    static func codes(_ rows: [[Float]]) -> BinaryCodes {
        var codes = BinaryCodes(count: rows.count)
        let split = rows[0].count / 2
        codes.appendSigns(of: rows.flatMap { $0[..<split] })
        codes.appendSigns(of: rows.flatMap { $0[split...] })
        return codes
    }

    /// Agreements of codes longer than a word, appended in layers that end
    /// inside words, against counting position by position.
    @Test func binaryCodesCountAgreementsAcrossWords() {
        var rng = RandomStream(seed: 3)
        let layers = [37, 64, 5, 130]
        let bits = layers.map { units in (0..<3).map { _ in (0..<units).map { _ in Float(rng.nextInt(below: 2)) } } }
        var codes = BinaryCodes(count: 3)
        for layer in bits { codes.appendSigns(of: layer.flatMap { $0 }) }
        let rows = (0..<3).map { i in bits.flatMap { $0[i] } }
        #expect(codes.length == layers.reduce(0, +))
        for i in 0..<3 { for j in 0..<3 {
            #expect(codes.agreements(i, j) == zip(rows[i], rows[j]).filter { $0 == $1 }.count, "codes \(i), \(j)")
        } }
    }

    /// Codes 1100, 1010, 0001: agreements K = [[4, 2, 1], [2, 4, 1], [1, 1, 4]],
    /// det K = 4·15 − 2·7 + 1·(−2) = 44.
    @Test func naswotKernelDeterminant() throws {
        let score = try #require(TrainingFreeScores.naswot(codes: Self.codes([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]])))
        #expect(abs(score - 3.784189633918261) < 1e-12, "log det \(score), expected log 44")
        // Two images with the same code: K is singular.
        #expect(TrainingFreeScores.naswot(codes: Self.codes([[1, 0], [1, 0]])) == nil)
        // A permutation matrix scaled by 2: |det| = 8 whatever the pivoting.
        #expect(abs(TrainingFreeScores.logAbsDeterminant([0, 2, 0, 0, 0, 2, 2, 0, 0], n: 3)! - 3 * log(2.0)) < 1e-12)
    }

    /// On a real network: distinct images give a defined score; a batch of
    /// one image repeated gives a singular kernel.
    @Test func naswotOfANetwork() throws {
        let learner = ArchitectureLearner(architecture: try Architecture.parse("w4|c3,mp|skip=0"), image: Self.image)
        var rng = RandomStream(seed: 5)
        let parameters: NDArray<Float> = learner.initialParameters(&rng)
        let images: NDArray<Float> = rng.normal([6, 1, 3, 3])
        #expect(TrainingFreeScores.naswot(learner, parameters: parameters, images: images) != nil)
        let repeated = NDArray(shape: [2, 1, 3, 3], data: Array(images.data.prefix(9)) + Array(images.data.prefix(9)))
        #expect(TrainingFreeScores.naswot(learner, parameters: parameters, images: repeated) == nil)
    }
}
