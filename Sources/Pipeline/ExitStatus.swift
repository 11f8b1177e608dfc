import Artifacts
import Queue

/// The exit statuses every executable uses (docs/queue.md, "Exit codes").
public enum ExitStatus: Int32, Sendable {
    /// Done, including "nothing left to do".
    case success = 0
    /// Anything else went wrong (a bug, a disk error, dead jobs).
    case failure = 1
    /// Bad usage or invalid input; the message names the file/field/flag.
    case invalidInput = 2
    /// Only `report`: the rank-correlation check failed.
    case checkFailed = 3
    /// Interrupted or out of budget with progress saved; run again to continue.
    case interrupted = 75

    /// What the status tells a user, in a few words.
    public var meaning: String {
        switch self {
        case .success: return "done"
        case .failure: return "failed"
        case .invalidInput: return "bad usage or invalid input"
        case .checkFailed: return "the report's check failed"
        case .interrupted: return "stopped early with progress saved"
        }
    }
}

extension StageRecord {
    /// For a stage started and not done whose runs have all ended (none is
    /// left running): when its last run ended; otherwise nil.
    public func stoppedAt(given outcome: StageRunOutcome) -> Double? {
        status == .running && outcome.openRuns == 0 ? outcome.lastEndedAt : nil
    }

    /// The stage's state as a user should read it: its status, or for a
    /// stopped stage (`stoppedAt`) "stopped, exit N: what N means".
    public func state(given outcome: StageRunOutcome) -> String {
        guard stoppedAt(given: outcome) != nil, let exit = outcome.lastExitStatus else {
            return status.rawValue.replacingOccurrences(of: "_", with: " ")
        }
        return "stopped, exit \(exit)" + (ExitStatus(rawValue: exit).map { ": \($0.meaning)" } ?? "")
    }
}

/// A command line mistake; the message names the flag.
public struct UsageError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Invalid input that is not a command line mistake (missing file, bad
/// dataset); the message names the file and what was expected.
public struct InputError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `--help` was given; `text` is the help to print (exit 0).
public struct HelpRequested: Error, Sendable {
    public let text: String
}

/// The stage stopped early on a signal or its time budget, with progress saved.
public struct StageInterrupted: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// `report`'s rank-correlation check failed.
public struct CheckFailed: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The one mapping from errors to exit statuses.
public func exitStatus(for error: any Error) -> ExitStatus {
    switch error {
    case is HelpRequested: return .success
    case is UsageError, is InputError, is ConfigError, is CampaignError: return .invalidInput
    case let artifact as ArtifactError: return artifact.isInvalidInput ? .invalidInput : .failure
    case is StageInterrupted: return .interrupted
    case is CheckFailed: return .checkFailed
    default: return .failure
    }
}
