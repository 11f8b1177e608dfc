#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Line output that reaches logs at once: each line is one unbuffered
/// `write(2)`, so a Slurm log shows progress even if the process is killed,
/// and lines of concurrent workers sharing a log do not interleave.
public enum Console {
    /// Writes `line` to stdout.
    public static func out(_ line: String) { write(line + "\n", to: STDOUT_FILENO) }

    /// Writes `line` to stderr.
    public static func error(_ line: String) { write(line + "\n", to: STDERR_FILENO) }

    /// Rewrites the current terminal line (progress on a TTY).
    static func overwrite(_ line: String) { write("\r\u{1B}[K" + line, to: STDOUT_FILENO) }

    /// True when stdout is a terminal.
    public static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
