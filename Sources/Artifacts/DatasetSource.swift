import Checksums
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The datasets this module can read.
public enum DatasetKind: String, Sendable, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case kmnist
    case cifar10 = "cifar-10"

    /// Examples in the official training set (split into train + validation).
    public var trainingSetSize: Int {
        switch self {
        case .fashionMNIST, .mnist, .kmnist: return 60_000
        case .cifar10: return 50_000
        }
    }

    /// The IDX file names of the MNIST family, as published (gzip-compressed).
    static let idxFiles = (trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
                           testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz")

    /// SHA-256 of the canonical files this project knows by heart, by file
    /// name. Fashion-MNIST: the files of Debian's `dataset-fashion-mnist`
    /// package (identical to Zalando's release), gzip-compressed and
    /// extracted. Other datasets take their checksums from the caller.
    public var builtInChecksums: [String: String] {
        switch self {
        case .fashionMNIST:
            return [
                "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
                "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ]
        case .mnist, .kmnist, .cifar10:
            return [:]
        }
    }
}

/// Where a dataset comes from and which SHA-256 each file must have.
public struct DatasetSource: Sendable {
    /// Fashion-MNIST from Debian's `dataset-fashion-mnist` package.
    public static let debianFashionMNIST = DatasetSource(
        dataset: .fashionMNIST, location: URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist"))

    public var dataset: DatasetKind
    /// A local directory (`file://` URL) or an `http(s)://` base URL under
    /// which the dataset's files are found by their published names.
    public var location: URL
    /// Expected SHA-256 (hex) by file name; entries override the dataset's
    /// built-in table. A file with no expected checksum is refused.
    public var checksums: [String: String]

    public init(dataset: DatasetKind, location: URL, checksums: [String: String] = [:]) {
        self.dataset = dataset
        self.location = location
        self.checksums = checksums
    }

    /// Parses `location` as a URL when it has an `http`, `https` or `file`
    /// scheme, and as a local path otherwise.
    public init(dataset: DatasetKind, location: String, checksums: [String: String] = [:]) throws {
        let url: URL
        if let parsed = URL(string: location), let scheme = parsed.scheme?.lowercased() {
            guard ["http", "https", "file"].contains(scheme) else {
                throw ArtifactError.invalidRequest(reason: "dataset location '\(location)': scheme '\(scheme)' is not supported (use a directory, file://, http:// or https://)")
            }
            url = parsed
        } else {
            url = URL(fileURLWithPath: location)
        }
        self.init(dataset: dataset, location: url, checksums: checksums)
    }

    /// The expected SHA-256 of `name`, if known.
    func expectedChecksum(_ name: String) -> String? {
        checksums[name]?.lowercased() ?? dataset.builtInChecksums[name]
    }

    var isRemote: Bool { location.scheme == "http" || location.scheme == "https" }
}

/// Makes a dataset's files available locally, each verified against its
/// expected SHA-256: local files are checked in place; remote files are
/// downloaded to a temporary name in `downloadDirectory` and renamed to
/// their published name only after the check. A verified download is reused.
struct DatasetFetcher {
    let source: DatasetSource
    let downloadDirectory: URL

    /// The first of `candidates` (alternative names of one file) that exists,
    /// verified; for remote sources always the first name.
    /// Returns the local URL and its SHA-256.
    func fetch(oneOf candidates: [String]) throws -> (url: URL, sha256: String) {
        if source.isRemote {
            return try download(candidates[0])
        }
        let directory = source.location
        guard let name = candidates.first(where: { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }) else {
            throw ArtifactError.invalidDataset(path: directory.path, reason: "none of \(candidates.joined(separator: ", ")) exists in this directory")
        }
        let url = directory.appendingPathComponent(name)
        return (url, try verify(url, name: url.lastPathComponent))
    }

    /// Whether `name` exists at a local source (always false for remote ones).
    func hasLocalFile(_ name: String) -> Bool {
        !source.isRemote && FileManager.default.fileExists(atPath: source.location.appendingPathComponent(name).path)
    }

    /// Checks `url`'s SHA-256 against the expected one for `name`; returns it.
    private func verify(_ url: URL, name: String) throws -> String {
        let actual = try SHA256.hash(fileAt: url)
        guard let expected = source.expectedChecksum(name) else {
            throw ArtifactError.missingChecksum(path: url.path, actual: actual)
        }
        guard expected == actual else {
            throw ArtifactError.checksumMismatch(path: url.path, expected: expected, actual: actual)
        }
        return actual
    }

    private func download(_ name: String) throws -> (url: URL, sha256: String) {
        let destination = downloadDirectory.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: destination.path), let sha = try? verify(destination, name: name) {
            return (destination, sha)
        }
        try PosixFile.createDirectories(downloadDirectory.path)
        let remote = source.location.appendingPathComponent(name)
        let temporary = downloadDirectory.appendingPathComponent(".\(name).download-\(getpid())")
        try Self.transfer(remote, to: temporary)
        do {
            let sha = try verify(temporary, name: name)
            if rename(temporary.path, destination.path) != 0 {
                throw ArtifactError.io(path: destination.path, operation: "rename from \(temporary.path)", errno: errno)
            }
            return (destination, sha)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Downloads `remote` to `local` with Foundation's URLSession, synchronously.
    private static func transfer(_ remote: URL, to local: URL) throws {
        final class Outcome: @unchecked Sendable {
            // Written by the completion handler before it signals, read after the wait.
            var failure: String?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.downloadTask(with: remote) { downloaded, response, error in
            defer {
                // Foundation on Linux leaves its temporary file behind (an
                // error page, say) unless the handler moves or removes it.
                if let downloaded { try? FileManager.default.removeItem(at: downloaded) }
                done.signal()
            }
            if let error {
                outcome.failure = error.localizedDescription
            } else if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                outcome.failure = "HTTP status \(http.statusCode)"
            } else if let downloaded {
                try? FileManager.default.removeItem(at: local)
                do {
                    try FileManager.default.moveItem(at: downloaded, to: local)
                } catch {
                    outcome.failure = "cannot move the download to \(local.path): \(error.localizedDescription)"
                }
            } else {
                outcome.failure = "no data received"
            }
        }
        task.resume()
        done.wait()
        if let failure = outcome.failure {
            try? FileManager.default.removeItem(at: local)
            throw ArtifactError.download(url: remote.absoluteString, reason: failure)
        }
    }
}
