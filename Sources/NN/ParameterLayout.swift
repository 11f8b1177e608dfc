import Autodiff
import TensorCore

/// Named views of one flat parameter vector. An inner-loop update is then one
/// operation on all parameters, and optimiser state and checkpoints are one
/// buffer each.
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { Shape.count(shape) }
    }

    public private(set) var entries: [Entry] = []
    /// Total number of scalars.
    public private(set) var count = 0

    public init() {}

    /// Appends a parameter; names must be unique.
    public mutating func add(_ name: String, shape: [Int]) {
        require(!entries.contains { $0.name == name }, "parameter '\(name)' added twice")
        entries.append(Entry(name: name, shape: shape, offset: count))
        count += Shape.count(shape)
    }

    /// The entry called `name`.
    public func entry(_ name: String) -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            requirementFailure("no parameter '\(name)' in layout \(entries.map(\.name))")
        }
        return e
    }

    /// Views of `flat` [count] as the named, shaped parameters (one split node).
    public func views<S>(of flat: Tensor<S>) -> [String: Tensor<S>] {
        require(flat.shape == [count], "parameter vector of shape \(flat.shape), layout needs [\(count)]")
        let pieces = flat.split(axis: 0, sizes: entries.map(\.count))
        return Dictionary(uniqueKeysWithValues: zip(entries, pieces).map { ($0.name, $1.reshaped($0.shape)) })
    }
}
