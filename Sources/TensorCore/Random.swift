import SplitMix

/// A seeded, splittable pseudo-random stream (xoshiro256** seeded through
/// SplitMix64). Only integer arithmetic decides the bits, so a stream gives the
/// same numbers on every run and platform. Derive independent streams with
/// `derived(_:)` from a label (e.g. "meta-train/init"), never from a worker or clock.
public struct RandomStream: Sendable, Equatable {
    /// The generator state; save it to resume a stream exactly.
    public private(set) var state: [UInt64]
    /// A second normal deviate kept from the last Box–Muller pair (part of the state).
    public private(set) var spareNormal: Double?

    public init(seed: UInt64) {
        var seeding = SplitMix64(seed: seed)
        state = (0..<4).map { _ in seeding.next() }
        spareNormal = nil
    }

    /// Restores a stream from a saved `state` and `spareNormal`.
    public init(state: [UInt64], spareNormal: Double?) {
        require(state.count == 4 && state.contains { $0 != 0 }, "invalid random stream state \(state)")
        self.state = state
        self.spareNormal = spareNormal
    }

    /// A new stream whose seed mixes this stream's seed material with `label`;
    /// does not advance `self`.
    public func derived(_ label: String) -> RandomStream {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a over the label bytes
        for byte in label.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        let mix = state[0] ^ (state[1] &* 0x9e37_79b9_7f4a_7c15) ^ h
        var seeding = SplitMix64(seed: mix)
        return RandomStream(seed: seeding.next())
    }

    /// Next 64 random bits.
    public mutating func nextUInt64() -> UInt64 {
        let result = (state[1] &* 5).rotatedLeft(7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = state[3].rotatedLeft(45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(nextUInt64() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<bound (unbiased, by rejection).
    public mutating func nextInt(below bound: Int) -> Int {
        require(bound > 0, "nextInt(below: \(bound))")
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let r = nextUInt64()
            if r < limit { return Int(r % b) }
        }
    }

    /// Standard normal deviate (Box–Muller).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u = 0.0
        repeat { u = nextDouble() } while u == 0
        let v = nextDouble()
        let radius = (-2 * Double.log(u)).squareRoot()
        let angle = 2 * Double.pi * v
        spareNormal = radius * _sin(angle)
        return radius * _cos(angle)
    }

    /// A random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        return p
    }

    /// An array of `shape` with independent normal(mean, std) elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func normal<S: TensorScalar>(_ shape: [Int], mean: Double = 0, std: Double = 1) -> NDArray<S> {
        NDArray(shape: shape, data: (0..<Shape.count(shape)).map { _ in S(mean + std * nextNormal()) })
    }

    /// An array of `shape` with independent uniform [low, high) elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func uniform<S: TensorScalar>(_ shape: [Int], low: Double = 0, high: Double = 1) -> NDArray<S> {
        NDArray(shape: shape, data: (0..<Shape.count(shape)).map { _ in S(low + (high - low) * nextDouble()) })
    }
}

private extension UInt64 {
    @inline(__always) func rotatedLeft(_ k: UInt64) -> UInt64 { (self << k) | (self >> (64 - k)) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
