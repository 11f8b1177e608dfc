import Testing
import Autodiff
import NN
@testable import TensorCore

/// One differentiable operation under test, with input shapes chosen to
/// exercise broadcasting, strides, padding and groups.
struct GradCase: Sendable, CustomTestStringConvertible {
    /// The primitive this case covers (nil for a composite).
    let primitive: Primitive?
    let label: String
    let inputShapes: [[Int]]
    /// Inputs drawn as 0.5 + |normal| (log, divide).
    var positive = false
    let apply: @Sendable ([Tensor<Double>]) -> [Tensor<Double>]

    var testDescription: String { "\(primitive.map(\.rawValue) ?? "composite") \(label) inputs \(inputShapes)" }

    func inputs(seed: UInt64) -> [NDArray<Double>] {
        var rng = RandomStream(seed: seed)
        let x = GradCheck.random(inputShapes, &rng)
        return positive ? x.map { NDArray(shape: $0.shape, data: $0.data.map { 0.5 + abs($0) }) } : x
    }

    /// Output values with inputs as differentiable leaves (so blocks that take
    /// inner gradients behave as in training).
    func outputs(_ x: [NDArray<Double>]) -> [NDArray<Double>] {
        apply(GradCheck.leaves(x)).map(\.value)
    }
}

private func one(_ f: @escaping @Sendable ([Tensor<Double>]) -> Tensor<Double>) -> @Sendable ([Tensor<Double>]) -> [Tensor<Double>] {
    { [f($0)] }
}

let conv = ConvGeometry(stride: 1, padding: 1)
let convStrided = ConvGeometry(stride: 2, padding: 0)
let convGrouped = ConvGeometry(stride: 2, padding: 1, groups: 2)
let convDepthwise = ConvGeometry(stride: 1, padding: 1, groups: 3)
let pool = PoolGeometry(kernel: 3, stride: 2, padding: 1)

