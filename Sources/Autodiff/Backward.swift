import TensorCore

/// Identifies a tensor in the graph: a leaf by object identity, a computed
/// tensor by (node, output index).
private enum TensorKey: Hashable {
    case leaf(ObjectIdentifier)
    case output(ObjectIdentifier, Int)

    init<S>(_ t: Tensor<S>) {
        if let node = t.node { self = .output(ObjectIdentifier(node), t.outputIndex) }
        else { self = .leaf(ObjectIdentifier(t)) }
    }
}

/// Gradients of `output` with respect to each of `inputs`: ∂⟨seed, output⟩/∂input.
///
/// - `seed`: the output's cotangent (ones if nil), same shape as `output`.
/// - `createGraph`: record the backward computation so the returned gradients
///   can be differentiated again (second order).
/// Inputs the output does not depend on get zeros of their shape.
public func gradients<S>(of output: Tensor<S>, wrt inputs: [Tensor<S>], seed: Tensor<S>? = nil,
                         createGraph: Bool = false) -> [Tensor<S>] {
    gradients(of: [output], wrt: inputs, seeds: seed.map { [$0] }, createGraph: createGraph)
}

/// Gradients of Σᵢ ⟨seedᵢ, outputᵢ⟩ with respect to each of `inputs`.
public func gradients<S>(of outputs: [Tensor<S>], wrt inputs: [Tensor<S>], seeds: [Tensor<S>]? = nil,
                         createGraph: Bool = false) -> [Tensor<S>] {
    backward(outputs, inputs, seeds: seeds, createGraph: createGraph, stopAt: [])
}

/// The backward walker. `stopAt` tensors are treated as leaves (their history
/// is not entered): that gives the partial derivatives a checkpoint needs.
private func backward<S>(_ outputs: [Tensor<S>], _ inputs: [Tensor<S>], seeds: [Tensor<S>]?,
                         createGraph: Bool, stopAt: Set<TensorKey>) -> [Tensor<S>] {
    if let seeds {
        require(seeds.count == outputs.count, "gradients: \(seeds.count) seeds for \(outputs.count) outputs")
        for (s, o) in zip(seeds, outputs) {
            require(s.shape == o.shape, "gradients: seed shape \(s.shape) differs from output shape \(o.shape)")
        }
    }
    let wrt = Set(inputs.map(TensorKey.init))

    // Topological order (inputs before consumers) by iterative depth-first search.
    func producer(_ t: Tensor<S>) -> Node<S>? {
        guard let node = t.node, !stopAt.contains(TensorKey(t)) else { return nil }
        return node
    }
    var order: [Node<S>] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(node: Node<S>, expanded: Bool)] = outputs.compactMap(producer).map { ($0, false) }
    while let (node, expanded) = stack.popLast() {
        if expanded { order.append(node); continue }
        guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
        stack.append((node, true))
        for input in node.inputs {
            if let child = producer(input), !visited.contains(ObjectIdentifier(child)) {
                stack.append((child, false))
            }
        }
    }

    // A node is needed when some input leads (through needed nodes) to a wrt tensor.
    var needed = Set<ObjectIdentifier>()
    func leadsToWrt(_ t: Tensor<S>) -> Bool {
        guard t.requiresGrad else { return false }
        if wrt.contains(TensorKey(t)) { return true }
        guard let p = producer(t) else { return false }
        return needed.contains(ObjectIdentifier(p))
    }
    for node in order where node.inputs.contains(where: leadsToWrt) {
        needed.insert(ObjectIdentifier(node))
    }

    return GradMode.with(enabled: createGraph) {
        var grads: [TensorKey: Tensor<S>] = [:]
        func accumulate(_ g: Tensor<S>, into t: Tensor<S>) {
            let key = TensorKey(t)
            let g = sumToShape(g, t.shape)
            grads[key] = grads[key].map { $0 + g } ?? g
        }
        for (i, out) in outputs.enumerated() {
            accumulate(seeds?[i] ?? Tensor(NDArray(repeating: 1, shape: out.shape)), into: out)
        }
        for node in order.reversed() where needed.contains(ObjectIdentifier(node)) {
            let id = ObjectIdentifier(node)
            let outGrads = node.outputShapes.indices.map { grads[.output(id, $0)] }
            for i in node.outputShapes.indices where !wrt.contains(.output(id, i)) {
                grads[.output(id, i)] = nil
            }
            guard outGrads.contains(where: { $0 != nil }) else { continue }
            let inputGrads = vectorJacobianProduct(node, outGrads, createGraph: createGraph)
            for (input, g) in zip(node.inputs, inputGrads) {
                if let g, leadsToWrt(input) { accumulate(g, into: input) }
            }
        }
        return inputs.map { grads[TensorKey($0)] ?? Tensor(NDArray(zeros: $0.shape)) }
    }
}

