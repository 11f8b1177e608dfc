import CLZ4
import Foundation

/// Reads the content of one LZ4 frame from a file on demand, decompressing
/// straight into the caller's buffers. Every inconsistency is an
/// `ArtifactError.damaged` naming the file (`.notAnArtifact` for a wrong
/// magic number or frame options it does not read: linked blocks, a
/// dictionary).
///
/// Blocks are read `groupSize` at a time and decoded on all cores with
/// liblz4's block API, while one core adds the previous group to the content
/// checksum. Each block is decoded where it belongs if it fills the block
/// maximum size (as every block but the last does in frames from liblz4 and
/// `LZ4FrameWriter`); a shorter block only makes the following ones of its
/// group decode again, one by one, at their true place.
///
/// The content checksum is only known at the end of the frame: callers must
/// call `finish()` before trusting any byte they read.
final class LZ4FrameReader {
    /// Blocks decoded at once.
    static let groupSize = 8

    let header: LZ4FrameHeader
    /// Total size of the compressed file, for sanity limits.
    let compressedSize: Int
    private let input: FrameInput
    private var path: String { input.file.path }
    private var checksum = XXH32()
    /// Content bytes decoded so far.
    private var decodedSize: UInt64 = 0
    private var frameEnded = false
    /// The stored bytes of the blocks of a group (plus their block checksums).
    private var blockData: [UnsafeMutableRawBufferPointer] = []
    /// Where a block that runs past the caller's buffer is decoded; the bytes
    /// `leftover` of it have not been handed out yet (but are checksummed).
    private let scratch: UnsafeMutableRawBufferPointer
    private var leftover = 0..<0

    init(file: PosixFile) throws {
        var status = stat()
        if fstat(file.descriptor, &status) != 0 { throw ArtifactError.io(path: file.path, operation: "fstat", errno: errno) }
        compressedSize = Int(status.st_size)
        let input = FrameInput(file: file, size: compressedSize)
        self.input = input
        var magic = [UInt8](repeating: 0, count: 4)
        guard try input.read(into: &magic), magic == LZ4FrameHeader.magic else {
            throw ArtifactError.notAnArtifact(path: file.path, reason: compressedSize < 4
                ? "file is \(compressedSize) bytes long, too short for an LZ4 frame"
                : "first bytes are not the LZ4 frame magic number 04 22 4D 18")
        }
        var flags: [UInt8] = [0]
        try input.readOrThrow(into: &flags, what: "the frame header")
        var descriptor = flags + [UInt8](repeating: 0, count: LZ4FrameHeader.descriptorLength(flags: flags[0]) - 1)
        try descriptor.withUnsafeMutableBytes { try input.readOrThrow(into: UnsafeMutableRawBufferPointer(rebasing: $0[1...]), what: "the frame header") }
        header = try LZ4FrameHeader.decode(descriptor: descriptor, path: file.path)
        guard header.independentBlocks else {
            throw ArtifactError.notAnArtifact(path: file.path, reason: "the LZ4 frame has linked blocks (as `lz4 -BD` writes), which this reader does not decode; artifacts use independent blocks (`lz4 -d` then `lz4 -BI` converts)")
        }
        guard header.dictionaryID == nil else {
            throw ArtifactError.notAnArtifact(path: file.path, reason: "the LZ4 frame needs dictionary \(header.dictionaryID!), and artifacts use none")
        }
        scratch = .allocate(byteCount: header.blockMaximumSize, alignment: 16)
    }

    deinit {
        scratch.deallocate()
        for data in blockData { data.deallocate() }
    }

    /// Fills `destination` completely with the next content bytes.
    func read(into destination: UnsafeMutableRawBufferPointer) throws {
        var filled = min(leftover.count, destination.count)
        if filled > 0 {
            destination.baseAddress!.copyMemory(from: scratch.baseAddress! + leftover.lowerBound, byteCount: filled)
            leftover = leftover.dropFirst(filled)
        }
        var unchecked: [UnsafeRawBufferPointer] = []   // decoded, not yet in the content checksum
        while filled < destination.count {
            var group: [Placement] = []
            var position = filled
            while group.count < Self.groupSize, position < destination.count, let block = try nextBlock(slot: group.count) {
                group.append(place(block, at: position, in: destination))
                position += block.compressed ? header.blockMaximumSize : block.size
            }
            if group.isEmpty {
                throw ArtifactError.damaged(path: path, reason: "LZ4 frame content ends before the data the header describes")
            }
            let results = decode(group, checksumming: unchecked)
            unchecked = []
            for var placement in group {
                var result = results[placement.block.slot]
                if placement.position != filled {   // an earlier block of the group was short
                    placement = place(placement.block, at: filled, in: destination)
                    result = decodeOne(placement)
                }
                let size = try check(result, of: placement.block)
                decodedSize += UInt64(size)
                if placement.direct {
                    unchecked.append(UnsafeRawBufferPointer(rebasing: destination[filled..<filled + size]))
                    filled += size
                } else {
                    let copied = min(size, destination.count - filled)
                    (destination.baseAddress! + filled).copyMemory(from: scratch.baseAddress!, byteCount: copied)
                    unchecked.append(UnsafeRawBufferPointer(rebasing: destination[filled..<filled + copied]))
                    unchecked.append(UnsafeRawBufferPointer(rebasing: scratch[copied..<size]))
                    leftover = copied..<size
                    filled += copied
                }
            }
        }
        for piece in unchecked { checksum.update(piece) }
    }

