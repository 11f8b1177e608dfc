import Foundation
import Synchronization

/// A dense, contiguous, row-major array of `S` with a shape. Value semantics
/// (copy-on-write storage); no autodiff. All kernels of the project take and
/// return `NDArray`s.
public struct NDArray<S: TensorScalar>: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [S]

    /// An array with the given shape and row-major elements.
    public init(shape: [Int], data: [S]) {
        require(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        require(Shape.count(shape) == data.count,
                     "shape \(shape) needs \(Shape.count(shape)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// An array of `shape` filled with `value`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public init(repeating value: S, shape: [Int]) {
        self.init(shape: shape, data: [S](repeating: value, count: Shape.count(shape)))
    }

    /// A zero-filled array.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A rank-0 array holding one value.
    public init(scalar: S) { self.init(shape: [], data: [scalar]) }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The single value of an array with one element.
    public var scalar: S {
        require(data.count == 1, "scalar of an array of shape \(shape)")
        return data[0]
    }

    /// The same elements with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> NDArray {
        require(Shape.count(newShape) == count,
                     "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Converts element type (e.g. Float64 reference results to Float32).
    public func converted<T: TensorScalar>(to: T.Type = T.self) -> NDArray<T> {
        NDArray<T>(shape: shape, data: data.map { T($0) })
    }
}

extension Array where Element: TensorScalar {
    /// Storage for `count` scalars that the caller overwrites completely before
    /// reading (saves a zero-fill pass over large outputs and scratch buffers).
    /// Filled with NaN instead while `UninitializedStorage.isPoisoned`, so a
    /// kernel that leaves an element unwritten shows in its results.
    @inline(__always)
    init(overwrittenCount count: Int) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            if UninitializedStorage.isPoisoned { buffer.initialize(repeating: .nan) }
            initialized = count
        }
    }
}

/// The test suite's check that kernels write every element of the storage
/// they take without zero-filling (`Array(overwrittenCount:)`): fresh pages
/// of memory are zero, so a kernel relying on that by mistake passes its
/// tests unless the storage is poisoned. On when the environment has
/// `GTN_POISON_UNINITIALIZED=1` (`scripts/test.sh` sets it, so the stages
/// its tests run are poisoned too) or after `poison()`.
enum UninitializedStorage {
    private static let poisoned = Atomic<Bool>(ProcessInfo.processInfo.environment["GTN_POISON_UNINITIALIZED"] == "1")

    static var isPoisoned: Bool { poisoned.load(ordering: .relaxed) }

    /// Poisons all later storage in this process (never undone: tests run concurrently).
    static func poison() { poisoned.store(true, ordering: .relaxed) }
}