/// The table: every primitive at least once.
let primitiveCases: [GradCase] = [
    GradCase(primitive: .add, label: "broadcast", inputShapes: [[2, 3, 4], [3, 1]], apply: one { $0[0] + $0[1] }),
    GradCase(primitive: .add, label: "scalar", inputShapes: [[2, 3], []], apply: one { $0[0] + $0[1] }),
    GradCase(primitive: .subtract, label: "broadcast", inputShapes: [[4], [2, 4]], apply: one { $0[0] - $0[1] }),
    GradCase(primitive: .multiply, label: "both broadcast", inputShapes: [[2, 1, 4], [3, 1]], apply: one { $0[0] * $0[1] }),
    GradCase(primitive: .divide, label: "broadcast", inputShapes: [[2, 3], [3]], positive: true, apply: one { $0[0] / $0[1] }),
    GradCase(primitive: .negate, label: "", inputShapes: [[3, 4]], apply: one { -$0[0] }),
    GradCase(primitive: .exp, label: "", inputShapes: [[3, 4]], apply: one { $0[0].exp() }),
    GradCase(primitive: .log, label: "", inputShapes: [[3, 4]], positive: true, apply: one { $0[0].log() }),
    GradCase(primitive: .sum, label: "axes [0,2]", inputShapes: [[2, 3, 4]], apply: one { $0[0].sum(axes: [0, 2]) }),
    GradCase(primitive: .sum, label: "all", inputShapes: [[2, 3]], apply: one { $0[0].sum() }),
    GradCase(primitive: .expand, label: "to [2,3,4]", inputShapes: [[3, 1]], apply: one { $0[0].expanded(to: [2, 3, 4]) }),
    GradCase(primitive: .reshape, label: "to [3,4]", inputShapes: [[2, 6]], apply: one { $0[0].reshaped([3, 4]) }),
    GradCase(primitive: .permute, label: "[2,0,1]", inputShapes: [[2, 3, 4]], apply: one { $0[0].permuted([2, 0, 1]) }),
    GradCase(primitive: .matmul, label: "A·B", inputShapes: [[3, 4], [4, 5]], apply: one { matmul($0[0], $0[1]) }),
    GradCase(primitive: .matmul, label: "Aᵀ·B", inputShapes: [[4, 3], [4, 5]], apply: one { matmul($0[0], $0[1], transposeA: true) }),
    GradCase(primitive: .matmul, label: "A·Bᵀ", inputShapes: [[3, 4], [5, 4]], apply: one { matmul($0[0], $0[1], transposeB: true) }),
    GradCase(primitive: .matmul, label: "Aᵀ·Bᵀ", inputShapes: [[4, 3], [5, 4]],
             apply: one { matmul($0[0], $0[1], transposeA: true, transposeB: true) }),
    GradCase(primitive: .concat, label: "axis 1", inputShapes: [[2, 3], [2, 2]], apply: one { concat($0, axis: 1) }),
    GradCase(primitive: .split, label: "axis 0 sizes [2,0,3]", inputShapes: [[5, 3]],
             apply: { $0[0].split(axis: 0, sizes: [2, 0, 3]) }),
    GradCase(primitive: .split, label: "one piece unused", inputShapes: [[4, 2]],
             apply: { [$0[0].split(axis: 0, sizes: [1, 3])[1]] }),
    GradCase(primitive: .conv2d, label: "stride 1 pad 1", inputShapes: [[2, 2, 5, 5], [3, 2, 3, 3]],
             apply: one { conv2d($0[0], $0[1], conv) }),
    GradCase(primitive: .conv2d, label: "stride 2", inputShapes: [[1, 2, 6, 5], [2, 2, 3, 3]],
             apply: one { conv2d($0[0], $0[1], convStrided) }),
    GradCase(primitive: .conv2d, label: "groups 2 stride 2 pad 1", inputShapes: [[1, 4, 5, 5], [4, 2, 3, 3]],
             apply: one { conv2d($0[0], $0[1], convGrouped) }),
    GradCase(primitive: .conv2d, label: "depthwise", inputShapes: [[2, 3, 4, 4], [3, 1, 3, 3]],
             apply: one { conv2d($0[0], $0[1], convDepthwise) }),
    GradCase(primitive: .conv2d, label: "1x1", inputShapes: [[2, 3, 3, 3], [2, 3, 1, 1]],
             apply: one { conv2d($0[0], $0[1], ConvGeometry()) }),
    GradCase(primitive: .conv2dGradInput, label: "stride 1 pad 1", inputShapes: [[2, 3, 5, 5], [3, 2, 3, 3]],
             apply: one { conv2dGradInput($0[0], $0[1], inputShape: [2, 2, 5, 5], conv) }),
    GradCase(primitive: .conv2dGradInput, label: "groups 2 stride 2 pad 1", inputShapes: [[1, 4, 3, 3], [4, 2, 3, 3]],
             apply: one { conv2dGradInput($0[0], $0[1], inputShape: [1, 4, 5, 5], convGrouped) }),
    GradCase(primitive: .conv2dGradWeight, label: "stride 1 pad 1", inputShapes: [[2, 2, 5, 5], [2, 3, 5, 5]],
             apply: one { conv2dGradWeight($0[0], $0[1], weightShape: [3, 2, 3, 3], conv) }),
    GradCase(primitive: .conv2dGradWeight, label: "stride 2", inputShapes: [[1, 2, 6, 5], [1, 2, 2, 2]],
             apply: one { conv2dGradWeight($0[0], $0[1], weightShape: [2, 2, 3, 3], convStrided) }),
    GradCase(primitive: .maxPoolSelect, label: "k3 s2 p1", inputShapes: [[1, 2, 5, 5], [1, 2, 5, 5]],
             apply: one { maxPoolSelect($0[0], $0[1], pool) }),
    GradCase(primitive: .maxPoolSelect, label: "max pool (x, x)", inputShapes: [[2, 2, 4, 4]],
             apply: one { $0[0].maxPooled(PoolGeometry(kernel: 2, stride: 2)) }),
    GradCase(primitive: .maxPoolScatter, label: "k3 s2 p1", inputShapes: [[1, 2, 5, 5], [1, 2, 3, 3]],
             apply: one { maxPoolScatter($0[0], $0[1], pool) }),
    GradCase(primitive: .avgPool, label: "k3 s1 p1", inputShapes: [[1, 2, 4, 4]],
             apply: one { avgPool($0[0], PoolGeometry(kernel: 3, stride: 1, padding: 1)) }),
    GradCase(primitive: .avgPoolTranspose, label: "k3 s1 p1", inputShapes: [[1, 2, 4, 3]],
             apply: one { avgPoolTranspose($0[0], inputShape: [1, 2, 4, 3], PoolGeometry(kernel: 3, stride: 1, padding: 1)) }),
    GradCase(primitive: .avgPoolTranspose, label: "k3 s2 p1", inputShapes: [[1, 2, 3, 3]],
             apply: one { avgPoolTranspose($0[0], inputShape: [1, 2, 5, 5], pool) }),
    GradCase(primitive: .leakyReLUGate, label: "slope 0.1", inputShapes: [[2, 3, 2], [2, 3, 2]],
             apply: one { leakyReLUGate($0[0], $0[1], slope: 0.1) }),
    GradCase(primitive: .reflectionPad, label: "by 1", inputShapes: [[1, 2, 3, 4]], apply: one { $0[0].reflectionPadded(1) }),
    GradCase(primitive: .reflectionPad, label: "by 2", inputShapes: [[2, 1, 4, 3]], apply: one { $0[0].reflectionPadded(2) }),
    GradCase(primitive: .reflectionPadAdjoint, label: "by 1", inputShapes: [[1, 2, 5, 4]],
             apply: one { $0[0].reflectionPadAdjoint(1) }),
    GradCase(primitive: .reflectionPadAdjoint, label: "by 2", inputShapes: [[1, 1, 7, 8]],
             apply: one { $0[0].reflectionPadAdjoint(2) }),
    GradCase(primitive: .checkpoint, label: "block with an inner gradient", inputShapes: [[2, 3], [2, 3]], apply: { x in
        checkpoint(x) { y in
            let inner = (y[0] * y[1]).exp().sum()
            let g = gradients(of: inner, wrt: [y[0]], createGraph: true)[0]
            return [y[0] - g * 0.1, (y[1] * y[0]).tanh()]
        }
    }),
]

