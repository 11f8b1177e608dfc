import Testing
import Autodiff
import GTN
import NN
import TensorCore

/// The meta-gradient of one meta-iteration of a tiny configuration (1×8×8
/// images, 3 classes, noise 4, T = 2 steps of 3 generated images) against
/// central differences in Float64: relative error < 1e-5 for a generator
/// weight, a curriculum entry and a learned learning rate and momentum.
@Suite struct MetaIterationGradient {
    static let tolerance = 1e-5
    static let image = ImageShape(channels: 1, height: 8, width: 8, classes: 3)

    static func setup(recomputeBlock: Int, intermediateLossEvery: Int) -> TeachingSetup {
        TeachingSetup(generator: Generator(image: image, noiseSize: 4, width: 1.0 / 64, outputRange: -1...2),
                      learner: StandardLearner(image: image, width: 1.0 / 32),
                      innerSteps: 2, batch: 3, recomputeBlock: recomputeBlock, intermediateLossEvery: intermediateLossEvery)
    }

    struct Problem {
        let setup: TeachingSetup
        let meta: NDArray<Double>
        let learnerInitial: NDArray<Double>
        let real: NDArray<Double>
        let realLabels = [2, 0, 1, 1]

        init(recomputeBlock: Int, intermediateLossEvery: Int = 0) {
            setup = MetaIterationGradient.setup(recomputeBlock: recomputeBlock, intermediateLossEvery: intermediateLossEvery)
            var rng = RandomStream(seed: 31)
            var metaValues: NDArray<Double> = setup.initialMetaParameters(&rng)
            // Larger learning rates than the default make the inner loop matter.
            let lr = setup.layout.entry("inner.log_learning_rate")
            for i in lr.offset..<(lr.offset + lr.count) { metaValues.data[i] = Foundation.log(0.3) }
            meta = metaValues
            var learnerRNG = rng.derived("learner")
            learnerInitial = setup.learner.initialParameters(&learnerRNG)
            real = rng.normal(MetaIterationGradient.image.batch(4))
        }

        func loss(_ meta: NDArray<Double>) -> Double {
            setup.metaLoss(Tensor(meta), learnerInitial: learnerInitial, realImages: real, realLabels: realLabels).scalar
        }

        func gradient() -> NDArray<Double> {
            let leaf = Tensor(meta, requiresGrad: true)
            let loss = setup.metaLoss(leaf, learnerInitial: learnerInitial, realImages: real, realLabels: realLabels)
            return gradients(of: loss, wrt: [leaf])[0].value
        }
    }

    @Test(arguments: [0, 1]) func matchesFiniteDifferences(intermediateLossEvery: Int) {
        let problem = Problem(recomputeBlock: 0, intermediateLossEvery: intermediateLossEvery)
        let grad = problem.gradient()
        let layout = problem.setup.layout
        let generatorWeight = layout.entry("generator").offset + problem.setup.generator.layout.entry("fc1.direction").offset + 5
        let checks: [(String, Int)] = [
            ("generator fc1 weight", generatorWeight),
            ("generator conv2 weight", layout.entry("generator").offset + problem.setup.generator.layout.entry("conv2.weight").offset + 4),
            ("curriculum entry", layout.entry("curriculum").offset + 7),
            ("log learning rate step 0", layout.entry("inner.log_learning_rate").offset),
            ("log learning rate step 1", layout.entry("inner.log_learning_rate").offset + 1),
            ("log momentum step 1", layout.entry("inner.log_momentum").offset + 1),
        ]
        let h = 1e-5
        for (name, index) in checks {
            var plus = problem.meta, minus = problem.meta
            plus.data[index] += h
            minus.data[index] -= h
            let fd = (problem.loss(plus) - problem.loss(minus)) / (2 * h)
            let ad = grad.data[index]
            #expect(abs(ad) > 1e-8, "\(name): meta-gradient \(ad) is essentially zero; the check would be vacuous")
            let relative = abs(ad - fd) / max(abs(ad), abs(fd))
            #expect(relative < Self.tolerance, "\(name): autodiff \(ad) vs finite differences \(fd), relative error \(relative)")
        }
    }

    @Test func recomputeGivesTheSameMetaGradient() {
        let plain = Problem(recomputeBlock: 0).gradient()
        let recomputed = Problem(recomputeBlock: 1).gradient()
        #expect(plain == recomputed)
        let plainIntermediate = Problem(recomputeBlock: 0, intermediateLossEvery: 1).gradient()
        let recomputedIntermediate = Problem(recomputeBlock: 2, intermediateLossEvery: 1).gradient()
        #expect(plainIntermediate == recomputedIntermediate)
    }

    /// With a real-data loss after every step, the meta-loss is the mean of
    /// the losses after steps 1 and 2 of plain training.
    @Test func intermediateLossIsTheMeanOfTheLossesAlongTheUnroll() {
        let problem = Problem(recomputeBlock: 0, intermediateLossEvery: 1)
        let learner = problem.setup.learner
        let losses = [1, 2].map { steps in
            let trained = problem.setup.trainLearner(meta: problem.meta, learnerInitial: problem.learnerInitial,
                                                     steps: steps) { _, _ in }
            return crossEntropy(logits: learner.logits(Tensor(trained), Tensor(problem.real)), labels: problem.realLabels).scalar
        }
        #expect(losses[0] != losses[1])
        #expect(abs(problem.loss(problem.meta) - (losses[0] + losses[1]) / 2) < 1e-12)
        #expect(abs(Problem(recomputeBlock: 0).loss(problem.meta) - losses[1]) < 1e-12)
    }
}

import Foundation