    /// Reads to the end of the frame, checks that no content remains, the
    /// content size and checksum, and that no bytes follow the frame.
    func finish() throws {
        var extra = leftover.count
        while let block = try nextBlock(slot: 0) {
            extra += try check(decodeOne(Placement(block: block, position: 0, target: scratch.baseAddress!, direct: false)), of: block)
        }
        if extra > 0 {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame holds more content than the header describes")
        }
        if header.contentChecksum {
            var stored = [UInt8](repeating: 0, count: 4)
            try input.readOrThrow(into: &stored, what: "the content checksum")
            let computed = checksum.digest()
            guard stored == littleEndianBytes(computed) else {
                throw ArtifactError.damaged(path: path, reason: "LZ4 content checksum mismatch: stored \(hex(stored)), content hashes to \(hex(littleEndianBytes(computed)))")
            }
        }
        if let contentSize = header.contentSize, contentSize != decodedSize {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame header announces \(contentSize) bytes of content, its blocks hold \(decodedSize)")
        }
        if try !input.isAtEnd() {
            throw ArtifactError.damaged(path: path, reason: "unexpected bytes after the end of the LZ4 frame (file is \(compressedSize) bytes)")
        }
    }

    /// A data block as stored: in `blockData[slot]`, `size` bytes (then its block checksum).
    private struct StoredBlock {
        var slot: Int
        var size: Int
        var compressed: Bool
        /// Where its block size word starts in the file, for messages.
        var fileOffset: Int
    }

    /// A block and where it decodes to: into the caller's buffer at
    /// `position` (`direct`), or into `scratch`.
    private struct Placement {
        var block: StoredBlock
        var position: Int
        var target: UnsafeMutableRawPointer
        var direct: Bool
    }

    /// Reads the next block into slot `slot`; nil at the end mark.
    private func nextBlock(slot: Int) throws -> StoredBlock? {
        guard !frameEnded else { return nil }
        let fileOffset = input.offset
        var word = [UInt8](repeating: 0, count: 4)
        try input.readOrThrow(into: &word, what: "a block size")
        let value = word.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        if value == 0 {
            frameEnded = true
            return nil
        }
        let size = Int(value & ~LZ4FrameHeader.uncompressedBit)
        let stored = size + (header.blockChecksums ? 4 : 0)
        let left = input.size - input.offset
        if left == (header.contentChecksum ? 4 : 0) {
            // Only the content checksum (or nothing) follows: this word is where the end mark belongs.
            throw ArtifactError.damaged(path: path, reason: "the LZ4 end mark at byte \(fileOffset) is damaged (it reads "
                                        + "\(value), not 0), or the file was cut just after a block header")
        }
        guard size <= header.blockMaximumSize else {
            throw ArtifactError.damaged(path: path, reason: "LZ4 block at byte \(fileOffset) claims \(size) bytes, more than the frame's block maximum size \(header.blockMaximumSize)")
        }
        while blockData.count <= slot {
            blockData.append(.allocate(byteCount: header.blockMaximumSize + 4, alignment: 16))
        }
        try input.readOrThrow(into: UnsafeMutableRawBufferPointer(rebasing: blockData[slot][0..<stored]), what: "an LZ4 block")
        return StoredBlock(slot: slot, size: size, compressed: value & LZ4FrameHeader.uncompressedBit == 0, fileOffset: fileOffset)
    }

    /// Decodes into the caller's buffer when the largest content the block
    /// can hold fits there, else into `scratch`.
    private func place(_ block: StoredBlock, at position: Int, in destination: UnsafeMutableRawBufferPointer) -> Placement {
        let largest = block.compressed ? header.blockMaximumSize : block.size
        let direct = position + largest <= destination.count
        return Placement(block: block, position: position,
                         target: direct ? destination.baseAddress! + position : scratch.baseAddress!, direct: direct)
    }

