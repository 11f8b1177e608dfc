import Foundation
import Queue
import Synchronization

/// A clock the test moves by hand.
public final class FakeClock: Clock {
    private let time: Mutex<Double>

    public init(_ start: Double = 1_000_000) { time = Mutex(start) }

    public func now() -> Double { time.withLock { $0 } }

    /// Moves time forward by `seconds`.
    public func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
}

/// A fresh directory under the system temporary directory, removed on deinit.
public final class TemporaryDirectory {
    public let path: String

    public init() {
        let template = NSTemporaryDirectory() + "gtn-test-XXXXXX"
        var bytes = Array(template.utf8CString)
        path = bytes.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        _ = FileManager.default.createFile(atPath: file(name), contents: Data(text.utf8))
        return file(name)
    }

    /// The directory as a file URL.
    public var url: URL { URL(fileURLWithPath: path) }

    /// `path/name` as a file URL.
    public func fileURL(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Writes `bytes` to `name` and returns its URL.
    @discardableResult
    public func write(_ bytes: [UInt8], to name: String) throws -> URL {
        try Data(bytes).write(to: fileURL(name))
        return fileURL(name)
    }
}

/// A valid pipeline file for tests, with the queue section given.
public func testPipeline(name: String = "test", journal: JournalMode = .wal, leaseSeconds: Double = 300,
                         maxAttempts: Int = 3, maxLeaseExpiries: Int = 10, backoffSeconds: Double = 30) -> String {
    """
    {
      "campaign": { "name": "\(name)", "seed": 7 },
      "data": { "dataset": "fashion-mnist", "source": "/usr/share/datasets/fashion-mnist",
                "train_count": 55000, "validation_count": 5000 },
      "queue": { "journal": "\(journal.rawValue)", "lease_seconds": \(leaseSeconds), "max_attempts": \(maxAttempts),
                 "max_lease_expiries": \(maxLeaseExpiries), "backoff_seconds": \(backoffSeconds), "backoff_max_seconds": 3600 }
    }
    """
}

/// A fresh campaign database in `directory` driven by `clock`.
public func makeCampaign(in directory: TemporaryDirectory, clock: any Clock, name: String = "test.sqlite") throws -> Campaign {
    let campaign = try Campaign.open(path: directory.file(name), create: true, clock: clock)
    try campaign.setJournalMode(.wal)
    try campaign.recordPipeline(name: "test", json: "{}")
    return campaign
}

/// The directory holding the built executables (next to the test bundle).
public var productsDirectory: String {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return (executable as NSString).deletingLastPathComponent
}

/// The repository's root directory (this file is Tests/TestSupport/TestSupport.swift).
public let repositoryRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// How a child process ended.
public enum Termination: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)
}

/// A child process started with posix_spawn, its stdout and stderr in files.
public final class ChildProcess {
    public let pid: pid_t
    public let stdoutPath: String
    public let stderrPath: String
    public private(set) var termination: Termination?

    /// Starts the built executable `name` with `arguments` and this
    /// process's environment changed by `environment` (a nil value unsets
    /// the variable); output goes to `logPrefix.out` / `logPrefix.err`.
    /// `blocked` signals start blocked in the child, so one sent at once
    /// waits until the child unblocks it (as if it came before the child
    /// could install its handlers).
    public init(_ name: String, _ arguments: [String], logPrefix: String, environment: [String: String?] = [:],
                blocked: [Int32] = []) throws {
        let path = productsDirectory + "/" + name
        stdoutPath = logPrefix + ".out"
        stderrPath = logPrefix + ".err"
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Start with only `blocked` blocked and default dispositions, whatever the test runner uses.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in blocked { sigaddset(&signals, signal) }
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        sigdelset(&signals, SIGKILL)
        sigdelset(&signals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let code = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard code == 0 else { throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EINVAL) }
        pid = child
    }

    /// Sends `signal`.
    public func send(_ signal: Int32) { kill(pid, signal) }

    /// Reaps the process if it has ended; true once it has.
    @discardableResult
    public func poll() -> Bool {
        if termination != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        termination = status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
        return true
    }

    /// Waits until the process ends or `timeout` passes (then kills it); returns how it ended.
    @discardableResult
    public func wait(timeout: Double = 60) -> Termination {
        let deadline = Date().addingTimeInterval(timeout)
        while !poll() {
            if Date() > deadline { send(SIGKILL) }
            usleep(2_000)
        }
        return termination!
    }

    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

/// How a command ended and what it printed.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let output: String
    public let error: String
}

/// Runs `executable` (a path) with `arguments` to completion, capturing
/// standard output and error through files (no pipe can fill up); for
/// commands that are not this package's products (`runProduct` runs those).
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
    let scratch = TemporaryDirectory()
    let (outputPath, errorPath) = (scratch.file("stdout"), scratch.file("stderr"))
    for path in [outputPath, errorPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    try process.run()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: try String(contentsOfFile: outputPath, encoding: .utf8),
                         error: try String(contentsOfFile: errorPath, encoding: .utf8))
}

/// Runs the built executable `name` to completion; returns its termination and output.
public func runProduct(_ name: String, _ arguments: [String], in directory: TemporaryDirectory, timeout: Double = 60,
                       environment: [String: String?] = [:]) throws -> (termination: Termination, stdout: String, stderr: String) {
    let process = try ChildProcess(name, arguments, logPrefix: directory.file("run-\(UUID().uuidString)"), environment: environment)
    let termination = process.wait(timeout: timeout)
    return (termination, process.stdout, process.stderr)
}
