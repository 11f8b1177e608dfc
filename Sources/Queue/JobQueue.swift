import JSONText
import Checksums
/// How jobs are leased and retried (the pipeline's `queue` section).
public struct JobPolicy: Sendable, Equatable {
    /// How long a claim or heartbeat holds a job.
    public var leaseSeconds: Double
    /// Failed attempts (errors thrown by the work) before a job is dead.
    public var maxAttempts: Int
    /// Expired leases (worker killed or hung) before a job is dead; guards
    /// against a job that kills every worker that takes it.
    public var maxLeaseExpiries: Int
    /// Back-off after the first failure; doubles with each further failure
    /// (computed in the `fail` transition).
    public var backoffSeconds: Double
    /// Upper bound of the back-off.
    public var backoffMaxSeconds: Double

    public init(leaseSeconds: Double = 300, maxAttempts: Int = 3, maxLeaseExpiries: Int = 10,
                backoffSeconds: Double = 30, backoffMaxSeconds: Double = 3600) {
        self.leaseSeconds = leaseSeconds
        self.maxAttempts = maxAttempts
        self.maxLeaseExpiries = maxLeaseExpiries
        self.backoffSeconds = backoffSeconds
        self.backoffMaxSeconds = backoffMaxSeconds
    }

    /// The outcome of a failed attempt, decided here only: retry or give up.
    public func failureEvent(failuresBefore: Int) -> JobEvent {
        failuresBefore + 1 >= maxAttempts ? .failFinal : .fail
    }
}

/// A job a worker holds. `attempt` is the fencing token: only calls carrying
/// the current attempt number are accepted.
public struct ClaimedJob: Sendable, Equatable {
    public let id: Int64
    public let key: String
    public let stage: String
    /// JSON text given at enqueue time.
    public let parameters: String
    public let attempt: Int
    public let owner: String
    public let leaseExpiresAt: Double
}

/// The answer to heartbeat, complete, fail and release.
public enum FencedOutcome: Sendable, Equatable {
    /// The call came from the current lease holder and took effect.
    case accepted
    /// The caller no longer holds the job (its lease expired and the job was
    /// taken over, or an operator released it): nothing was written.
    case leaseLost(LeaseLost)
}

/// Details of a lost lease, for the worker's log line.
public struct LeaseLost: Sendable, Equatable, CustomStringConvertible {
    public let jobID: Int64
    /// The attempt the caller held.
    public let heldAttempt: Int
    public let currentState: JobState?
    public let currentAttempt: Int
    public let currentOwner: String?

    public var description: String {
        "lease lost on job \(jobID) (held attempt \(heldAttempt); job is now \(currentState?.rawValue ?? "gone"), "
            + "attempt \(currentAttempt)\(currentOwner.map { ", owner \($0)" } ?? ""))"
    }
}

/// A job to enqueue.
public struct NewJob: Sendable {
    public let stage: String
    /// JSON text; its canonical form (sorted keys) goes into the job key.
    public let parameters: String
    /// Higher is claimed first.
    public let priority: Int

    public init(stage: String, parameters: String, priority: Int = 0) {
        self.stage = stage
        self.parameters = parameters
        self.priority = priority
    }
}

/// Job counts of one stage (or all), for "running:/skipping:" lines and status.
public struct JobCounts: Sendable, Equatable {
    public var byState: [JobState: Int] = [:]
    /// Running jobs whose lease has run out, by former owner.
    public var expiredByOwner: [String: Int] = [:]

    public init(byState: [JobState: Int] = [:], expiredByOwner: [String: Int] = [:]) {
        self.byState = byState
        self.expiredByOwner = expiredByOwner
    }

    public subscript(state: JobState) -> Int { byState[state, default: 0] }
    public var total: Int { byState.values.reduce(0, +) }
    /// Jobs that still need work (pending, running or waiting to retry).
    public var unfinished: Int { self[.pending] + self[.running] + self[.failed] }
    public var expired: Int { expiredByOwner.values.reduce(0, +) }
}

/// A live or expired lease.
public struct LeaseRecord: Sendable {
    public let jobID: Int64
    public let key: String
    public let stage: String
    public let owner: String
    public let attempt: Int
    public let expiresAt: Double
}

