import Queue

/// Thrown by a job's work after it checkpointed on a stop signal: the job
/// is released (pending again, retry budget untouched) and the stage exits 75.
public struct JobInterrupted: Error, Sendable {
    public init() {}
}

/// Thrown by `JobHandle.heartbeat()` when the lease was taken over: the work
/// should stop; nothing it would write is accepted.
public struct LeaseLostError: Error, CustomStringConvertible, Sendable {
    public let details: LeaseLost
    public var description: String { details.description }
}

/// The job a work closure is running, with its lease.
public final class JobHandle {
    public let job: ClaimedJob
    private let queue: JobQueue
    private var lastBeat = monotonicSeconds()

    init(job: ClaimedJob, queue: JobQueue) {
        self.job = job
        self.queue = queue
    }

    /// The job's parameters (JSON text).
    public var parameters: String { job.parameters }

    /// True once a stop signal arrived: checkpoint, then throw `JobInterrupted`
    /// (or finish the unit if that is quicker).
    public var isInterrupted: Bool { StopSignals.received != nil }

    /// For long work, between its steps: heartbeats, and throws
    /// `JobInterrupted` once a stop signal arrived (the job is released and
    /// redone from its start by the next worker).
    public func heartbeatOrStop() throws {
        if isInterrupted { throw JobInterrupted() }
        try heartbeat()
    }

    /// Extends the lease if a third of it has passed since the last
    /// extension; cheap to call often (e.g. every training step). Throws
    /// `LeaseLostError` when the job was taken over.
    public func heartbeat() throws {
        let now = monotonicSeconds()
        guard now - lastBeat >= queue.policy.leaseSeconds / 3 else { return }
        if case .leaseLost(let lost) = try queue.heartbeat(job) { throw LeaseLostError(details: lost) }
        lastBeat = now
    }
}

extension Stage {
    /// A stage that drains the jobs of `name` from the job table (enqueued
    /// by an earlier stage) by calling `work` for each; `work` returns the
    /// job's result as JSON text, which is written in the transaction that
    /// marks the job done. Its plan says how many jobs are pending, running,
    /// expired or waiting to retry, and skips when none is left.
    public static func jobWorker(name: String, summary: String, options: [OptionSpec] = [],
                                 work: @escaping (JobHandle, StageContext<Sections>) throws -> String) -> Stage {
        Stage(name: name, summary: summary, options: options, plan: planFromJobs) { context in
            try drainJobs(context, work: work)
        }
    }

    /// "skipping: all 200 jobs done" / "running: 12 pending, 1 lease expired from worker w3".
    /// Throws `DeadJobsError` (exit 1) when every job is finished but some
    /// are dead: the stage's work is not complete until they are retried.
    public static func planFromJobs(_ context: StageContext<Sections>) throws -> StagePlan {
        let counts = try context.jobs.counts(stage: context.stage)
        if counts.total == 0 { return .skip(reason: "no \(context.stage) jobs in the queue yet") }
        if counts.unfinished == 0 {
            if counts[.dead] > 0 { throw DeadJobsError(stage: context.stage, dead: counts[.dead], done: counts[.done]) }
            return .skip(reason: "all \(counts[.done]) jobs done")
        }
        return .run(reason: describe(counts))
    }
}

extension JobCounts {
    /// "12 pending, 1 lease expired from worker w3, 2 running elsewhere, 1 waiting to retry, 40 done".
    public var summary: String { describe(self) }
}

func describe(_ counts: JobCounts) -> String {
    var parts: [String] = []
    if counts[.pending] > 0 { parts.append("\(counts[.pending]) pending") }
    for (owner, count) in counts.expiredByOwner.sorted(by: { $0.key < $1.key }) {
        parts.append("\(count) lease\(count == 1 ? "" : "s") expired from worker \(owner)")
    }
    let live = counts[.running] - counts.expired
    if live > 0 { parts.append("\(live) running elsewhere") }
    if counts[.failed] > 0 { parts.append("\(counts[.failed]) waiting to retry") }
    if counts[.done] > 0 { parts.append("\(counts[.done]) done") }
    if counts[.dead] > 0 { parts.append("\(counts[.dead]) dead") }
    return parts.joined(separator: ", ")
}

