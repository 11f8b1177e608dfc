import Autodiff
import TensorCore

/// Gradient-checking tools in Float64.
///
/// Tolerance (stated once for every check): a derivative computed by autodiff
/// `a` and by central differences `b` agree when |a − b| ≤ 1e-6·max(|a|, |b|),
/// or |a − b| ≤ 1e-10 (both essentially zero). Central differences use
/// ε = 1e-5 along a random direction, one evaluation pair per check.
enum GradCheck {
    static let relativeTolerance = 1e-6
    static let absoluteFloor = 1e-10
    static let epsilon = 1e-5

    static func agree(_ a: Double, _ b: Double, relative: Double = relativeTolerance) -> Bool {
        let diff = abs(a - b)
        return diff <= relative * max(abs(a), abs(b)) || diff <= absoluteFloor
    }

    static func relativeError(_ a: Double, _ b: Double) -> Double {
        let scale = max(abs(a), abs(b))
        return scale == 0 ? 0 : abs(a - b) / scale
    }

    /// ⟨a, b⟩ summed over lists of equally shaped arrays.
    static func dot(_ a: [NDArray<Double>], _ b: [NDArray<Double>]) -> Double {
        zip(a, b).reduce(0) { acc, pair in
            require(pair.0.shape == pair.1.shape, "dot of shapes \(pair.0.shape) and \(pair.1.shape)")
            return acc + zip(pair.0.data, pair.1.data).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }

    /// x + s·v for lists of arrays.
    static func step(_ x: [NDArray<Double>], _ v: [NDArray<Double>], _ s: Double) -> [NDArray<Double>] {
        zip(x, v).map { NDArray(shape: $0.shape, data: zip($0.data, $1.data).map { $0 + s * $1 }) }
    }

    /// Central difference of a scalar function along direction v.
    static func directional(_ f: ([NDArray<Double>]) -> Double, at x: [NDArray<Double>], along v: [NDArray<Double>]) -> Double {
        (f(step(x, v, epsilon)) - f(step(x, v, -epsilon))) / (2 * epsilon)
    }

    /// Differentiable leaves holding `values`.
    static func leaves(_ values: [NDArray<Double>]) -> [Tensor<Double>] {
        values.map { Tensor($0, requiresGrad: true) }
    }

    static func random(_ shapes: [[Int]], _ rng: inout RandomStream) -> [NDArray<Double>] {
        shapes.map { rng.normal($0) }
    }
}
