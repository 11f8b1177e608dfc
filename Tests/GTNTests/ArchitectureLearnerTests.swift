import Testing
import Autodiff
import GTN
import NN
import TensorCore

/// The derivative of `f` at `x` along a random direction (seeded by `seed`),
/// by autodiff and by central differences with step `epsilon`, in Float64.
func directionalDerivatives(at x: NDArray<Double>, seed: UInt64, epsilon: Double = 1e-6,
                            _ f: (Tensor<Double>) -> Tensor<Double>) -> (autodiff: Double, finiteDifference: Double) {
    var rng = RandomStream(seed: seed)
    let direction: NDArray<Double> = rng.normal(x.shape)
    let leaf = Tensor(x, requiresGrad: true)
    let gradient = gradients(of: f(leaf), wrt: [leaf])[0].value
    let autodiff = zip(gradient.data, direction.data).reduce(0) { $0 + $1.0 * $1.1 }
    func along(_ s: Double) -> Double {
        f(Tensor(NDArray(shape: x.shape, data: zip(x.data, direction.data).map { $0 + s * $1 }))).scalar
    }
    return (autodiff, (along(epsilon) - along(-epsilon)) / (2 * epsilon))
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(a), abs(b)) }

@Suite struct ArchitectureLearners {
    static let image = ImageShape(channels: 1, height: 8, width: 8, classes: 3)