/// Sums a broadcast gradient back to `shape` (un-broadcasting happens here
/// only, never inside a rule).
private func sumToShape<S>(_ g: Tensor<S>, _ shape: [Int]) -> Tensor<S> {
    if g.shape == shape { return g }
    let lead = g.rank - shape.count
    require(lead >= 0, "gradient of shape \(g.shape) cannot un-broadcast to \(shape)")
    let axes = (0..<g.rank).filter { $0 < lead || (shape[$0 - lead] == 1 && g.shape[$0] != 1) }
    return g.sum(axes: axes).reshaped(shape)
}

/// The derivative rule of every primitive, written with differentiable ops so
/// that, when recording, the rules themselves can be differentiated.
/// `outGrads[i]` is nil when output i received no gradient.
private func vectorJacobianProduct<S>(_ node: Node<S>, _ outGrads: [Tensor<S>?], createGraph: Bool) -> [Tensor<S>?] {
    let x = node.inputs
    func zerosIfMissing(_ i: Int) -> Tensor<S> { outGrads[i] ?? Tensor(NDArray(zeros: node.outputShapes[i])) }
    let g = zerosIfMissing(0)
    switch node.operation {
    case .add: return [g, g]
    case .subtract: return [g, -g]
    case .multiply: return [g * x[1], g * x[0]]
    case .divide: return [g / x[1], -(g * x[0] / (x[1] * x[1]))]
    case .negate: return [-g]
    case .exp: return [g * x[0].exp()]
    case .log: return [g / x[0]]
    case .sum: return [g.expanded(to: x[0].shape)]
    case .expand: return [g]   // the walker sums it back to the input's shape
    case .reshape: return [g.reshaped(x[0].shape)]
    case .permute(let p):
        var inverse = [Int](repeating: 0, count: p.count)
        for (i, axis) in p.enumerated() { inverse[axis] = i }
        return [g.permuted(inverse)]
    case .matmul(let ta, let tb):
        let (a, b) = (x[0], x[1])
        switch (ta, tb) {
        case (false, false): return [matmul(g, b, transposeB: true), matmul(a, g, transposeA: true)]
        case (true, false): return [matmul(b, g, transposeB: true), matmul(a, g)]
        case (false, true): return [matmul(g, b), matmul(g, a, transposeA: true)]
        case (true, true): return [matmul(b, g, transposeA: true, transposeB: true),
                                   matmul(g, a, transposeA: true, transposeB: true)]
        }
    case .concat(let axis): return g.split(axis: axis, sizes: x.map { $0.shape[axis] })
    case .split(let axis, _): return [concat(node.outputShapes.indices.map(zerosIfMissing), axis: axis)]
    case .conv2d(let geo):
        return [conv2dGradInput(g, x[1], inputShape: x[0].shape, geo),
                conv2dGradWeight(x[0], g, weightShape: x[1].shape, geo)]
    case .conv2dGradInput(let geo, _):   // inputs (gy, w)
        return [conv2d(g, x[1], geo), conv2dGradWeight(g, x[0], weightShape: x[1].shape, geo)]
    case .conv2dGradWeight(let geo, _):  // inputs (x, gy)
        return [conv2dGradInput(x[1], g, inputShape: x[0].shape, geo), conv2d(x[0], g, geo)]
    case .maxPoolSelect(let geo):        // piecewise constant in x
        return [nil, maxPoolScatter(x[0], g, geo)]
    case .maxPoolScatter(let geo):
        return [nil, maxPoolSelect(x[0], g, geo)]
    case .avgPool(let geo): return [avgPoolTranspose(g, inputShape: x[0].shape, geo)]
    case .avgPoolTranspose(let geo, _): return [avgPool(g, geo)]
    case .leakyReLUGate(let slope):      // piecewise constant in the gate
        return [nil, leakyReLUGate(x[0], g, slope: slope)]
    case .reflectionPad(let amount): return [g.reflectionPadAdjoint(amount)]
    case .reflectionPadAdjoint(let amount): return [g.reflectionPadded(amount)]
    case .checkpoint(let body):
        // Re-run the block on the original inputs, recording, then take its
        // partial derivatives (stopping at the inputs).
        let recomputed = GradMode.with(enabled: true) { body(x) }
        let seeds = node.outputShapes.indices.map(zerosIfMissing)
        return backward(recomputed, x, seeds: seeds, createGraph: createGraph,
                        stopAt: Set(x.map(TensorKey.init)))
    }
}
