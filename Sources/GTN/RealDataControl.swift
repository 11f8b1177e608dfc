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

    /// Trains from `initial` on random batches of `train` (drawn from `stream`);
    /// `afterStep(k, θ)` sees the parameters after every step k = 1…steps.
    public func train(initial: NDArray<Float>, on train: LabelledImages, learningRate: Double, stream: RandomStream,
                      afterStep: ((Int, NDArray<Float>) -> Void)? = nil) -> NDArray<Float> {
        var batches = stream
        var theta = initial
        var velocity = NDArray<Float>(zeros: initial.shape)
        for step in 1...steps {
            let real = train.subset((0..<batch).map { _ in batches.nextInt(below: train.count) })
            let leaf = Tensor(theta, requiresGrad: true)
            let loss = crossEntropy(logits: learner.logits(leaf, Tensor(real.images)), labels: real.labels)
            let gradient = gradients(of: loss, wrt: [leaf])[0]
            let next = withoutGradients {
                sgdMomentumStep(parameters: Tensor(theta), velocity: Tensor(velocity), gradient: gradient,
                                learningRate: Tensor(scalar: Float(learningRate)), momentum: Tensor(scalar: Float(momentum)))
            }
            (theta, velocity) = (next.parameters.value, next.velocity.value)
            afterStep?(step, theta)
        }
        return theta
    }

    /// The grid's learning rate with the best mean validation accuracy over
    /// `learners` fresh learners (streams derived from `stream`), and that accuracy.
    public func chooseLearningRate(train: LabelledImages, validation: LabelledImages, learners: Int = 2,
                                   stream: RandomStream) -> (learningRate: Double, accuracy: Double) {
        let scored = learningRateGrid.map { lr -> (Double, Double) in
            let accuracies = (0..<learners).map { i -> Double in
                var initRNG = stream.derived("init/\(i)")
                let theta = self.train(initial: learner.initialParameters(&initRNG), on: train, learningRate: lr,
                                       stream: stream.derived("batches/\(i)"))
                return accuracy(of: learner, parameters: theta, images: validation.images, labels: validation.labels)
            }
            return (lr, accuracies.reduce(0, +) / Double(learners))
        }
        let best = scored.max { $0.1 < $1.1 }!
        return (best.0, best.1)
    }
}
