import Report
import TensorCore

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

    /// The statistics of `score` against `actual` (paired), bootstrapped with
    /// `resamples` resamples from streams derived from `stream`.
    init(score: [Double], actual: [Double], precisionK: Int, resamples: Int, stream: RandomStream) {
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
    }

    /// Spearman's ρ over the ⌊n/2⌋ pairs with the highest `score`.
    static func topHalfSpearman(_ score: [Double], _ actual: [Double]) -> Double? {
        let top = topIndices(score, count: score.count / 2)
        return Report.spearman(top.map { score[$0] }, top.map { actual[$0] })
    }
}
