/// Reads the regular files of a (ustar or GNU) tar archive from a stream,
/// one after another. Only what CIFAR-10's archive needs: 512-byte headers
/// with checksum, names up to 100 bytes plus the ustar prefix, octal sizes.
/// Directories, links and other entries are skipped.
struct TarReader {
    private let stream: any ByteStream
    private static let blockSize = 512

    init(stream: any ByteStream) { self.stream = stream }

    /// The next regular file (name and content), or nil at the end of the archive.
    mutating func next() throws -> (name: String, content: [UInt8])? {
        while true {
            let header = try stream.readExactly(Self.blockSize, what: "a tar header")
            if header.allSatisfy({ $0 == 0 }) { return nil }
            try checkChecksum(header)
            let size = try octal(header[124..<136], field: "size")
            let content = try stream.readExactly(size, what: "a tar entry of \(size) bytes")
            let padding = (Self.blockSize - size % Self.blockSize) % Self.blockSize
            _ = try stream.readExactly(padding, what: "tar padding")
            let type = header[156]
            guard type == UInt8(ascii: "0") || type == 0 else { continue }
            let name = text(header[0..<100])
            let prefix = Array(header[257..<262]) == Array("ustar".utf8) ? text(header[345..<500]) : ""
            return (prefix.isEmpty ? name : prefix + "/" + name, content)
        }
    }

    private func checkChecksum(_ header: [UInt8]) throws {
        let stored = try octal(header[148..<156], field: "checksum")
        // The checksum field itself counts as eight spaces.
        let computed = header.indices.reduce(0) { sum, index in
            sum + ((148..<156).contains(index) ? Int(UInt8(ascii: " ")) : Int(header[index]))
        }
        guard stored == computed else {
            throw ArtifactError.invalidDataset(path: stream.path, reason: "tar header checksum mismatch (stored \(stored), computed \(computed)); the archive is damaged")
        }
    }

    private func octal(_ field: ArraySlice<UInt8>, field name: String) throws -> Int {
        let digits = field.drop { $0 == UInt8(ascii: " ") }.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }
        guard !digits.isEmpty, digits.count <= 11, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else {
            throw ArtifactError.invalidDataset(path: stream.path, reason: "tar header field '\(name)' is not an octal number")
        }
        return digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
    }

    private func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}
