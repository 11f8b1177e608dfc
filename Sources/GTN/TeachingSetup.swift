import Foundation
import Autodiff
import NN
import TensorCore

/// Where the noise of each inner step comes from.
public enum CurriculumMode: String, Sendable, Codable, CaseIterable {
    /// The learned curriculum, its batches in order (the paper's method).
    case learned
    /// Fresh random noise every step (the curriculum is not used).
    case fresh
    /// The learned curriculum's batches in a random order each meta-iteration.
    case shuffled
}

/// Everything that is meta-learned, as one flat vector with named parts —
/// `generator` [generator parameters], `curriculum` [T, B, noise],
/// `inner.log_learning_rate` [T], `inner.log_momentum` [T] — and the
/// differentiable unrolled inner loop that turns it into a meta-loss.
public struct TeachingSetup: Sendable {
    public let generator: Generator
    public let learner: any LearnerModel
    /// T: inner SGD steps, one generated batch each.
    public let innerSteps: Int
    /// B: generated images per inner step.
    public let batch: Int
    /// Inner steps per recompute block (0: keep the whole unroll in memory).
    public let recomputeBlock: Int
    /// Also score the learner on the real batch after every this many inner
    /// steps, the meta-loss being the mean of all scores (0: only after step T).
    public let intermediateLossEvery: Int
    public let layout: ParameterLayout
    /// Starting values of every step's learned learning rate and momentum.
    public let initialLearningRate: Double, initialMomentum: Double

    public init(generator: Generator, learner: any LearnerModel, innerSteps: Int, batch: Int, recomputeBlock: Int,
                intermediateLossEvery: Int = 0, initialLearningRate: Double = 0.02, initialMomentum: Double = 0.5) {
        self.generator = generator
        self.learner = learner
        self.innerSteps = innerSteps
        self.batch = batch
        self.recomputeBlock = recomputeBlock
        self.intermediateLossEvery = intermediateLossEvery
        self.initialLearningRate = initialLearningRate
        self.initialMomentum = initialMomentum
        var l = ParameterLayout()
        l.add(Self.generatorPart, shape: [generator.layout.count])
        l.add(Self.curriculumPart, shape: [innerSteps, batch, generator.noiseSize])
        l.add(Self.logLearningRatePart, shape: [innerSteps])
        l.add(Self.logMomentumPart, shape: [innerSteps])
        layout = l
    }

    /// The parts of `layout`: the generator's parameters, the curriculum
    /// [T, B, noise], and the logs of the per-step learning rates and momenta [T].
    public static let generatorPart = "generator", curriculumPart = "curriculum"
    public static let logLearningRatePart = "inner.log_learning_rate", logMomentumPart = "inner.log_momentum"

    /// Initial meta-parameters: generator as initialised, curriculum standard
    /// normal, the initial learning rate and momentum at every step.
    public func initialMetaParameters<S: TensorScalar>(_ rng: inout RandomStream) -> NDArray<S> {
        var generatorRNG = rng.derived("generator"), curriculumRNG = rng.derived("curriculum")
        let g: NDArray<S> = generator.initialParameters(&generatorRNG)
        let c: NDArray<S> = curriculumRNG.normal([innerSteps * batch * generator.noiseSize])
        let lr = [S](repeating: S(Foundation.log(initialLearningRate)), count: innerSteps)
        let m = [S](repeating: S(Foundation.log(initialMomentum)), count: innerSteps)
        return NDArray(shape: [layout.count], data: g.data + c.data + lr + m)
    }

    /// The same generator, curriculum and inner optimiser teaching `learner`
    /// instead (the meta-parameter layout does not depend on the learner).
    public func replacingLearner(_ learner: any LearnerModel) -> TeachingSetup {
        TeachingSetup(generator: generator, learner: learner, innerSteps: innerSteps, batch: batch,
                      recomputeBlock: recomputeBlock, intermediateLossEvery: intermediateLossEvery,
                      initialLearningRate: initialLearningRate,
                      initialMomentum: initialMomentum)
    }

