/// The header of an LZ4 frame (LZ4 Frame Format 1.6): magic number, frame
/// descriptor (FLG, BD, optional content size and dictionary ID) and the
/// header checksum. Encodes what `LZ4FrameWriter` writes and decodes what
/// `LZ4FrameReader` reads; see docs/artifact-format.md.
struct LZ4FrameHeader: Equatable {
    /// The magic number that starts every LZ4 frame, as stored (0x184D2204 little-endian).
    static let magic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]
    /// A block size word with this bit set announces a block stored uncompressed.
    static let uncompressedBit: UInt32 = 1 << 31

    /// The largest content a block may hold, and the largest stored block:
    /// 64 KiB, 256 KiB, 1 MiB or 4 MiB.
    var blockMaximumSize: Int
    /// Blocks decode on their own (FLG bit 5); otherwise each may refer to the previous 64 KiB.
    var independentBlocks: Bool
    /// Each block is followed by the XXH32 of its stored bytes (FLG bit 4).
    var blockChecksums: Bool
    /// The number of content bytes, when the header holds it (FLG bit 3).
    var contentSize: UInt64?
    /// The end mark is followed by the XXH32 of the content (FLG bit 2).
    var contentChecksum: Bool
    /// The dictionary the blocks were compressed with, if any (FLG bit 0).
    var dictionaryID: UInt32?

    private static let blockSizes = [4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20]

    /// Magic number, descriptor and header checksum, as stored.
    func encoded() -> [UInt8] {
        let sizeCode = Self.blockSizes.first { $0.value == blockMaximumSize }!.key
        var flags: UInt8 = 0x40   // version 01
        if independentBlocks { flags |= 0x20 }
        if blockChecksums { flags |= 0x10 }
        if contentSize != nil { flags |= 0x08 }
        if contentChecksum { flags |= 0x04 }
        if dictionaryID != nil { flags |= 0x01 }
        var descriptor: [UInt8] = [flags, UInt8(sizeCode) << 4]
        if let contentSize { descriptor += littleEndianBytes(contentSize) }
        if let dictionaryID { descriptor += littleEndianBytes(dictionaryID) }
        return Self.magic + descriptor + [Self.headerChecksum(descriptor)]
    }

    /// The length of the descriptor that starts with FLG byte `flags`,
    /// header checksum included (3 to 15 bytes).
    static func descriptorLength(flags: UInt8) -> Int {
        3 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
    }

    /// Decodes a descriptor (FLG through the header checksum, `descriptorLength`
    /// bytes) read from the file `path`; a defect is `ArtifactError.damaged`.
    static func decode(descriptor: [UInt8], path: String) throws -> LZ4FrameHeader {
        let flags = descriptor[0], blockDescriptor = descriptor[1]
        guard descriptor.count == descriptorLength(flags: flags) else {
            preconditionFailure("descriptor of \(descriptor.count) bytes for FLG \(flags)")
        }
        let stored = descriptor[descriptor.count - 1]
        let computed = headerChecksum(Array(descriptor.dropLast()))
        guard stored == computed else {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame header checksum is \(hex(stored)), the header hashes to \(hex(computed))")
        }
        guard flags >> 6 == 0b01 else {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame version bits are \(flags >> 6), only version 1 exists")
        }
        guard flags & 0x02 == 0, blockDescriptor & 0x8F == 0 else {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame header has reserved bits set (FLG \(hex(flags)), BD \(hex(blockDescriptor)))")
        }
        guard let blockSize = blockSizes[Int(blockDescriptor >> 4)] else {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame header names block size code \(blockDescriptor >> 4), valid codes are 4-7")
        }
        var offset = 2
        func field<T: FixedWidthInteger>(_: T.Type) -> T {
            var value: T = 0
            for index in 0..<MemoryLayout<T>.size { value |= T(descriptor[offset + index]) << (8 * index) }
            offset += MemoryLayout<T>.size
            return value
        }
        return LZ4FrameHeader(
            blockMaximumSize: blockSize,
            independentBlocks: flags & 0x20 != 0,
            blockChecksums: flags & 0x10 != 0,
            contentSize: flags & 0x08 != 0 ? field(UInt64.self) : nil,
            contentChecksum: flags & 0x04 != 0,
            dictionaryID: flags & 0x01 != 0 ? field(UInt32.self) : nil)
    }

    /// The header checksum byte: the second byte of XXH32(descriptor, seed 0).
    static func headerChecksum(_ descriptor: [UInt8]) -> UInt8 {
        UInt8(truncatingIfNeeded: XXH32.hash(descriptor) >> 8)
    }

    private static func hex(_ byte: UInt8) -> String {
        "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }
}

/// The bytes of `value`, least significant first.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}
