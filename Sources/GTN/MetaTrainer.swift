import Autodiff
import Foundation
import NN
import TensorCore

/// A labelled image set held in memory: images [N, C, H, W] and N labels.
public struct LabelledImages: Sendable {
    public let images: NDArray<Float>
    public let labels: [Int]

    public init(images: NDArray<Float>, labels: [Int]) {
        require(images.rank == 4 && images.shape[0] == labels.count,
                "labelled images: \(images.shape) images for \(labels.count) labels")
        self.images = images
        self.labels = labels
    }

    public var count: Int { labels.count }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabelledImages {
        let size = images.count / max(count, 1)
        var data = [Float]()
        data.reserveCapacity(indices.count * size)
        images.data.withUnsafeBufferPointer { all in
            for i in indices { data.append(contentsOf: all[(i * size)..<((i + 1) * size)]) }
        }
        var shape = images.shape
        shape[0] = indices.count
        return LabelledImages(images: NDArray(shape: shape, data: data), labels: indices.map { labels[$0] })
    }
}

/// Settings of the outer loop.
public struct MetaTrainingConfig: Sendable, Equatable {
    public var iterations: Int
    /// Real images per meta-loss evaluation.
    public var metaBatch: Int = 128
    /// Adam learning rate, decayed by a cosine to `finalLearningRateFraction` of it.
    public var learningRate: Double = 0.02
    public var finalLearningRateFraction: Double = 0.1
    /// Rescale the meta-gradient to at most this norm (nil: no clipping).
    public var gradientClipNorm: Double? = nil
    public var curriculum: CurriculumMode = .learned
    public var learners: LearnerSource = .fixed

    public init(iterations: Int) { self.iterations = iterations }
}

/// Which learner each meta-iteration (and each evaluation) teaches.
public enum LearnerSource: Sendable, Equatable {
    /// Always the setup's own learner (the paper's method).
    case fixed
    /// A fresh `ArchitectureLearner` each time, its architecture drawn from
    /// the space, so the teaching data generalises across architectures.
    case searchSpace(SearchSpace)
}

/// Everything the outer loop carries from one meta-iteration to the next —
/// exactly what a checkpoint must hold to resume bit for bit.
public struct MetaTrainingState: Sendable, Equatable {
    /// The flat meta-parameters (layout: `TeachingSetup.layout`).
    public var meta: [Float]
    public var adam: Adam<Float>
    /// Meta-iterations completed.
    public var iteration: Int

    public init(meta: [Float], adam: Adam<Float>, iteration: Int) {
        self.meta = meta
        self.adam = adam
        self.iteration = iteration
    }
}

/// The outcome of one meta-iteration.
public struct MetaStep: Sendable {
    public let iteration: Int
    public let metaLoss: Double
    public let gradientNorm: Double
    public let learningRate: Double
}

public enum MetaTrainingError: Error, CustomStringConvertible {
    /// `quantity` ("meta-loss" or "meta-gradient norm") came out as `value`;
    /// `learningRates` and `momenta` are the ranges of the learned inner
    /// hyper-parameters at the failing iteration.
    case nonFinite(quantity: String, iteration: Int, value: Double, learningRates: (min: Double, max: Double),
                   momenta: (min: Double, max: Double))

    public var description: String {
        switch self {
        case .nonFinite(let quantity, let iteration, let value, let lrs, let moms):
            return "meta-iteration \(iteration): the \(quantity) is \(value); the state was not updated "
                + String(format: "(learned inner learning rates %.3g…%.3g, momenta %.3g…%.3g).\n",
                         lrs.min, lrs.max, moms.min, moms.max)
                + "HINT: lower meta_training.learning_rate or set meta_training.gradient_clip_norm."
        }
    }
}

/// The outer loop of GTN meta-training. Every random choice of iteration i
/// (fresh learner, real batch, fresh or shuffled noise) comes from a stream
/// derived from (seed, i), so a resumed run repeats an uninterrupted one.
public struct MetaTrainer: Sendable {
    public let setup: TeachingSetup
    public let config: MetaTrainingConfig
    public let seed: UInt64

    public init(setup: TeachingSetup, config: MetaTrainingConfig, seed: UInt64) {
        self.setup = setup
        self.config = config
        self.seed = seed
    }

    /// Fresh meta-parameters and optimiser state.
    public func initialState() -> MetaTrainingState {
        var rng = RandomStream(seed: seed).derived("meta-parameters")
        let meta: NDArray<Float> = setup.initialMetaParameters(&rng)
        return MetaTrainingState(meta: meta.data, adam: Adam(count: meta.count), iteration: 0)
    }

