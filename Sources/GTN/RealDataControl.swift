import Autodiff
import NN
import TensorCore

/// The control GTN is compared with: the same learner trained for the same
/// number of SGD-with-momentum steps on batches of *real* training images,
/// with its learning rate chosen from a grid by validation accuracy.
public struct RealDataControl: Sendable {
    public let learner: any LearnerModel
    public let steps: Int
    public let batch: Int
    public let momentum: Double
    public let learningRateGrid: [Double]

    /// A rate from the middle of the default grid, for when none could be chosen.
    public static let defaultLearningRate = 0.03

    public init(learner: any LearnerModel, steps: Int, batch: Int, momentum: Double = 0.5,
                learningRateGrid: [Double] = [0.003, 0.01, 0.03, 0.1, 0.3]) {
        require(steps > 0 && batch > 1 && !learningRateGrid.isEmpty,
                "real-data control needs steps > 0, batch > 1 and a learning-rate grid (got \(steps), \(batch), \(learningRateGrid))")
        self.learner = learner
        self.steps = steps
        self.batch = batch
        self.momentum = momentum
        self.learningRateGrid = learningRateGrid
    }

    /// Trains from `initial` on random batches of `train` (drawn from `stream`)
    /// at a constant `learningRate`; `afterStep(k, θ)` sees the parameters
    /// after every step k = 1…steps.
    public func train(initial: NDArray<Float>, on train: LabelledImages, learningRate: Double, stream: RandomStream,
                      afterStep: (Int, NDArray<Float>) throws -> Void) rethrows -> NDArray<Float> {
        try trainOnRealData(learner, initial: initial, on: train, steps: steps, batch: batch, momentum: momentum,
                            learningRate: { _ in learningRate }, stream: stream, afterStep: afterStep)
    }

    /// The grid's learning rate with the best mean validation accuracy over
    /// `learners` fresh learners (streams derived from `stream`), and that accuracy.
    public func chooseLearningRate(train: LabelledImages, validation: LabelledImages, learners: Int = 2,
                                   stream: RandomStream) -> (learningRate: Double, accuracy: Double) {
        let scored = learningRateGrid.map { lr -> (Double, Double) in
            let accuracies = (0..<learners).map { i -> Double in
                var initRNG = stream.derived("init/\(i)")
                let theta = self.train(initial: learner.initialParameters(&initRNG), on: train, learningRate: lr,
                                       stream: stream.derived("batches/\(i)")) { _, _ in }
                return accuracy(of: learner, parameters: theta, images: validation.images, labels: validation.labels)
            }
            return (lr, accuracies.reduce(0, +) / Double(learners))
        }
        let best = scored.max { $0.1 < $1.1 }!
        return (best.0, best.1)
    }
}

/// Trains `learner` from `initial` [parameterCount] for `steps` steps of SGD
/// with momentum on batches of `batch` images drawn with replacement from
/// `train` (indices from `stream`); `learningRate(k)` is the rate of step
/// k = 1…steps, and `afterStep(k, θ)` sees the parameters after step k.
public func trainOnRealData(_ learner: any LearnerModel, initial: NDArray<Float>, on train: LabelledImages, steps: Int,
                            batch: Int, momentum: Double, learningRate: (Int) -> Double, stream: RandomStream,
                            afterStep: (Int, NDArray<Float>) throws -> Void) rethrows -> NDArray<Float> {
    require(steps >= 1, "trainOnRealData: steps \(steps) must be at least 1")
    var run = RealTrainingRun(initial: initial, batches: stream)
    for step in 1...steps {
        run.step(learner, on: train, batch: batch, learningRate: learningRate(step), momentum: momentum)
        try afterStep(step, run.parameters)
    }
    return run.parameters
}

/// SGD with momentum on real training batches, one step at a time. Its
/// whole state is these four fields, so a run saved after any step and
/// restored with `init(parameters:velocity:stepsDone:batches:)` continues
/// exactly as if it had not stopped.
public struct RealTrainingRun: Sendable {
    /// θ [parameterCount] and the momentum buffer [parameterCount].
    public private(set) var parameters: NDArray<Float>
    public private(set) var velocity: NDArray<Float>
    public private(set) var stepsDone: Int
    /// Draws the batches' image indices.
    public private(set) var batches: RandomStream

    /// A run starting from `initial` with zero velocity.
    public init(initial: NDArray<Float>, batches: RandomStream) {
        self.init(parameters: initial, velocity: NDArray(zeros: initial.shape), stepsDone: 0, batches: batches)
    }

    /// A run restored from saved state.
    public init(parameters: NDArray<Float>, velocity: NDArray<Float>, stepsDone: Int, batches: RandomStream) {
        require(parameters.shape == velocity.shape && stepsDone >= 0,
                "RealTrainingRun: parameters \(parameters.shape), velocity \(velocity.shape), steps done \(stepsDone)")
        self.parameters = parameters
        self.velocity = velocity
        self.stepsDone = stepsDone
        self.batches = batches
    }

    /// One step on `batch` images drawn with replacement from `train`.
    public mutating func step(_ learner: any LearnerModel, on train: LabelledImages, batch: Int, learningRate: Double,
                              momentum: Double) {
        require(batch >= 1, "RealTrainingRun.step: batch \(batch) must be at least 1")
        let real = train.subset((0..<batch).map { _ in batches.nextInt(below: train.count) })
        let leaf = Tensor(parameters, requiresGrad: true)
        let loss = crossEntropy(logits: learner.logits(leaf, Tensor(real.images)), labels: real.labels)
        let gradient = gradients(of: loss, wrt: [leaf])[0]
        let next = withoutGradients {
            sgdMomentumStep(parameters: Tensor(parameters), velocity: Tensor(velocity), gradient: gradient,
                            learningRate: Tensor(scalar: Float(learningRate)), momentum: Tensor(scalar: Float(momentum)))
        }
        (parameters, velocity) = (next.parameters.value, next.velocity.value)
        stepsDone += 1
    }
}
