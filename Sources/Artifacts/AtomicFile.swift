import Foundation

/// Writes a file so that readers see either the previous file or the
/// complete new one, even if the process is killed or the machine loses
/// power midway:
///
/// 1. write to `.<name>.tmp-<pid>-<random>` in the same directory
///    (same filesystem, so the rename is atomic), created with `O_EXCL`;
/// 2. `fsync` the temporary file;
/// 3. `rename` it over the destination;
/// 4. `fsync` the directory so the rename itself is durable.
///
/// On failure the temporary file is removed. A process killed by SIGKILL
/// can leave a temporary file behind; it is never read (its name starts with
/// a dot and contains `.tmp-`) and can be deleted at any time.
public enum AtomicFile {
    /// Writes `url` atomically; `body` receives the open temporary file.
    static func write(to url: URL, _ body: (PosixFile) throws -> Void) throws {
        let destination = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let file = try PosixFile.createExclusive(temporary)
        do {
            try body(file)
            try file.sync()
            try file.close()
            if rename(temporary, destination) != 0 {
                throw ArtifactError.io(path: destination, operation: "rename from \(temporary)", errno: errno)
            }
        } catch {
            unlink(temporary)
            throw error
        }
        let directoryHandle = try PosixFile.openDirectory(directory)
        try directoryHandle.sync()
        try directoryHandle.close()
    }

    /// Writes `bytes` to `url` atomically (a report, an image).
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(to: url) { file in try bytes.withUnsafeBytes { try file.write($0) } }
    }

    /// Whether `name` is the temporary name of an unfinished atomic write.
    public static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(".tmp-")
    }
}
