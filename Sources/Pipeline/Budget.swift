#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock (unaffected by wall-clock changes).
public func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Sleeps up to `seconds`; returns early when a signal arrives.
func pause(seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    _ = nanosleep(&request, nil)
}

/// The `--max-jobs` / `--max-seconds` limits of one process, and the stop
/// signal: together, when the work loop must stop.
public struct Budget: Sendable {
    /// Units (jobs) this process may finish; nil = unlimited.
    public let maxJobs: Int?
    /// Seconds this process may work; nil = unlimited.
    public let maxSeconds: Double?
    private let start: Double

    public init(maxJobs: Int?, maxSeconds: Double?) {
        self.maxJobs = maxJobs
        self.maxSeconds = maxSeconds
        start = monotonicSeconds()
    }

    /// Seconds since the process started working.
    public var elapsed: Double { monotonicSeconds() - start }

    /// Why work must stop now after `unitsDone` units, or nil to go on.
    public func stopReason(unitsDone: Int) -> String? {
        if let signal = StopSignals.received { return "interrupted by \(StopSignals.name(signal))" }
        if let maxJobs, unitsDone >= maxJobs { return "--max-jobs \(maxJobs) reached" }
        if let maxSeconds, elapsed >= maxSeconds { return "--max-seconds \(Int(maxSeconds)) reached" }
        return nil
    }
}
