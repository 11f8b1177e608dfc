import TensorCore

/// A value that remembers how it was computed, so gradients can flow back to
/// the tensors it came from — including gradients of gradients.
///
/// Create differentiable leaves with `Tensor(_:requiresGrad: true)`; every
/// operation on a tensor that requires gradients (while recording is on, see
/// `withoutGradients`) records a node. `gradients(of:wrt:)` walks the record.
public final class Tensor<S: TensorScalar> {
    public let value: NDArray<S>
    /// True for differentiable leaves and for everything computed from them
    /// while recording.
    public let requiresGrad: Bool
    /// The node that produced this tensor, or nil for a leaf or constant.
    /// Only cleared by `takeNode` while the graph is being freed.
    private(set) var node: Node<S>?
    /// Which output of `node` this is.
    let outputIndex: Int
    /// The max-pooling positions of `value` for the geometry last asked: a
    /// pooling, its backward and the backward of that all select or scatter
    /// at the same positions of the same input.
    private var maxPoolPositionsCache: (geometry: PoolGeometry, positions: [Int32])?

    /// A leaf (`requiresGrad: true`) or a constant.
    public init(_ value: NDArray<S>, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.node = nil
        self.outputIndex = 0
    }

    /// A constant rank-0 tensor.
    public convenience init(scalar: S) { self.init(NDArray(scalar: scalar)) }

    init(_ value: NDArray<S>, node: Node<S>, outputIndex: Int) {
        self.value = value
        self.requiresGrad = true
        self.node = node
        self.outputIndex = outputIndex
    }

    public var shape: [Int] { value.shape }
    public var rank: Int { value.rank }
    /// The single value of a one-element tensor.
    public var scalar: S { value.scalar }

    /// Hands over the producing node (used only by `Node.deinit` on a tensor
    /// nobody else references).
    func takeNode() -> Node<S>? {
        defer { node = nil }
        return node
    }

    /// Positions of each pooling window's maximum in `value` (computed once per geometry asked in a row).
    func maxPoolPositions(_ geometry: PoolGeometry) -> [Int32] {
        if let cached = maxPoolPositionsCache, cached.geometry == geometry { return cached.positions }
        let positions = NDArray.maxPoolPositions(value, geometry)
        maxPoolPositionsCache = (geometry, positions)
        return positions
    }

    /// The same value without its history (a constant).
    public func detached() -> Tensor { Tensor(value) }

    /// Applies a primitive: computes its value(s) and records a node if any
    /// input requires gradients and recording is on.
    static func apply(_ operation: Operation<S>, _ inputs: [Tensor<S>]) -> [Tensor<S>] {
        let recorded = GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad })
        let values = evaluate(operation, inputs, recorded: recorded)
        guard recorded else { return values.map { Tensor($0) } }
        let node = Node(operation, inputs: inputs, outputShapes: values.map { $0.shape })
        return values.enumerated().map { Tensor($0.element, node: node, outputIndex: $0.offset) }
    }

    static func apply1(_ operation: Operation<S>, _ inputs: Tensor<S>...) -> Tensor<S> {
        apply(operation, inputs)[0]
    }

    /// The forward computation of every primitive; `recorded`: whether a
    /// node will remember it for a backward pass.
    private static func evaluate(_ operation: Operation<S>, _ inputs: [Tensor<S>], recorded: Bool) -> [NDArray<S>] {
        let v = inputs.map { $0.value }
        switch operation {
        case .add: return [v[0].applying(.add, v[1])]
        case .subtract: return [v[0].applying(.subtract, v[1])]
        case .multiply: return [v[0].applying(.multiply, v[1])]
        case .divide: return [v[0].applying(.divide, v[1])]
        case .negate: return [v[0].applying(.negate)]
        case .exp: return [v[0].applying(.exp)]
        case .log: return [v[0].applying(.log)]
        case .sum(let axes): return [v[0].sum(axes: axes)]
        case .expand(let shape): return [v[0].expanded(to: shape)]
        case .reshape(let shape): return [v[0].reshaped(shape)]
        case .permute(let p): return [v[0].permuted(p)]
        case .matmul(let ta, let tb): return [.matmul(v[0], v[1], transposeA: ta, transposeB: tb)]
        case .concat(let axis): return [.concatenate(v, axis: axis)]
        case .split(let axis, let sizes): return v[0].split(axis: axis, sizes: sizes)
        case .conv2d(let g): return [.conv2d(v[0], v[1], g)]
        case .conv2dGradInput(let g, let shape): return [.conv2dGradInput(v[0], v[1], inputShape: shape, g)]
        case .conv2dGradWeight(let g, let shape): return [.conv2dGradWeight(v[0], v[1], weightShape: shape, g)]
        case .maxPoolSelect(let g):
            // Plain max pooling that nothing will differentiate needs no positions.
            if !recorded && inputs[0] === inputs[1] { return [.maxPool(v[0], g)] }
            return [.maxPoolSelect(v[1], positions: inputs[0].maxPoolPositions(g), outputShape: g.outputShape(v[0].shape))]
        case .maxPoolScatter(let g):
            return [.maxPoolScatter(v[1], positions: inputs[0].maxPoolPositions(g), inputShape: v[0].shape)]
        case .avgPool(let g): return [.avgPool(v[0], g)]
        case .avgPoolTranspose(let g, let shape): return [.avgPoolTranspose(v[0], inputShape: shape, g)]
        case .leakyReLUGate(let slope): return [v[0].leakyReLUGating(v[1], slope: slope)]
        case .reflectionPad(let amount): return [v[0].reflectionPadded(amount)]
        case .reflectionPadAdjoint(let amount): return [v[0].reflectionPadAdjoint(amount)]
        case .checkpoint(let body):
            // Run the block on fresh leaves: its graph stays local to this call
            // and is freed on return; only the output values are kept.
            let leaves = inputs.map { Tensor($0.value, requiresGrad: $0.requiresGrad) }
            return body(leaves).map { $0.value }
        }
    }
}
