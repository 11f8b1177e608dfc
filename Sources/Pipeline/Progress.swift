/// Progress lines for long work: done/total, rate, ETA and extra fields
/// (loss, accuracy). On a terminal one line is rewritten in place; otherwise
/// (Slurm logs, pipes) a plain line is printed at a steady interval.
public final class ProgressReporter {
    private let label: String
    private let total: Int?
    private let interval: Double
    private let terminal: Bool
    private let write: (String) -> Void
    private let start = monotonicSeconds()
    private let startDone: Int
    private var lastPrint = -Double.infinity
    /// `done` of the last line printed, so that `finish` does not repeat it.
    private var lastPrintedDone: Int?

    /// `total` nil = unknown; `startDone` = units already done before this
    /// process (excluded from the rate).
    public init(label: String, total: Int?, startDone: Int = 0, interval: Double? = nil,
                terminal: Bool = Console.stdoutIsTerminal, write: ((String) -> Void)? = nil) {
        self.label = label
        self.total = total
        self.startDone = startDone
        self.terminal = terminal
        self.interval = interval ?? (terminal ? 0.5 : 10)
        if let write {
            self.write = write
        } else if terminal {
            self.write = { Console.overwrite($0) }
        } else {
            self.write = { Console.out($0) }
        }
    }

    /// Reports `done` units; prints if the interval has passed.
    public func update(done: Int, fields: [(key: String, value: String)] = []) {
        let now = monotonicSeconds()
        guard now - lastPrint >= interval else { return }
        lastPrint = now
        lastPrintedDone = done
        write(line(done: done, fields: fields, now: now))
    }

    /// Prints the final line: on a terminal it replaces the running line and
    /// ends it; in a log it is skipped when the last line already showed `done`.
    public func finish(done: Int, fields: [(key: String, value: String)] = []) {
        let text = line(done: done, fields: fields, now: monotonicSeconds())
        if terminal {
            write(text)
            Console.out("")
        } else if lastPrintedDone != done {
            write(text)
        }
    }

    func line(done: Int, fields: [(key: String, value: String)], now: Double) -> String {
        let elapsed = now - start
        let rate = elapsed > 0 ? Double(done - startDone) / elapsed : 0
        var parts = [label + ":"]
        if let total, total > 0 {
            parts.append("\(done)/\(total) (\(formatted(100 * Double(done) / Double(total), digits: 1))%)")
        } else {
            parts.append("\(done)")
        }
        parts.append("\(formatted(rate, digits: rate < 10 ? 2 : 0))/s")
        if let total, rate > 0, done < total {
            parts.append("ETA " + ProgressReporter.duration(Double(total - done) / rate))
        }
        parts += fields.map { "\($0.key)=\($0.value)" }
        return parts.joined(separator: " ")
    }

    /// `1h02m`, `3m05s`, `42s`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if h > 0 { return "\(h)h\(two(m))m" }
        if m > 0 { return "\(m)m\(two(s))s" }
        return "\(s)s"
    }
}

/// `value` with `digits` decimals.
func formatted(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "?" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    if digits == 0 { return String(Int(rounded)) }
    let text = String(rounded)
    let decimals = text.split(separator: ".").last?.count ?? 0
    return text + String(repeating: "0", count: max(0, digits - decimals))
}
