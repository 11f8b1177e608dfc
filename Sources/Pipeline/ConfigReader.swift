import JSONText
import Queue

/// A problem in a pipeline file: where (file, field path) and what was expected.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    /// Dotted field path, e.g. `data.validation_count`; empty for the whole file.
    public let path: String
    public let message: String

    public var description: String {
        "\(file): " + (path.isEmpty ? "" : "\(path): ") + message
    }
}

/// Reads one JSON object of a pipeline file strictly: every read names the
/// field path in its errors, wrong types and out-of-range values are errors
/// naming the expected value, and `finish()` rejects keys nobody read.
public struct ConfigObject {
    public let file: String
    /// Path of this object (`data`), empty for the root.
    public let path: String
    private let members: [(key: String, value: JSONValue)]
    private var read: Set<String> = []

    /// Wraps `value`, which must be an object.
    public init(_ value: JSONValue, file: String, path: String) throws {
        guard case .object(let members) = value else {
            throw ConfigError(file: file, path: path, message: "expected an object ({...}), found \(ConfigObject.describe(value))")
        }
        self.file = file
        self.path = path
        self.members = members
    }

    /// The full path of `key` in this object.
    public func path(of key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// An error about `key`.
    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, path: path(of: key), message: message)
    }

    /// The raw value of `key`, marking it read; nil when absent.
    public mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        return members.first { $0.key == key }?.value
    }

    /// A required string, or `defaultValue` when absent (nil = required).
    public mutating func string(_ key: String, default defaultValue: String? = nil,
                                validate: (String) -> String? = { _ in nil }) throws -> String {
        try typed(key, default: defaultValue, expected: "a string") { value in
            guard case .string(let text) = value else { return nil }
            return text
        } check: { validate($0) }
    }

    /// An integer in `range`.
    public mutating func integer(_ key: String, in range: ClosedRange<Int>, default defaultValue: Int? = nil) throws -> Int {
        let expected = "an integer in \(range.lowerBound)...\(range.upperBound)"
        return try typed(key, default: defaultValue, expected: expected) { value in
            guard case .integer(let number) = value else { return nil }
            return number
        } check: { range.contains($0) ? nil : "expected \(expected), found \($0)" }
    }

    /// A number (integer or real) in `range`.
    public mutating func number(_ key: String, in range: ClosedRange<Double>, default defaultValue: Double? = nil) throws -> Double {
        let expected = "a number in \(range.lowerBound)...\(range.upperBound)"
        return try typed(key, default: defaultValue, expected: expected) { value in
            switch value {
            case .integer(let number): return Double(number)
            case .real(let number): return number
            default: return nil
            }
        } check: { range.contains($0) ? nil : "expected \(expected), found \($0)" }
    }

    /// One of an enumeration's raw values.
    public mutating func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, as type: Choice.Type,
                                                                       default defaultValue: Choice? = nil) throws -> Choice
    where Choice.RawValue == String {
        let allowed = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        return try typed(key, default: defaultValue, expected: "one of \(allowed)") { value in
            guard case .string(let text) = value else { return nil }
            return Choice(rawValue: text)
        } check: { _ in nil }
    }

    /// An array of elements `convert` accepts (nil rejects an element, whose
    /// index the error names), or `defaultValue` when absent (nil = required).
    public mutating func array<Element>(_ key: String, default defaultValue: [Element]? = nil, element expected: String,
                                        convert: (JSONValue) -> Element?) throws -> [Element] {
        guard let value = value(key) else {
            if let defaultValue { return defaultValue }
            throw error(key, "missing required key; expected an array of \(expected)s")
        }
        guard case .array(let items) = value else {
            throw error(key, "expected an array of \(expected)s, found \(ConfigObject.describe(value))")
        }
        return try items.enumerated().map { index, item in
            guard let converted = convert(item) else {
                throw error("\(key)[\(index)]", "expected \(expected), found \(ConfigObject.describe(item))")
            }
            return converted
        }
    }

    /// A range written `[low, high]` of integers within `limits`.
    public mutating func integerRange(_ key: String, within limits: ClosedRange<Int>,
                                      default defaultValue: ClosedRange<Int>? = nil) throws -> ClosedRange<Int> {
        let pair = try array(key, default: defaultValue.map { [$0.lowerBound, $0.upperBound] },
                             element: "an integer in \(limits.lowerBound)...\(limits.upperBound)") { item -> Int? in
            guard case .integer(let number) = item, limits.contains(number) else { return nil }
            return number
        }
        guard pair.count == 2, pair[0] <= pair[1] else {
            throw error(key, "expected [low, high] with low <= high, found \(pair)")
        }
        return pair[0]...pair[1]
    }

    /// An object of strings (`{"file": "digest"}`), each checked with `validate`; nil when absent.
    public mutating func stringMap(_ key: String, validate: (String, String) -> String?) throws -> [String: String]? {
        guard let value = value(key) else { return nil }
        guard case .object(let members) = value else {
            throw error(key, "expected an object of strings, found \(ConfigObject.describe(value))")
        }
        var map: [String: String] = [:]
        for (name, item) in members {
            guard case .string(let text) = item else {
                throw error(key + "." + name, "expected a string, found \(ConfigObject.describe(item))")
            }
            if let problem = validate(name, text) { throw error(key + "." + name, problem) }
            map[name] = text
        }
        return map
    }

    /// Decodes the section `Section.key` of this object; `defaultValue`
    /// when absent (nil = required).
    public mutating func section<Section: PipelineSection>(_ type: Section.Type, default defaultValue: Section? = nil) throws -> Section {
        guard let value = value(Section.key) else {
            if let defaultValue { return defaultValue }
            throw error(Section.key, "missing required section")
        }
        var object = try ConfigObject(value, file: file, path: path(of: Section.key))
        let section = try Section(from: &object)
        try object.finish()
        return section
    }

    /// Rejects every key that was not read, listing the keys that are allowed.
    public func finish() throws {
        if let unknown = members.first(where: { !read.contains($0.key) }) {
            let allowed = read.sorted().joined(separator: ", ")
            throw error(unknown.key, "unknown key; expected one of: \(allowed)")
        }
    }

    private mutating func typed<T>(_ key: String, default defaultValue: T?, expected: String,
                                   convert: (JSONValue) -> T?, check: (T) -> String?) throws -> T {
        guard let value = value(key) else {
            if let defaultValue { return defaultValue }
            throw error(key, "missing required key; expected \(expected) (keys present: "
                + members.map(\.key).joined(separator: ", ") + ")")
        }
        guard let converted = convert(value) else {
            throw error(key, "expected \(expected), found \(ConfigObject.describe(value))")
        }
        if let problem = check(converted) { throw error(key, problem) }
        return converted
    }

    /// A short description of a JSON value for error messages.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .integer(let i): return "\(i)"
        case .real(let d): return "\(d)"
        case .string(let s): return "\"\(s.prefix(40))\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// One top-level section of a pipeline file, decoded strictly.
public protocol PipelineSection: Sendable {
    /// The section's key in the file, e.g. `"queue"`.
    static var key: String { get }
    /// Reads every field from `object` (unread keys are rejected afterwards).
    init(from object: inout ConfigObject) throws
}
