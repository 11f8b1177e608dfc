#if _endian(big)
#error("Artifacts stores tensors little-endian and copies host memory as is; big-endian hosts are not supported.")
#endif

/// Element type of a stored tensor, spelled as in safetensors headers.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float32 = "F32"
    case float64 = "F64"
    case int32 = "I32"
    case int64 = "I64"
    case uint8 = "U8"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .uint8: return 1
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }
}

/// A Swift scalar type that has a `DType` and can be stored in an artifact.
public protocol StorableScalar: Sendable, Equatable {
    /// The dtype this Swift type is stored as.
    static var dtype: DType { get }
}

extension Float: StorableScalar { public static var dtype: DType { .float32 } }
extension Double: StorableScalar { public static var dtype: DType { .float64 } }
extension Int32: StorableScalar { public static var dtype: DType { .int32 } }
extension Int64: StorableScalar { public static var dtype: DType { .int64 } }
extension UInt8: StorableScalar { public static var dtype: DType { .uint8 } }

/// One named tensor as stored in an artifact: dtype, shape and the raw
/// little-endian element bytes (row-major, no padding).
///
/// Rank 0 (`shape == []`) holds one element; a zero in the shape holds none.
public struct StoredTensor: Sendable, Equatable {
    /// Path-like name, e.g. `generator.fc1.weight`.
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// `elementCount * dtype.byteCount` little-endian bytes.
    public let bytes: [UInt8]

    /// Number of elements the shape describes (1 for rank 0).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Stores `values` with `shape`; `values.count` must equal the product of
    /// `shape`.
    public init<Scalar: StorableScalar>(name: String, shape: [Int], values: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor '\(name)': negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == values.count,
                     "tensor '\(name)': shape \(shape) holds \(shape.reduce(1, *)) elements, got \(values.count) values")
        self.name = name
        self.dtype = Scalar.dtype
        self.shape = shape
        self.bytes = values.withUnsafeBytes { Array($0) }
    }

    /// A tensor of `shape` whose elements `fill` writes in place (all of
    /// them), without an intermediate array.
    public init<Scalar: StorableScalar>(name: String, shape: [Int], fill: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        precondition(shape.allSatisfy { $0 >= 0 }, "tensor '\(name)': negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        self.name = name
        self.dtype = Scalar.dtype
        self.shape = shape
        self.bytes = [UInt8](unsafeUninitializedCapacity: count * Scalar.dtype.byteCount) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.withMemoryRebound(to: Scalar.self) { fill($0) }
            initialized = raw.count
        }
    }

    /// Stores already encoded little-endian bytes; used by the reader, which
    /// has validated the size against the header.
    init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The elements decoded as `Scalar`, or `nil` when the dtype differs.
    public func values<Scalar: StorableScalar>(as _: Scalar.Type) -> [Scalar]? {
        guard dtype == Scalar.dtype else { return nil }
        let count = bytes.count / dtype.byteCount
        return [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            initialized = count
        }
    }
}

/// The content of one artifact: named tensors in storage order plus a
/// string-to-string metadata map (safetensors' `__metadata__`).
public struct TensorArchive: Sendable {
    /// Tensors in the order their data is stored (after reading, empty
    /// tensors that share an offset come in name order).
    public private(set) var tensors: [StoredTensor]
    /// Free-form metadata: producing stage, campaign seed, dataset, ...
    /// The writer adds `format_version`.
    public var metadata: [String: String]
    /// Where the archive was read from (for error messages); `<memory>` for
    /// archives built in memory.
    public let origin: String

    /// An archive of `tensors`; names must be unique and non-empty.
    public init(tensors: [StoredTensor] = [], metadata: [String: String] = [:], origin: String = "<memory>") {
        self.tensors = []
        self.metadata = metadata
        self.origin = origin
        for tensor in tensors { append(tensor) }
    }

    /// Appends a tensor; its name must not be empty or already used.
    public mutating func append(_ tensor: StoredTensor) {
        precondition(!tensor.name.isEmpty, "tensor names must not be empty")
        precondition(tensor.name != ArtifactFormat.metadataKey, "'\(ArtifactFormat.metadataKey)' is reserved")
        precondition(self.tensor(named: tensor.name) == nil, "duplicate tensor name '\(tensor.name)'")
        tensors.append(tensor)
    }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> StoredTensor? {
        tensors.first { $0.name == name }
    }

    /// The tensor called `name` decoded as `Scalar`; throws
    /// `ArtifactError.missingTensor` / `.wrongDType` naming the origin file.
    public func values<Scalar: StorableScalar>(_ name: String, as type: Scalar.Type) throws -> [Scalar] {
        guard let tensor = tensor(named: name) else {
            throw ArtifactError.missingTensor(path: origin, name: name, available: tensors.map(\.name))
        }
        guard let values = tensor.values(as: type) else {
            throw ArtifactError.wrongDType(path: origin, name: name, expected: Scalar.dtype, found: tensor.dtype)
        }
        return values
    }
}
