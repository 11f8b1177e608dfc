// The one mean and standard deviation of plain numbers (a report's
// statistics, a curve averaged over learners): nil where undefined, never NaN.

/// Arithmetic mean, x̄ = Σxᵢ / n; nil for an empty array.
public func mean(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    return values.reduce(0, +) / Double(values.count)
}

/// Sample standard deviation, s = √(Σ(xᵢ − x̄)² / (n − 1)); nil for n < 2.
public func sampleStandardDeviation(_ values: [Double]) -> Double? {
    guard values.count >= 2, let average = mean(values) else { return nil }
    let squares = values.reduce(0) { $0 + ($1 - average) * ($1 - average) }
    return (squares / Double(values.count - 1)).squareRoot()
}
