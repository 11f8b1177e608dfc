import Foundation

/// A thin owner of a POSIX file descriptor whose failures become
/// `ArtifactError.io` naming the file.
final class PosixFile {
    let path: String
    private(set) var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { if descriptor >= 0 { _ = Glibc.close(descriptor) } }

    /// Opens `path` for reading; it must be a regular file. (Opened without
    /// blocking, so a FIFO or device at the path is refused instead of
    /// hanging the process in `open` where no signal can stop it.)
    static func openForReading(_ path: String) throws -> PosixFile {
        let file = try open(path, flags: O_RDONLY | O_NONBLOCK | O_CLOEXEC, operation: "open")
        var status = stat()
        guard fstat(file.descriptor, &status) == 0 else { throw ArtifactError.io(path: path, operation: "stat", errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            let kind: String
            switch status.st_mode & S_IFMT {
            case S_IFIFO: kind = "a FIFO"
            case S_IFDIR: kind = "a directory"
            case S_IFCHR, S_IFBLK: kind = "a device"
            case S_IFSOCK: kind = "a socket"
            default: kind = "a special file"
            }
            throw ArtifactError.notAnArtifact(path: path, reason: "it is \(kind), not a regular file")
        }
        return file
    }

    /// Creates `path`, which must not exist yet, for writing.
    static func createExclusive(_ path: String) throws -> PosixFile {
        try open(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, operation: "create")
    }

    /// Opens a directory so it can be fsynced.
    static func openDirectory(_ path: String) throws -> PosixFile {
        try open(path, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC, operation: "open directory")
    }

    private static func open(_ path: String, flags: Int32, operation: String) throws -> PosixFile {
        while true {
            let descriptor = Glibc.open(path, flags, 0o644)
            if descriptor >= 0 { return PosixFile(path: path, descriptor: descriptor) }
            if errno != EINTR { throw ArtifactError.io(path: path, operation: operation, errno: errno) }
        }
    }

    /// Creates the directory `path` and any missing parents.
    static func createDirectories(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try createDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw ArtifactError.io(path: path, operation: "create directory", errno: errno)
        }
    }

    /// Reads up to `buffer.count` bytes; returns 0 only at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw ArtifactError.io(path: path, operation: "read", errno: errno) }
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw ArtifactError.io(path: path, operation: "write", errno: errno)
            }
            offset += count
        }
    }

    /// Flushes the file's data and metadata to stable storage.
    func sync() throws {
        while fsync(descriptor) != 0 {
            if errno != EINTR { throw ArtifactError.io(path: path, operation: "fsync", errno: errno) }
        }
    }

    /// Closes the descriptor, reporting errors (a failed close can mean lost data).
    func close() throws {
        let result = Glibc.close(descriptor)
        descriptor = -1
        if result != 0 && errno != EINTR { throw ArtifactError.io(path: path, operation: "close", errno: errno) }
    }
}
