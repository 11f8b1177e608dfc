import Autodiff
import NN
import TensorCore

/// A learner built from an `Architecture` for images of `image`'s shape.
///
/// Stem: 3×3 convolution C → width. Block b (channels c = width·2^b): before
/// it, if b > 0, a stride-2 3×3 convolution c/2 → c (sides halved, rounded
/// up); then its layers, each keeping [N, c, H, W]; with `skip`, the block's
/// input is added to its output. Head: mean over H and W, then a linear
/// layer → classes. Every convolution is weight-normalised without bias and
/// followed by mean-only batch norm and leaky ReLU(0.1); a separable layer's
/// depthwise and pointwise convolutions share one batch norm after the
/// pointwise one. Pooling layers (3×3, stride 1, padding 1) have no parameters.
///
/// Parameter names: `stem.*`, `block<b>.reduce.*`, `block<b>.layer<l>.*`
/// (`.depthwise.*` / `.pointwise.*` for separable layers), `head.*`, with
/// 1-based b and l, ending in `.direction`, `.gain` or `.bias`.
public struct ArchitectureLearner: LearnerModel {
    public let architecture: Architecture
    public let image: ImageShape
    public let layout: ParameterLayout
    /// Multiply-adds of the convolutions and the head for one image (the
    /// "FLOPs" NAS papers report); pooling, normalisation and activations
    /// are not counted.
    public let multiplyAdds: Int
    let steps: [Step]

    /// One step of the forward pass, planned once from the architecture.
    enum Step: Sendable {
        /// Weight-normalised convolution with parameters `name.direction`, `name.gain`.
        case convolution(name: String, geometry: ConvGeometry)
        /// Mean-only batch norm with bias `name`, then leaky ReLU.
        case normalize(name: String)
        case maxPool, avgPool
        /// Remember the current activation for a skip connection.
        case skipFrom
        /// Add the remembered activation.
        case skipTo
    }

    static let samePool = PoolGeometry(kernel: 3, stride: 1, padding: 1)

    public init(architecture: Architecture, image: ImageShape) {
        self.architecture = architecture
        self.image = image
        var layout = ParameterLayout()
        var steps: [Step] = []
        var side = (height: image.height, width: image.width)
        var multiplyAdds = 0
        func convolution(_ name: String, in input: Int, out output: Int, kernel: Int, stride: Int = 1, depthwise: Bool = false) {
            side = (height: (side.height + 2 * (kernel / 2) - kernel) / stride + 1,
                    width: (side.width + 2 * (kernel / 2) - kernel) / stride + 1)
            multiplyAdds += output * (depthwise ? 1 : input) * kernel * kernel * side.height * side.width
            layout.add("\(name).direction", shape: [output, depthwise ? 1 : input, kernel, kernel])
            layout.add("\(name).gain", shape: [output])
            steps.append(.convolution(name: name, geometry: ConvGeometry(stride: stride, padding: kernel / 2,
                                                                          groups: depthwise ? input : 1)))
        }
        func normalize(_ name: String, channels: Int) {
            layout.add("\(name).bn.bias", shape: [channels])
            steps.append(.normalize(name: "\(name).bn.bias"))
        }
        var channels = architecture.width
        convolution("stem", in: image.channels, out: channels, kernel: 3)
        normalize("stem", channels: channels)
        for (b, block) in architecture.blocks.enumerated() {
            if b > 0 {
                convolution("block\(b + 1).reduce", in: channels, out: 2 * channels, kernel: 3, stride: 2)
                channels *= 2
                normalize("block\(b + 1).reduce", channels: channels)
            }
            if block.skip { steps.append(.skipFrom) }
            for (l, op) in block.layers.enumerated() {
                let name = "block\(b + 1).layer\(l + 1)"
                switch op {
                case .conv3x3, .conv1x1:
                    convolution(name, in: channels, out: channels, kernel: op.kernel)
                    normalize(name, channels: channels)
                case .separable3x3, .separable1x1:
                    convolution("\(name).depthwise", in: channels, out: channels, kernel: op.kernel, depthwise: true)
                    convolution("\(name).pointwise", in: channels, out: channels, kernel: 1)
                    normalize(name, channels: channels)
                case .maxPool3x3: steps.append(.maxPool)
                case .avgPool3x3: steps.append(.avgPool)
                }
            }
            if block.skip { steps.append(.skipTo) }
        }
        layout.add("head.direction", shape: [image.classes, channels])
        layout.add("head.gain", shape: [image.classes])
        layout.add("head.bias", shape: [image.classes])
        self.layout = layout
        self.multiplyAdds = multiplyAdds + channels * image.classes
        self.steps = steps
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { layout.count }

    /// Logits [N, classes] of images [N, C, H, W] under `parameters` [parameterCount].
    public func logits<S>(_ parameters: Tensor<S>, _ images: Tensor<S>) -> Tensor<S> {
        forward(parameters, images, batchNorm: true) { _ in }
    }

    /// Logits [N, classes] of images [N, C, H, W]; `observe` sees the input of
    /// every leaky ReLU ([N, c, H', W'], in order). Without `batchNorm` each
    /// normalisation only adds its bias (for training-free scores that are
    /// defined on networks without batch norm).
    public func forward<S>(_ parameters: Tensor<S>, _ images: Tensor<S>, batchNorm: Bool,
                           observe: (Tensor<S>) -> Void) -> Tensor<S> {
        require(images.rank == 4 && Array(images.shape.dropFirst()) == Array(image.batch(0).dropFirst()),
                "architecture learner for images \(image.batch(0).dropFirst()) given a batch \(images.shape)")
        let p = layout.views(of: parameters)
        var h = images
        var skipped: Tensor<S>?
        for step in steps {
            switch step {
            case .convolution(let name, let geometry):
                h = conv2d(h, weightNormalized(p["\(name).direction"]!, gain: p["\(name).gain"]!), geometry)
            case .normalize(let name):
                let bias = p[name]!
                let preActivation = batchNorm ? meanOnlyBatchNorm(h, bias: bias) : h + bias.reshaped([1, bias.shape[0], 1, 1])
                observe(preActivation)
                h = preActivation.leakyReLU(slope: 0.1)
            case .maxPool: h = h.maxPooled(Self.samePool)
            case .avgPool: h = avgPool(h, Self.samePool)
            case .skipFrom: skipped = h
            case .skipTo: h = h + skipped!
            }
        }
        let pooled = h.mean(axes: [2, 3]).reshaped([h.shape[0], h.shape[1]])
        return linear(pooled, weight: weightNormalized(p["head.direction"]!, gain: p["head.gain"]!), bias: p["head.bias"]!)
    }
}
