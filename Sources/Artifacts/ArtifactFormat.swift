import JSONText
import Foundation

/// The decompressed layout of an artifact (see `docs/artifact-format.md`):
///
///     8 bytes   header length N, unsigned little-endian
///     N bytes   JSON header, UTF-8, padded with spaces to a multiple of 8
///     rest      tensor data, little-endian, tensors back to back
///
/// The header maps each tensor name to `{"dtype", "shape", "data_offsets"}`
/// (offsets relative to the start of the data) and `__metadata__` to a
/// string-to-string map that always holds `format_version`. This is exactly
/// the safetensors layout, so `lz4 -d` output opens with safetensors tools.
public enum ArtifactFormat {
    /// The format version this code writes and reads.
    public static let version = "1"
    /// Header key of the metadata map.
    public static let metadataKey = "__metadata__"
    /// Metadata key holding the format version.
    public static let versionKey = "format_version"
    /// Headers larger than this are treated as damage (safetensors uses the same limit).
    static let maximumHeaderSize = 100_000_000

    /// Where one tensor lives in the data section.
    struct Entry: Equatable {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// The parsed header: metadata and entries in data order.
    struct Header {
        let metadata: [String: String]
        let entries: [Entry]
        /// `__metadata__.format_version`; the reader checks it only after the
        /// content checksum, so a damaged version digit reads as damage.
        var version: String { metadata[versionKey]! }
        /// Bytes of tensor data after the header.
        var dataSize: Int { entries.last?.end ?? 0 }
    }

    /// The 8-byte length prefix followed by the padded JSON header for `archive`.
    static func encodeHeader(_ archive: TensorArchive) -> [UInt8] {
        var metadata = archive.metadata
        metadata[versionKey] = version
        var json = "{\"\(metadataKey)\":{"
        json += metadata.keys.sorted().map { "\(JSONValue.quoted($0)):\(JSONValue.quoted(metadata[$0]!))" }.joined(separator: ",")
        json += "}"
        var offset = 0
        for tensor in archive.tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            json += ",\(JSONValue.quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}"
            offset += tensor.bytes.count
        }
        json += "}"
        var header = Array(json.utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        return withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header
    }

    /// Parses and validates a JSON header read from `path`. `dataLimit` bounds
    /// the data size the header may claim (from the frame's content size or
    /// the compressed file size), so a damaged header cannot cause a huge
    /// allocation.
    static func decodeHeader(_ bytes: [UInt8], dataLimit: Int, path: String) throws -> Header {
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ArtifactError.damaged(path: path, reason: "header is not valid artifact JSON: \(describe(error))")
        } catch {
            throw ArtifactError.damaged(path: path, reason: "header is not valid artifact JSON: \(error)")
        }
        guard let metadata = raw.metadata, let found = metadata[versionKey] else {
            throw ArtifactError.damaged(path: path, reason: "header has no \(metadataKey).\(versionKey)")
        }
        do {
            return Header(metadata: metadata, entries: try validEntries(raw, dataLimit: dataLimit, path: path))
        } catch {
            // Entries another version describes differently are not damage.
            if found != version { throw ArtifactError.unsupportedVersion(path: path, found: found) }
            throw error
        }
    }

    /// The entries of `raw`, checked and sorted into data order.
    private static func validEntries(_ raw: RawHeader, dataLimit: Int, path: String) throws -> [Entry] {
        var entries: [Entry] = []
        for (name, entry) in raw.entries {
            guard let dtype = DType(rawValue: entry.dtype) else {
                throw ArtifactError.damaged(path: path, reason: "tensor '\(name)': unknown dtype '\(entry.dtype)'")
            }
            guard entry.data_offsets.count == 2, entry.data_offsets[0] >= 0, entry.data_offsets[0] <= entry.data_offsets[1] else {
                throw ArtifactError.damaged(path: path, reason: "tensor '\(name)': data_offsets \(entry.data_offsets) is not [begin, end] with 0 <= begin <= end")
            }
            guard let size = byteCount(shape: entry.shape, dtype: dtype),
                  size == entry.data_offsets[1] - entry.data_offsets[0] else {
                throw ArtifactError.damaged(path: path, reason: "tensor '\(name)': shape \(entry.shape) of \(dtype.rawValue) does not match data_offsets \(entry.data_offsets)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: entry.shape,
                                 begin: entry.data_offsets[0], end: entry.data_offsets[1]))
        }
        // Data order; empty tensors sharing an offset are ordered by name.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expectedBegin = 0
        for entry in entries {
            guard entry.begin == expectedBegin else {
                throw ArtifactError.damaged(path: path, reason: "tensor '\(entry.name)' starts at data offset \(entry.begin), expected \(expectedBegin) (tensors must be stored back to back)")
            }
            expectedBegin = entry.end
        }
        guard expectedBegin <= dataLimit else {
            throw ArtifactError.damaged(path: path, reason: "header describes \(expectedBegin) bytes of tensor data, but the file can hold at most \(dataLimit)")
        }
        return entries
    }

    /// `product(shape) * dtype.byteCount`, or nil on a negative dimension or overflow.
    private static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var count = dtype.byteCount
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .dataCorrupted(context), let .keyNotFound(_, context),
             let .typeMismatch(_, context), let .valueNotFound(_, context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "at '\(path)': ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    /// The header as JSON: tensor entries under arbitrary keys plus `__metadata__`.
    private struct RawHeader: Decodable {
        struct RawEntry: Decodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }

        struct AnyKey: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        var metadata: [String: String]?
        var entries: [String: RawEntry] = [:]

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys {
                if key.stringValue == ArtifactFormat.metadataKey {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
                }
            }
        }
    }
}