/// A job in the `dead` state.
public struct DeadJobRecord: Sendable {
    public let jobID: Int64
    public let key: String
    public let stage: String
    public let failures: Int
    public let expiries: Int
    public let lastError: String
}

/// One attempt at a job (every claim creates one; errors are kept forever).
public struct AttemptRecord: Sendable, Equatable {
    public let attempt: Int
    public let owner: String
    public let startedAt: Double
    public let endedAt: Double?
    /// The event that ended the attempt (`complete`, `fail`, `release`, ...), nil while running.
    public let outcome: JobEvent?
    public let error: String?
}

/// The full row of one job.
public struct JobRecord: Sendable, Equatable {
    public let id: Int64
    public let key: String
    public let stage: String
    public let parameters: String
    public let priority: Int
    public let state: JobState
    public let attempt: Int
    public let failures: Int
    public let expiries: Int
    public let owner: String?
    public let leaseExpiresAt: Double?
    public let availableAt: Double
    public let result: String?
    public let lastError: String?
    public let finishedAt: Double?
}

/// The job table of a campaign: enqueue, claim with a lease, heartbeat,
/// complete / fail / release fenced by the attempt number, expiry, retries.
/// Every state change goes through `apply(_:to:now:payload:)`, inside a
/// `BEGIN IMMEDIATE` transaction.
public struct JobQueue {
    public let campaign: Campaign
    public let policy: JobPolicy
    private var database: Database { campaign.database }

    init(campaign: Campaign, policy: JobPolicy) {
        self.campaign = campaign
        self.policy = policy
    }

    /// The job key: SHA-256 of the stage and the canonical parameters, so the
    /// same work enqueued twice (in any key order or formatting) is one job.
    public static func key(stage: String, parameters: String) throws -> String {
        SHA256.hash(stage + "\n" + (try JSONValue(parsing: parameters)).canonicalText)
    }

    /// Enqueues jobs in one transaction; jobs whose key exists are left as
    /// they are. Returns how many were new.
    @discardableResult
    public func enqueue(_ jobs: [NewJob]) throws -> Int {
        let now = campaign.clock.now()
        let keyed = try jobs.map { ($0, try JobQueue.key(stage: $0.stage, parameters: $0.parameters)) }
        return try database.immediateTransaction {
            try keyed.reduce(0) { added, item in
                let (job, key) = item
                return added + (try database.run("""
                    INSERT INTO jobs (key, stage, parameters, priority, state, available_at, created_at, updated_at)
                    VALUES (\(key), \(job.stage), \(job.parameters), \(job.priority), \(JobState.pending.rawValue), \(now), \(now), \(now))
                    ON CONFLICT (key) DO NOTHING
                    """))
            }
        }
    }

    /// Takes the highest-priority claimable job of `stage` for `owner`, or
    /// returns nil when none is claimable now. First makes due retries
    /// pending and expires run-out leases; then claims with one
    /// `UPDATE ... WHERE id = (SELECT ... LIMIT 1) RETURNING`.
    public func claim(stage: String, owner: String) throws -> ClaimedJob? {
        let now = campaign.clock.now()
        return try database.immediateTransaction {
            try applyTimeouts(now: now)
            return try apply(.claim, to: .nextClaimable(stage: stage), now: now, payload: owner).first
        }
    }

    /// Extends the lease of `job` to now + lease.
    public func heartbeat(_ job: ClaimedJob) throws -> FencedOutcome {
        try fenced(.heartbeat, job, payload: nil)
    }

    /// Marks `job` done with `result` (JSON text) in one transaction.
    public func complete(_ job: ClaimedJob, result: String) throws -> FencedOutcome {
        try fenced(.complete, job, payload: result)
    }

    /// Records a failed attempt with `error`; the job is retried after its
    /// back-off, or is dead when its attempts are used up.
    public func fail(_ job: ClaimedJob, error: String) throws -> FencedOutcome {
        try fenced({ failures in policy.failureEvent(failuresBefore: failures) }, job, payload: error)
    }

    /// Hands `job` back after an interruption; it is pending again at once
    /// and the retry budget is untouched.
    public func release(_ job: ClaimedJob, reason: String) throws -> FencedOutcome {
        try fenced(.release, job, payload: reason)
    }