    /// Labels of every generated batch.
    public var labels: [Int] { generator.labels(batch: batch) }

    /// One inner step: the generator's batch from `noise` [B, Z] under its
    /// formed `generatorWeights` (`Generator.weights`), then the learner's step on it → [θ', velocity'].
    func innerStep<S>(parameters: Tensor<S>, velocity: Tensor<S>, generatorWeights: [Tensor<S>], noise: Tensor<S>,
                      logLearningRate: Tensor<S>, logMomentum: Tensor<S>, createGraph: Bool) -> [Tensor<S>] {
        learnerStep(parameters: parameters, velocity: velocity, images: generator.images(weights: generatorWeights, noise: noise),
                    logLearningRate: logLearningRate, logMomentum: logMomentum, createGraph: createGraph)
    }

    /// The learner's SGD-with-momentum step on one generated batch `images`
    /// [B, C, H, W] (labelled `labels`) → [θ', velocity'].
    func learnerStep<S>(parameters: Tensor<S>, velocity: Tensor<S>, images: Tensor<S>, logLearningRate: Tensor<S>,
                        logMomentum: Tensor<S>, createGraph: Bool) -> [Tensor<S>] {
        let loss = crossEntropy(logits: learner.logits(parameters, images), labels: labels)
        let gradient = gradients(of: loss, wrt: [parameters], createGraph: createGraph)[0]
        let next = sgdMomentumStep(parameters: parameters, velocity: velocity, gradient: gradient,
                                   learningRate: logLearningRate.exp(), momentum: logMomentum.exp())
        return [next.parameters, next.velocity]
    }

    /// The noise of each inner step, in the order the steps use it.
    /// `noiseStream` draws fresh noise (`.fresh`) or the order (`.shuffled`).
    func stepNoise<S>(_ curriculum: Tensor<S>, mode: CurriculumMode, noiseStream: inout RandomStream) -> [Tensor<S>] {
        let z = generator.noiseSize
        switch mode {
        case .learned:
            return curriculum.split(axis: 0, sizes: Array(repeating: 1, count: innerSteps)).map { $0.reshaped([batch, z]) }
        case .shuffled:
            let pieces = curriculum.split(axis: 0, sizes: Array(repeating: 1, count: innerSteps)).map { $0.reshaped([batch, z]) }
            return noiseStream.permutation(innerSteps).map { pieces[$0] }
        case .fresh:
            return (0..<innerSteps).map { _ in Tensor(noiseStream.normal([batch, z]) as NDArray<S>) }
        }
    }

