import CLZ4

/// Streams bytes into one LZ4 frame written to a file as it goes: 4 MiB
/// independent blocks, content size in the header, content checksum, no
/// block checksums (the content checksum already covers every byte).
///
/// Full blocks are compressed `groupSize` at a time on all cores with
/// liblz4's block API while one core also adds them to the content checksum;
/// each group is written as soon as it is done. Blocks come straight from the
/// caller's buffers, so memory holds one group's output and one partial block.
final class LZ4FrameWriter {
    /// Content bytes per block, and the block maximum size the header announces.
    static let blockSize = 4 << 20
    /// Blocks compressed at once.
    static let groupSize = 8
    /// liblz4's acceleration: 1 is `LZ4_compress_default`, larger values
    /// compress faster into larger files (measured 2026-11-23: `git log -p docs/benchmarks.md`).
    static let acceleration: Int32 = 1

    private let file: PosixFile
    private let contentSize: UInt64
    private var received: UInt64 = 0
    private var checksum = XXH32()
    /// The start of a block that has not been filled yet.
    private let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
    private var stagedCount = 0
    /// Full blocks waiting to be compressed; they point into the caller's buffer or `staging`.
    private var group: [UnsafeRawBufferPointer] = []
    /// One output slot per block of a group: the 4-byte block size, then the compressed block.
    private let output = UnsafeMutableRawBufferPointer.allocate(byteCount: groupSize * (4 + blockSize), alignment: 16)

    /// Starts a frame whose content will be exactly `contentSize` bytes.
    init(file: PosixFile, contentSize: UInt64) throws {
        self.file = file
        self.contentSize = contentSize
        let header = LZ4FrameHeader(blockMaximumSize: Self.blockSize, independentBlocks: true, blockChecksums: false,
                                    contentSize: contentSize, contentChecksum: true, dictionaryID: nil)
        try header.encoded().withUnsafeBytes { try file.write($0) }
    }

    deinit {
        staging.deallocate()
        output.deallocate()
    }

    /// Adds `bytes` to the content; every full block among them is compressed
    /// and written before this returns.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        received += UInt64(bytes.count)
        var offset = 0
        if stagedCount > 0 {
            offset = min(Self.blockSize - stagedCount, bytes.count)
            (staging.baseAddress! + stagedCount).copyMemory(from: bytes.baseAddress!, byteCount: offset)
            stagedCount += offset
            if stagedCount == Self.blockSize {
                try add(UnsafeRawBufferPointer(staging))
                stagedCount = 0
            }
        }
        while bytes.count - offset >= Self.blockSize {
            try add(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Self.blockSize]))
            offset += Self.blockSize
        }
        try flush()   // the caller's buffer is only valid during this call
        if offset < bytes.count {
            staging.baseAddress!.copyMemory(from: bytes.baseAddress! + offset, byteCount: bytes.count - offset)
            stagedCount = bytes.count - offset
        }
    }

    /// Writes the last, partial block, the end mark and the content checksum.
    func finish() throws {
        if stagedCount > 0 {
            try add(UnsafeRawBufferPointer(rebasing: staging[0..<stagedCount]))
            try flush()
            stagedCount = 0
        }
        guard received == contentSize else {
            throw ArtifactError.library(path: file.path, reason: "LZ4 frame: \(received) content bytes written, the header announced \(contentSize)")
        }
        try (littleEndianBytes(UInt32(0)) + littleEndianBytes(checksum.digest())).withUnsafeBytes { try file.write($0) }
    }

    private func add(_ block: UnsafeRawBufferPointer) throws {
        group.append(block)
        if group.count == Self.groupSize { try flush() }
    }

    /// Compresses the waiting blocks on all cores, checksumming them on the
    /// way, and writes them in order.
    private func flush() throws {
        guard !group.isEmpty else { return }
        let blocks = Unchecked(group)
        let slots = Unchecked(output.baseAddress!)
        let sizes = Unchecked(UnsafeMutableBufferPointer<Int>.allocate(capacity: group.count))
        defer { sizes.value.deallocate() }
        concurrently(group.count, checksumming: group, into: &checksum) { index in
            let slot = slots.value + index * (4 + Self.blockSize)
            let size = Self.compress(blocks.value[index], into: slot + 4)
            slot.storeBytes(of: UInt32(size).littleEndian, as: UInt32.self)
            sizes.value[index] = size
        }
        for (index, block) in group.enumerated() {
            let slot = output.baseAddress! + index * (4 + Self.blockSize)
            if sizes.value[index] > 0 {
                try file.write(UnsafeRawBufferPointer(start: slot, count: 4 + sizes.value[index]))
            } else {
                try littleEndianBytes(UInt32(block.count) | LZ4FrameHeader.uncompressedBit).withUnsafeBytes { try file.write($0) }
                try file.write(block)
            }
        }
        group.removeAll(keepingCapacity: true)
    }

    /// Compresses `block` (at most `blockSize` bytes) into `destination`, which
    /// has room for `block.count - 1` bytes; returns the compressed size, or 0
    /// if the block does not shrink and must be stored as it is.
    static func compress(_ block: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer) -> Int {
        guard block.count > 1 else { return 0 }
        return Int(LZ4_compress_fast(block.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     destination.assumingMemoryBound(to: CChar.self),
                                     Int32(block.count), Int32(block.count - 1), acceleration))
    }
}
