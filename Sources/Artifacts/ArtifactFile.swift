import Foundation

/// Reads and writes artifact files: a `TensorArchive` in the safetensors
/// layout of `ArtifactFormat`, inside one LZ4 frame with a content
/// checksum, written atomically.
public enum ArtifactFile {
    /// Conventional file-name suffix; `lz4 -d x.safetensors.lz4` yields `x.safetensors`.
    public static let fileExtension = "safetensors.lz4"

    /// Writes `archive` to `url` atomically (see `AtomicFile`), compressing
    /// tensor by tensor without building the file in memory.
    public static func write(_ archive: TensorArchive, to url: URL) throws {
        let header = ArtifactFormat.encodeHeader(archive)
        let contentSize = archive.tensors.reduce(header.count) { $0 + $1.bytes.count }
        try AtomicFile.write(to: url) { (file) throws in
            let writer = try LZ4FrameWriter(file: file, contentSize: UInt64(contentSize))
            try header.withUnsafeBytes { (bytes) throws in try writer.write(bytes) }
            for tensor in archive.tensors {
                try tensor.bytes.withUnsafeBytes { (bytes) throws in try writer.write(bytes) }
            }
            try writer.finish()
        }
    }

    /// Reads and fully verifies the artifact at `url`: LZ4 magic, frame
    /// header, block decoding, content checksum, header JSON, format version,
    /// sizes and offsets, and that nothing follows the frame. Tensors are
    /// decompressed straight into their final arrays. Any defect throws
    /// (`.notAnArtifact`, `.damaged`, `.unsupportedVersion`, `.io`); no
    /// tensor is returned from a file that fails any check.
    public static func read(_ url: URL) throws -> TensorArchive {
        let path = url.path
        let reader = try LZ4FrameReader(file: try PosixFile.openForReading(path))
        guard reader.header.contentChecksum else {
            throw ArtifactError.damaged(path: path, reason: "LZ4 frame has no content checksum, so its content cannot be verified")
        }

        var lengthBytes = [UInt8](repeating: 0, count: 8)
        try lengthBytes.withUnsafeMutableBytes { (buffer) throws in try reader.read(into: buffer) }
        let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }

        // LZ4 cannot compress better than 255:1, which bounds what a file of this size can hold.
        var contentLimit = UInt64(reader.compressedSize) * 256
        if let contentSize = reader.header.contentSize { contentLimit = min(contentLimit, contentSize) }
        guard headerLength <= UInt64(ArtifactFormat.maximumHeaderSize), headerLength + 8 <= contentLimit else {
            throw ArtifactError.damaged(path: path, reason: "header length \(headerLength) is impossible for this file")
        }

        var headerBytes = [UInt8](repeating: 0, count: Int(headerLength))
        try headerBytes.withUnsafeMutableBytes { (buffer) throws in try reader.read(into: buffer) }
        let dataLimit = Int(contentLimit - 8 - headerLength)
        let header = try ArtifactFormat.decodeHeader(headerBytes, dataLimit: dataLimit, path: path)
        if reader.header.contentSize != nil && header.dataSize != dataLimit {
            throw ArtifactError.damaged(path: path, reason: "header describes \(header.dataSize) bytes of tensor data, the LZ4 frame holds \(dataLimit)")
        }

        var tensors: [StoredTensor] = []
        for entry in header.entries {
            let size = entry.end - entry.begin
            var failure: (any Error)?
            let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                do {
                    try reader.read(into: UnsafeMutableRawBufferPointer(buffer))
                    initialized = size
                } catch {
                    failure = error
                    initialized = 0
                }
            }
            if let failure { throw failure }
            tensors.append(StoredTensor(name: entry.name, dtype: entry.dtype, shape: entry.shape, bytes: bytes))
        }
        try reader.finish()
        guard header.version == ArtifactFormat.version else {
            throw ArtifactError.unsupportedVersion(path: path, found: header.version)
        }
        return TensorArchive(tensors: tensors, metadata: header.metadata, origin: path)
    }
}