    /// The meta-loss of one meta-iteration: a learner starting from
    /// `learnerInitial` is trained for T steps on generated batches (the whole
    /// unroll recorded, second order), then scored by cross-entropy on the real
    /// batch `realImages` [N, C, H, W] / `realLabels` — after step T, and after
    /// every `intermediateLossEvery` steps before it (the mean of the scores).
    /// Differentiate it with respect to `meta` [layout.count].
    public func metaLoss<S>(_ meta: Tensor<S>, learnerInitial: NDArray<S>, realImages: NDArray<S>, realLabels: [Int],
                            mode: CurriculumMode = .learned, noiseStream: RandomStream = RandomStream(seed: 0)) -> Tensor<S> {
        let p = layout.views(of: meta)
        var stream = noiseStream
        let noise = stepNoise(p[Self.curriculumPart]!, mode: mode, noiseStream: &stream)
        let split = Array(repeating: 1, count: innerSteps)
        let lrs = p[Self.logLearningRatePart]!.split(axis: 0, sizes: split).map { $0.reshaped([]) }
        let moms = p[Self.logMomentumPart]!.split(axis: 0, sizes: split).map { $0.reshaped([]) }
        // Formed once: the generator's weights are the same in every inner step.
        let generatorWeights = generator.weights(p[Self.generatorPart]!)
        let g = generatorWeights.count
        var theta = Tensor(learnerInitial, requiresGrad: true)
        var velocity = Tensor(NDArray<S>(zeros: learnerInitial.shape))
        let real = Tensor(realImages)
        func realLoss(_ theta: Tensor<S>) -> Tensor<S> {
            crossEntropy(logits: learner.logits(theta, real), labels: realLabels)
        }
        var intermediateLosses: [Tensor<S>] = []
        var t = 0
        while t < innerSteps {
            var span = recomputeBlock == 0 ? innerSteps - t : min(recomputeBlock, innerSteps - t)
            if intermediateLossEvery > 0 { span = min(span, intermediateLossEvery - t % intermediateLossEvery) }
            let steps = t..<(t + span)
            // Block inputs: [θ, velocity, generator weights (g)…, noise…, log lr…, log momentum…].
            let block: ([Tensor<S>]) -> [Tensor<S>] = { s in
                let weights = Array(s[2..<(2 + g)]), perStep = 2 + g
                var state = [s[0], s[1]]
                for k in 0..<span {
                    state = self.innerStep(parameters: state[0], velocity: state[1], generatorWeights: weights,
                                           noise: s[perStep + k], logLearningRate: s[perStep + span + k],
                                           logMomentum: s[perStep + 2 * span + k], createGraph: true)
                }
                return state
            }
            let inputs = [theta, velocity] + generatorWeights + Array(noise[steps]) + Array(lrs[steps]) + Array(moms[steps])
            let out = recomputeBlock == 0 ? block(inputs) : checkpoint(inputs, block)
            (theta, velocity) = (out[0], out[1])
            t += span
            if intermediateLossEvery > 0 && t % intermediateLossEvery == 0 && t < innerSteps {
                intermediateLosses.append(realLoss(theta))
            }
        }
        let final = realLoss(theta)
        guard !intermediateLosses.isEmpty else { return final }
        return intermediateLosses.reduce(final, +) / S(intermediateLosses.count + 1)
    }

    /// The learned curriculum's generated images, inner step by inner step: [T·B, C, H, W].
    public func curriculumImages<S>(meta: NDArray<S>) -> NDArray<S> {
        NDArray.concatenate(curriculum(meta: meta).images, axis: 0)
    }

    /// What the inner loop trains on under `meta` [layout.count]: each inner
    /// step's generated batch, in the order `mode` gives (`noiseStream` draws
    /// fresh noise or the order), with its learned learning rate and
    /// momentum. The generator runs here, once per step; a `.learned`
    /// curriculum is the same for every learner, so it can be made once and
    /// used to train many.
    public func curriculum<S>(meta: NDArray<S>, mode: CurriculumMode = .learned,
                              noiseStream: RandomStream = RandomStream(seed: 0)) -> TeachingCurriculum<S> {
        withoutGradients {
            let p = layout.views(of: Tensor(meta))
            var stream = noiseStream
            let noise = stepNoise(p[Self.curriculumPart]!, mode: mode, noiseStream: &stream)
            let weights = generator.weights(p[Self.generatorPart]!)
            return TeachingCurriculum(images: noise.map { generator.images(weights: weights, noise: $0).value },
                                      logLearningRates: p[Self.logLearningRatePart]!.value.data,
                                      logMomenta: p[Self.logMomentumPart]!.value.data)
        }
    }

    /// Trains a learner from `learnerInitial` on the curriculum `meta` makes
    /// (see `curriculum(meta:mode:noiseStream:)` and `trainLearner(on:)`).
    public func trainLearner<S>(meta: NDArray<S>, learnerInitial: NDArray<S>, steps: Int? = nil,
                                mode: CurriculumMode = .learned, noiseStream: RandomStream = RandomStream(seed: 0),
                                afterStep: (Int, NDArray<S>) throws -> Void) rethrows -> NDArray<S> {
        try trainLearner(on: curriculum(meta: meta, mode: mode, noiseStream: noiseStream), learnerInitial: learnerInitial,
                         steps: steps, afterStep: afterStep)
    }