    @Test func parameterCountsAndNamesFollowTheArchitecture() throws {
        // stem 1→4 (36 + 4 + 4); c3 4→4 (144 + 4 + 4); s1: depthwise 4 + 4, pointwise 16 + 4, bias 4; head 12 + 3 + 3.
        let one = ArchitectureLearner(architecture: try Architecture.parse("w4|c3,s1,mp|skip=1"), image: Self.image)
        #expect(one.parameterCount == 44 + 152 + 32 + 18)
        // stem 44; reduce 4→8 (288 + 8 + 8); c1 8→8 (64 + 8 + 8); head 24 + 3 + 3.
        let two = ArchitectureLearner(architecture: try Architecture.parse("w4|mp;c1|skip=0,1"), image: Self.image)
        #expect(two.parameterCount == 44 + 304 + 80 + 30)
        #expect(two.layout.entries.map(\.name) == [
            "stem.direction", "stem.gain", "stem.bn.bias",
            "block2.reduce.direction", "block2.reduce.gain", "block2.reduce.bn.bias",
            "block2.layer1.direction", "block2.layer1.gain", "block2.layer1.bn.bias",
            "head.direction", "head.gain", "head.bias",
        ])
    }

    @Test func multiplyAddsCountEveryConvolutionAtItsOutputSize() throws {
        // 8×8 images: stem 4·1·9·64; c3 4·4·9·64; s1 depthwise 4·1·1·64, pointwise 4·4·1·64; head 4·3.
        let one = ArchitectureLearner(architecture: try Architecture.parse("w4|c3,s1,mp|skip=1"), image: Self.image)
        #expect(one.multiplyAdds == 2304 + 9216 + 256 + 1024 + 12)
        // stem 2304; reduce 4→8 at stride 2 onto 4×4: 8·4·9·16; c1 8·8·1·16; head 8·3.
        let two = ArchitectureLearner(architecture: try Architecture.parse("w4|mp;c1|skip=0,1"), image: Self.image)
        #expect(two.multiplyAdds == 2304 + 4608 + 1024 + 24)
    }

    @Test func parameterCountsOfTheDefaultSpaceSpanMoreThanTenfold() throws {
        let counts = try SearchSpace.standard.sample(1000, using: RandomStream(seed: 21))
            .map { ArchitectureLearner(architecture: $0, image: .mnist).parameterCount }
        let (low, high) = (counts.min()!, counts.max()!)
        #expect(Double(high) >= 10 * Double(low), "parameter counts \(low)…\(high)")
        // The extremes of the space: a lone pooling layer, and three blocks of three 3×3 convolutions at width 32.
        let extremes = try ["w8|mp|skip=0", "w32|c3,c3,c3;c3,c3,c3;c3,c3,c3|skip=0,0,0"].map {
            ArchitectureLearner(architecture: try Architecture.parse($0), image: .mnist).parameterCount
        }
        #expect(extremes == [188, 676_148])
    }

    @Test func logitsHaveOneRowPerImage() throws {
        let learner = ArchitectureLearner(architecture: try Architecture.parse("w4|s3,ap;c3|skip=1,1"), image: .mnist)
        var rng = RandomStream(seed: 22)
        let theta: NDArray<Float> = learner.initialParameters(&rng)
        let images: NDArray<Float> = rng.normal(ImageShape.mnist.batch(5))
        let logits = learner.logits(Tensor(theta), Tensor(images))
        #expect(logits.shape == [5, 10])
        #expect(logits.value.data.allSatisfy { $0.isFinite })
    }

    /// Every operation, skips in the first and a later block, pooling-only
    /// blocks, three blocks (8 → 4 → 2), plus architectures sampled from a tiny space.
    static func checkedArchitectures() throws -> [Architecture] {
        let chosen = try ["w3|c3,s3|skip=1", "w2|s1,mp,ap;c1,s3|skip=0,1", "w2|mp;ap;c3|skip=1,1,0"].map(Architecture.parse)
        let tiny = try SearchSpace(blocks: 1...3, layersPerBlock: 1...2, widths: [2, 3])
        return chosen + (try tiny.sample(4, using: RandomStream(seed: 23)))
    }

    @Test func crossEntropyGradientMatchesFiniteDifferences() throws {
        for (k, architecture) in try Self.checkedArchitectures().enumerated() {
            let learner = ArchitectureLearner(architecture: architecture, image: Self.image)
            var rng = RandomStream(seed: 24 + UInt64(k))
            let theta: NDArray<Double> = learner.initialParameters(&rng)
            let images = Tensor(rng.normal(Self.image.batch(4)) as NDArray<Double>)
            let (autodiff, finiteDifference) = directionalDerivatives(at: theta, seed: 40 + UInt64(k)) {
                crossEntropy(logits: learner.logits($0, images), labels: [0, 1, 2, 1])
            }
            #expect(abs(autodiff) > 1e-6, "\(architecture): directional derivative \(autodiff) is essentially zero")
            let error = relativeError(autodiff, finiteDifference)
            #expect(error < 1e-6, "\(architecture): autodiff \(autodiff), finite differences \(finiteDifference), relative error \(error)")
        }
    }

    static func setup(_ encoding: String) throws -> TeachingSetup {
        TeachingSetup(generator: Generator(image: image, noiseSize: 4, width: 1.0 / 64, outputRange: -1...2),
                      learner: ArchitectureLearner(architecture: try Architecture.parse(encoding), image: image),
                      innerSteps: 2, batch: 3, recomputeBlock: 1, initialLearningRate: 0.3)
    }

    @Test func metaGradientThroughAnArchitectureLearnerMatchesFiniteDifferences() throws {
        let setup = try Self.setup("w3|s3,mp;s1,c1|skip=1,1")
        var rng = RandomStream(seed: 25)
        let meta: NDArray<Double> = setup.initialMetaParameters(&rng)
        var learnerRNG = rng.derived("learner")
        let learnerInitial: NDArray<Double> = setup.learner.initialParameters(&learnerRNG)
        let real: NDArray<Double> = rng.normal(Self.image.batch(4))
        let (autodiff, finiteDifference) = directionalDerivatives(at: meta, seed: 26) {
            setup.metaLoss($0, learnerInitial: learnerInitial, realImages: real, realLabels: [2, 0, 1, 1])
        }
        #expect(abs(autodiff) > 1e-6, "meta-gradient along the direction \(autodiff) is essentially zero")
        let error = relativeError(autodiff, finiteDifference)
        #expect(error < 1e-5, "autodiff \(autodiff), finite differences \(finiteDifference), relative error \(error)")
    }

    @Test func metaTrainerRunsAMetaIterationWithAnArchitectureLearner() throws {
        var config = MetaTrainingConfig(iterations: 1)
        config.metaBatch = 6
        let trainer = MetaTrainer(setup: try Self.setup("w4|c3,s3;ap,c1|skip=1,0"), config: config, seed: 27)
        var state = trainer.initialState()
        let before = state.meta
        let step = try trainer.step(&state, train: syntheticImages(count: 12, seed: 28))
        #expect(step.metaLoss.isFinite && step.gradientNorm.isFinite && step.gradientNorm > 0)
        #expect(state.iteration == 1)
        #expect(state.meta != before)
        #expect((0...1).contains(trainer.evaluate(state, on: syntheticImages(count: 9, seed: 29))))
    }

    /// `real-evaluate` reads the truth's last learning-curve point off its
    /// validation pass: the predictions of leading images that fill whole
    /// chunks are the same whether the pass goes on or stops there (batch
    /// norm uses each chunk's statistics), and an accuracy is their fraction.
    @Test func leadingWholeChunksPredictAsInALongerPass() throws {
        let learner = ArchitectureLearner(architecture: try Architecture.parse("w4|c3,mp;s1|skip=1,0"), image: Self.image)
        var rng = RandomStream(seed: 31)
        let theta: NDArray<Float> = learner.initialParameters(&rng)
        let data = syntheticImages(count: 40, seed: 37), leading = data.subset(Array(0..<16))
        let all = correctPredictions(of: learner, parameters: theta, images: data.images, labels: data.labels, chunk: 8)
        let alone = correctPredictions(of: learner, parameters: theta, images: leading.images, labels: leading.labels, chunk: 8)
        #expect(all.count == 40 && Array(all.prefix(16)) == alone)
        #expect(accuracy(of: learner, parameters: theta, images: leading.images, labels: leading.labels, chunk: 8) == fractionTrue(alone))
        #expect(fractionTrue([true, false, true, true]) == 0.75 && fractionTrue([Bool]()) == 0)
    }
}