    /// Expires every run-out lease now (and makes due retries pending);
    /// returns the leases that were expired.
    @discardableResult
    public func releaseExpired() throws -> [LeaseRecord] {
        let now = campaign.clock.now()
        return try database.immediateTransaction {
            let expired = try leases(stage: nil, expiredOnly: true, now: now)
            try applyTimeouts(now: now)
            return expired
        }
    }

    /// Makes dead jobs (of `stage`, or all) pending again with a fresh retry
    /// budget; their attempt history stays. Returns how many.
    @discardableResult
    public func retryDead(stage: String? = nil) throws -> Int {
        let now = campaign.clock.now()
        return try database.immediateTransaction {
            try apply(.revive, to: .dead(stage: stage), now: now, payload: nil).count
        }
    }

    // MARK: Reading

    /// Job counts by state (and expired leases by owner) for `stage`, or all stages.
    public func counts(stage: String?) throws -> JobCounts {
        let now = campaign.clock.now()
        var counts = JobCounts()
        let filter: SQLFragment = stage.map { "stage = \($0)" } ?? "1"
        for (state, count) in try database.query("SELECT state, count(*) FROM jobs WHERE " + filter + " GROUP BY state", {
            (JobState(rawValue: $0.text(0)), $0.int(1))
        }) {
            if let state { counts.byState[state] = count }
        }
        for lease in try leases(stage: stage, expiredOnly: true, now: now) {
            counts.expiredByOwner[lease.owner, default: 0] += 1
        }
        return counts
    }

    /// The stages that have jobs, by name.
    public func stages() throws -> [String] {
        try database.query("SELECT DISTINCT stage FROM jobs ORDER BY stage", []) { $0.text(0) }
    }

    /// When the next job of `stage` may become claimable without anyone
    /// acting: the earliest lease expiry or retry time; nil when none is
    /// running or waiting.
    public func nextChange(stage: String) throws -> Double? {
        try database.queryFirst("""
            SELECT min(CASE state WHEN 'running' THEN lease_expires_at ELSE available_at END)
            FROM jobs WHERE stage = ? AND state IN ('running', 'failed', 'pending')
            """, [.text(stage)]) { $0.optionalDouble(0) } ?? nil
    }

    /// Leases of running jobs, soonest expiry first.
    public func leases(stage: String?) throws -> [LeaseRecord] {
        try leases(stage: stage, expiredOnly: false, now: campaign.clock.now())
    }

    private func leases(stage: String?, expiredOnly: Bool, now: Double) throws -> [LeaseRecord] {
        var sql: SQLFragment = "SELECT id, key, stage, owner, attempt, lease_expires_at FROM jobs WHERE state = 'running'"
        if let stage { sql = sql + " AND stage = \(stage)" }
        if expiredOnly { sql = sql + " AND lease_expires_at <= \(now)" }
        return try database.query(sql + " ORDER BY lease_expires_at, id") {
            LeaseRecord(jobID: $0.int64(0), key: $0.text(1), stage: $0.text(2), owner: $0.text(3),
                        attempt: $0.int(4), expiresAt: $0.double(5))
        }
    }

    /// Dead jobs with their last error, oldest first.
    public func deadJobs(stage: String?) throws -> [DeadJobRecord] {
        var sql: SQLFragment = "SELECT id, key, stage, failures, expiries, coalesce(last_error, '') FROM jobs WHERE state = 'dead'"
        if let stage { sql = sql + " AND stage = \(stage)" }
        return try database.query(sql + " ORDER BY finished_at, id") {
            DeadJobRecord(jobID: $0.int64(0), key: $0.text(1), stage: $0.text(2), failures: $0.int(3),
                          expiries: $0.int(4), lastError: $0.text(5))
        }
    }

    /// Every attempt at job `id`, in order.
    public func attempts(jobID: Int64) throws -> [AttemptRecord] {
        try database.query("""
            SELECT attempt, owner, started_at, ended_at, outcome, error FROM job_attempts WHERE job_id = ? ORDER BY attempt
            """, [.integer(jobID)]) {
            AttemptRecord(attempt: $0.int(0), owner: $0.text(1), startedAt: $0.double(2), endedAt: $0.optionalDouble(3),
                          outcome: $0.optionalText(4).flatMap(JobEvent.init(rawValue:)), error: $0.optionalText(5))
        }
    }