    /// Trains a learner from `learnerInitial` on `curriculum` (plain
    /// training, nothing recorded across steps) and returns its parameters.
    /// `steps` beyond T repeat the curriculum from the start.
    /// `afterStep(k, θ)` sees the parameters after every step k = 1…steps.
    public func trainLearner<S>(on curriculum: TeachingCurriculum<S>, learnerInitial: NDArray<S>, steps: Int? = nil,
                                afterStep: (Int, NDArray<S>) throws -> Void) rethrows -> NDArray<S> {
        require(curriculum.images.count == innerSteps, "a curriculum of \(curriculum.images.count) steps for \(innerSteps) inner steps")
        var theta = learnerInitial
        var velocity = NDArray<S>(zeros: learnerInitial.shape)
        for step in 0..<(steps ?? innerSteps) {
            let k = step % innerSteps
            let next = learnerStep(parameters: Tensor(theta, requiresGrad: true), velocity: Tensor(velocity),
                                   images: Tensor(curriculum.images[k]), logLearningRate: Tensor(scalar: curriculum.logLearningRates[k]),
                                   logMomentum: Tensor(scalar: curriculum.logMomenta[k]), createGraph: false)
            (theta, velocity) = (next[0].value, next[1].value)
            try afterStep(step + 1, theta)
        }
        return theta
    }
}

/// The inner loop's teaching material under fixed meta-parameters: for each
/// of T inner steps the generated batch [B, C, H, W] (labels:
/// `TeachingSetup.labels`) and the logs of its learning rate and momentum.
public struct TeachingCurriculum<S: TensorScalar>: Sendable {
    public let images: [NDArray<S>]
    public let logLearningRates: [S]
    public let logMomenta: [S]
}

/// Images per forward pass when predictions are scored: bounded memory, and
/// batch-norm layers use each chunk's statistics, as in training, so a
/// prediction depends on the chunk its image is in.
public let predictionChunk = 500

/// Whether the predicted class of each of `images` [N, C, H, W] is its label,
/// [N], in chunks of `chunk` images from the first.
public func correctPredictions<S>(of learner: any LearnerModel, parameters: NDArray<S>, images: NDArray<S>, labels: [Int],
                                  chunk: Int = predictionChunk) -> [Bool] {
    let perImage = images.count / max(labels.count, 1)
    var correct: [Bool] = []
    correct.reserveCapacity(labels.count)
    for start in stride(from: 0, to: labels.count, by: chunk) {
        let end = min(start + chunk, labels.count)
        var shape = images.shape
        shape[0] = end - start
        let part = NDArray(shape: shape, data: Array(images.data[(start * perImage)..<(end * perImage)]))
        let predictions = withoutGradients { learner.logits(Tensor(parameters), Tensor(part)).value.argmaxRows() }
        correct += zip(predictions, labels[start..<end]).map { $0 == $1 }
    }
    return correct
}

/// The fraction of true values: an accuracy from `correctPredictions` (0 for none).
public func fractionTrue<C: Collection<Bool>>(_ values: C) -> Double {
    Double(values.lazy.filter { $0 }.count) / Double(max(values.count, 1))
}

/// Fraction of `images` [N, C, H, W] whose predicted class is the label
/// (`correctPredictions` in chunks of `chunk`).
public func accuracy<S>(of learner: any LearnerModel, parameters: NDArray<S>, images: NDArray<S>, labels: [Int],
                        chunk: Int = predictionChunk) -> Double {
    fractionTrue(correctPredictions(of: learner, parameters: parameters, images: images, labels: labels, chunk: chunk))
}
