/// One command line option: a flag (`--force`) or an option with a value
/// (`--max-jobs N`, also written `--max-jobs=N`).
public struct OptionSpec: Sendable {
    /// The option with its dashes, e.g. `--max-jobs`.
    public let name: String
    /// The value's placeholder in help (`N`, `FILE`), nil for a flag.
    public let placeholder: String?
    /// One line of help.
    public let help: String

    /// A flag that takes no value.
    public static func flag(_ name: String, help: String) -> OptionSpec {
        OptionSpec(name: name, placeholder: nil, help: help)
    }

    /// An option that takes one value.
    public static func value(_ name: String, _ placeholder: String, help: String) -> OptionSpec {
        OptionSpec(name: name, placeholder: placeholder, help: help)
    }
}

/// A command: its name as typed, a summary and its options. Parses
/// arguments without any package; `--help` prints every option.
public struct CommandSpec: Sendable {
    /// As typed, e.g. `campaign status`.
    public let name: String
    public let summary: String
    public let options: [OptionSpec]
    /// Extra help paragraphs (e.g. subcommands, exit codes).
    public let details: String

    public init(name: String, summary: String, options: [OptionSpec], details: String = "") {
        self.name = name
        self.summary = summary
        self.options = options + [.flag("--help", help: "Show this help and exit.")]
        self.details = details
    }

    /// The `--help` text.
    public var helpText: String {
        let width = options.map { $0.name.count + ($0.placeholder.map { $0.count + 1 } ?? 0) }.max() ?? 0
        var lines = ["usage: \(name) [options]", "", summary, "", "options:"]
        for option in options {
            let left = option.name + (option.placeholder.map { " " + $0 } ?? "")
            lines.append("  " + left + String(repeating: " ", count: width - left.count + 2) + option.help)
        }
        if !details.isEmpty { lines += ["", details] }
        return lines.joined(separator: "\n")
    }

    /// Parses `arguments` (without the command name). Throws `HelpRequested`
    /// for `--help` and `UsageError` naming the offending flag otherwise.
    public func parse<Arguments: Collection<String>>(_ arguments: Arguments) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            guard argument.hasPrefix("--") else {
                throw UsageError("unexpected argument '\(argument)'\nHINT: run `\(name) --help`")
            }
            var flagName = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                flagName = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.name == flagName }) else {
                throw UsageError("unknown option '\(flagName)'\nHINT: run `\(name) --help` for the options")
            }
            if option.name == "--help" { throw HelpRequested(text: helpText) }
            guard let placeholder = option.placeholder else {
                if inlineValue != nil { throw UsageError("\(flagName) takes no value") }
                parsed.flags.insert(flagName)
                continue
            }
            guard let value = inlineValue ?? remaining.popFirst(), inlineValue != nil || !value.hasPrefix("--") else {
                throw UsageError("\(flagName) needs a value (\(flagName) \(placeholder))")
            }
            guard parsed.values[flagName] == nil else { throw UsageError("\(flagName) given twice") }
            parsed.values[flagName] = value
        }
        return parsed
    }
}

/// Parsed options with typed accessors whose errors name the flag.
public struct ParsedArguments: Sendable {
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init() {}

    /// True when the flag was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The option's value as given, or nil.
    public func string(_ name: String) -> String? { values[name] }

    /// The option's value as a whole number in `range`, or nil when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(name): expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The option's value as a number in `range`, or nil when absent.
    public func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw UsageError("\(name): expected a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The option's value as one of an enumeration's raw values, or nil when absent.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, as type: Choice.Type) throws -> Choice?
    where Choice.RawValue == String {
        guard let text = values[name] else { return nil }
        guard let value = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("\(name): expected one of \(allowed), got '\(text)'")
        }
        return value
    }
}
