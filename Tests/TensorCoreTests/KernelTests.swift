import CDirectConv
import Synchronization
import Testing
@testable import TensorCore

/// Largest |fast − reference| relative to the largest |reference| element.
private func relativeError(_ fast: NDArray<Float>, _ reference: NDArray<Double>) -> Double {
    #expect(fast.shape == reference.shape)
    let scale = reference.data.map(abs).max() ?? 0
    let diff = zip(fast.data, reference.data).map { abs(Double($0) - $1) }.max() ?? 0
    return scale == 0 ? diff : diff / scale
}

extension Set where Element == ConvKernel {
    /// Every kernel of a convolution.
    static var all: Self { Set(ConvKernel.allCases) }
}

/// Float32 fast kernels against naive Float64 loops: relative error < 1e-4.
@Suite struct FastKernelsMatchReference {
    /// Storage taken without zero-filling is NaN, so an element a kernel forgets to write shows.
    init() { UninitializedStorage.poison() }

    static let tolerance = 1e-4

    /// `direct`: the kernels whose Float32 calls take the direct kernels
    /// rather than im2col + BLAS (`usesDirectKernels`); the test asserts it.
    struct ConvCase: Sendable, CustomTestStringConvertible {
        let input: [Int], weight: [Int], geometry: ConvGeometry, direct: Set<ConvKernel>
        var testDescription: String {
            let kernels = ConvKernel.allCases.map { "\($0)" + (direct.contains($0) ? " direct" : " BLAS") }
            return "x\(input) w\(weight) \(geometry) (\(kernels.joined(separator: ", ")))"
        }
    }

