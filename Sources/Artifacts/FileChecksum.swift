import Checksums
import Foundation

extension SHA256 {
    /// The digest of the file at `url`, read in 1 MiB chunks.
    public static func hash(fileAt url: URL) throws -> String {
        let file = try PosixFile.openForReading(url.path)
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        return hasher.finalize()
    }
}
