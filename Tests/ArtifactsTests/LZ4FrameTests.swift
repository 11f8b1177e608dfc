import Foundation
import SplitMix
import Testing
import TestSupport
@testable import Artifacts

@Suite struct XXH32Tests {
    @Test(arguments: [
        ("", 0x02CC_5D05 as UInt32),
        ("a", 0x550D_7456),
        ("abc", 0x32D1_53FF),
        ("Nobody inspects the spammish repetition", 0xE229_3B2F),
    ])
    func publishedVectors(text: String, expected: UInt32) {
        #expect(XXH32.hash(Array(text.utf8)) == expected, "XXH32(\"\(text)\")")
    }

    /// The `lz4` tool ends each frame with the XXH32 of its content: lengths
    /// around the 16-byte stripe and the 4-byte word cover every tail path.
    @Test func agreesWithTheContentChecksumOfTheLZ4Tool() throws {
        let directory = TemporaryDirectory()
        let bytes = randomBytes(count: (1 << 20) + 7, seed: 5)
        for length in [0, 1, 3, 4, 5, 15, 16, 17, 19, 31, 32, 33, 100, 1000, bytes.count] {
            let input = try directory.write(Array(bytes[..<length]), to: "input-\(length)")
            let framed = directory.fileURL("input-\(length).lz4")
            let result = try runProcess("/usr/bin/lz4", ["-q", "-f", input.path, framed.path])
            #expect(result.status == 0, "lz4: \(result.error)")
            let frame = Array(try Data(contentsOf: framed))
            #expect(Array(frame.suffix(4)) == littleEndianBytes(XXH32.hash(Array(bytes[..<length]))), "length \(length)")
        }
    }

    @Test func piecewiseUpdatesMatchOneShot() {
        let bytes = randomBytes(count: 200_000, seed: 6)
        var generator = SplitMix64(seed: 8)
        var hasher = XXH32()
        var offset = 0
        bytes.withUnsafeBytes { buffer in
            while offset < bytes.count {
                let count = min(Int(generator.next(below: 40)), bytes.count - offset)
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]))
                offset += count
            }
        }
        #expect(hasher.digest() == XXH32.hash(bytes))
        #expect(XXH32.hash(bytes, seed: 1) != XXH32.hash(bytes))
    }
}

@Suite struct LZ4FrameTests {
    /// 4 MiB of random bytes (stored uncompressed), 4 MiB of zeros and a
    /// partial block of a repeating pattern.
    private func mixedContent() -> [UInt8] {
        randomBytes(count: 4 << 20, seed: 1) + [UInt8](repeating: 0, count: 4 << 20)
            + (0..<(3 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 % 251) }
    }