    /// The random stream of meta-iteration `i` (also used to evaluate at i).
    public func stream(iteration: Int, _ purpose: String) -> RandomStream {
        RandomStream(seed: seed).derived("meta-iteration/\(iteration)/\(purpose)")
    }

    /// The setup teaching the learner of iteration `i` for `purpose`: `setup`
    /// itself, or with a learner whose architecture is drawn from the
    /// stream (`purpose` + "-architecture") of that iteration.
    public func teaching(iteration i: Int, _ purpose: String) -> TeachingSetup {
        switch config.learners {
        case .fixed:
            return setup
        case .searchSpace(let space):
            var rng = stream(iteration: i, purpose + "-architecture")
            return setup.replacingLearner(ArchitectureLearner(architecture: space.draw(&rng), image: setup.generator.image))
        }
    }

    /// Runs one meta-iteration on `state`, drawing the real batch from `train`.
    /// Throws (leaving `state` unchanged) when the meta-loss or the meta-gradient is not finite.
    public func step(_ state: inout MetaTrainingState, train: LabelledImages) throws -> MetaStep {
        let i = state.iteration
        let teaching = teaching(iteration: i, "learner")
        var learnerRNG = stream(iteration: i, "learner")
        var batchRNG = stream(iteration: i, "real-batch")
        let learnerInitial: NDArray<Float> = teaching.learner.initialParameters(&learnerRNG)
        let real = train.subset((0..<config.metaBatch).map { _ in batchRNG.nextInt(below: train.count) })
        let leaf = Tensor(NDArray(shape: [state.meta.count], data: state.meta), requiresGrad: true)
        let loss = teaching.metaLoss(leaf, learnerInitial: learnerInitial, realImages: real.images, realLabels: real.labels,
                                     mode: config.curriculum, noiseStream: stream(iteration: i, "noise"))
        let lossValue = Double(loss.scalar)
        guard lossValue.isFinite else { throw nonFinite(state, "meta-loss", lossValue) }
        var gradient = gradients(of: loss, wrt: [leaf])[0].value.data
        let norm = gradient.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        guard norm.isFinite else { throw nonFinite(state, "meta-gradient norm", norm) }
        if let clip = config.gradientClipNorm, norm > clip {
            let scale = Float(clip / norm)
            for k in gradient.indices { gradient[k] *= scale }
        }
        let lr = cosineSchedule(step: i, total: config.iterations, initial: config.learningRate,
                                final: config.learningRate * config.finalLearningRateFraction)
        state.adam.update(&state.meta, gradient: gradient, learningRate: Float(lr))
        state.iteration += 1
        return MetaStep(iteration: i, metaLoss: lossValue, gradientNorm: norm, learningRate: lr)
    }

    /// The error for a non-finite meta-loss (or meta-gradient norm) in `state`.
    func nonFinite(_ state: MetaTrainingState, _ quantity: String, _ value: Double) -> MetaTrainingError {
        func range(_ name: String) -> (min: Double, max: Double) {
            let e = setup.layout.entry(name)
            let values = state.meta[e.offset..<(e.offset + e.count)].map { Foundation.exp(Double($0)) }
            return (values.reduce(.infinity) { Swift.min($0, $1) }, values.reduce(-.infinity) { Swift.max($0, $1) })
        }
        return .nonFinite(quantity: quantity, iteration: state.iteration, value: value,
                          learningRates: range(TeachingSetup.logLearningRatePart), momenta: range(TeachingSetup.logMomentumPart))
    }

    /// Accuracy on `evaluation` of a fresh learner (stream "evaluation-learner"
    /// of `iteration`, `learnerIndex`; drawn from the search space when the
    /// config says so) trained for T steps on the current data.
    public func evaluate(_ state: MetaTrainingState, on evaluation: LabelledImages, learnerIndex: Int = 0,
                         steps: Int? = nil) -> Double {
        let purpose = "evaluation-learner/\(learnerIndex)"
        let teaching = teaching(iteration: state.iteration, purpose)
        var rng = stream(iteration: state.iteration, purpose)
        let initial: NDArray<Float> = teaching.learner.initialParameters(&rng)
        let trained = teaching.trainLearner(meta: NDArray(shape: [state.meta.count], data: state.meta),
                                            learnerInitial: initial, steps: steps, mode: config.curriculum,
                                            noiseStream: stream(iteration: state.iteration, "evaluation-noise/\(learnerIndex)")) { _, _ in }
        return accuracy(of: teaching.learner, parameters: trained, images: evaluation.images, labels: evaluation.labels)
    }
}
