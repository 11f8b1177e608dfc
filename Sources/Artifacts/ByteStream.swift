import CZlib
import Foundation

/// A forward-only source of bytes: a plain file or a decompressed gzip file.
/// Dataset readers parse from these so raw and `.gz` files share one parser.
protocol ByteStream: AnyObject {
    /// The file the bytes come from, for error messages.
    var path: String { get }
    /// Reads up to `buffer.count` bytes; returns 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteStream {
    /// Reads exactly `count` bytes; a short stream is an `.invalidDataset`
    /// error saying `what` was being read.
    func readExactly(_ count: Int, what: String) throws -> [UInt8] {
        var failure: (any Error)?
        var filled = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                while filled < count {
                    let got = try read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[filled...])))
                    if got == 0 { break }
                    filled += got
                }
            } catch {
                failure = error
            }
            initialized = filled
        }
        if let failure { throw failure }
        guard filled == count else {
            throw ArtifactError.invalidDataset(path: path, reason: "truncated: ended after \(filled) of the \(count) bytes of \(what)")
        }
        return bytes
    }

    /// Reads everything that is left.
    func readToEnd() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            result += chunk[0..<count]
        }
    }

    /// Whether the stream is at its end (consumes at most one byte, so only
    /// for checking that nothing follows the expected content).
    func isAtEnd() throws -> Bool {
        var byte: UInt8 = 0
        return try withUnsafeMutableBytes(of: &byte) { try read(into: $0) } == 0
    }
}

/// The bytes of a file, raw or gunzipped depending on its first two bytes
/// (the gzip magic 1f 8b).
func openByteStream(_ url: URL) throws -> any ByteStream {
    let file = try PosixFile.openForReading(url.path)
    var magic: [UInt8] = [0, 0]
    let count = try magic.withUnsafeMutableBytes { try file.read(into: $0) }
    let stream = PrefixedFileStream(file: file, prefix: Array(magic[0..<count]))
    return count == 2 && magic == [0x1f, 0x8b] ? try GzipStream(compressed: stream) : stream
}

/// A file stream that first replays the bytes already read to sniff its type.
private final class PrefixedFileStream: ByteStream {
    private let file: PosixFile
    private var prefix: [UInt8]
    var path: String { file.path }

    init(file: PosixFile, prefix: [UInt8]) {
        self.file = file
        self.prefix = prefix
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !prefix.isEmpty else { return try file.read(into: buffer) }
        let count = min(prefix.count, buffer.count)
        buffer.copyBytes(from: prefix[0..<count])
        prefix.removeFirst(count)
        return count
    }
}

/// Gunzips another stream with zlib, checking each member's CRC-32 and
/// length; concatenated gzip members are read one after another.
final class GzipStream: ByteStream {
    private let compressed: any ByteStream
    private var zstream = z_stream()
    private var input = [UInt8](repeating: 0, count: 1 << 20)
    private var inputAvailable = 0
    private var inputOffset = 0
    private var memberEnded = false
    private var finished = false
    var path: String { compressed.path }

    init(compressed: any ByteStream) throws {
        self.compressed = compressed
        // 16 + 15: gzip wrapper only, 32 KiB window.
        let status = czlib_inflate_init2(&zstream, 16 + MAX_WBITS)
        guard status == Z_OK else {
            throw ArtifactError.library(path: compressed.path, reason: "zlib inflateInit2 failed (code \(status))")
        }
    }

    deinit { inflateEnd(&zstream) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while !finished && buffer.count > 0 {
            if inputOffset == inputAvailable {
                inputAvailable = try input.withUnsafeMutableBytes { try compressed.read(into: $0) }
                inputOffset = 0
                if inputAvailable == 0 {
                    if memberEnded { finished = true; return 0 }
                    throw ArtifactError.invalidDataset(path: path, reason: "gzip stream is truncated")
                }
            }
            if memberEnded {
                // More input after a complete member: another gzip member follows.
                inflateReset(&zstream)
                memberEnded = false
            }
            let produced = try inflateStep(into: buffer)
            if produced > 0 { return produced }
        }
        return 0
    }

    /// One `inflate` call; returns the number of bytes produced.
    private func inflateStep(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let available = inputAvailable - inputOffset
        let (status, consumed, produced) = input.withUnsafeMutableBytes { source in
            zstream.next_in = source.baseAddress!.assumingMemoryBound(to: Bytef.self) + inputOffset
            zstream.avail_in = uInt(available)
            zstream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            zstream.avail_out = uInt(buffer.count)
            let status = inflate(&zstream, Z_NO_FLUSH)
            return (status, available - Int(zstream.avail_in), buffer.count - Int(zstream.avail_out))
        }
        inputOffset += consumed
        switch status {
        case Z_OK, Z_BUF_ERROR:
            return produced
        case Z_STREAM_END:
            memberEnded = true
            return produced
        default:
            let message = zstream.msg.map { String(cString: $0) } ?? "code \(status)"
            throw ArtifactError.invalidDataset(path: path, reason: "gzip data is corrupt (zlib: \(message))")
        }
    }
}
