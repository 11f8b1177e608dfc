/// SplitMix64 (Steele, Lea and Flood, 2014): the 64-bit generator that
/// splits datasets (`docs/artifact-format.md` gives the exact procedure)
/// and seeds every `RandomStream`. Small, fast and fully specified, so
/// another implementation can reproduce a split from the seed alone.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's
    /// multiply-high with rejection of the biased low products).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var (high, low) = next().multipliedFullWidth(by: bound)
        if low < bound {
            let threshold = (0 &- bound) % bound
            while low < threshold { (high, low) = next().multipliedFullWidth(by: bound) }
        }
        return high
    }

    /// A permutation of `0..<count` by Fisher-Yates, from the last position down:
    /// for i = count-1 ... 1, swap i with `next(below: i + 1)`.
    public mutating func permutation(of count: Int) -> [Int] {
        var result = Array(0..<count)
        var index = count - 1
        while index > 0 {
            result.swapAt(index, Int(next(below: UInt64(index + 1))))
            index -= 1
        }
        return result
    }
}
