import CLZ4
import Foundation

/// Turns an LZ4F return code into its value or a thrown error built by
/// `failure` from liblz4's error name.
private func checkLZ4(_ code: Int, _ failure: (String) -> ArtifactError) throws -> Int {
    if LZ4F_isError(code) != 0 {
        throw failure(String(cString: LZ4F_getErrorName(code)))
    }
    return code
}

/// Content bytes handed to the compressor per call: one 4 MiB block.
private let compressionChunkSize = 4 << 20
/// Compressed bytes read from the file per `read` call.
private let readChunkSize = 1 << 20

/// Streams bytes into one LZ4 frame (4 MiB independent blocks, content
/// checksum, content size in the header) written to a file as it goes.
/// Block checksums are off: the content checksum already covers every
/// byte, and skipping them saves a pass over the data in both directions.
final class LZ4FrameWriter {
    private let file: PosixFile
    private let context: OpaquePointer
    private let preferences: LZ4F_preferences_t
    private var output: [UInt8]

    /// Starts a frame whose content will be exactly `contentSize` bytes.
    init(file: PosixFile, contentSize: UInt64) throws {
        self.file = file
        var context: OpaquePointer?
        let path = file.path
        _ = try checkLZ4(LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))) {
            .library(path: path, reason: "LZ4 compression context: \($0)")
        }
        self.context = context!
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max4MB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum
        preferences.frameInfo.contentSize = contentSize
        self.preferences = preferences
        output = [UInt8](repeating: 0, count: max(Int(LZ4F_HEADER_SIZE_MAX), LZ4F_compressBound(compressionChunkSize, &preferences)))
        try emit { context, destination, capacity, preferences, path throws in
            try checkLZ4(LZ4F_compressBegin(context, destination, capacity, preferences)) {
                .library(path: path, reason: "LZ4 frame start: \($0)")
            }
        }
    }

    deinit { LZ4F_freeCompressionContext(context) }

    /// Compresses `bytes` and writes the compressed output.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = min(compressionChunkSize, bytes.count - offset)
            let source = bytes.baseAddress! + offset
            try emit { context, destination, capacity, _, path throws in
                try checkLZ4(LZ4F_compressUpdate(context, destination, capacity, source, count, nil)) {
                    .library(path: path, reason: "LZ4 compression: \($0)")
                }
            }
            offset += count
        }
    }

    /// Ends the frame (end mark and content checksum).
    func finish() throws {
        try emit { context, destination, capacity, _, path throws in
            try checkLZ4(LZ4F_compressEnd(context, destination, capacity, nil)) {
                .library(path: path, reason: "LZ4 frame end: \($0)")
            }
        }
    }

    /// Runs one liblz4 call into the output buffer and writes what it produced.
    private func emit(
        _ call: (OpaquePointer, UnsafeMutableRawPointer, Int, UnsafePointer<LZ4F_preferences_t>, String) throws -> Int
    ) throws {
        let capacity = output.count
        let produced = try output.withUnsafeMutableBytes { (buffer) throws -> Int in
            try withUnsafePointer(to: preferences) { (preferences) throws -> Int in
                try call(context, buffer.baseAddress!, capacity, preferences, file.path)
            }
        }
        try output.withUnsafeBytes { (buffer) throws in
            try file.write(UnsafeRawBufferPointer(rebasing: buffer[..<produced]))
        }
    }
}

