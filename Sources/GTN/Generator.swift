import Autodiff
import NN
import TensorCore

/// The generator: (curriculum noise ++ one-hot label) → image.
///
/// Weight-normalised linear (noise+classes → 1024) + batch norm + leaky ReLU;
/// weight-normalised linear (→ 128·(H/4)·(W/4)) + batch norm + leaky ReLU;
/// ×2 nearest upsample, reflection pad, weight-normalised conv3x3 (128 → 64)
/// + batch norm + leaky ReLU; ×2 upsample, pad, conv3x3 (64 → C); tanh scaled
/// to `outputRange` (the normalised data range). Unit and channel counts are
/// multiplied by `width`.
public struct Generator: Sendable {
    public let image: ImageShape
    public let noiseSize: Int
    public let outputRange: ClosedRange<Double>
    public let layout: ParameterLayout
    let hidden: Int, baseChannels: Int, convChannels: Int

    public init(image: ImageShape, noiseSize: Int = 128, width: Double = 1, outputRange: ClosedRange<Double>) {
        require(image.height % 4 == 0 && image.width % 4 == 0,
                "generator needs image sides divisible by 4, got \(image.height)x\(image.width)")
        self.image = image
        self.noiseSize = noiseSize
        self.outputRange = outputRange
        hidden = scaled(1024, width)
        baseChannels = scaled(128, width)
        convChannels = scaled(64, width)
        let quarter = (image.height / 4) * (image.width / 4)
        var l = ParameterLayout()
        l.add("fc1.direction", shape: [hidden, noiseSize + image.classes]); l.add("fc1.gain", shape: [hidden])
        l.add("bn1.scale", shape: [hidden]); l.add("bn1.shift", shape: [hidden])
        l.add("fc2.direction", shape: [baseChannels * quarter, hidden]); l.add("fc2.gain", shape: [baseChannels * quarter])
        l.add("bn2.scale", shape: [baseChannels * quarter]); l.add("bn2.shift", shape: [baseChannels * quarter])
        l.add("conv1.direction", shape: [convChannels, baseChannels, 3, 3]); l.add("conv1.gain", shape: [convChannels])
        l.add("bn3.scale", shape: [convChannels]); l.add("bn3.shift", shape: [convChannels])
        l.add("conv2.weight", shape: [image.channels, convChannels, 3, 3]); l.add("conv2.bias", shape: [image.channels])
        layout = l
    }

    public func initialParameters<S: TensorScalar>(_ rng: inout RandomStream) -> NDArray<S> { layout.initialValues(&rng) }

    /// Labels of a generated batch: index mod classes (evenly distributed).
    public func labels(batch: Int) -> [Int] { (0..<batch).map { $0 % image.classes } }

    /// The parameters as the layers use them, in `WeightIndex` order: views
    /// of `parameters` [layout.count] with the weight-normalised weights
    /// formed. They depend on the parameters only, so a batch-by-batch
    /// caller (the inner loop: T batches under the same parameters) forms
    /// them once.
    public func weights<S>(_ parameters: Tensor<S>) -> [Tensor<S>] {
        let p = layout.views(of: parameters)
        return WeightIndex.allCases.map { index in
            switch index {
            case .fc1: weightNormalized(p["fc1.direction"]!, gain: p["fc1.gain"]!)
            case .bn1Scale: p["bn1.scale"]!
            case .bn1Shift: p["bn1.shift"]!
            case .fc2: weightNormalized(p["fc2.direction"]!, gain: p["fc2.gain"]!)
            case .bn2Scale: p["bn2.scale"]!
            case .bn2Shift: p["bn2.shift"]!
            case .conv1: weightNormalized(p["conv1.direction"]!, gain: p["conv1.gain"]!)
            case .bn3Scale: p["bn3.scale"]!
            case .bn3Shift: p["bn3.shift"]!
            case .conv2: p["conv2.weight"]!
            case .conv2Bias: p["conv2.bias"]!
            }
        }
    }

    /// Positions in `weights(_:)`.
    public enum WeightIndex: Int, CaseIterable, Sendable {
        case fc1, bn1Scale, bn1Shift, fc2, bn2Scale, bn2Shift, conv1, bn3Scale, bn3Shift, conv2, conv2Bias
    }

    /// Images [B, C, H, W] from formed weights (`weights(_:)`) and noise [B, noiseSize].
    public func images<S>(weights w: [Tensor<S>], noise: Tensor<S>) -> Tensor<S> {
        let batch = noise.shape[0]
        require(noise.shape == [batch, noiseSize], "generator noise of shape \(noise.shape), expected [B, \(noiseSize)]")
        require(w.count == WeightIndex.allCases.count, "generator given \(w.count) weights, needs \(WeightIndex.allCases.count)")
        func at(_ i: WeightIndex) -> Tensor<S> { w[i.rawValue] }
        let oneHot = Tensor(NDArray<S>.oneHot(labels(batch: batch), classes: image.classes))
        var h = matmul(concat([noise, oneHot], axis: 1), at(.fc1), transposeB: true)
        h = batchNorm(h, scale: at(.bn1Scale), shift: at(.bn1Shift)).leakyReLU(slope: 0.1)
        h = matmul(h, at(.fc2), transposeB: true)
        h = batchNorm(h, scale: at(.bn2Scale), shift: at(.bn2Shift)).leakyReLU(slope: 0.1)
        h = h.reshaped([batch, baseChannels, image.height / 4, image.width / 4])
        h = conv2d(h.upsampledNearest(2).reflectionPadded(1), at(.conv1), ConvGeometry())
        h = batchNorm(h, scale: at(.bn3Scale), shift: at(.bn3Shift)).leakyReLU(slope: 0.1)
        h = convolution(h.upsampledNearest(2).reflectionPadded(1), weight: at(.conv2), bias: at(.conv2Bias), ConvGeometry())
        let (low, high) = (S(outputRange.lowerBound), S(outputRange.upperBound))
        return (h.tanh() + 1) * ((high - low) / 2) + low
    }
}
