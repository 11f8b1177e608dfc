@testable import Stages
import TensorCore
import Testing

/// The report's rank statistics on hand-checked cases.
@Suite struct RankAnalysisTests {
    /// Scores 6 5 4 3 2 1 against actual 1 2 3 6 5 4: the top half by score
    /// (6, 5, 4) has actual 1, 2, 3, perfectly ordered the other way (ρ = −1);
    /// over all six pairs d = (5, 3, 1, −3, −3, −3), Σd² = 62, ρ = 1 − 6·62/210 = −0.771…
    @Test func topHalfAndWholeSample() {
        let score: [Double] = [6, 5, 4, 3, 2, 1], actual: [Double] = [1, 2, 3, 6, 5, 4]
        let analysis = RankAnalysis(score: score, actual: actual, precisionK: 3, resamples: 1000,
                                    stream: RandomStream(seed: 3))
        #expect(analysis.pairs == 6)
        #expect(abs(analysis.spearman! - (1 - 6 * 62 / 210.0)) < 1e-12)
        #expect(analysis.topHalfSpearman == -1)
        #expect(analysis.precision == 0)  // top 3 by score {0,1,2}, by actual {3,4,5}
        #expect(analysis.spearmanInterval != nil)
        let again = RankAnalysis(score: score, actual: actual, precisionK: 3, resamples: 1000, stream: RandomStream(seed: 3))
        #expect(again.spearmanInterval == analysis.spearmanInterval)
    }

    /// One pair, or constant scores: every statistic is undefined (nil), never NaN.
    @Test func undefinedStatistics() {
        let single = RankAnalysis(score: [0.5], actual: [0.7], precisionK: 5, resamples: 1000, stream: RandomStream(seed: 1))
        #expect(single.spearman == nil && single.kendall == nil && single.topHalfSpearman == nil && single.precision == nil)
        #expect(single.spearmanInterval == nil)
        let constant = RankAnalysis(score: [0.3, 0.3, 0.3, 0.3], actual: [0.1, 0.2, 0.3, 0.4], precisionK: 2, resamples: 1000,
                                    stream: RandomStream(seed: 1))
        #expect(constant.spearman == nil && constant.kendall == nil)
    }
}