/// Composites the learners and generator are built from.
let compositeCases: [GradCase] = [
    GradCase(primitive: nil, label: "logSoftmax", inputShapes: [[3, 5]], apply: one { $0[0].logSoftmax() }),
    GradCase(primitive: nil, label: "tanh", inputShapes: [[2, 3]], apply: one { $0[0].tanh() }),
    GradCase(primitive: nil, label: "sigmoid", inputShapes: [[2, 3]], apply: one { $0[0].sigmoid() }),
    GradCase(primitive: nil, label: "squareRoot", inputShapes: [[2, 3]], positive: true, apply: one { $0[0].squareRoot() }),
    GradCase(primitive: nil, label: "leakyReLU", inputShapes: [[3, 4]], apply: one { $0[0].leakyReLU(slope: 0.1) }),
    GradCase(primitive: nil, label: "upsampledNearest(2)", inputShapes: [[1, 2, 2, 3]], apply: one { $0[0].upsampledNearest(2) }),
    GradCase(primitive: nil, label: "upsampledNearest(3)", inputShapes: [[2, 1, 2, 2]], apply: one { $0[0].upsampledNearest(3) }),
    GradCase(primitive: nil, label: "weightNormalized", inputShapes: [[3, 2, 3, 3], [3]],
             apply: one { weightNormalized($0[0], gain: $0[1]) }),
    GradCase(primitive: nil, label: "meanOnlyBatchNorm", inputShapes: [[3, 2, 2, 2], [2]],
             apply: one { meanOnlyBatchNorm($0[0], bias: $0[1]) }),
    GradCase(primitive: nil, label: "crossEntropy", inputShapes: [[4, 3]],
             apply: one { crossEntropy(logits: $0[0], labels: [0, 2, 1, 2]) }),
]

/// f(x) = Σₖ ⟨wₖ, outₖ ⊙ outₖ⟩: nonlinear in every output, so second derivatives
/// exercise each rule in both its inputs and its incoming gradient.
private func objective(_ outputs: [Tensor<Double>], _ weights: [NDArray<Double>]) -> Tensor<Double> {
    zip(outputs, weights).map { (Tensor($1) * $0 * $0).sum() }.reduce(Tensor(scalar: 0), +)
}

@Suite struct PrimitiveGradients {
    /// Storage taken without zero-filling is NaN, so an element a kernel forgets to write shows.
    init() { UninitializedStorage.poison() }

