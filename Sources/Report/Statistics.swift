import TensorCore

// Rank statistics for the report's check of GTN score against real accuracy.
//
// Every statistic returns nil ("undefined") where its formula divides by zero
// (fewer than two pairs, or an input without variation), never NaN. Inputs
// must be finite: a diverged score must be dealt with by the caller before it
// reaches a statistic, so passing NaN or infinity is a programming mistake
// (`require`).

/// Ranks 1…n in ascending order of value; tied values share the average of
/// the ranks they occupy (a tie over ranks 2, 3, 4 gives each rank 3).
public func averageRanks(_ values: [Double]) -> [Double] {
    requireFinite(values, "averageRanks")
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
        // Positions start..<end hold equal values; their 1-based ranks average to (start + 1 + end) / 2.
        let rank = Double(start + 1 + end) / 2
        for position in start..<end { ranks[order[position]] = rank }
        start = end
    }
    return ranks
}

/// Pearson correlation r = Σ(xᵢ − x̄)(yᵢ − ȳ) / √(Σ(xᵢ − x̄)² · Σ(yᵢ − ȳ)²);
/// nil for n < 2 or when either input is constant.
public func pearson(_ x: [Double], _ y: [Double]) -> Double? {
    requirePaired(x, y, "pearson")
    requireFinite(x, "pearson")
    requireFinite(y, "pearson")
    // Tested exactly: the rounded mean of a constant input can differ from its value.
    guard x.count >= 2, !isConstant(x), !isConstant(y), let meanX = mean(x), let meanY = mean(y) else { return nil }
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(x, y) {
        sxy += (a - meanX) * (b - meanY)
        sxx += (a - meanX) * (a - meanX)
        syy += (b - meanY) * (b - meanY)
    }
    guard sxx > 0, syy > 0 else { return nil }   // deviations so small their squares underflow
    // Rounding can push |r| a hair over 1 for perfectly (anti-)correlated data.
    return min(1, max(-1, sxy / (sxx * syy).squareRoot()))
}

/// Spearman's ρ: the Pearson correlation of the average ranks (`averageRanks`)
/// of x and of y, which handles ties. nil for n < 2 or when either input is
/// constant.
public func spearman(_ x: [Double], _ y: [Double]) -> Double? {
    requirePaired(x, y, "spearman")
    return pearson(averageRanks(x), averageRanks(y))
}

/// Kendall's τ-b, which corrects for ties:
///
///     τ_b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂))
///
/// over all n₀ = n(n − 1)/2 pairs i < j, where n_c counts concordant pairs
/// (sign(xᵢ − xⱼ) = sign(yᵢ − yⱼ) ≠ 0), n_d discordant ones (opposite
/// non-zero signs), n₁ pairs tied in x and n₂ pairs tied in y (a pair tied
/// in both counts in both). nil for n < 2 or when either input is constant.
/// O(n²): calibration samples are hundreds of pairs.
public func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
    requirePaired(x, y, "kendallTauB")
    requireFinite(x, "kendallTauB")
    requireFinite(y, "kendallTauB")
    let n = x.count
    guard n >= 2 else { return nil }
    var concordant = 0, discordant = 0, tiedX = 0, tiedY = 0
    for i in 0..<(n - 1) {
        for j in (i + 1)..<n {
            let dx = x[i] - x[j], dy = y[i] - y[j]
            if dx == 0 { tiedX += 1 }
            if dy == 0 { tiedY += 1 }
            if dx == 0 || dy == 0 { continue }
            if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
        }
    }
    let pairs = n * (n - 1) / 2
    guard tiedX < pairs, tiedY < pairs else { return nil }
    let denominator = (Double(pairs - tiedX) * Double(pairs - tiedY)).squareRoot()
    return Double(concordant - discordant) / denominator
}

/// Indices of the `count` highest scores, highest first; equal scores keep
/// index order, so the choice at a tie on the boundary is deterministic.
/// `count` is clamped to 0…scores.count.
public func topIndices(_ scores: [Double], count: Int) -> [Int] {
    requireFinite(scores, "topIndices")
    let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    return Array(order.prefix(max(0, count)))
}

/// Precision of the top-k by one score among the top-k by another:
/// |top_k(predicted) ∩ top_k(actual)| / k, higher scores being better in both
/// (ties on the boundary broken by index, see `topIndices`). nil unless
/// 1 ≤ k ≤ n.
public func topKPrecision(k: Int, predicted: [Double], actual: [Double]) -> Double? {
    requirePaired(predicted, actual, "topKPrecision")
    guard k >= 1, k <= predicted.count else { return nil }
    let hits = Set(topIndices(predicted, count: k)).intersection(topIndices(actual, count: k)).count
    return Double(hits) / Double(k)
}

/// A percentile bootstrap interval for a statistic of paired samples.
public struct BootstrapInterval: Sendable, Equatable {
    /// Lower and upper end of the interval.
    public let lower: Double
    public let upper: Double
    /// Nominal coverage, e.g. 0.95.
    public let confidence: Double
    /// Resamples drawn.
    public let resamples: Int
    /// Resamples on which the statistic was undefined (for example all drawn
    /// pairs tied); they are left out of the percentiles.
    public let skipped: Int
}

