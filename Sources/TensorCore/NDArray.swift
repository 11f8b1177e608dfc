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
    @inline(__always)
    init(overwrittenCount count: Int) {
        self.init(unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
}
