/// The states of a job. The schema's `CHECK (state IN (...))` constraint is
/// generated from `allCases`, so the database refuses any other value.
public enum JobState: String, CaseIterable, Sendable {
    /// Waiting to be claimed (from `available_at` on).
    case pending
    /// Claimed by a worker that holds a lease (owner, expiry, attempt number).
    case running
    /// Finished; its result was written in the same transaction.
    case done
    /// The last attempt threw; waits for its back-off to become pending again.
    case failed
    /// Gave up after too many failures or expired leases; every attempt's
    /// error is kept in `job_attempts`. Only an operator revives it.
    case dead
}

/// Everything that can happen to a job. Which events apply to which state,
/// and where they lead, is the table in `JobState.next(on:)`.
public enum JobEvent: String, CaseIterable, Sendable {
    /// A worker takes the job: pending → running, attempt number + 1.
    case claim
    /// The holder extends its lease: running → running.
    case heartbeat
    /// The holder reports success with its result: running → done.
    case complete
    /// The holder reports an error and retries remain: running → failed.
    case fail
    /// The holder reports an error and no retries remain: running → dead.
    case failFinal
    /// The holder was interrupted (signal, time budget) and hands the job
    /// back: running → pending, retry budget untouched.
    case release
    /// The lease ran out (worker killed or hung): running → pending.
    case expire
    /// The lease ran out once too often (a job that kills its workers): running → dead.
    case expireFinal
    /// The back-off after a failure has elapsed: failed → pending.
    case retryDue
    /// An operator retries a dead job (`campaign retry-dead`): dead → pending.
    case revive

    /// Events that only the current lease holder may cause; they are fenced
    /// by the attempt number.
    public var isFenced: Bool {
        switch self {
        case .heartbeat, .complete, .fail, .failFinal, .release: return true
        case .claim, .expire, .expireFinal, .retryDue, .revive: return false
        }
    }
}

/// `event` does not apply to a job in `state`.
public struct TransitionRejected: Error, Equatable, CustomStringConvertible, Sendable {
    public let state: JobState
    public let event: JobEvent
    public var description: String { "a \(state.rawValue) job cannot take event '\(event.rawValue)'" }
}

extension JobState {
    /// The job state machine: the state after `event`, or a rejection.
    public func next(on event: JobEvent) throws(TransitionRejected) -> JobState {
        switch (self, event) {
        case (.pending, .claim): return .running
        case (.running, .heartbeat): return .running
        case (.running, .complete): return .done
        case (.running, .fail): return .failed
        case (.running, .failFinal): return .dead
        case (.running, .release): return .pending
        case (.running, .expire): return .pending
        case (.running, .expireFinal): return .dead
        case (.failed, .retryDue): return .pending
        case (.dead, .revive): return .pending
        default: throw TransitionRejected(state: self, event: event)
        }
    }
}

extension JobEvent {
    /// The states this event applies to, read off the transition table.
    public var sourceStates: [JobState] {
        JobState.allCases.filter { (try? $0.next(on: self)) != nil }
    }

    /// The state this event leads to (the same from every source state).
    public var targetState: JobState {
        // Every event has at least one source; the table maps all of them to one target.
        try! sourceStates[0].next(on: self)
    }
}
