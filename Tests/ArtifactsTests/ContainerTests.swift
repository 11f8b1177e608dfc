import Foundation
import Testing
import TestSupport
@testable import Artifacts

/// One tensor of every dtype and of the awkward shapes: rank 0, empty,
/// several ranks, and values at the edges of each type.
func sampleArchive() -> TensorArchive {
    TensorArchive(tensors: [
        StoredTensor(name: "generator.fc1.weight", shape: [2, 3], values: [Float](arrayLiteral: 0, -1.5, .pi, .infinity, -.infinity, .leastNonzeroMagnitude)),
        StoredTensor(name: "generator.fc1.bias", shape: [3], values: [Float](arrayLiteral: .greatestFiniteMagnitude, -0.0, 1e-30)),
        StoredTensor(name: "scalars.f32", shape: [], values: [Float(42.25)]),
        StoredTensor(name: "scalars.f64", shape: [], values: [Double.pi]),
        StoredTensor(name: "f64", shape: [2, 1, 2], values: [Double](arrayLiteral: 1e300, -1e-300, .ulpOfOne, -2)),
        StoredTensor(name: "i32", shape: [4], values: [Int32](arrayLiteral: .min, -1, 0, .max)),
        StoredTensor(name: "i64", shape: [2, 2], values: [Int64](arrayLiteral: .min, -1, 1 << 53 + 1, .max)),
        StoredTensor(name: "u8", shape: [1, 5], values: [UInt8](arrayLiteral: 0, 1, 127, 128, 255)),
        StoredTensor(name: "empty.f32", shape: [0], values: [Float]()),
        StoredTensor(name: "empty.i64", shape: [3, 0, 2], values: [Int64]()),
        StoredTensor(name: "scalars.u8", shape: [], values: [UInt8(9)]),
        StoredTensor(name: "quote\"and\\backslash ünïcode", shape: [1], values: [Int32(5)]),
    ], metadata: ["producer": "tests", "seed": "12345", "note": "line\nbreak \"quoted\""])
}

@Suite struct ContainerTests {
    @Test func everyDTypeAndShapeRoundTrips() throws {
        let directory = TemporaryDirectory()
        let archive = sampleArchive()
        let url = directory.fileURL("sample.safetensors.lz4")
        try ArtifactFile.write(archive, to: url)
        let read = try ArtifactFile.read(url)
        #expect(read.tensors.sorted { $0.name < $1.name } == archive.tensors.sorted { $0.name < $1.name })
        #expect(read.metadata == archive.metadata.merging(["format_version": "1"]) { $1 })
        #expect(read.origin == url.path)
        #expect(Set(read.tensors.map(\.dtype)) == Set(DType.allCases))
        #expect(try read.values("scalars.f32", as: Float.self) == [42.25])
        #expect(try read.values("i64", as: Int64.self) == [.min, -1, 1 << 53 + 1, .max])
        #expect(read.tensor(named: "empty.i64")?.elementCount == 0)
    }

    @Test func emptyArchiveRoundTrips() throws {
        let directory = TemporaryDirectory()
        let url = directory.fileURL("empty.safetensors.lz4")
        try ArtifactFile.write(TensorArchive(), to: url)
        let read = try ArtifactFile.read(url)
        #expect(read.tensors.isEmpty)
        #expect(read.metadata == ["format_version": "1"])
    }

    @Test func tensorLargerThan64MiBRoundTrips() throws {
        let directory = TemporaryDirectory()
        let count = 17_000_000  // 68,000,000 bytes > 64 MiB
        let values = (0..<count).map { Float($0 % 100_003) * 0.5 - 7 }
        let url = directory.fileURL("large.safetensors.lz4")
        try ArtifactFile.write(TensorArchive(tensors: [
            StoredTensor(name: "large", shape: [count / 1000, 1000], values: values),
            StoredTensor(name: "after", shape: [2], values: [Int64](arrayLiteral: 3, 4)),
        ]), to: url)
        let read = try ArtifactFile.read(url)
        #expect(read.tensor(named: "large")!.bytes.count > 64 << 20)
        #expect(try read.values("large", as: Float.self) == values)
        #expect(try read.values("after", as: Int64.self) == [3, 4])
    }

    @Test func accessorsNameTheFileOnMissingTensorOrWrongDType() throws {
        let directory = TemporaryDirectory()
        let url = directory.fileURL("a.safetensors.lz4")
        try ArtifactFile.write(sampleArchive(), to: url)
        let read = try ArtifactFile.read(url)
        let missing = expectArtifactError { _ = try read.values("nope", as: Float.self) }
        #expect(missing?.description.contains(url.path) == true)
        #expect(missing?.description.contains("'nope'") == true)
        let wrong = expectArtifactError { _ = try read.values("u8", as: Float.self) }
        #expect(wrong == .wrongDType(path: url.path, name: "u8", expected: .float32, found: .uint8))
    }