    /// Jobs of `stage` (or all), by id.
    public func jobs(stage: String?) throws -> [JobRecord] {
        var sql: SQLFragment = """
            SELECT id, key, stage, parameters, priority, state, attempt, failures, expiries, owner,
                   lease_expires_at, available_at, result, last_error, finished_at FROM jobs
            """
        if let stage { sql = sql + " WHERE stage = \(stage)" }
        return try database.query(sql + " ORDER BY id") {
            JobRecord(id: $0.int64(0), key: $0.text(1), stage: $0.text(2), parameters: $0.text(3), priority: $0.int(4),
                      state: JobState(rawValue: $0.text(5)) ?? .dead, attempt: $0.int(6), failures: $0.int(7),
                      expiries: $0.int(8), owner: $0.optionalText(9), leaseExpiresAt: $0.optionalDouble(10),
                      availableAt: $0.double(11), result: $0.optionalText(12), lastError: $0.optionalText(13),
                      finishedAt: $0.optionalDouble(14))
        }
    }

    /// Jobs of `stage` (or all) finished in the last `window` seconds, as a
    /// rate per second over the span they were finished in; nil when none.
    public func throughput(stage: String?, window: Double) throws -> Double? {
        let now = campaign.clock.now()
        var sql: SQLFragment = "SELECT count(*), min(finished_at) FROM jobs WHERE state = 'done' AND finished_at >= \(now - window)"
        if let stage { sql = sql + " AND stage = \(stage)" }
        guard let (count, first) = try database.query(sql, { ($0.int(0), $0.optionalDouble(1)) }).first,
              count > 0, let first else { return nil }
        return Double(count) / max(now - first, 1)
    }

    // MARK: Transitions

    /// Which rows an event applies to (besides being in one of its source states).
    private enum Selection {
        case holder(id: Int64, attempt: Int)
        case nextClaimable(stage: String)
        case expiredLeases(final: Bool)
        case dueRetries
        case dead(stage: String?)

        func condition(now: Double, policy: JobPolicy) -> SQLFragment {
            switch self {
            case .holder(let id, let attempt):
                return "id = \(id) AND attempt = \(attempt)"
            case .nextClaimable(let stage):
                return """
                    id = (SELECT id FROM jobs WHERE stage = \(stage) AND state = 'pending' AND available_at <= \(now)
                          ORDER BY priority DESC, id LIMIT 1)
                    """
            case .expiredLeases(let final):
                return "lease_expires_at <= \(now) AND expiries + 1 \(raw: final ? ">=" : "<") \(policy.maxLeaseExpiries)"
            case .dueRetries:
                return "available_at <= \(now)"
            case .dead(let stage):
                return stage.map { "stage = \($0)" } ?? "1"
            }
        }
    }

    /// Moves every job the selection picks, that is in a source state of
    /// `event`, to the event's target state, and keeps `job_attempts` in step.
    /// The only function that changes a job's state. `payload` is the owner
    /// (claim), the result (complete) or the error text (fail, release).
    @discardableResult
    private func apply(_ event: JobEvent, to selection: Selection, now: Double, payload: String?) throws -> [ClaimedJob] {
        // `state = 'x'` rather than `state IN ('x')`: only the former lets SQLite use the partial indexes.
        let sources = event.sourceStates.map { "'\($0.rawValue)'" }
        let sourceCondition = sources.count == 1 ? "state = \(sources[0])" : "state IN (\(sources.joined(separator: ", ")))"
        let clearLease: SQLFragment = ", owner = NULL, lease_expires_at = NULL"
        var set: SQLFragment = "state = \(event.targetState.rawValue), updated_at = \(now)"
        switch event {
        case .claim:
            set = set + ", owner = \(payload ?? ""), attempt = attempt + 1, lease_expires_at = \(now + policy.leaseSeconds)"
        case .heartbeat:
            set = set + ", lease_expires_at = \(now + policy.leaseSeconds)"
        case .complete:
            set = set + clearLease + ", result = \(payload ?? "null"), finished_at = \(now)"
        case .fail:
            // The back-off doubles per failure: base * 2^failures (failures before this one), capped.
            set = set + clearLease + ", failures = failures + 1, last_error = \(.optionalText(payload))"
                + ", available_at = \(now) + min(\(policy.backoffMaxSeconds), \(policy.backoffSeconds) * (1 << min(failures, 30)))"
        case .failFinal:
            set = set + clearLease + ", failures = failures + 1, last_error = \(.optionalText(payload)), finished_at = \(now)"
        case .release:
            set = set + clearLease + ", available_at = \(now)"
        case .expire:
            set = set + clearLease + ", expiries = expiries + 1, available_at = \(now)"
                + ", last_error = 'lease of ' || owner || ' expired'"
        case .expireFinal:
            set = set + clearLease + ", expiries = expiries + 1, finished_at = \(now)"
                + ", last_error = 'lease of ' || owner || ' expired; too many expired leases'"
        case .retryDue:
            break
        case .revive:
            set = set + ", failures = 0, expiries = 0, finished_at = NULL, available_at = \(now)"
        }
        let statement: SQLFragment = "UPDATE jobs SET " + set + " WHERE \(raw: sourceCondition) AND "
            + selection.condition(now: now, policy: policy)
            + " RETURNING id, key, stage, parameters, attempt, coalesce(owner, ''), coalesce(lease_expires_at, 0), last_error"
        let changed = try database.query(statement) { row in
            (job: ClaimedJob(id: row.int64(0), key: row.text(1), stage: row.text(2), parameters: row.text(3),
                             attempt: row.int(4), owner: row.text(5), leaseExpiresAt: row.double(6)),
             lastError: row.optionalText(7))
        }
        for (job, lastError) in changed {
            try recordAttempt(event, job: job, now: now, error: event == .release ? payload : lastError)
        }
        return changed.map(\.job)
    }

