import Foundation

/// Writes a file so that readers see either the previous file or the
/// complete new one, even if the process is killed or the machine loses
/// power midway:
///
/// 1. write to `.<name>.tmp-<host>-<pid>-<random>` in the same directory
///    (same filesystem, so the rename is atomic), created with `O_EXCL`;
/// 2. `fsync` the temporary file;
/// 3. `rename` it over the destination;
/// 4. `fsync` the directory so the rename itself is durable.
///
/// On failure the temporary file is removed. A process killed by SIGKILL
/// can leave a temporary file behind; it is never read (its name starts with
/// a dot and contains `.tmp-`), and `removeStale(under:)` deletes those whose
/// writer is gone.
public enum AtomicFile {
    /// Writes `url` atomically; `body` receives the open temporary file.
    static func write(to url: URL, _ body: (PosixFile) throws -> Void) throws {
        let destination = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent
            + ".tmp-\(hostTag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
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

    /// This host's name as it appears in temporary names (no dashes or slashes).
    static let hostTag: String = {
        let name = ProcessInfo.processInfo.hostName.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "_" }
        return name.isEmpty ? "host" : String(name)
    }()

    /// Removes, in `directory` and the directories below it, the temporary
    /// files of atomic writes whose writer is gone: written on this host by a
    /// process that no longer exists, or (names of earlier versions, without
    /// a host) untouched for a day. A live writer's file, or one from another
    /// host sharing the file system, is never touched. Returns the paths removed.
    @discardableResult
    public static func removeStale(under directory: URL) -> [String] {
        guard let entries = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])
        else { return [] }
        var removed: [String] = []
        for case let url as URL in entries where isTemporaryName(url.lastPathComponent) && isStale(url) {
            if unlink(url.path) == 0 { removed.append(url.path) }
        }
        return removed
    }

    /// Whether the writer of temporary file `url` is gone (see `removeStale`).
    static func isStale(_ url: URL) -> Bool {
        let name = url.lastPathComponent
        guard let range = name.range(of: ".tmp-", options: .backwards) else { return false }
        let parts = name[range.upperBound...].split(separator: "-")
        if parts.count >= 3, let pid = Int32(parts[parts.count - 2]) {
            let host = parts[..<(parts.count - 2)].joined(separator: "-")
            return host == hostTag && kill(pid, 0) != 0 && errno == ESRCH
        }
        let modified = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate ?? Date()
        return Date().timeIntervalSince(modified) > 86_400
    }
}