    static let convCases: [ConvCase] = [
        // Several groups: im2col + BLAS.
        ConvCase(input: [1, 4, 7, 7], weight: [6, 2, 3, 3], geometry: ConvGeometry(stride: 2, padding: 1, groups: 2), direct: []),
        ConvCase(input: [3, 8, 5, 5], weight: [4, 4, 1, 1], geometry: ConvGeometry(groups: 2), direct: []),
        // 1×1, stride 1, no padding: the image is its own column matrix (the
        // batch split unevenly over the workers); 1×1 with stride 2 still
        // forms columns.
        ConvCase(input: [3, 32, 5, 4], weight: [6, 32, 1, 1], geometry: ConvGeometry(), direct: []),
        ConvCase(input: [2, 30, 7, 7], weight: [5, 30, 1, 1], geometry: ConvGeometry(stride: 2), direct: .all),
        // C·KH·KW from 28 to 72 and at most 64 outputs: all direct. Stride 1
        // and as wide as the input, where each BLAS column row is the plane
        // moved (5×5 with padding 2; a plane smaller than the kernel);
        // strided column rows: stride 2 with padding (a search-space block's
        // reduction, odd side), stride 2 without, and stride 3.
        ConvCase(input: [3, 4, 9, 8], weight: [5, 4, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [2, 2, 6, 7], weight: [4, 2, 5, 5], geometry: ConvGeometry(stride: 1, padding: 2), direct: .all),
        ConvCase(input: [1, 4, 2, 3], weight: [4, 4, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [2, 4, 17, 16], weight: [4, 4, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [2, 4, 7, 7], weight: [6, 4, 3, 3], geometry: ConvGeometry(stride: 2, padding: 1), direct: .all),
        ConvCase(input: [2, 4, 9, 8], weight: [5, 4, 3, 3], geometry: ConvGeometry(stride: 2, padding: 0), direct: .all),
        ConvCase(input: [2, 4, 10, 9], weight: [5, 4, 3, 3], geometry: ConvGeometry(stride: 3, padding: 1), direct: .all),
        // More than 72 input values per pixel: grad-input alone direct up to
        // 64 outputs (depth past one 128-row pass of the direct kernels:
        // C·KH·KW 144), BLAS from 65; up to 72 input values with 65
        // outputs: the forward and grad-weight alone.
        ConvCase(input: [2, 16, 6, 5], weight: [12, 16, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: [.gradInput]),
        ConvCase(input: [3, 16, 7, 7], weight: [12, 16, 3, 3], geometry: ConvGeometry(stride: 2, padding: 1), direct: [.gradInput]),
        ConvCase(input: [1, 9, 5, 5], weight: [64, 9, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: [.gradInput]),
        ConvCase(input: [1, 9, 5, 5], weight: [65, 9, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: []),
        ConvCase(input: [1, 8, 5, 5], weight: [65, 8, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: [.forward, .gradWeight]),
        // Depthwise (a group per channel, one output each): the stencils,
        // CDirectConv's with stride 1 (rows of 8-float vectors, a 4-float
        // one and single floats: 29 wide; padding 0 to 2 with 3×3, 5×5 and
        // 1×1 kernels), the generic ones with stride 2.
        ConvCase(input: [2, 5, 6, 6], weight: [5, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1, groups: 5), direct: []),
        ConvCase(input: [2, 3, 13, 29], weight: [3, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1, groups: 3), direct: []),
        ConvCase(input: [3, 2, 9, 21], weight: [2, 1, 5, 5], geometry: ConvGeometry(stride: 1, padding: 2, groups: 2), direct: []),
        ConvCase(input: [1, 2, 9, 12], weight: [2, 1, 5, 5], geometry: ConvGeometry(stride: 1, padding: 1, groups: 2), direct: []),
        ConvCase(input: [3, 4, 7, 6], weight: [4, 1, 3, 3], geometry: ConvGeometry(stride: 2, padding: 1, groups: 4), direct: []),
        ConvCase(input: [1, 3, 6, 7], weight: [3, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 0, groups: 3), direct: []),
        ConvCase(input: [2, 3, 5, 5], weight: [3, 1, 1, 1], geometry: ConvGeometry(stride: 1, padding: 0, groups: 3), direct: []),
        // At most 27 input values per pixel, all direct: 1 or 3 channels,
        // stride 1 and 2, padding 0 to 2, odd sizes, output channels not a
        // multiple of the tiles (3 and 4), pixel counts below, at and past a
        // 32-wide tile (leftover columns in 1, 2 or 3 whole vectors, or not
        // whole), batch 1 and above the core count, and more output channels
        // than grad-input reads in one pass (128).
        ConvCase(input: [2, 3, 9, 8], weight: [4, 3, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [3, 3, 9, 8], weight: [4, 3, 3, 3], geometry: ConvGeometry(stride: 2, padding: 0), direct: .all),
        ConvCase(input: [5, 3, 11, 9], weight: [10, 3, 3, 3], geometry: ConvGeometry(stride: 1, padding: 0), direct: .all),
        ConvCase(input: [5, 1, 28, 28], weight: [8, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [2, 1, 8, 7], weight: [5, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [3, 1, 9, 7], weight: [7, 1, 3, 3], geometry: ConvGeometry(stride: 2, padding: 1), direct: .all),
        ConvCase(input: [1, 1, 15, 13], weight: [65, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 0), direct: .all),
        ConvCase(input: [3, 1, 9, 11], weight: [131, 1, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: .all),
        ConvCase(input: [3, 1, 13, 13], weight: [5, 1, 5, 5], geometry: ConvGeometry(stride: 2, padding: 2), direct: .all),
        ConvCase(input: [2, 4, 5, 5], weight: [3, 4, 1, 1], geometry: ConvGeometry(), direct: .all),
        // Few outputs: the generator's image layer (16 → 1 and 8 → 3
        // channels), and 144 input values with 4 outputs (grad-input alone).
        ConvCase(input: [3, 16, 10, 9], weight: [1, 16, 3, 3], geometry: ConvGeometry(stride: 1, padding: 0), direct: .all),
        ConvCase(input: [2, 8, 9, 9], weight: [3, 8, 3, 3], geometry: ConvGeometry(stride: 2, padding: 1), direct: .all),
        ConvCase(input: [2, 16, 9, 9], weight: [4, 16, 3, 3], geometry: ConvGeometry(stride: 1, padding: 1), direct: [.gradInput]),
    ]

    /// Every case through the entry points (whichever kernels they choose),
    /// then depthwise ones with stride 1 through both instances of
    /// CDirectConv's stencils, the others through im2col + BLAS and, for one
    /// group, through both instances of the direct kernels.
    @Test(arguments: convCases)
    func convolutionKernels(_ c: ConvCase) {
        var rng = RandomStream(seed: 11)
        let x: NDArray<Double> = rng.normal(c.input)
        let w: NDArray<Double> = rng.normal(c.weight)
        let outShape = c.geometry.outputShape(input: c.input, weight: c.weight)
        let gy: NDArray<Double> = rng.normal(outShape)
        let (xf, wf, gf) = (x.converted(to: Float.self), w.converted(to: Float.self), gy.converted(to: Float.self))
        let problem = ConvProblem(input: c.input, weight: c.weight, c.geometry)
        #expect(Set(ConvKernel.allCases.filter { problem.usesDirectKernels($0) }) == c.direct, "kernel choice for \(c.testDescription)")
        let expected = (forward: ReferenceKernels.conv2d(x, w, c.geometry),
                        gradInput: ReferenceKernels.conv2dGradInput(gy, w, inputShape: c.input, c.geometry),
                        gradWeight: ReferenceKernels.conv2dGradWeight(x, gy, weightShape: c.weight, c.geometry))

        func check(_ path: String, _ forward: NDArray<Float>, _ gradInput: NDArray<Float>, _ gradWeight: NDArray<Float>) {
            let errors = (relativeError(forward, expected.forward), relativeError(gradInput, expected.gradInput),
                          relativeError(gradWeight, expected.gradWeight))
            #expect(errors.0 < Self.tolerance, "\(path) forward \(c.testDescription): \(errors.0)")
            #expect(errors.1 < Self.tolerance, "\(path) grad-input \(c.testDescription): \(errors.1)")
            #expect(errors.2 < Self.tolerance, "\(path) grad-weight \(c.testDescription): \(errors.2)")
        }
        check("entry point", .conv2d(xf, wf, c.geometry), .conv2dGradInput(gf, wf, inputShape: c.input, c.geometry),
              .conv2dGradWeight(xf, gf, weightShape: c.weight, c.geometry))
        if problem.isDepthwise {
            #expect(problem.usesDepthwiseStencils == (c.geometry.stride == 1), "stencil choice for \(c.testDescription)")
            guard problem.usesDepthwiseStencils else { return }
            for code in [DirectKernelCode.fastest, .portable] {
                check("depthwise stencils \(code)", problem.stencilForward(xf, wf, code), problem.stencilGradInput(gf, wf, code),
                      problem.stencilGradWeight(xf, gf, code))
            }
            return
        }
        check("im2col + BLAS", .blasConv2d(xf, wf, problem), .blasConv2dGradInput(gf, wf, problem),
              .blasConv2dGradWeight(xf, gf, problem))
        guard c.geometry.groups == 1 else { return }
        for code in [DirectKernelCode.fastest, .portable] {
            check("direct \(code)", problem.directForward(xf, wf, code), problem.directGradInput(gf, wf, code),
                  problem.directGradWeight(xf, gf, code))
            // Streaming stores change where values are written from, never the values.
            #expect(problem.directForward(xf, wf, code, streamOutput: true).data == problem.directForward(xf, wf, code, streamOutput: false).data,
                    "streamed direct forward \(code) \(c.testDescription)")
        }
    }

    /// The streamed forward finds the first cache-line-aligned column itself:
    /// at every 4-byte offset of y from a 64-byte boundary it writes exactly
    /// what the plain forward writes, and nothing outside y.
    @Test func streamedDirectForwardAtEveryAlignment() {
        var rng = RandomStream(seed: 14)
        let x: NDArray<Float> = rng.normal([1, 16, 16]), w: NDArray<Float> = rng.normal([7, 1, 3, 3])
        let count = 7 * 16 * 16
        for code in [dc_fastest_code(), dc_portable] {
            var shape = dc_shape(channels: 1, height: 16, width: 16, outputs: 7, kernel_height: 3, kernel_width: 3,
                                 output_height: 16, output_width: 16, stride: 1, padding: 1, stream_output: 0)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: dc_scratch_count(&shape))
            defer { scratch.deallocate() }
            let plain = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { plain.deallocate() }
            dc_forward(code, &shape, x.data, w.data, plain, scratch)
            shape.stream_output = 1
            let raw = UnsafeMutableRawPointer.allocate(byteCount: 4 * (count + 32), alignment: 64)
            defer { raw.deallocate() }
            let buffer = raw.bindMemory(to: Float.self, capacity: count + 32)
            for offset in 0..<16 {
                buffer.initialize(repeating: -1, count: count + 32)
                dc_forward(code, &shape, x.data, w.data, buffer + offset, scratch)
                #expect((0..<count).allSatisfy { buffer[offset + $0] == plain[$0] }, "offset \(offset) floats, code \(code)")
                #expect((0..<offset).allSatisfy { buffer[$0] == -1 } && (offset + count..<count + 32).allSatisfy { buffer[$0] == -1 },
                        "offset \(offset) floats, code \(code): wrote outside y")
            }
        }
    }

    @Test func matmulAllTransposes() {
        var rng = RandomStream(seed: 12)
        let a: NDArray<Double> = rng.normal([7, 5]), b: NDArray<Double> = rng.normal([5, 9])
        let expected = ReferenceKernels.matmul(a, b)
        let af = a.converted(to: Float.self), bf = b.converted(to: Float.self)
        let at = af.permuted([1, 0]), bt = bf.permuted([1, 0])
        for (name, result) in [("NN", NDArray.matmul(af, bf)),
                               ("TN", .matmul(at, bf, transposeA: true)),
                               ("NT", .matmul(af, bt, transposeB: true)),
                               ("TT", .matmul(at, bt, transposeA: true, transposeB: true))] {
            let err = relativeError(result, expected)
            #expect(err < Self.tolerance, "matmul \(name) [7,5]·[5,9]: \(err)")
        }
    }

    @Test(arguments: [PoolGeometry(kernel: 3, stride: 2, padding: 1), PoolGeometry(kernel: 2, stride: 2),
                      PoolGeometry(kernel: 3, stride: 1, padding: 1), PoolGeometry(kernel: 5, stride: 1, padding: 2),
                      PoolGeometry(kernel: 1, stride: 1)])
    func pooling(_ g: PoolGeometry) {
        var rng = RandomStream(seed: 13)
        let x: NDArray<Double> = rng.normal([2, 3, 7, 6])
        let xf = x.converted(to: Float.self)
        let maxErr = relativeError(.maxPoolSelect(xf, positions: NDArray.maxPoolPositions(xf, g), outputShape: g.outputShape(xf.shape)),
                                   ReferenceKernels.maxPool(x, g))
        #expect(maxErr < Self.tolerance, "max pool \(g): \(maxErr)")
        let avgErr = relativeError(.avgPool(xf, g), ReferenceKernels.avgPool(x, g))
        #expect(avgErr < Self.tolerance, "avg pool \(g): \(avgErr)")
    }

    /// Every way max-pooling positions are computed: the entry point, the
    /// generic loops, and both instances of CDirectConv's vector loops.
    static func maxPoolPositionPaths(_ x: NDArray<Float>, _ g: PoolGeometry) -> [(name: String, positions: [Int32])] {
        [("entry point", NDArray.maxPoolPositions(x, g)), ("scalar", NDArray.scalarMaxPoolPositions(x, g)),
         ("vector, fastest", NDArray<Float>.vectorMaxPoolPositions(x, g, .fastest)),
         ("vector, portable", NDArray<Float>.vectorMaxPoolPositions(x, g, .portable))]
    }

    /// Every way max-pooling values are computed without positions (the
    /// entry point and both instances of the vector loops), as bit patterns,
    /// each with what it must equal: the elements of `x` at `positions`.
    static func expectPoolValuesAt(_ positions: [Int32], _ x: NDArray<Float>, _ g: PoolGeometry, _ what: String) {
        let expected = positions.map { x.data[Int($0)].bitPattern }
        for (name, pooled) in [("entry point", NDArray.maxPool(x, g)), ("vector, fastest", NDArray<Float>.vectorMaxPool(x, g, .fastest)),
                               ("vector, portable", NDArray<Float>.vectorMaxPool(x, g, .portable))] {
            let wrong = zip(pooled.data.map(\.bitPattern), expected).filter { $0 != $1 }.count
            #expect(pooled.shape == g.outputShape(x.shape) && pooled.count == expected.count && wrong == 0,
                    "max-pooling values \(g) of \(x.shape), \(what), \(name): \(wrong) differ from the elements at the positions")
        }
    }

    static let poolGeometries = [PoolGeometry(kernel: 3, stride: 2, padding: 1), PoolGeometry(kernel: 2, stride: 2),
                                 PoolGeometry(kernel: 3, stride: 1, padding: 1), PoolGeometry(kernel: 5, stride: 1, padding: 2),
                                 PoolGeometry(kernel: 3, stride: 3), PoolGeometry(kernel: 1, stride: 1),
                                 // Windows wider than a vector register's lanes.
                                 PoolGeometry(kernel: 9, stride: 1, padding: 4), PoolGeometry(kernel: 10, stride: 2),
                                 // More window positions than columns (padding above (kernel − 1) / 2).
                                 PoolGeometry(kernel: 3, stride: 1, padding: 2), PoolGeometry(kernel: 2, stride: 2, padding: 1)]

    /// Max pooling selects the first maximum of each window in row-major
    /// order: checked on values with many ties (three levels) against a scan
    /// of every window, by every path, on planes too narrow for a whole
    /// window, a small array and one large enough to be split and to leave
    /// 8-, 4- and 1-wide tails in the vector loops.
    @Test(arguments: poolGeometries)
    func maxPoolingPositionsUnderTies(_ g: PoolGeometry) {
        var rng = RandomStream(seed: 21)
        for shape in [[1, 2, 2, 2], [2, 3, 7, 6], [4, 9, 29, 31]] where shape[2] + 2 * g.padding >= g.kernel && shape[3] + 2 * g.padding >= g.kernel {
            let x = NDArray<Float>(shape: shape, data: (0..<Shape.count(shape)).map { _ in Float(rng.nextInt(below: 3)) })
            let out = g.outputShape(shape)
            var expected: [Int32] = []
            for plane in 0..<(shape[0] * shape[1]) { for oy in 0..<out[2] { for ox in 0..<out[3] {
                var best: Int?
                for ky in 0..<g.kernel { for kx in 0..<g.kernel {
                    let (iy, ix) = (oy * g.stride - g.padding + ky, ox * g.stride - g.padding + kx)
                    guard (0..<shape[2]).contains(iy) && (0..<shape[3]).contains(ix) else { continue }
                    let i = (plane * shape[2] + iy) * shape[3] + ix
                    if best.map({ x.data[i] > x.data[$0] }) ?? true { best = i }
                } }
                expected.append(Int32(best!))
            } } }
            for (name, positions) in Self.maxPoolPositionPaths(x, g) {
                let wrong = zip(positions, expected).filter { $0 != $1 }.count
                #expect(positions.count == expected.count && wrong == 0, "max-pooling positions \(g) of \(shape), \(name): \(wrong) wrong")
            }
            Self.expectPoolValuesAt(expected, x, g, "ties")
        }
    }

    /// With NaN and infinities among the values, every path picks the same
    /// positions (NaN wins only where it comes first in its window), and the
    /// values-only pooling the same bits (zeros of both signs included).
    @Test(arguments: poolGeometries)
    func maxPoolingPathsAgreeOnNonFiniteValues(_ g: PoolGeometry) {
        var rng = RandomStream(seed: 5)
        let shape = [2, 3, 13, 17]
        let special: [Float] = [.nan, .infinity, -.infinity, -0.0, 0.0]
        let x = NDArray<Float>(shape: shape, data: (0..<Shape.count(shape)).map { _ in
            let draw = rng.nextInt(below: 10)
            return draw < special.count ? special[draw] : Float(draw)
        })
        let paths = Self.maxPoolPositionPaths(x, g)
        for (name, positions) in paths.dropFirst() {
            let differ = zip(positions, paths[0].positions).filter { $0 != $1 }.count
            #expect(differ == 0, "max-pooling positions \(g) with NaN, ±∞ and ±0, \(name): \(differ) differ from the entry point's")
        }
        Self.expectPoolValuesAt(paths[0].positions, x, g, "NaN, ±∞ and ±0")
    }
}

@Suite struct LayoutKernels {
    /// Storage taken without zero-filling is NaN, so an element a kernel forgets to write shows.
    init() { UninitializedStorage.poison() }

    @Test func broadcastingArithmetic() {
        let a = NDArray<Double>(shape: [2, 1, 3], data: [1, 2, 3, 4, 5, 6])
        let b = NDArray<Double>(shape: [2, 1], data: [10, 20])
        let sum = a.applying(.add, b)
        #expect(sum.shape == [2, 2, 3])
        #expect(sum.data == [11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26])
        #expect(a.applying(.multiply, NDArray(scalar: 2)).data == [2, 4, 6, 8, 10, 12])
    }

    @Test func sumOverAxes() {
        let x = NDArray<Double>(shape: [2, 3, 2], data: (0..<12).map(Double.init))
        #expect(x.sum(axes: [1]).data == [6, 9, 24, 27])
        #expect(x.sum(axes: [0, 2]).data == [14, 22, 30])
        #expect(x.sum(axes: [0, 2]).shape == [1, 3, 1])
        #expect(x.sum(axes: [0, 1, 2]).data == [66])
    }

    /// Large enough for the workers to split the outputs (last axis reduced)
    /// or the kept last axis; integer values keep every order's sum exact.
    @Test func sumOverAxesSplitOverWorkers() {
        let shape = [8, 6, 1000]
        let x = NDArray<Float>(shape: shape, data: (0..<48_000).map { Float($0 % 7 - 3) })
        func expected(_ axes: Set<Int>) -> [Float] {
            let outShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            var out = [Float](repeating: 0, count: outShape.reduce(1, *))
            for i in 0..<8 { for j in 0..<6 { for k in 0..<1000 {
                let index = [i, j, k].enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
                out[(index[0] * outShape[1] + index[1]) * outShape[2] + index[2]] += x.data[(i * 6 + j) * 1000 + k]
            } } }
            return out
        }
        for axes in [[0, 2], [2], [0], [1], [0, 1]] {
            #expect(x.sum(axes: axes).data == expected(Set(axes)), "sum over \(axes)")
        }
    }

    @Test func permuteConcatSplitPad() {
        let x = NDArray<Double>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(x.permuted([1, 0]).data == [1, 4, 2, 5, 3, 6])
        let joined = NDArray.concatenate([x, NDArray(shape: [2, 1], data: [7, 8])], axis: 1)
        #expect(joined.data == [1, 2, 3, 7, 4, 5, 6, 8])
        let parts = joined.split(axis: 1, sizes: [1, 0, 3])
        #expect(parts.map(\.shape) == [[2, 1], [2, 0], [2, 3]])
        #expect(parts[2].data == [2, 3, 7, 5, 6, 8])
        #expect(x.padded([(0, 0), (1, 2)]).data == [0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0])
        let row = NDArray<Double>(shape: [1, 1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        let reflected = row.reflectionPadded(1)
        #expect(reflected.shape == [1, 1, 4, 5])
        #expect(reflected.data == [5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5, 2, 1, 2, 3, 2])
    }

    @Test func oneHotAndArgmax() {
        let h = NDArray<Float>.oneHot([2, 0], classes: 3)
        #expect(h.data == [0, 0, 1, 1, 0, 0])
        #expect(h.argmaxRows() == [2, 0])
    }
}

@Suite struct RandomStreams {
    @Test func streamsMatchAnIndependentImplementation() {
        // Expected bits computed by a separate Python implementation of
        // SplitMix64 seeding + xoshiro256**. A change here changes every
        // campaign's numbers.
        var r = RandomStream(seed: 42)
        #expect((0..<3).map { _ in r.nextUInt64() } ==
                [1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009])
    }

    @Test func derivedStreamsDifferAndDoNotAdvanceParent() {
        let root = RandomStream(seed: 7)
        var a = root.derived("meta-train"), b = root.derived("gtn-evaluate/job-1")
        #expect(a.nextUInt64() != b.nextUInt64())
        #expect(root == RandomStream(seed: 7))
        var a2 = RandomStream(seed: 7).derived("meta-train")
        var a3 = root.derived("meta-train")
        #expect(a2.nextUInt64() == a3.nextUInt64())
    }

    @Test func normalMoments() {
        var r = RandomStream(seed: 3)
        let x: NDArray<Double> = r.normal([100_000])
        let mean = x.sumAll() / 100_000
        let variance = x.data.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 100_000
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02, "mean \(mean) variance \(variance)")
    }

    @Test func permutationIsAPermutation() {
        var r = RandomStream(seed: 5)
        #expect(r.permutation(1000).sorted() == Array(0..<1000))
    }
}

@Suite struct ShapeMistakes {
    @Test func matmulMismatchPrintsBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray<Float>.matmul(NDArray(zeros: [2, 3]), NDArray(zeros: [4, 5]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("[2, 3]") && message.contains("[4, 5]"), "message: \(message)")
        }
    }

    @Test func broadcastMismatchPrintsBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NDArray<Float>(zeros: [2, 3]).applying(.add, NDArray(zeros: [4]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("[2, 3]") && message.contains("[4]"), "message: \(message)")
        }
    }
}

/// The memory-bound kernels split over the workers (`parallelRanges`) on
/// arrays large enough to be split, against plain loops written here.
@Suite struct WorkerSplitKernels {
    /// Storage taken without zero-filling is NaN, so an element a kernel forgets to write shows.
    init() { UninitializedStorage.poison() }

    /// [8, 17, 29, 31]: 122 264 elements, several workers' worth.
    static let shape = [8, 17, 29, 31]

    @Test func rangesCoverEveryItemOnceAndSplitLargeWork() {
        let seen = Mutex<[Range<Int>]>([])
        parallelRanges(1000, itemSize: 4 * memoryBoundGrain) { items in seen.withLock { $0.append(items) } }
        let ranges = seen.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 1000)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(ranges.count == min(BLASInfo.threadCount, 1000))
        let small = Mutex(0)
        parallelRanges(memoryBoundGrain, itemSize: 1) { _ in small.withLock { $0 += 1 } }
        #expect(small.withLock { $0 } == 1, "less than two workers' worth stays on the calling thread")
    }

    @Test func elementwiseAndBroadcasting() {
        var rng = RandomStream(seed: 5)
        let x: NDArray<Float> = rng.normal(Self.shape), y: NDArray<Float> = rng.normal(Self.shape)
        let channel: NDArray<Float> = rng.normal([1, 17, 1, 1]), row: NDArray<Float> = rng.normal([31])
        #expect(x.applying(.multiply, y).data == zip(x.data, y.data).map { $0 * $1 })
        #expect(x.applying(.divide, NDArray(scalar: 3)).data == x.data.map { $0 / 3 })
        #expect(NDArray(scalar: 2).applying(.subtract, x).data == x.data.map { 2 - $0 })
        #expect(x.applying(.exp).data == x.data.map { Float.exp($0) })
        #expect(x.leakyReLUGating(y, slope: 0.1).data == x.data.indices.map { x.data[$0] > 0 ? y.data[$0] : 0.1 * y.data[$0] })
        let plane = 29 * 31
        #expect(x.applying(.add, channel).data == x.data.indices.map { x.data[$0] + channel.data[($0 / plane) % 17] })
        #expect(channel.applying(.subtract, x).data == x.data.indices.map { channel.data[($0 / plane) % 17] - x.data[$0] })
        #expect(x.applying(.multiply, row).data == x.data.indices.map { x.data[$0] * row.data[$0 % 31] })
        #expect(channel.expanded(to: Self.shape).data == x.data.indices.map { channel.data[($0 / plane) % 17] })
        let permuted = x.permuted([0, 2, 3, 1])
        #expect(permuted.shape == [8, 29, 31, 17])
        #expect(permuted.data.indices.allSatisfy { i in
            let (c, rest) = (i % 17, i / 17)
            let (xx, yy, n) = (rest % 31, (rest / 31) % 29, rest / (31 * 29))
            return permuted.data[i] == x.data[((n * 17 + c) * 29 + yy) * 31 + xx]
        })
    }

    @Test(arguments: [PoolGeometry(kernel: 3, stride: 2, padding: 1), PoolGeometry(kernel: 3, stride: 1, padding: 1)])
    func poolingAndItsAdjoints(_ g: PoolGeometry) {
        var rng = RandomStream(seed: 7)
        let x: NDArray<Double> = rng.normal(Self.shape)
        let outShape = g.outputShape(Self.shape)
        let positions = NDArray.maxPoolPositions(x, g)
        let pooled = NDArray.maxPoolSelect(x, positions: positions, outputShape: outShape)
        #expect(pooled == ReferenceKernels.maxPool(x, g))
        let gradient: NDArray<Double> = rng.normal(outShape)
        var scattered = [Double](repeating: 0, count: x.count)
        for (o, p) in positions.enumerated() { scattered[Int(p)] += gradient.data[o] }
        #expect(NDArray.maxPoolScatter(gradient, positions: positions, inputShape: Self.shape).data == scattered)
        #expect(relativeError(NDArray.avgPool(x.converted(to: Float.self), g), ReferenceKernels.avgPool(x, g)) < 1e-5)
        // ⟨avgPool(x), g⟩ = ⟨x, avgPoolTranspose(g)⟩.
        let left = zip(NDArray.avgPool(x, g).data, gradient.data).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(x.data, NDArray.avgPoolTranspose(gradient, inputShape: Self.shape, g).data).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(left - right) <= 1e-9 * abs(left))
    }

    /// Windows that tile the input (nearest-neighbour upsampling's path), on a
    /// small array and on one split over the workers: ⟨avgPool(x), g⟩ = ⟨x, avgPoolTranspose(g)⟩.
    @Test(arguments: [([2, 3, 4, 6], 2), ([8, 17, 28, 30], 2), ([3, 2, 9, 6], 3)])
    func tiledAveragePoolTranspose(_ shape: [Int], _ kernel: Int) {
        let g = PoolGeometry(kernel: kernel, stride: kernel)
        #expect(g.tiles(shape))
        var rng = RandomStream(seed: 11)
        let x: NDArray<Double> = rng.normal(shape), gradient: NDArray<Double> = rng.normal(g.outputShape(shape))
        let spread = NDArray.avgPoolTranspose(gradient, inputShape: shape, g)
        let left = zip(NDArray.avgPool(x, g).data, gradient.data).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(x.data, spread.data).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(left - right) <= 1e-9 * abs(left))
        #expect(abs(spread.data.reduce(0, +) - gradient.data.reduce(0, +)) < 1e-9 * Double(spread.count))
    }

    @Test func reflectionPaddingAndItsAdjoint() {
        var rng = RandomStream(seed: 9)
        let x: NDArray<Double> = rng.normal(Self.shape)
        let padded = x.reflectionPadded(2)
        #expect(padded.shape == [8, 17, 33, 35])
        func reflected(_ i: Int, _ length: Int) -> Int { i < 0 ? -i : (i >= length ? 2 * (length - 1) - i : i) }
        #expect(padded.data.indices.allSatisfy { i in
            let (px, py, p) = (i % 35, (i / 35) % 33, i / (35 * 33))
            return padded.data[i] == x.data[(p * 29 + reflected(py - 2, 29)) * 31 + reflected(px - 2, 31)]
        })
        let y: NDArray<Double> = rng.normal(padded.shape)
        let left = zip(padded.data, y.data).reduce(0) { $0 + $1.0 * $1.1 }
        let right = zip(x.data, y.reflectionPadAdjoint(2).data).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(left - right) <= 1e-9 * abs(left))
    }
}
