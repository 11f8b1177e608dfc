import Foundation
import SplitMix

/// The `artifact-tool` command: inspect and verify artifacts, write test
/// files for the SIGKILL test, and run the artifact benchmark.
public enum ArtifactTool {
    static let usage = """
        artifact-tool: inspect and verify GTN-NAS artifacts (LZ4-framed safetensors files)

        USAGE:
          artifact-tool info FILE
              Verify FILE and print its tensors (name, dtype, shape) and metadata.
          artifact-tool verify FILE
              Read FILE completely and check every checksum, size and offset.
              Exit 0 if intact, 1 if damaged (the reason goes to standard error).
          artifact-tool write-test-file FILE [--mebibytes N] [--generations G]
              Write FILE atomically G times in a row (default 0: until killed).
              Generation g holds N MiB (default 64) of Int32 values derived from g
              and metadata generation=g. Used by the test that kills a writer
              with SIGKILL; readers must always find a complete generation.
          artifact-tool bench [--dataset DIR] [--scratch DIR]
              Time gunzipping the original Fashion-MNIST files in DIR (default
              /usr/share/datasets/fashion-mnist) against writing and reading the
              50,000 x 784 Float32 training split as an artifact in DIR2
              (--scratch, default a temporary directory). Use a release build.
          artifact-tool --help
              Show this text.

        EXIT STATUS: 0 success, 1 damaged file or failure, 2 bad usage.
        """

    /// Runs the command line `arguments` (without the program name) and
    /// returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError("artifact-tool: missing command\n\n\(usage)")
            return 2
        }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "--help", "-h", "help":
                print(usage)
                return 0
            case "info":
                let archive = try ArtifactFile.read(URL(fileURLWithPath: try single(rest, command)))
                print(describe(archive))
                return 0
            case "verify":
                let path = try single(rest, command)
                let archive = try ArtifactFile.read(URL(fileURLWithPath: path))
                print("\(path): ok (\(archive.tensors.count) tensors, format version \(archive.metadata[ArtifactFormat.versionKey] ?? "?"))")
                return 0
            case "write-test-file":
                let options = try parse(rest, command, flags: ["--mebibytes", "--generations"])
                try writeTestFile(URL(fileURLWithPath: options.path),
                                  mebibytes: try integer(options.flags["--mebibytes"] ?? "64", "--mebibytes"),
                                  generations: try integer(options.flags["--generations"] ?? "0", "--generations"))
                return 0
            case "bench":
                let options = try parse(rest, command, flags: ["--dataset", "--scratch"], needsPath: false)
                try ArtifactBenchmark.run(
                    datasetDirectory: URL(fileURLWithPath: options.flags["--dataset"] ?? DatasetSource.debianFashionMNIST.location.path),
                    scratchDirectory: options.flags["--scratch"].map { URL(fileURLWithPath: $0) })
                return 0
            default:
                throw UsageError(message: "unknown command '\(command)'")
            }
        } catch let error as UsageError {
            printError("artifact-tool: \(error.message)\n\n\(usage)")
            return 2
        } catch {
            printError("\(error)")
            return 1
        }
    }

    /// The Int32 values of generation `generation` of a test file.
    static func testFileValues(generation: Int, count: Int) -> [Int32] {
        var generator = SplitMix64(seed: UInt64(generation))
        return (0..<count).map { _ in Int32(truncatingIfNeeded: generator.next()) }
    }

    private static func writeTestFile(_ url: URL, mebibytes: Int, generations: Int) throws {
        let count = mebibytes << 18  // 4-byte values
        var generation = 1
        while generations == 0 || generation <= generations {
            let archive = TensorArchive(
                tensors: [StoredTensor(name: "values", shape: [count], values: testFileValues(generation: generation, count: count))],
                metadata: ["generation": String(generation), "producer": "artifact-tool write-test-file"])
            try ArtifactFile.write(archive, to: url)
            FileHandle.standardOutput.write(Data("wrote generation \(generation)\n".utf8))
            generation += 1
        }
    }

    /// Tensors and metadata of `archive`, one per line.
    static func describe(_ archive: TensorArchive) -> String {
        var lines = ["\(archive.origin): \(archive.tensors.count) tensors"]
        for tensor in archive.tensors {
            lines.append("  \(tensor.name)  \(tensor.dtype.rawValue)  [\(tensor.shape.map(String.init).joined(separator: ", "))]")
        }
        lines.append("metadata:")
        for key in archive.metadata.keys.sorted() {
            lines.append("  \(key) = \(archive.metadata[key]!)")
        }
        return lines.joined(separator: "\n")
    }

    private struct UsageError: Error {
        let message: String
    }

    private static func single(_ arguments: [String], _ command: String) throws -> String {
        guard arguments.count == 1, !arguments[0].hasPrefix("-") else {
            throw UsageError(message: "\(command) takes exactly one FILE argument")
        }
        return arguments[0]
    }

    private static func parse(_ arguments: [String], _ command: String, flags allowed: Set<String>, needsPath: Bool = true)
        throws -> (path: String, flags: [String: String])
    {
        var path: String?
        var flags: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if allowed.contains(argument) {
                guard index + 1 < arguments.count else { throw UsageError(message: "\(argument) needs a value") }
                flags[argument] = arguments[index + 1]
                index += 2
            } else if argument.hasPrefix("-") || path != nil || !needsPath {
                throw UsageError(message: "\(command): unexpected argument '\(argument)'")
            } else {
                path = argument
                index += 1
            }
        }
        if needsPath && path == nil { throw UsageError(message: "\(command) needs a FILE argument") }
        return (path ?? "", flags)
    }

    private static func integer(_ text: String, _ flag: String) throws -> Int {
        guard let value = Int(text), value >= 0 else {
            throw UsageError(message: "\(flag) expects a non-negative integer, got '\(text)'")
        }
        return value
    }

    private static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
