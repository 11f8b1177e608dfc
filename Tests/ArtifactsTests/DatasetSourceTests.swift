import Foundation
import Testing
import TestSupport
@testable import Artifacts

@Suite struct DatasetSourceTests {
    private typealias Fixtures = DatasetFixtures

    @Test func localDirectoryAndFileURLWithChecksums() throws {
        let directory = TemporaryDirectory()
        let checksums = try Fixtures.writeIDXDataset(in: directory, train: 12, test: 4)
        for location in [directory.url.path, directory.url.absoluteString] {
            let source = try DatasetSource(dataset: .mnist, location: location, checksums: checksums)
            let loaded = try DatasetPreparation.load(source: source, downloadDirectory: directory.fileURL("downloads"))
            #expect(loaded.train.count == 12 && loaded.test.count == 4)
            #expect(loaded.checksums == checksums)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.fileURL("downloads").path))
    }

    @Test func extractedIDXFilesAreFoundToo() throws {
        let directory = TemporaryDirectory()
        let checksums = try Fixtures.writeIDXDataset(in: directory, train: 12, test: 4, gzip: false)
        let source = DatasetSource(dataset: .kmnist, location: directory.url, checksums: checksums)
        #expect(try DatasetPreparation.load(source: source, downloadDirectory: directory.url).test.count == 4)
    }

    @Test func checksumMismatchAndMissingChecksumAreClearErrors() throws {
        let directory = TemporaryDirectory()
        var checksums = try Fixtures.writeIDXDataset(in: directory, train: 12, test: 4)
        let name = "t10k-labels-idx1-ubyte.gz"
        let actual = checksums[name]!
        checksums[name] = String(repeating: "0", count: 64)
        let wrong = DatasetSource(dataset: .mnist, location: directory.url, checksums: checksums)
        let mismatch = expectArtifactError { _ = try DatasetPreparation.load(source: wrong, downloadDirectory: directory.url) }
        #expect(mismatch == .checksumMismatch(path: directory.fileURL(name).path, expected: checksums[name]!, actual: actual))
        #expect(mismatch?.description.contains("SHA-256 mismatch") == true)

        checksums[name] = nil
        let incomplete = DatasetSource(dataset: .mnist, location: directory.url, checksums: checksums)
        let missing = expectArtifactError { _ = try DatasetPreparation.load(source: incomplete, downloadDirectory: directory.url) }
        #expect(missing == .missingChecksum(path: directory.fileURL(name).path, actual: actual))
        #expect(missing?.description.contains("HINT: its SHA-256 is \(actual)") == true)

        // Fashion-MNIST's built-in table refuses files that are not the canonical ones.
        let fashion = DatasetSource(dataset: .fashionMNIST, location: directory.url)
        let builtIn = expectArtifactError { _ = try DatasetPreparation.load(source: fashion, downloadDirectory: directory.url) }
        #expect(builtIn?.description.contains("expected b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7") == true,
                "\(String(describing: builtIn))")
    }

    @Test func unsupportedSchemeAndMissingFiles() throws {
        let scheme = expectArtifactError { _ = try DatasetSource(dataset: .mnist, location: "ftp://example.org/mnist") }
        #expect(scheme?.description.contains("scheme 'ftp' is not supported") == true)
        let directory = TemporaryDirectory()
        let source = DatasetSource(dataset: .mnist, location: directory.url)
        let missing = expectArtifactError { _ = try DatasetPreparation.load(source: source, downloadDirectory: directory.url) }
        #expect(missing?.description.contains("none of train-images-idx3-ubyte.gz, train-images-idx3-ubyte exists") == true,
                "\(String(describing: missing))")
    }

    /// Serves a directory over HTTP on 127.0.0.1 with Python's http.server.
    private final class LocalHTTPServer {
        let process = Process()
        let port: Int

        init(serving directory: URL) throws {
            let script = """
                import functools, http.server, sys
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
                server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
                print(server.server_address[1], flush=True)
                server.serve_forever()
                """
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", script, directory.path]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
                line += byte
            }
            port = try #require(Int(String(decoding: line, as: UTF8.self)))
        }

        deinit {
            // SIGKILL: the child may inherit a signal mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test func httpDownloadsAreVerifiedBeforeTheyAreKept() throws {
        let served = TemporaryDirectory()
        var checksums = try Fixtures.writeIDXDataset(in: served, train: 12, test: 4)
        let server = try LocalHTTPServer(serving: served.url)
        let output = TemporaryDirectory()
        let downloads = output.fileURL("downloads")
        let location = "http://127.0.0.1:\(server.port)/"

        let source = try DatasetSource(dataset: .mnist, location: location, checksums: checksums)
        let loaded = try DatasetPreparation.load(source: source, downloadDirectory: downloads)
        #expect(loaded.train.count == 12 && loaded.checksums == checksums)
        #expect(try FileManager.default.contentsOfDirectory(atPath: downloads.path).sorted() == checksums.keys.sorted())

        // A file whose checksum does not match is not kept under its name.
        let name = "train-labels-idx1-ubyte.gz"
        try FileManager.default.removeItem(at: downloads.appendingPathComponent(name))
        checksums[name] = String(repeating: "a", count: 64)
        let wrong = try DatasetSource(dataset: .mnist, location: location, checksums: checksums)
        let mismatch = expectArtifactError { _ = try DatasetPreparation.load(source: wrong, downloadDirectory: downloads) }
        guard case .checksumMismatch = mismatch else {
            Issue.record("expected a checksum mismatch, got \(String(describing: mismatch))")
            return
        }
        #expect(try !FileManager.default.contentsOfDirectory(atPath: downloads.path).contains { $0.contains(name) })

        // A missing remote file is a download error naming the URL, and
        // Foundation's temporary copy of the error page is not left behind.
        try FileManager.default.removeItem(at: served.fileURL("t10k-images-idx3-ubyte.gz"))
        try FileManager.default.removeItem(at: downloads.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        let errorPagesBefore = try errorPagesInTemporaryDirectory()
        let notFound = expectArtifactError { _ = try DatasetPreparation.load(source: source, downloadDirectory: downloads) }
        #expect(notFound?.description.contains("t10k-images-idx3-ubyte.gz: download failed: HTTP status 404") == true,
                "\(String(describing: notFound))")
        #expect(try errorPagesInTemporaryDirectory().subtracting(errorPagesBefore).isEmpty)
    }

    /// Files in Foundation's temporary directory that hold an HTTP 404 error
    /// page; only files under 4 KiB are read (the directory is shared).
    private func errorPagesInTemporaryDirectory() throws -> Set<String> {
        let directory = FileManager.default.temporaryDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return Set(names.filter { name in
            let path = directory.appendingPathComponent(name).path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let size = attributes[.size] as? Int, size < 4096,
                  let data = FileManager.default.contents(atPath: path) else { return false }
            return String(decoding: data, as: UTF8.self).contains("Error code: 404")
        })
    }
}