    @Test func newerFormatVersionIsRefused() throws {
        let directory = TemporaryDirectory()
        let url = directory.fileURL("v2.safetensors.lz4")
        // Write a frame by hand-editing the header's version through the public writer's format.
        var header = ArtifactFormat.encodeHeader(TensorArchive())
        let json = String(decoding: header[8...], as: UTF8.self).replacingOccurrences(of: "\"format_version\":\"1\"", with: "\"format_version\":\"2\"")
        header = Array(header[..<8]) + Array(json.utf8)
        try AtomicFile.write(to: url) { file in
            let writer = try LZ4FrameWriter(file: file, contentSize: UInt64(header.count))
            try header.withUnsafeBytes { try writer.write($0) }
            try writer.finish()
        }
        #expect(expectArtifactError { _ = try ArtifactFile.read(url) } == .unsupportedVersion(path: url.path, found: "2"))
    }

    /// The stock `lz4` tool accepts the file, and a reader written here with
    /// Python's standard library only (json, struct) sees the same tensors,
    /// values and metadata: the format is what docs/artifact-format.md says.
    @Test func lz4ToolAndPythonStdlibReaderAgree() throws {
        let directory = TemporaryDirectory()
        let archive = sampleArchive()
        let url = directory.fileURL("sample.safetensors.lz4")
        try ArtifactFile.write(archive, to: url)

        let test = try runProcess("/usr/bin/lz4", ["-t", url.path])
        #expect(test.status == 0, "lz4 -t: \(test.error)")
        let plain = directory.fileURL("sample.safetensors")
        let decompress = try runProcess("/usr/bin/lz4", ["-d", "-f", url.path, plain.path])
        #expect(decompress.status == 0, "lz4 -d: \(decompress.error)")

        let script = try directory.write(Array(pythonReader.utf8), to: "reader.py")
        let python = try runProcess("/usr/bin/python3", [script.path, plain.path])
        #expect(python.status == 0, "python reader: \(python.error)")
        let decoded = try JSONDecoder().decode(PythonView.self, from: Data(python.output.utf8))

        #expect(decoded.metadata == archive.metadata.merging(["format_version": "1"]) { $1 })
        #expect(decoded.tensors.count == archive.tensors.count)
        for tensor in archive.tensors {
            let seen = try #require(decoded.tensors[tensor.name], "python did not see \(tensor.name)")
            #expect(seen.dtype == tensor.dtype.rawValue, "\(tensor.name)")
            #expect(seen.shape == tensor.shape, "\(tensor.name)")
            #expect(sameValues(seen.values, tensor), "\(tensor.name): python saw \(seen.values)")
        }
    }

    /// Whether Python's spelling of the values (`repr` of each element) is
    /// exactly `tensor`'s values, down to the sign of zero.
    private func sameValues(_ spelled: [String], _ tensor: StoredTensor) -> Bool {
        func sameFloats(_ expected: [Double]) -> Bool {
            let parsed = spelled.map { Double($0) }
            return parsed.count == expected.count && zip(parsed, expected).allSatisfy { parsed, expected in
                guard let parsed else { return false }
                return parsed.isNaN ? expected.isNaN : parsed == expected && parsed.sign == expected.sign
            }
        }
        let integers = spelled.map { Int64($0) }
        switch tensor.dtype {
        case .float32: return sameFloats(tensor.values(as: Float.self)!.map(Double.init))
        case .float64: return sameFloats(tensor.values(as: Double.self)!)
        case .int32: return integers == tensor.values(as: Int32.self)!.map(Int64.init)
        case .int64: return integers == tensor.values(as: Int64.self)!
        case .uint8: return integers == tensor.values(as: UInt8.self)!.map(Int64.init)
        }
    }

    private struct PythonView: Decodable {
        struct Tensor: Decodable {
            let dtype: String
            let shape: [Int]
            let values: [String]
        }
        let metadata: [String: String]
        let tensors: [String: Tensor]
    }

    private let pythonReader = """
        import json, struct, sys

        FORMATS = {"F32": ("f", 4), "F64": ("d", 8), "I32": ("i", 4), "I64": ("q", 8), "U8": ("B", 1)}

        with open(sys.argv[1], "rb") as f:
            data = f.read()
        (header_length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
        base = 8 + header_length
        metadata = header.pop("__metadata__")
        tensors = {}
        end_of_data = 0
        for name, entry in header.items():
            code, size = FORMATS[entry["dtype"]]
            begin, end = entry["data_offsets"]
            end_of_data = max(end_of_data, end)
            count = (end - begin) // size
            values = struct.unpack("<%d%s" % (count, code), data[base + begin:base + end])
            tensors[name] = {"dtype": entry["dtype"], "shape": entry["shape"], "values": [repr(v) for v in values]}
        assert base + end_of_data == len(data), "data does not end where the header says"
        print(json.dumps({"metadata": metadata, "tensors": tensors}))
        """
}
