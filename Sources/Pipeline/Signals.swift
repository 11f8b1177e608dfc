#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Queue
import Synchronization

/// The first stop signal received (0 = none). Set only by the handler.
private let receivedSignal = Atomic<Int32>(0)

/// Turns the signals a batch system sends before killing or at its
/// `--signal` time into a flag the work loop polls: finish or checkpoint the
/// current unit, release the lease, exit 75.
public enum StopSignals {
    /// SIGTERM (Slurm/Kubernetes preemption), SIGINT (Ctrl-C), SIGUSR1 and
    /// SIGUSR2 (Slurm `--signal`), SIGHUP (terminal closed).
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP]

    /// Installs the handlers and, with `unblocking`, unblocks the signals,
    /// which a parent may have left blocked in the inherited mask (idempotent).
    public static func install(unblocking: Bool = true) {
        _ = receivedSignal.load(ordering: .relaxed)  // initialise the globals before any handler runs
        _ = DatabaseWaits.stopped
        for signal in handled {
            _ = Glibc.signal(signal) { number in
                _ = receivedSignal.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                DatabaseWaits.stop()
            }
        }
        guard unblocking else { return }
        var mask = handledSet
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    }

    /// Runs `body` with the stop signals blocked, so one that arrives
    /// meanwhile waits (a process that `execv`s inside `body` passes the
    /// block on, and its own `install()` then receives the signal).
    @discardableResult
    public static func blocked<T>(_ body: () throws -> T) rethrows -> T {
        var mask = handledSet, previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &mask, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    private static var handledSet: sigset_t {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in handled { sigaddset(&mask, signal) }
        return mask
    }

    /// The first stop signal received, or nil.
    public static var received: Int32? {
        let value = receivedSignal.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// The signal's name, e.g. "SIGTERM".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }
}
