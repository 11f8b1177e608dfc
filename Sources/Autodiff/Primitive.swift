import TensorCore

/// The closed set of differentiable primitives. Every other operation is a
/// composite of these. `Operation` carries their parameters; the derivative
/// rules in `Backward.swift` are one exhaustive switch over it.
public enum Primitive: String, CaseIterable, Sendable {
    case add, subtract, multiply, divide, negate, exp, log
    case sum, expand, reshape, permute, matmul
    case concat, split
    case conv2d, conv2dGradInput, conv2dGradWeight
    case maxPoolSelect, maxPoolScatter, avgPool, avgPoolTranspose
    case leakyReLUGate
    case reflectionPad, reflectionPadAdjoint
    case checkpoint
}

/// A recorded primitive application with its parameters.
enum Operation<S: TensorScalar> {
    case add, subtract, multiply, divide, negate, exp, log
    /// Sum over axes, keeping them as size 1.
    case sum(axes: [Int])
    /// Broadcast to a shape.
    case expand(to: [Int])
    case reshape(to: [Int])
    case permute([Int])
    case matmul(transposeA: Bool, transposeB: Bool)
    case concat(axis: Int)
    /// Multi-output: one output per size.
    case split(axis: Int, sizes: [Int])
    /// Inputs (x, w).
    case conv2d(ConvGeometry)
    /// Inputs (gy, w); output shape is x's.
    case conv2dGradInput(ConvGeometry, inputShape: [Int])
    /// Inputs (x, gy); output shape is w's.
    case conv2dGradWeight(ConvGeometry, weightShape: [Int])
    /// Inputs (x, values).
    case maxPoolSelect(PoolGeometry)
    /// Inputs (x, gradient).
    case maxPoolScatter(PoolGeometry)
    case avgPool(PoolGeometry)
    /// Input gradient; output shape is the pooled input's.
    case avgPoolTranspose(PoolGeometry, inputShape: [Int])
    /// Inputs (gate, values): values where gate > 0, else slope·values.
    case leakyReLUGate(slope: S)
    /// Reflection padding of the last two axes by `amount`.
    case reflectionPad(amount: Int)
    /// Its adjoint: padded gradient → unpadded shape.
    case reflectionPadAdjoint(amount: Int)
    /// Multi-output: a block re-run during the backward pass.
    case checkpoint(([Tensor<S>]) -> [Tensor<S>])

    var primitive: Primitive {
        switch self {
        case .add: .add
        case .subtract: .subtract
        case .multiply: .multiply
        case .divide: .divide
        case .negate: .negate
        case .exp: .exp
        case .log: .log
        case .sum: .sum
        case .expand: .expand
        case .reshape: .reshape
        case .permute: .permute
        case .matmul: .matmul
        case .concat: .concat
        case .split: .split
        case .conv2d: .conv2d
        case .conv2dGradInput: .conv2dGradInput
        case .conv2dGradWeight: .conv2dGradWeight
        case .maxPoolSelect: .maxPoolSelect
        case .maxPoolScatter: .maxPoolScatter
        case .avgPool: .avgPool
        case .avgPoolTranspose: .avgPoolTranspose
        case .leakyReLUGate: .leakyReLUGate
        case .reflectionPad: .reflectionPad
        case .reflectionPadAdjoint: .reflectionPadAdjoint
        case .checkpoint: .checkpoint
        }
    }
}

/// One recorded application: the operation, the tensors it read, and the
/// shapes of what it produced. Output tensors point at their node, not the
/// other way round, so a graph is freed as soon as its outputs are.
final class Node<S: TensorScalar> {
    let operation: Operation<S>
    private(set) var inputs: [Tensor<S>]
    let outputShapes: [[Int]]

    init(_ operation: Operation<S>, inputs: [Tensor<S>], outputShapes: [[Int]]) {
        self.operation = operation
        self.inputs = inputs
        self.outputShapes = outputShapes
    }

    /// Frees the graph above this node iteratively: ARC's recursive release
    /// would overflow the stack on a long unrolled chain.
    deinit {
        var pending: [Tensor<S>] = []
        swap(&pending, &inputs)
        while var tensor = pending.popLast() {
            guard isKnownUniquelyReferenced(&tensor), var node = tensor.takeNode(),
                  isKnownUniquelyReferenced(&node) else { continue }
            pending.append(contentsOf: node.inputs)
            node.inputs = []
        }
    }
}
