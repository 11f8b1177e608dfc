/// XXH32, the 32-bit xxHash that LZ4 frames use for their header, block and
/// content checksums. Streaming: `update` any number of times, then `digest`.
/// Four lanes of 4-byte words, 16 bytes per step (xxHash specification).
struct XXH32 {
    private static let prime1: UInt32 = 0x9E37_79B1
    private static let prime2: UInt32 = 0x85EB_CA77
    private static let prime3: UInt32 = 0xC2B2_AE3D
    private static let prime4: UInt32 = 0x27D4_EB2F
    private static let prime5: UInt32 = 0x1656_67B1

    private let seed: UInt32
    private var lane1, lane2, lane3, lane4: UInt32
    /// Bytes hashed so far, including those still waiting in `tail`.
    private var length: UInt64 = 0
    /// Up to 15 bytes that do not yet fill a 16-byte stripe.
    private var tail: (UInt64, UInt64) = (0, 0)
    private var tailCount = 0

    init(seed: UInt32 = 0) {
        self.seed = seed
        lane1 = seed &+ Self.prime1 &+ Self.prime2
        lane2 = seed &+ Self.prime2
        lane3 = seed
        lane4 = seed &- Self.prime1
    }

    /// The hash of `bytes` in one call.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var hasher = XXH32(seed: seed)
        hasher.update(bytes)
        return hasher.digest()
    }

    /// The hash of `bytes` in one call.
    static func hash(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    @inline(__always)
    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value &<< count) | (value &>> (32 &- count))
    }

    @inline(__always)
    private static func round(_ lane: UInt32, _ word: UInt32) -> UInt32 {
        rotate(lane &+ word &* prime2, 13) &* prime1
    }

    /// Feeds the 16-byte stripes starting at `start`; returns the bytes consumed.
    @inline(__always)
    private mutating func stripes(_ start: UnsafeRawPointer, count: Int) -> Int {
        var v1 = lane1, v2 = lane2, v3 = lane3, v4 = lane4
        var offset = 0
        while offset &+ 16 <= count {
            let p = start + offset
            v1 = Self.round(v1, UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            v2 = Self.round(v2, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            v3 = Self.round(v3, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            v4 = Self.round(v4, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            offset &+= 16
        }
        lane1 = v1; lane2 = v2; lane3 = v3; lane4 = v4
        return offset
    }

    /// Adds `bytes` to the hashed input.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        length &+= UInt64(bytes.count)
        var offset = 0
        if tailCount > 0 {
            let taken = min(16 - tailCount, bytes.count)
            withUnsafeMutableBytes(of: &tail) { tailBytes in
                (tailBytes.baseAddress! + tailCount).copyMemory(from: base, byteCount: taken)
            }
            tailCount += taken
            offset = taken
            guard tailCount == 16 else { return }
            withUnsafeBytes(of: tail) { tailBytes in _ = stripes(tailBytes.baseAddress!, count: 16) }
            tailCount = 0
        }
        offset += stripes(base + offset, count: bytes.count - offset)
        let rest = bytes.count - offset
        if rest > 0 {
            withUnsafeMutableBytes(of: &tail) { tailBytes in
                tailBytes.baseAddress!.copyMemory(from: base + offset, byteCount: rest)
            }
            tailCount = rest
        }
    }

    /// The hash of everything passed to `update` so far.
    func digest() -> UInt32 {
        var h = length >= 16
            ? Self.rotate(lane1, 1) &+ Self.rotate(lane2, 7) &+ Self.rotate(lane3, 12) &+ Self.rotate(lane4, 18)
            : seed &+ Self.prime5
        h &+= UInt32(truncatingIfNeeded: length)
        withUnsafeBytes(of: tail) { tailBytes in
            var offset = 0
            while offset + 4 <= tailCount {
                h &+= UInt32(littleEndian: tailBytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) &* Self.prime3
                h = Self.rotate(h, 17) &* Self.prime4
                offset += 4
            }
            while offset < tailCount {
                h &+= UInt32(tailBytes[offset]) &* Self.prime5
                h = Self.rotate(h, 11) &* Self.prime1
                offset += 1
            }
        }
        h ^= h >> 15
        h &*= Self.prime2
        h ^= h >> 13
        h &*= Self.prime3
        h ^= h >> 16
        return h
    }
}
