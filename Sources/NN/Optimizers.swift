import Autodiff

/// One step of SGD with momentum (PyTorch's form):
/// velocity' = momentum·velocity + gradient; parameters' = parameters − learningRate·velocity'.
/// `learningRate` and `momentum` are tensors (rank 0) so they can be learned.
public func sgdMomentumStep<S>(parameters: Tensor<S>, velocity: Tensor<S>, gradient: Tensor<S>,
                               learningRate: Tensor<S>, momentum: Tensor<S>) -> (parameters: Tensor<S>, velocity: Tensor<S>) {
    let newVelocity = momentum * velocity + gradient
    return (parameters - learningRate * newVelocity, newVelocity)
}