/// Reads the content of one LZ4 frame from a file on demand, so callers can
/// decompress straight into their final buffers. Every inconsistency is an
/// `ArtifactError.damaged` (or `.notAnArtifact` for a wrong magic number).
///
/// The content checksum is only known at the end of the frame: callers must
/// call `finish()` before trusting any byte they read.
final class LZ4FrameReader {
    /// The magic number that starts every LZ4 frame, as stored (little-endian).
    static let magic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]

    private let file: PosixFile
    private let context: OpaquePointer
    private var input: [UInt8]
    private var inputStart = 0
    private var inputEnd = 0
    private var frameEnded = false
    /// Total size of the compressed file, for sanity limits.
    let compressedSize: Int

    init(file: PosixFile) throws {
        self.file = file
        var context: OpaquePointer?
        let path = file.path
        _ = try checkLZ4(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) {
            .library(path: path, reason: "LZ4 decompression context: \($0)")
        }
        self.context = context!
        input = [UInt8](repeating: 0, count: readChunkSize)
        var status = stat()
        if fstat(file.descriptor, &status) != 0 { throw ArtifactError.io(path: path, operation: "fstat", errno: errno) }
        compressedSize = Int(status.st_size)
        try refill()
        guard inputEnd >= 4, Array(input[0..<4]) == Self.magic else {
            throw ArtifactError.notAnArtifact(path: path, reason: inputEnd < 4
                ? "file is \(inputEnd) bytes long, too short for an LZ4 frame"
                : "first bytes are not the LZ4 frame magic number 04 22 4D 18")
        }
    }

    deinit { LZ4F_freeDecompressionContext(context) }

    /// Frame parameters; valid once the first content byte has been read.
    func frameInfo() throws -> LZ4F_frameInfo_t {
        var info = LZ4F_frameInfo_t()
        var consumed = 0
        let path = file.path
        _ = try checkLZ4(LZ4F_getFrameInfo(context, &info, nil, &consumed)) {
            .damaged(path: path, reason: "LZ4 frame header: \($0)")
        }
        return info
    }

    /// Fills `destination` completely with the next content bytes.
    func read(into destination: UnsafeMutableRawBufferPointer) throws {
        var filled = 0
        while filled < destination.count {
            if frameEnded {
                throw ArtifactError.damaged(path: file.path, reason: "LZ4 frame content ends before the data the header describes")
            }
            filled += try decompressStep(into: destination.baseAddress! + filled, capacity: destination.count - filled)
        }
    }

    /// Reads to the end of the frame, which verifies the content checksum,
    /// and checks that no content and no bytes after the frame remain.
    func finish() throws {
        var scratch = [UInt8](repeating: 0, count: 64)
        while !frameEnded {
            let produced = try scratch.withUnsafeMutableBytes { (buffer) throws -> Int in
                try decompressStep(into: buffer.baseAddress!, capacity: buffer.count)
            }
            if produced > 0 {
                throw ArtifactError.damaged(path: file.path, reason: "LZ4 frame holds more content than the header describes")
            }
        }
        var trailing = inputEnd - inputStart
        if trailing == 0 {
            try refill()
            trailing = inputEnd - inputStart
        }
        if trailing > 0 {
            throw ArtifactError.damaged(path: file.path, reason: "unexpected bytes after the end of the LZ4 frame (file is \(compressedSize) bytes)")
        }
    }

    /// One call to `LZ4F_decompress`, refilling input as needed; returns the
    /// number of content bytes produced.
    private func decompressStep(into destination: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        if inputStart == inputEnd {
            try refill()
            if inputStart == inputEnd {
                throw ArtifactError.damaged(path: file.path, reason: "file ends inside the LZ4 frame (truncated at \(compressedSize) bytes)")
            }
        }
        var produced = capacity
        var consumed = inputEnd - inputStart
        let start = inputStart
        let path = file.path
        let hint = try input.withUnsafeBytes { (buffer) throws -> Int in
            try checkLZ4(LZ4F_decompress(context, destination, &produced, buffer.baseAddress! + start, &consumed, nil)) {
                .damaged(path: path, reason: "LZ4 frame: \($0)")
            }
        }
        inputStart += consumed
        if hint == 0 { frameEnded = true }
        return produced
    }

    private func refill() throws {
        let count = try input.withUnsafeMutableBytes { (buffer) throws -> Int in
            try file.read(into: buffer)
        }
        inputStart = 0
        inputEnd = count
    }
}