    /// The `job_attempts` side of a transition: a claim opens an attempt,
    /// events that end the holder's run close it.
    private func recordAttempt(_ event: JobEvent, job: ClaimedJob, now: Double, error: String?) throws {
        switch event {
        case .claim:
            try database.run("""
                INSERT INTO job_attempts (job_id, attempt, owner, started_at) VALUES (\(job.id), \(job.attempt), \(job.owner), \(now))
                """)
        case .complete, .fail, .failFinal, .release, .expire, .expireFinal:
            try database.run("""
                UPDATE job_attempts SET ended_at = \(now), outcome = \(event.rawValue),
                    error = \(event == .complete ? .null : .optionalText(error))
                WHERE job_id = \(job.id) AND attempt = \(job.attempt)
                """)
            if event == .failFinal || event == .expireFinal {
                try campaign.insertEvent(stage: job.stage, kind: "job-dead", message: "job \(job.id) (\(job.key.prefix(12))) is dead: \(error ?? "")",
                                         jobID: job.id, at: now)
            }
        case .heartbeat, .retryDue, .revive:
            break
        }
    }

    /// Expired leases → pending (or dead), due retries → pending.
    private func applyTimeouts(now: Double) throws {
        try apply(.expireFinal, to: .expiredLeases(final: true), now: now, payload: nil)
        try apply(.expire, to: .expiredLeases(final: false), now: now, payload: nil)
        try apply(.retryDue, to: .dueRetries, now: now, payload: nil)
    }

    /// Runs a holder-only event for `job` in one transaction; `event` may
    /// depend on the job's failure count. Zero rows changed = lease lost.
    private func fenced(_ event: (Int) -> JobEvent, _ job: ClaimedJob, payload: String?) throws -> FencedOutcome {
        let now = campaign.clock.now()
        return try database.immediateTransaction {
            let current = try database.query("SELECT state, attempt, owner, failures FROM jobs WHERE id = \(job.id)") {
                (state: JobState(rawValue: $0.text(0)), attempt: $0.int(1), owner: $0.optionalText(2), failures: $0.int(3))
            }.first
            if let current, current.state == .running, current.attempt == job.attempt {
                let chosen = event(current.failures)
                let changed = try apply(chosen, to: .holder(id: job.id, attempt: job.attempt), now: now, payload: payload)
                if !changed.isEmpty { return .accepted }
            }
            return .leaseLost(LeaseLost(jobID: job.id, heldAttempt: job.attempt, currentState: current?.state,
                                        currentAttempt: current?.attempt ?? 0, currentOwner: current?.owner))
        }
    }

    private func fenced(_ event: JobEvent, _ job: ClaimedJob, payload: String?) throws -> FencedOutcome {
        try fenced({ _ in event }, job, payload: payload)
    }
}
