import Report
import TensorCore
import StageContract

/// How well one cheap score ranks architectures by their real validation
/// accuracy: the report's rank-correlation statistics, each with a 95%
/// bootstrap interval. Every value is nil where it is undefined (too few
/// pairs, constant inputs), which the report prints as "undefined".
struct RankAnalysis {
    let pairs: Int
    let spearman: Double?, spearmanInterval: BootstrapInterval?
    let kendall: Double?, kendallInterval: BootstrapInterval?
    /// Spearman's ρ on the better half by the cheap score (the paper's 0.5582 statistic).
    let topHalfSpearman: Double?, topHalfInterval: BootstrapInterval?
    let precisionK: Int
    /// |top-k by score ∩ top-k by real accuracy| / k.
    let precision: Double?
    /// Spearman's ρ given the parameter count (`partialSpearman`): what the
    /// score knows about the ranking beyond size. nil without sizes.
    let givenSize: Double?, givenSizeInterval: BootstrapInterval?

    /// The statistics of `score` against `actual` (paired, with each
    /// architecture's parameter count in `size`), bootstrapped with
    /// `resamples` resamples from streams derived from `stream`.
    init(score: [Double], actual: [Double], size: [Double]? = nil, precisionK: Int, resamples: Int, stream: RandomStream) {
        pairs = score.count
        func interval(_ name: String, _ statistic: @escaping ([Double], [Double]) -> Double?) -> BootstrapInterval? {
            bootstrapInterval(score, actual, statistic: statistic, resamples: resamples, stream: stream.derived(name))
        }
        spearman = Report.spearman(score, actual)
        spearmanInterval = interval("spearman", Report.spearman)
        kendall = kendallTauB(score, actual)
        kendallInterval = interval("kendall", kendallTauB)
        topHalfSpearman = RankAnalysis.topHalfSpearman(score, actual)
        topHalfInterval = interval("top-half-spearman", RankAnalysis.topHalfSpearman)
        self.precisionK = precisionK
        precision = topKPrecision(k: precisionK, predicted: score, actual: actual)
        if let size {
            givenSize = partialSpearman(score, actual, given: size)
            givenSizeInterval = bootstrapInterval(count: score.count, resamples: resamples,
                                                  stream: stream.derived("spearman-given-size")) { indices in
                partialSpearman(indices.map { score[$0] }, indices.map { actual[$0] }, given: indices.map { size[$0] })
            }
        } else {
            (givenSize, givenSizeInterval) = (nil, nil)
        }
    }

    /// Bootstrap interval of ρ(a, actual) − ρ(b, actual), the pairs resampled
    /// together, so that both predictors are judged on the same resample.
    static func spearmanDifference(_ a: [Double], _ b: [Double], actual: [Double], resamples: Int,
                                   stream: RandomStream) -> BootstrapInterval? {
        bootstrapInterval(count: actual.count, resamples: resamples, stream: stream) { indices in
            let truth = indices.map { actual[$0] }
            guard let first = Report.spearman(indices.map { a[$0] }, truth),
                  let second = Report.spearman(indices.map { b[$0] }, truth) else { return nil }
            return first - second
        }
    }

    /// Spearman's ρ over the ⌊n/2⌋ pairs with the highest `score`.
    static func topHalfSpearman(_ score: [Double], _ actual: [Double]) -> Double? {
        let top = topIndices(score, count: score.count / 2)
        return Report.spearman(top.map { score[$0] }, top.map { actual[$0] })
    }
}