    @Test func writerFramesPassTheLZ4ToolAndReadBack() throws {
        let directory = TemporaryDirectory()
        let content = mixedContent()
        let url = directory.fileURL("mixed.lz4")
        try AtomicFile.write(to: url) { file in
            let writer = try LZ4FrameWriter(file: file, contentSize: UInt64(content.count))
            try content.withUnsafeBytes { bytes in
                var offset = 0
                for count in [5, (4 << 20) - 3, 3, 100, 1 << 20, 7 << 20] {   // through the staging block and straight from the buffer
                    let end = min(offset + count, bytes.count)
                    try writer.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
                    offset = end
                }
                try writer.write(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            try writer.finish()
        }
        let frame = Array(try Data(contentsOf: url))
        #expect(Array(frame[0..<6]) == [0x04, 0x22, 0x4D, 0x18, 0x6C, 0x70])
        #expect(Array(frame[6..<14]) == littleEndianBytes(UInt64(content.count)))
        #expect(frame[14] == LZ4FrameHeader.headerChecksum(Array(frame[4..<14])))
        let blocks = blockWords(frame, headerSize: 15)
        #expect(blocks.count == 3)
        #expect(blocks.first == UInt32(4 << 20) | LZ4FrameHeader.uncompressedBit, "random block stored as is")
        #expect(blocks.dropFirst().allSatisfy { $0 < 1 << 16 }, "zeros and the pattern compress: \(blocks)")

        #expect(try runProcess("/usr/bin/lz4", ["-t", url.path]).status == 0)
        #expect(try lz4Decompressed(url, in: directory) == content)
        #expect(try readContent(url, count: content.count, seed: 3) == content)

        // Byte for byte what liblz4's frame API writes with the same settings.
        let plain = try directory.write(content, to: "mixed")
        let tool = directory.fileURL("mixed-by-tool.lz4")
        #expect(try runProcess("/usr/bin/lz4", ["-q", "-f", "-B7", "--content-size", plain.path, tool.path]).status == 0)
        #expect(Array(try Data(contentsOf: tool)) == frame)
    }

    /// Artifacts recompressed by the `lz4` tool with each frame option the
    /// reader supports (block sizes, block checksums, content size absent)
    /// read back; `-B7 --content-size` is what liblz4's frame API wrote for
    /// artifacts before this reader existed.
    @Test(arguments: [
        ["-B7", "--content-size"], ["-B4"], ["-B5", "-BX"], ["-B6", "--content-size", "-BX"], ["-B7", "--fast=8"], ["-9", "-B4"],
    ])
    func framesFromTheLZ4ToolReadBack(options: [String]) throws {
        let directory = TemporaryDirectory()
        let archive = largeArchive()
        let url = directory.fileURL("original.safetensors.lz4")
        try ArtifactFile.write(archive, to: url)
        let recompressed = try recompress(url, options: options, in: directory)
        let read = try ArtifactFile.read(recompressed)
        #expect(read.tensors == archive.tensors)
        #expect(read.metadata == archive.metadata.merging(["format_version": "1"]) { $1 })
    }

    @Test func unsupportedFrameOptionsAreClearErrors() throws {
        let directory = TemporaryDirectory()
        let url = directory.fileURL("original.safetensors.lz4")
        try ArtifactFile.write(largeArchive(), to: url)

        let linked = try recompress(url, options: ["-B4", "-BD"], in: directory)
        guard case let .notAnArtifact(path, reason)? = expectArtifactError({ _ = try ArtifactFile.read(linked) }) else {
            Issue.record("linked blocks were not refused as not an artifact")
            return
        }
        #expect(path == linked.path && reason.contains("linked blocks"), "\(reason)")

        let unchecked = try recompress(url, options: ["--no-frame-crc"], in: directory)
        let error = expectArtifactError { _ = try ArtifactFile.read(unchecked) }
        #expect(error == .damaged(path: unchecked.path, reason: "LZ4 frame has no content checksum, so its content cannot be verified"))
    }

    /// Blocks that do not fill the block maximum size (allowed anywhere in a
    /// frame), raw and compressed, with and without block checksums and
    /// content size, read in pieces of every size.
    @Test(arguments: [(false, false), (true, true), (true, false)])
    func shortBlocksAnywhereDecode(blockChecksums: Bool, contentSize: Bool) throws {
        let directory = TemporaryDirectory()
        var generator = SplitMix64(seed: 11)
        var blocks: [(content: [UInt8], compress: Bool)] = []
        for index in 0..<40 {
            let count = index % 3 == 0 ? 64 << 10 : 1 + Int(generator.next(below: 64 << 10))
            let content = index % 4 == 1
                ? randomBytes(count: count, seed: UInt64(index))
                : (0..<count).map { UInt8(truncatingIfNeeded: ($0 / 7) % (3 + index)) }
            blocks.append((content, index % 5 != 2))
        }
        let frame = craftedFrame(blocks, blockMaximumSize: 64 << 10, blockChecksums: blockChecksums, contentSize: contentSize)
        let url = try directory.write(frame, to: "short-blocks.lz4")
        let content = blocks.flatMap(\.content)
        #expect(try runProcess("/usr/bin/lz4", ["-t", url.path]).status == 0)
        #expect(try lz4Decompressed(url, in: directory) == content)
        for seed in 0..<4 { #expect(try readContent(url, count: content.count, seed: UInt64(seed)) == content) }
    }

    /// Block sizes read from a damaged file are checked before anything is
    /// allocated or decoded.
    @Test func oversizedAndInconsistentBlocksAreDamage() throws {
        let directory = TemporaryDirectory()
        let pattern = (0..<(128 << 10)).map { UInt8(truncatingIfNeeded: $0 % 13) }

        // A raw block larger than the block maximum size.
        var frame = craftedFrame([(Array(pattern[..<1000]), false)], blockMaximumSize: 64 << 10, blockChecksums: false, contentSize: false)
        frame.replaceSubrange(7..<11, with: littleEndianBytes(UInt32((64 << 10) + 1) | LZ4FrameHeader.uncompressedBit))
        try expectDamage(frame, in: directory, reason: "more than the frame's block maximum size")

        // A compressed block that decodes to more than the block maximum size.
        frame = craftedFrame([(pattern, true)], blockMaximumSize: 64 << 10, blockChecksums: false, contentSize: false)
        try expectDamage(frame, in: directory, reason: "does not decode")

        // A block that does not match its block checksum.
        frame = craftedFrame([(Array(pattern[..<5000]), true)], blockMaximumSize: 64 << 10, blockChecksums: true, contentSize: false)
        frame[12] ^= 0x01
        try expectDamage(frame, in: directory, reason: "block checksum")
    }

    // MARK: - Helpers

    /// The sample archive plus 8 MB of random Int32, 4 MB of zeros and a ramp.
    private func largeArchive() -> TensorArchive {
        var archive = sampleArchive()
        var generator = SplitMix64(seed: 4)
        archive.append(StoredTensor(name: "noise", shape: [2_000_000], values: (0..<2_000_000).map { _ in Int32(truncatingIfNeeded: generator.next()) }))
        archive.append(StoredTensor(name: "zeros", shape: [1000, 1000], values: [Float](repeating: 0, count: 1_000_000)))
        archive.append(StoredTensor(name: "ramp", shape: [500, 600], values: (0..<300_000).map { Float($0 % 37) }))
        return archive
    }

    /// `url` decompressed by `lz4 -d` and compressed again with `options`.
    private func recompress(_ url: URL, options: [String], in directory: TemporaryDirectory) throws -> URL {
        let plain = directory.fileURL("plain.safetensors")
        let target = directory.fileURL("recompressed\(options.joined()).safetensors.lz4")
        #expect(try runProcess("/usr/bin/lz4", ["-d", "-f", "-q", url.path, plain.path]).status == 0)
        let result = try runProcess("/usr/bin/lz4", ["-f", "-q"] + options + [plain.path, target.path])
        #expect(result.status == 0, "lz4 \(options): \(result.error)")
        return target
    }

    private func lz4Decompressed(_ url: URL, in directory: TemporaryDirectory) throws -> [UInt8] {
        let plain = directory.fileURL(url.lastPathComponent + ".plain")
        let result = try runProcess("/usr/bin/lz4", ["-d", "-f", "-q", url.path, plain.path])
        #expect(result.status == 0, "lz4 -d: \(result.error)")
        return Array(try Data(contentsOf: plain))
    }

    /// The `count` content bytes of the frame `url`, read with
    /// `LZ4FrameReader` in pieces of random sizes (1 byte to 3 blocks) and
    /// verified by `finish`.
    private func readContent(_ url: URL, count: Int, seed: UInt64) throws -> [UInt8] {
        let reader = try LZ4FrameReader(file: try PosixFile.openForReading(url.path))
        var generator = SplitMix64(seed: seed)
        let limits = [1, 7, 100, 70_000, 5 << 20, 13 << 20]
        var content: [UInt8] = []
        while content.count < count {
            let limit = limits[Int(generator.next(below: UInt64(limits.count)))]
            var piece = [UInt8](repeating: 0xAA, count: min(count - content.count, 1 + Int(generator.next(below: UInt64(limit)))))
            try piece.withUnsafeMutableBytes { try reader.read(into: $0) }
            content += piece
        }
        try reader.finish()
        return content
    }

    private func expectDamage(_ frame: [UInt8], in directory: TemporaryDirectory, reason expected: String) throws {
        let url = try directory.write(frame, to: "damaged.lz4")
        let error = expectArtifactError {
            let reader = try LZ4FrameReader(file: try PosixFile.openForReading(url.path))
            var content = [UInt8](repeating: 0, count: 1000)
            try content.withUnsafeMutableBytes { try reader.read(into: $0) }
            try reader.finish()
        }
        guard case let .damaged(path, reason)? = error else {
            Issue.record("expected .damaged, got \(String(describing: error))")
            return
        }
        #expect(path == url.path && reason.contains(expected), "\(reason)")
    }
}

/// `count` bytes from SplitMix64 (incompressible).
func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

/// The block size words of a frame whose header is `headerSize` bytes and
/// that has no block checksums.
func blockWords(_ frame: [UInt8], headerSize: Int) -> [UInt32] {
    var words: [UInt32] = []
    var offset = headerSize
    while true {
        let word = frame[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        if word == 0 { return words }
        words.append(word)
        offset += 4 + Int(word & ~LZ4FrameHeader.uncompressedBit)
    }
}

/// A frame of independent blocks built one by one: each block's content is
/// stored compressed when `compress` is set and it shrinks, else as it is.
func craftedFrame(_ blocks: [(content: [UInt8], compress: Bool)], blockMaximumSize: Int,
                  blockChecksums: Bool, contentSize: Bool) -> [UInt8] {
    let total = blocks.reduce(0) { $0 + $1.content.count }
    var frame = LZ4FrameHeader(blockMaximumSize: blockMaximumSize, independentBlocks: true, blockChecksums: blockChecksums,
                               contentSize: contentSize ? UInt64(total) : nil, contentChecksum: true, dictionaryID: nil).encoded()
    var checksum = XXH32()
    for (content, compress) in blocks {
        var stored = content
        var word = UInt32(content.count) | LZ4FrameHeader.uncompressedBit
        if compress {
            var output = [UInt8](repeating: 0, count: content.count)
            let size = output.withUnsafeMutableBytes { output in
                content.withUnsafeBytes { LZ4FrameWriter.compress($0, into: output.baseAddress!) }
            }
            if size > 0 {
                stored = Array(output[..<size])
                word = UInt32(size)
            }
        }
        frame += littleEndianBytes(word) + stored
        if blockChecksums { frame += littleEndianBytes(XXH32.hash(stored)) }
        content.withUnsafeBytes { checksum.update($0) }
    }
    return frame + [0, 0, 0, 0] + littleEndianBytes(checksum.digest())
}