    /// Decodes `group` (block `i` in slot `i`) on all cores while one of them
    /// adds `pieces` to the content checksum; returns `decodeOne`'s result per block.
    private func decode(_ group: [Placement], checksumming pieces: [UnsafeRawBufferPointer]) -> [Int] {
        let results = Unchecked(UnsafeMutableBufferPointer<Int>.allocate(capacity: group.count))
        defer { results.value.deallocate() }
        let shared = Unchecked((group: group, data: blockData))
        let maximumSize = header.blockMaximumSize, blockChecksum = header.blockChecksums
        concurrently(group.count, checksumming: pieces, into: &checksum) { index in
            results.value[index] = Self.decode(shared.value.group[index], data: shared.value.data,
                                               maximumSize: maximumSize, blockChecksum: blockChecksum)
        }
        return Array(results.value)
    }

    private static let undecodable = -1
    private static let blockChecksumMismatch = -2

    /// Decodes one block; returns its content size, `undecodable` or `blockChecksumMismatch`.
    private func decodeOne(_ placement: Placement) -> Int {
        Self.decode(placement, data: blockData, maximumSize: header.blockMaximumSize, blockChecksum: header.blockChecksums)
    }

    /// `decodeOne` for worker threads, which must not touch `self`.
    private static func decode(_ placement: Placement, data: [UnsafeMutableRawBufferPointer], maximumSize: Int, blockChecksum: Bool) -> Int {
        let block = placement.block
        let stored = UnsafeRawBufferPointer(rebasing: data[block.slot][0..<block.size])
        if blockChecksum && littleEndianBytes(XXH32.hash(stored)) != Array(data[block.slot][block.size..<block.size + 4]) {
            return blockChecksumMismatch
        }
        guard block.compressed else {
            placement.target.copyMemory(from: stored.baseAddress!, byteCount: block.size)
            return block.size
        }
        let size = LZ4_decompress_safe(stored.baseAddress!.assumingMemoryBound(to: CChar.self),
                                       placement.target.assumingMemoryBound(to: CChar.self),
                                       Int32(block.size), Int32(maximumSize))
        return size < 0 ? undecodable : Int(size)
    }

    /// The content size `result` of decoding `block`, or the error it stands for.
    private func check(_ result: Int, of block: StoredBlock) throws -> Int {
        switch result {
        case Self.undecodable:
            throw ArtifactError.damaged(path: path, reason: "LZ4 block at byte \(block.fileOffset) does not decode (corrupt data or more than \(header.blockMaximumSize) bytes)")
        case Self.blockChecksumMismatch:
            throw ArtifactError.damaged(path: path, reason: "LZ4 block at byte \(block.fileOffset) does not match its block checksum")
        default:
            return result
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.reversed().map { String(format: "%02X", $0) }.joined()
    }
}

/// Buffered sequential reads of the frame's file that know their offset.
private final class FrameInput {
    let file: PosixFile
    /// The file's size, for messages.
    let size: Int
    /// Offset in the file of the next byte handed out.
    private(set) var offset = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private var start = 0
    private var end = 0

    init(file: PosixFile, size: Int) {
        self.file = file
        self.size = size
    }

    deinit { buffer.deallocate() }

    /// Fills `destination`; false if the file ends first.
    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Bool {
        var filled = 0
        while filled < destination.count {
            if start == end {
                let wanted = destination.count - filled
                if wanted >= buffer.count {   // large reads bypass the buffer
                    let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: destination[filled...]))
                    if count == 0 { return false }
                    filled += count
                    offset += count
                    continue
                }
                end = try file.read(into: buffer)
                start = 0
                if end == 0 { return false }
            }
            let count = min(end - start, destination.count - filled)
            (destination.baseAddress! + filled).copyMemory(from: buffer.baseAddress! + start, byteCount: count)
            start += count
            filled += count
            offset += count
        }
        return true
    }

    func read(into bytes: inout [UInt8]) throws -> Bool {
        try bytes.withUnsafeMutableBytes { try read(into: $0) }
    }

    /// Fills `destination`; a file that ends first is damaged, ending in `what`.
    func readOrThrow(into destination: UnsafeMutableRawBufferPointer, what: String) throws {
        guard try read(into: destination) else {
            throw ArtifactError.damaged(path: file.path, reason: "file ends inside the LZ4 frame, in \(what) (truncated at \(size) bytes)")
        }
    }

    func readOrThrow(into bytes: inout [UInt8], what: String) throws {
        try bytes.withUnsafeMutableBytes { try readOrThrow(into: $0, what: what) }
    }

    /// Whether no bytes remain.
    func isAtEnd() throws -> Bool {
        var byte: [UInt8] = [0]
        return try !read(into: &byte)
    }
}
