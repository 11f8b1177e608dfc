import Foundation

/// Every failure of the `Artifacts` module: files that cannot be read or
/// written, damaged artifacts, malformed datasets, checksum mismatches and
/// failed downloads.
///
/// `description` names the file, says what is wrong and, where the reader can
/// do something about it, ends with a `HINT:` line.
public enum ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call on `path` failed (`operation` is e.g. "open", "fsync").
    case io(path: String, operation: String, errno: Int32)
    /// liblz4 or zlib failed for a reason other than damaged input (e.g. out of memory).
    case library(path: String, reason: String)
    /// The file is not an artifact at all (wrong magic number).
    case notAnArtifact(path: String, reason: String)
    /// The file is an artifact but damaged: checksum, sizes, header or
    /// truncation. Nothing from it may be used.
    case damaged(path: String, reason: String)
    /// The artifact is intact but written in a format version this code does
    /// not read.
    case unsupportedVersion(path: String, found: String)
    /// A tensor the caller asked for is not in the artifact.
    case missingTensor(path: String, name: String, available: [String])
    /// A tensor exists but has a different dtype than the caller asked for.
    case wrongDType(path: String, name: String, expected: DType, found: DType)
    /// A dataset file (IDX, CIFAR-10 binary, tar, gzip) is malformed.
    case invalidDataset(path: String, reason: String)
    /// A file's SHA-256 differs from the expected one.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// No expected SHA-256 is known for a dataset file.
    case missingChecksum(path: String, actual: String)
    /// A download failed.
    case download(url: String, reason: String)
    /// The caller asked for something impossible (e.g. split sizes larger
    /// than the training set).
    case invalidRequest(reason: String)

    /// True when the input is at fault (a missing, damaged or wrong file, a
    /// checksum mismatch, an invalid request), false for system and library failures.
    public var isInvalidInput: Bool {
        switch self {
        case .io(_, _, let code): return code == ENOENT || code == ENOTDIR   // a path that names nothing
        case .library, .download: return false
        case .notAnArtifact, .damaged, .unsupportedVersion, .missingTensor, .wrongDType, .invalidDataset,
             .checksumMismatch, .missingChecksum, .invalidRequest: return true
        }
    }

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "\(path): \(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
                + "\nHINT: check that the directory exists, is writable and that the disk is not full."
        case let .library(path, reason):
            return "\(path): \(reason)"
        case let .notAnArtifact(path, reason):
            return "\(path): not a GTN-NAS artifact: \(reason)"
                + "\nHINT: artifacts are LZ4 frames (`lz4 -t \(path)` checks one); was the right file named?"
        case let .damaged(path, reason):
            return "\(path): damaged artifact: \(reason)"
                + "\nHINT: do not use this file; delete it and re-run the stage that produced it."
        case let .unsupportedVersion(path, found):
            return "\(path): artifact format version \(found) is not supported (this build reads version \(ArtifactFormat.version))"
                + "\nHINT: rebuild with the code version that wrote it, or re-run the producing stage."
        case let .missingTensor(path, name, available):
            return "\(path): no tensor named '\(name)' (available: \(available.joined(separator: ", ")))"
        case let .wrongDType(path, name, expected, found):
            return "\(path): tensor '\(name)' has dtype \(found.rawValue), expected \(expected.rawValue)"
        case let .invalidDataset(path, reason):
            return "\(path): invalid dataset file: \(reason)"
                + "\nHINT: check that the file is complete and of the expected format (IDX or CIFAR-10 binary)."
        case let .checksumMismatch(path, expected, actual):
            return "\(path): SHA-256 mismatch: expected \(expected), found \(actual)"
                + "\nHINT: the file is damaged or not the one the pipeline names; fetch it again or fix the checksum in the pipeline file."
        case let .missingChecksum(path, actual):
            return "\(path): no expected SHA-256 is known for this file"
                + "\nHINT: its SHA-256 is \(actual); if you trust the file, add that checksum to the pipeline file's dataset section."
        case let .download(url, reason):
            return "\(url): download failed: \(reason)"
                + "\nHINT: check the URL and the network, or download the files by hand and name the directory instead."
        case let .invalidRequest(reason):
            return "invalid request: \(reason)"
        }
    }
}