/// Percentile bootstrap interval of `statistic(x, y)`.
///
/// Each of `resamples` resamples draws n pair indices uniformly with
/// replacement from `stream` (pairs stay together) and evaluates the
/// statistic on them. Resamples where it is undefined (nil) are counted in
/// `skipped` and left out. With the m defined values sorted v₀ ≤ … ≤ v_{m−1}
/// and α = 1 − confidence, the interval is [Q(α/2), Q(1 − α/2)], where
/// Q(p) interpolates linearly: h = (m − 1)p, Q(p) = v_⌊h⌋ + (h − ⌊h⌋)(v_⌊h⌋+1 − v_⌊h⌋)
/// (the default of numpy's `quantile`).
///
/// nil for n < 2 or when no resample gives a defined value. The same
/// `stream` gives the same interval; derive it from the campaign seed and a
/// label naming the statistic.
public func bootstrapInterval(_ x: [Double], _ y: [Double],
                              statistic: ([Double], [Double]) -> Double?,
                              resamples: Int = 2_000, confidence: Double = 0.95,
                              stream: RandomStream) -> BootstrapInterval? {
    requirePaired(x, y, "bootstrapInterval")
    var sampleX = [Double](repeating: 0, count: x.count), sampleY = [Double](repeating: 0, count: x.count)
    return bootstrapInterval(count: x.count, resamples: resamples, confidence: confidence, stream: stream) { indices in
        for (slot, index) in indices.enumerated() {
            sampleX[slot] = x[index]
            sampleY[slot] = y[index]
        }
        return statistic(sampleX, sampleY)
    }
}

/// Percentile bootstrap interval of a statistic of `count` paired cases,
/// given as `statistic(indices)` of a resample's case indices (drawn as in
/// the two-sample form, so both give the same interval for the same
/// statistic). Use it for statistics of more than two paired samples, such
/// as the difference of two predictors' ρ against the same truth.
public func bootstrapInterval(count n: Int, resamples: Int = 2_000, confidence: Double = 0.95, stream: RandomStream,
                              statistic: ([Int]) -> Double?) -> BootstrapInterval? {
    require(resamples > 0, "bootstrapInterval: resamples must be positive, got \(resamples)")
    require(confidence > 0 && confidence < 1, "bootstrapInterval: confidence must lie in (0, 1), got \(confidence)")
    guard n >= 2 else { return nil }
    var random = stream
    var values: [Double] = []
    values.reserveCapacity(resamples)
    var indices = [Int](repeating: 0, count: n)
    for _ in 0..<resamples {
        for slot in 0..<n { indices[slot] = random.nextInt(below: n) }
        if let value = statistic(indices) { values.append(value) }
    }
    guard !values.isEmpty else { return nil }
    values.sort()
    let alpha = 1 - confidence
    return BootstrapInterval(lower: quantile(sorted: values, alpha / 2), upper: quantile(sorted: values, 1 - alpha / 2),
                             confidence: confidence, resamples: resamples, skipped: resamples - values.count)
}

/// Spearman's partial correlation of x and y given z: how well x ranks y
/// beyond what z's ranks already explain,
///
///     ρ_xy·z = (ρ_xy − ρ_xz·ρ_yz) / √((1 − ρ_xz²)(1 − ρ_yz²))
///
/// with each ρ Spearman's. nil when any of the three is undefined or x or y
/// ranks exactly as z does (|ρ_xz| = 1 or |ρ_yz| = 1).
public func partialSpearman(_ x: [Double], _ y: [Double], given z: [Double]) -> Double? {
    requirePaired(x, y, "partialSpearman")
    requirePaired(x, z, "partialSpearman")
    guard let xy = spearman(x, y), let xz = spearman(x, z), let yz = spearman(y, z) else { return nil }
    let denominator = ((1 - xz * xz) * (1 - yz * yz)).squareRoot()
    guard denominator > 1e-12 else { return nil }
    return min(1, max(-1, (xy - xz * yz) / denominator))
}

/// Linearly interpolated quantile of sorted, non-empty `values` (see `bootstrapInterval`).
func quantile(sorted values: [Double], _ p: Double) -> Double {
    let h = Double(values.count - 1) * p
    let below = Int(h.rounded(.down))
    guard below + 1 < values.count else { return values[values.count - 1] }
    return values[below] + (h - Double(below)) * (values[below + 1] - values[below])
}

private func isConstant(_ values: [Double]) -> Bool { values.allSatisfy { $0 == values[0] } }

private func requirePaired(_ x: [Double], _ y: [Double], _ name: String) {
    require(x.count == y.count, "\(name): paired samples differ in length (\(x.count) vs \(y.count))")
}

private func requireFinite(_ values: [Double], _ name: String) {
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
        requirementFailure("\(name): value \(values[bad]) at index \(bad) is not finite; filter diverged scores first")
    }
}
