import Autodiff
import Foundation
import TensorCore

/// One step of SGD with momentum (PyTorch's form):
/// velocity' = momentum·velocity + gradient; parameters' = parameters − learningRate·velocity'.
/// `learningRate` and `momentum` are tensors (rank 0) so they can be learned.
public func sgdMomentumStep<S>(parameters: Tensor<S>, velocity: Tensor<S>, gradient: Tensor<S>,
                               learningRate: Tensor<S>, momentum: Tensor<S>) -> (parameters: Tensor<S>, velocity: Tensor<S>) {
    let newVelocity = momentum * velocity + gradient
    return (parameters - learningRate * newVelocity, newVelocity)
}

/// Adam on one flat parameter vector (plain arrays: the outer loop is not
/// differentiated). State is two buffers and a step count, so a checkpoint
/// restores it exactly.
public struct Adam<S: TensorScalar>: Equatable, Sendable {
    public var beta1: S
    public var beta2: S
    public var epsilon: S
    public private(set) var firstMoment: [S]
    public private(set) var secondMoment: [S]
    public private(set) var step: Int

    public init(count: Int, beta1: S = 0.9, beta2: S = 0.999, epsilon: S = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = [S](repeating: 0, count: count)
        secondMoment = [S](repeating: 0, count: count)
        step = 0
    }

    /// Restores saved state.
    public init(firstMoment: [S], secondMoment: [S], step: Int, beta1: S = 0.9, beta2: S = 0.999, epsilon: S = 1e-8) {
        require(firstMoment.count == secondMoment.count, "Adam state of sizes \(firstMoment.count) and \(secondMoment.count)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.step = step
    }

    /// parameters −= learningRate · m̂ / (√v̂ + ε), with bias-corrected moments.
    @_specialize(where S == Float)
    public mutating func update(_ parameters: inout [S], gradient: [S], learningRate: S) {
        require(parameters.count == firstMoment.count && gradient.count == firstMoment.count,
                "Adam over \(firstMoment.count) parameters got \(parameters.count) parameters and \(gradient.count) gradients")
        step += 1
        let correction1 = 1 - S(Foundation.pow(Double(beta1), Double(step)))
        let correction2 = 1 - S(Foundation.pow(Double(beta2), Double(step)))
        for i in parameters.indices {
            let g = gradient[i]
            firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g
            secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g
            let mHat = firstMoment[i] / correction1, vHat = secondMoment[i] / correction2
            parameters[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
        }
    }
}

/// Cosine decay from `initial` to `final` over `total` steps (then constant).
public func cosineSchedule(step: Int, total: Int, initial: Double, final: Double) -> Double {
    guard total > 0 else { return initial }
    let progress = min(Double(step) / Double(total), 1)
    return final + (initial - final) * 0.5 * (1 + Foundation.cos(Double.pi * progress))
}
