/// SQL text with its bound values, built by string interpolation: `\(value)`
/// becomes a `?` placeholder bound to `value`, `\(raw: text)` is pasted as
/// SQL. Lets statements be assembled from pieces without counting `?`s.
public struct SQLFragment: ExpressibleByStringInterpolation, Sendable {
    public private(set) var sql: String
    public private(set) var values: [SQLValue]

    public init(stringLiteral value: String) {
        sql = value
        values = []
    }

    public init(stringInterpolation: Interpolation) {
        sql = stringInterpolation.sql
        values = stringInterpolation.values
    }

    /// Appends `other`, keeping placeholders and values in order.
    public static func + (lhs: SQLFragment, rhs: SQLFragment) -> SQLFragment {
        var result = lhs
        result.sql += rhs.sql
        result.values += rhs.values
        return result
    }

    public struct Interpolation: StringInterpolationProtocol {
        var sql = ""
        var values: [SQLValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { sql += literal }
        public mutating func appendInterpolation(_ value: SQLValue) { sql += "?"; values.append(value) }
        public mutating func appendInterpolation(_ value: String) { appendInterpolation(.text(value)) }
        public mutating func appendInterpolation(_ value: Double) { appendInterpolation(.real(value)) }
        public mutating func appendInterpolation(_ value: Int) { appendInterpolation(.int(value)) }
        public mutating func appendInterpolation(_ value: Int64) { appendInterpolation(.integer(value)) }
        public mutating func appendInterpolation(raw text: String) { sql += text }
    }
}

extension Database {
    /// `run(_:_:)` for a fragment.
    @discardableResult
    public func run(_ fragment: SQLFragment) throws(DatabaseError) -> Int { try run(fragment.sql, fragment.values) }

    /// `query(_:_:_:)` for a fragment.
    public func query<T>(_ fragment: SQLFragment, _ transform: (Row) throws -> T) throws -> [T] {
        try query(fragment.sql, fragment.values, transform)
    }
}
