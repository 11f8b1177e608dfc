import Autodiff
import TensorCore

// Layers as functions of explicit parameter tensors, so an inner training loop
// can replace the parameters with updated ones.

/// Weight normalisation: each output row of `direction` [O, ...] rescaled to
/// norm `gain[o]` (gain [O]).
public func weightNormalized<S>(_ direction: Tensor<S>, gain: Tensor<S>) -> Tensor<S> {
    let rowAxes = Array(1..<direction.rank)
    let norms = (direction * direction).sum(axes: rowAxes).squareRoot()
    let gainShape = [direction.shape[0]] + [Int](repeating: 1, count: direction.rank - 1)
    return direction * (gain.reshaped(gainShape) / norms)
}

/// Fully connected layer: x [N, in], weight [out, in], bias [out] → [N, out].
public func linear<S>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>) -> Tensor<S> {
    matmul(x, weight, transposeB: true) + bias
}

/// Convolution plus per-channel bias: x [N,C,H,W], weight [O,C/g,KH,KW], bias [O].
public func convolution<S>(_ x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>, _ geometry: ConvGeometry) -> Tensor<S> {
    conv2d(x, weight, geometry) + bias.reshaped([1, bias.shape[0], 1, 1])
}

/// Mean-only batch normalisation: subtracts the batch mean of every feature
/// (axis 1; over N, H, W for images) and adds a learned bias [features].
public func meanOnlyBatchNorm<S>(_ x: Tensor<S>, bias: Tensor<S>) -> Tensor<S> {
    let axes = [0] + Array(2..<x.rank)
    var biasShape = [Int](repeating: 1, count: x.rank)
    biasShape[1] = x.shape[1]
    // The per-feature shift is formed first: one pass over x instead of two.
    return x + (bias.reshaped(biasShape) - x.mean(axes: axes))
}

/// Mean negative log-likelihood of `labels` under `logProbabilities` [N, classes].
public func negativeLogLikelihood<S>(_ logProbabilities: Tensor<S>, labels: [Int]) -> Tensor<S> {
    require(logProbabilities.rank == 2 && logProbabilities.shape[0] == labels.count,
                 "negativeLogLikelihood: log-probabilities \(logProbabilities.shape) for \(labels.count) labels")
    let oneHot = Tensor(NDArray<S>.oneHot(labels, classes: logProbabilities.shape[1]))
    return -(logProbabilities * oneHot).sum() / S(labels.count)
}

/// Cross-entropy of logits [N, classes] against labels (mean over the batch).
public func crossEntropy<S>(logits: Tensor<S>, labels: [Int]) -> Tensor<S> {
    negativeLogLikelihood(logits.logSoftmax(), labels: labels)
}

/// Batch normalisation in training mode: each feature (axis 1; over N, H, W
/// for images) normalised by its batch mean and variance, then scaled by
/// `scale` and shifted by `shift` ([features] each).
public func batchNorm<S>(_ x: Tensor<S>, scale: Tensor<S>, shift: Tensor<S>, epsilon: S = 1e-5) -> Tensor<S> {
    let axes = [0] + Array(2..<x.rank)
    var featureShape = [Int](repeating: 1, count: x.rank)
    featureShape[1] = x.shape[1]
    let centred = x - x.mean(axes: axes)
    let variance = (centred * centred).mean(axes: axes)
    // The per-feature factor scale / √(variance + ε) first: one pass over x instead of a divide and a multiply.
    return centred * (scale.reshaped(featureShape) / (variance + epsilon).squareRoot()) + shift.reshaped(featureShape)
}
