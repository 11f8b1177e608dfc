import Autodiff
import Foundation
import TensorCore

/// Two training-free ("zero-cost") scores NAS users compare cheap predictors
/// with, computed on an architecture at its initial weights, as NASLib and
/// the zero-cost-proxies code compute them. Higher is better for both.
public enum TrainingFreeScores {
    /// synflow (Tanaka et al. 2020): with every parameter replaced by its
    /// absolute value and batch norm left out, R = Σ logits of one all-ones
    /// image, and the score is Σᵢ |θᵢ · ∂R/∂θᵢ|. In Float64 (the products of
    /// weights over many layers are large).
    public static func synflow(_ learner: ArchitectureLearner, parameters: NDArray<Float>) -> Double {
        let absolute = NDArray<Double>(shape: parameters.shape, data: parameters.data.map { Double(abs($0)) })
        let theta = Tensor(absolute, requiresGrad: true)
        let shape = learner.image.batch(1)
        let ones = Tensor(NDArray<Double>(shape: shape, data: [Double](repeating: 1, count: Shape.count(shape))))
        let total = learner.forward(theta, ones, batchNorm: false) { _ in }.sum()
        let gradient = gradients(of: total, wrt: [theta])[0].value
        return zip(absolute.data, gradient.data).reduce(0) { $0 + abs($1.0 * $1.1) }
    }

    /// NASWOT (Mellor et al. 2021, "Neural architecture search without
    /// training"): for a batch of images [N, C, H, W], the binary code of each
    /// image is whether each leaky ReLU's input is positive (every unit of
    /// every such layer); K[i][j] counts the units where images i and j agree,
    /// and the score is log |det K|. nil when K is singular (two images with
    /// the same code), which ranks below every defined score.
    public static func naswot(_ learner: ArchitectureLearner, parameters: NDArray<Float>, images: NDArray<Float>) -> Double? {
        var codes = BinaryCodes(count: images.shape[0])
        withoutGradients {
            _ = learner.forward(Tensor(parameters), Tensor(images), batchNorm: true) { preActivation in
                codes.appendSigns(of: preActivation.value.data)
            }
        }
        return naswot(codes: codes)
    }

    /// log |det K| with K[i][j] = the positions where codes i and j agree;
    /// nil when K is singular.
    static func naswot(codes: BinaryCodes) -> Double? {
        let n = codes.count
        var kernel = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                let agree = Double(codes.agreements(i, j))
                kernel[i * n + j] = agree
                kernel[j * n + i] = agree
            }
        }
        return logAbsDeterminant(kernel, n: n)
    }

    /// log |det A| of the row-major n×n matrix `a` by LU decomposition with
    /// partial pivoting; nil when a pivot is zero (or negligible next to the
    /// largest entry), i.e. A is singular.
    static func logAbsDeterminant(_ a: [Double], n: Int) -> Double? {
        var m = a
        let scale = a.map(abs).max() ?? 0
        guard scale > 0 else { return nil }
        var logDeterminant = 0.0
        for column in 0..<n {
            let pivot = (column..<n).max { abs(m[$0 * n + column]) < abs(m[$1 * n + column]) }!
            guard abs(m[pivot * n + column]) > 1e-12 * scale else { return nil }
            if pivot != column {
                for k in 0..<n { m.swapAt(pivot * n + k, column * n + k) }
            }
            let diagonal = m[column * n + column]
            logDeterminant += log(abs(diagonal))
            for row in (column + 1)..<n {
                let factor = m[row * n + column] / diagonal
                guard factor != 0 else { continue }
                for k in column..<n { m[row * n + k] -= factor * m[column * n + k] }
            }
        }
        return logDeterminant
    }
}

/// `count` binary codes of equal length, 64 bits to a word, for counting
/// agreements with XOR and popcount.
struct BinaryCodes {
    let count: Int
    /// Bits in each code.
    private(set) var length = 0
    /// Code i is words[i]; bits past `length` are 0.
    private var words: [[UInt64]]

    init(count: Int) {
        self.count = count
        words = [[UInt64]](repeating: [], count: count)
    }

    /// Appends to each code i the signs of its part of `values`
    /// [count, units]: bit set where the value is > 0.
    mutating func appendSigns<S: TensorScalar>(of values: [S]) {
        let units = values.count / Swift.max(count, 1)
        let wordsAfter = (length + units + 63) / 64
        for i in 0..<count {
            words[i] += [UInt64](repeating: 0, count: wordsAfter - words[i].count)
            for (u, value) in values[(i * units)..<((i + 1) * units)].enumerated() where value > 0 {
                let bit = length + u
                words[i][bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
        length += units
    }

    /// Positions where codes i and j agree.
    func agreements(_ i: Int, _ j: Int) -> Int {
        length - zip(words[i], words[j]).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }
    }
}