/// The generic worker loop: claim → work (heartbeating through the handle)
/// → complete or fail, until no work is left or the budget/signal stops it.
/// When nothing is claimable but other workers hold leases or failed jobs
/// wait for their back-off, it waits (they may expire or come due), so no
/// job is left behind by a worker that was killed.
/// Returns `.done` when every job is done, `.incomplete` when stopped early;
/// throws when jobs are dead.
public func drainJobs<Sections>(_ context: StageContext<Sections>, work: (JobHandle, StageContext<Sections>) throws -> String) throws -> StageResult {
    let queue = context.jobs
    let initial = try queue.counts(stage: context.stage)
    let progress = context.progress(total: initial.total, startDone: initial[.done])
    var unitsDone = 0
    var doneTotal = initial[.done]
    while true {
        if let reason = context.stopReason(unitsDone: unitsDone) {
            let left = try queue.counts(stage: context.stage).unfinished
            if left == 0 && StopSignals.received == nil { break }
            return .incomplete(reason: "\(reason) after \(unitsDone) jobs here; \(left) unfinished")
        }
        guard let job = try queue.claim(stage: context.stage, owner: context.workerID) else {
            if try !waitForClaimable(queue, context, unitsDone: unitsDone) { break }
            continue
        }
        let handle = JobHandle(job: job, queue: queue)
        let outcome: FencedOutcome
        do {
            outcome = try queue.complete(job, result: try work(handle, context))
            if outcome == .accepted { doneTotal += 1 }
        } catch is JobInterrupted {
            _ = try queue.release(job, reason: "interrupted: \(context.stopReason(unitsDone: unitsDone) ?? "stop requested")")
            let left = try queue.counts(stage: context.stage).unfinished
            return .incomplete(reason: "\(context.stopReason(unitsDone: unitsDone) ?? "interrupted") during job \(job.id) "
                + "(released); \(left) unfinished")
        } catch let lost as LeaseLostError {
            context.say("\(lost); work abandoned")
            continue
        } catch let error where error is InputError || error is UsageError || error is ConfigError {
            _ = try queue.release(job, reason: "stage stopped: \(error)")
            throw error
        } catch {
            context.say("job \(job.id) attempt \(job.attempt) failed: \(error)")
            outcome = try queue.fail(job, error: "\(error)")
        }
        if case .leaseLost(let lost) = outcome { context.say("\(lost); result discarded") }
        unitsDone += 1
        progress.update(done: doneTotal)
    }
    let final = try queue.counts(stage: context.stage)
    progress.finish(done: final[.done])
    if final[.dead] > 0 {
        throw DeadJobsError(stage: context.stage, dead: final[.dead], done: final[.done])
    }
    return .done(summary: "all \(final[.done]) jobs done (\(unitsDone) here)")
}

/// Waits while nothing is claimable but jobs remain (others hold their
/// leases, or failed jobs wait for their back-off), looking every 0.25 s
/// with reads only, so idle workers do not load the database with write
/// transactions. Returns false when no unfinished job is left, true when a
/// job may be claimable or the loop must stop.
private func waitForClaimable<Sections>(_ queue: JobQueue, _ context: StageContext<Sections>, unitsDone: Int) throws -> Bool {
    while context.stopReason(unitsDone: unitsDone) == nil {
        if try queue.counts(stage: context.stage).unfinished == 0 { return false }
        if let next = try queue.nextChange(stage: context.stage), next <= context.campaign.clock.now() { return true }
        pause(seconds: 0.25)
    }
    return true
}

/// The stage's queue is drained but some jobs are dead (exit 1).
public struct DeadJobsError: Error, CustomStringConvertible, Sendable {
    public let stage: String
    public let dead: Int
    public let done: Int

    public init(stage: String, dead: Int, done: Int) {
        self.stage = stage
        self.dead = dead
        self.done = done
    }

    public var description: String {
        "\(dead) \(stage) job\(dead == 1 ? " is" : "s are") dead (\(done) done)\n"
            + "HINT: `campaign status` shows their errors; `campaign retry-dead` retries them"
    }
}