    @Test func everyPrimitiveIsInTheTable() {
        let covered = Set(primitiveCases.compactMap(\.primitive))
        let missing = Primitive.allCases.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "primitives without a gradient check: \(missing)")
    }

    @Test(arguments: primitiveCases + compositeCases)
    func firstOrder(_ c: GradCase) {
        let x = c.inputs(seed: 1)
        var rng = RandomStream(seed: 2)
        let w = c.outputs(x).map { rng.normal($0.shape) as NDArray<Double> }
        let v = GradCheck.random(c.inputShapes, &rng)
        let leaves = GradCheck.leaves(x)
        let grads = gradients(of: objective(c.apply(leaves), w), wrt: leaves)
        let ad = GradCheck.dot(grads.map(\.value), v)
        let fd = GradCheck.directional({ objective(c.apply(GradCheck.leaves($0)), w).scalar }, at: x, along: v)
        #expect(GradCheck.agree(ad, fd), "order 1 \(c.testDescription): autodiff \(ad) vs finite differences \(fd), relative error \(GradCheck.relativeError(ad, fd))")
    }

    @Test(arguments: primitiveCases + compositeCases)
    func secondOrder(_ c: GradCase) {
        let x = c.inputs(seed: 3)
        var rng = RandomStream(seed: 4)
        let w = c.outputs(x).map { rng.normal($0.shape) as NDArray<Double> }
        let u = GradCheck.random(c.inputShapes, &rng)
        let v = GradCheck.random(c.inputShapes, &rng)
        // h(x) = ⟨∇f(x), u⟩, built with createGraph so it can be differentiated.
        func h(_ leaves: [Tensor<Double>]) -> Tensor<Double> {
            let grads = gradients(of: objective(c.apply(leaves), w), wrt: leaves, createGraph: true)
            return zip(grads, u).map { ($0 * Tensor($1)).sum() }.reduce(Tensor(scalar: 0), +)
        }
        let leaves = GradCheck.leaves(x)
        let ad = GradCheck.dot(gradients(of: h(leaves), wrt: leaves).map(\.value), v)
        let fd = GradCheck.directional({ h(GradCheck.leaves($0)).scalar }, at: x, along: v)
        #expect(GradCheck.agree(ad, fd), "order 2 \(c.testDescription): autodiff \(ad) vs finite differences \(fd), relative error \(GradCheck.relativeError(ad, fd))")
    }

    /// ⟨u, Jv⟩ = ⟨Jᵀu, v⟩, with Jv obtained by differentiating Jᵀu with respect
    /// to u (so every rule is differentiated in its incoming gradient) and
    /// checked against central differences of the outputs.
    @Test(arguments: primitiveCases + compositeCases)
    func transposeIdentity(_ c: GradCase) {
        let x = c.inputs(seed: 5)
        var rng = RandomStream(seed: 6)
        let outputs = c.outputs(x)
        let u = outputs.map { Tensor(rng.normal($0.shape) as NDArray<Double>, requiresGrad: true) }
        let v = GradCheck.random(c.inputShapes, &rng)
        let leaves = GradCheck.leaves(x)
        let jtu = gradients(of: c.apply(leaves), wrt: leaves, seeds: u, createGraph: true)
        let pairing = zip(jtu, v).map { ($0 * Tensor($1)).sum() }.reduce(Tensor(scalar: 0), +)
        let jv = gradients(of: pairing, wrt: u).map(\.value)
        let lhs = GradCheck.dot(u.map(\.value), jv)
        let rhs = GradCheck.dot(jtu.map(\.value), v)
        #expect(GradCheck.agree(lhs, rhs), "⟨u,Jv⟩ \(lhs) vs ⟨Jᵀu,v⟩ \(rhs) for \(c.testDescription)")
        let plus = c.outputs(GradCheck.step(x, v, GradCheck.epsilon))
        let minus = c.outputs(GradCheck.step(x, v, -GradCheck.epsilon))
        for k in outputs.indices {
            for i in outputs[k].data.indices {
                let fd = (plus[k].data[i] - minus[k].data[i]) / (2 * GradCheck.epsilon)
                #expect(GradCheck.agree(jv[k].data[i], fd),
                        "Jv[\(k)][\(i)] \(jv[k].data[i]) vs finite differences \(fd) for \(c.testDescription)")
            }
        }
    }

    /// ⟨Hv, w⟩ = ⟨v, Hw⟩ for the Hessian of the objective.
    @Test(arguments: primitiveCases + compositeCases)
    func hessianSymmetry(_ c: GradCase) {
        let x = c.inputs(seed: 7)
        var rng = RandomStream(seed: 8)
        let weights = c.outputs(x).map { rng.normal($0.shape) as NDArray<Double> }
        let v = GradCheck.random(c.inputShapes, &rng)
        let w = GradCheck.random(c.inputShapes, &rng)
        func hessianTimes(_ direction: [NDArray<Double>]) -> [NDArray<Double>] {
            let leaves = GradCheck.leaves(x)
            let grads = gradients(of: objective(c.apply(leaves), weights), wrt: leaves, createGraph: true)
            let pairing = zip(grads, direction).map { ($0 * Tensor($1)).sum() }.reduce(Tensor(scalar: 0), +)
            return gradients(of: pairing, wrt: leaves).map(\.value)
        }
        let hvw = GradCheck.dot(hessianTimes(v), w)
        let vhw = GradCheck.dot(v, hessianTimes(w))
        #expect(GradCheck.agree(hvw, vhw), "⟨Hv,w⟩ \(hvw) vs ⟨v,Hw⟩ \(vhw) for \(c.testDescription)")
    }
}

