import Autodiff
import NN
import TensorCore

/// A network trained by the inner loop: a parameter layout and a forward pass
/// that takes the parameters explicitly (so they can be replaced by updated ones).
public protocol LearnerModel: Sendable {
    var layout: ParameterLayout { get }
    /// Logits [N, classes] of images [N, C, H, W] under `parameters` [layout.count].
    func logits<S>(_ parameters: Tensor<S>, _ images: Tensor<S>) -> Tensor<S>
}

extension LearnerModel {
    /// Fresh parameters (Kaiming-normal, see `ParameterLayout.initialValues`).
    public func initialParameters<S: TensorScalar>(_ rng: inout RandomStream) -> NDArray<S> { layout.initialValues(&rng) }
}

/// The paper's MNIST learner: conv3x3 → 64, max pool 3/2, batch norm, leaky
/// ReLU; conv3x3 → 128, max pool 3/2, BN, lReLU; linear → 256, BN, lReLU;
/// linear → classes. Weight-normalised layers, mean-only batch norm; counts
/// multiplied by `width`.
public struct StandardLearner: LearnerModel {
    public let image: ImageShape
    public let layout: ParameterLayout
    let c1: Int, c2: Int, hidden: Int
    static let pool = PoolGeometry(kernel: 3, stride: 2, padding: 1)

    public init(image: ImageShape, width: Double = 1) {
        self.image = image
        c1 = scaled(64, width)
        c2 = scaled(128, width)
        hidden = scaled(256, width)
        let flat = c2 * Self.pooledSide(Self.pooledSide(image.height)) * Self.pooledSide(Self.pooledSide(image.width))
        var l = ParameterLayout()
        l.add("conv1.direction", shape: [c1, image.channels, 3, 3]); l.add("conv1.gain", shape: [c1]); l.add("bn1.bias", shape: [c1])
        l.add("conv2.direction", shape: [c2, c1, 3, 3]); l.add("conv2.gain", shape: [c2]); l.add("bn2.bias", shape: [c2])
        l.add("fc1.direction", shape: [hidden, flat]); l.add("fc1.gain", shape: [hidden]); l.add("bn3.bias", shape: [hidden])
        l.add("fc2.direction", shape: [image.classes, hidden]); l.add("fc2.gain", shape: [image.classes])
        l.add("fc2.bias", shape: [image.classes])
        layout = l
    }

    static func pooledSide(_ n: Int) -> Int { (n + 2 * pool.padding - pool.kernel) / pool.stride + 1 }

    public func logits<S>(_ parameters: Tensor<S>, _ images: Tensor<S>) -> Tensor<S> {
        let p = layout.views(of: parameters)
        let same = ConvGeometry(stride: 1, padding: 1)
        var h = conv2d(images, weightNormalized(p["conv1.direction"]!, gain: p["conv1.gain"]!), same).maxPooled(Self.pool)
        h = meanOnlyBatchNorm(h, bias: p["bn1.bias"]!).leakyReLU(slope: 0.1)
        h = conv2d(h, weightNormalized(p["conv2.direction"]!, gain: p["conv2.gain"]!), same).maxPooled(Self.pool)
        h = meanOnlyBatchNorm(h, bias: p["bn2.bias"]!).leakyReLU(slope: 0.1)
        h = h.reshaped([images.shape[0], h.value.count / images.shape[0]])
        h = matmul(h, weightNormalized(p["fc1.direction"]!, gain: p["fc1.gain"]!), transposeB: true)
        h = meanOnlyBatchNorm(h, bias: p["bn3.bias"]!).leakyReLU(slope: 0.1)
        return linear(h, weight: weightNormalized(p["fc2.direction"]!, gain: p["fc2.gain"]!), bias: p["fc2.bias"]!)
    }
}