@Suite struct GraphSemantics {
    @Test func unusedInputsGetZeros() {
        let a = Tensor(NDArray<Double>(shape: [2], data: [1, 2]), requiresGrad: true)
        let b = Tensor(NDArray<Double>(shape: [3], data: [1, 2, 3]), requiresGrad: true)
        let grads = gradients(of: (a * a).sum(), wrt: [a, b])
        #expect(grads[0].value.data == [2, 4])
        #expect(grads[1].value == NDArray(zeros: [3]))
    }

    @Test func totalDerivativeThroughIntermediateWrtTensor() {
        let a = Tensor(NDArray<Double>(scalar: 3), requiresGrad: true)
        let b = a * a           // b depends on a
        let y = b * a           // y = a³
        let grads = gradients(of: y, wrt: [a, b])
        #expect(grads[0].scalar == 27)  // dy/da total = 3a²
        #expect(grads[1].scalar == 3)   // dy/db = a
    }

    /// Max pooling that is not recorded computes its values without
    /// positions: the same bits as the recorded pooling, Float32 and Float64.
    @Test func unrecordedMaxPoolingGivesTheRecordedValues() {
        var rng = RandomStream(seed: 3)
        let g = PoolGeometry(kernel: 3, stride: 2, padding: 1)
        let data = (0..<(2 * 3 * 9 * 10)).map { _ in Double(rng.nextInt(below: 5)) - 2 }
        let x64 = Tensor(NDArray<Double>(shape: [2, 3, 9, 10], data: data), requiresGrad: true)
        let x32 = Tensor(NDArray<Float>(shape: [2, 3, 9, 10], data: data.map { Float($0) }), requiresGrad: true)
        let recorded64 = x64.maxPooled(g), recorded32 = x32.maxPooled(g)
        #expect(recorded64.requiresGrad && recorded32.requiresGrad)
        #expect(withoutGradients { x64.maxPooled(g) }.value.data == recorded64.value.data)
        #expect(withoutGradients { x32.maxPooled(g) }.value.data.map(\.bitPattern) == recorded32.value.data.map(\.bitPattern))
    }

    @Test func noGradModeAndDetachRecordNothing() {
        let a = Tensor(NDArray<Double>(scalar: 2), requiresGrad: true)
        #expect(withoutGradients { (a * a).requiresGrad } == false)
        #expect((a.detached() * a.detached()).requiresGrad == false)
        #expect((a * a).requiresGrad)
        let grads = gradients(of: a.detached() * a, wrt: [a])
        #expect(grads[0].scalar == 2)
    }

    @Test func gradientsWithoutCreateGraphCarryNoGraph() {
        let a = Tensor(NDArray<Double>(scalar: 2), requiresGrad: true)
        #expect(gradients(of: a * a * a, wrt: [a])[0].requiresGrad == false)
        let g = gradients(of: a * a * a, wrt: [a], createGraph: true)[0]
        #expect(g.requiresGrad && g.scalar == 12)
        #expect(gradients(of: g, wrt: [a])[0].scalar == 12)   // d²(a³)/da² = 6a
    }

    /// Saturated inputs: values and first and second derivatives stay finite
    /// (a naive e⁻ˣ overflows in Float32 and its rule gives 0·∞ = NaN).
    @Test func saturatedSigmoidAndTanhStayFinite() {
        let x = Tensor(NDArray<Float>(shape: [4], data: [-200, -90, 90, 200]), requiresGrad: true)
        for (name, f) in [("sigmoid", { (t: Tensor<Float>) in t.sigmoid() }), ("tanh", { (t: Tensor<Float>) in t.tanh() })] {
            let y = f(x)
            let g = gradients(of: y.sum(), wrt: [x], createGraph: true)[0]
            let h = gradients(of: g.sum(), wrt: [x])[0]
            let all = y.value.data + g.value.data + h.value.data
            let finite = all.allSatisfy { $0.isFinite }
            #expect(finite, "\(name): \(y.value.data) \(g.value.data) \(h.value.data)")
        }
        let tanhValues = x.tanh().value.data, sigmoidValues = x.sigmoid().value.data
        #expect(tanhValues == [-1, -1, 1, 1])
        #expect(sigmoidValues[0] == 0 && sigmoidValues[1] < 1e-38 && sigmoidValues[2] == 1 && sigmoidValues[3] == 1,
                "sigmoid at -200, -90, 90, 200: \(sigmoidValues)")
    }

    @Test func deepChainDoesNotOverflowTheStack() {
        let a = Tensor(NDArray<Double>(scalar: 1), requiresGrad: true)
        var y = a
        for _ in 0..<200_000 { y = y + a }
        #expect(gradients(of: y, wrt: [a])[0].scalar == 200_001)
    }
}
