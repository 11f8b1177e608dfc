@testable import Queue
import TestSupport
import Testing

@Suite struct JobQueueTests {
    let directory = TemporaryDirectory()
    let clock = FakeClock()

    func queue(_ policy: JobPolicy = JobPolicy(leaseSeconds: 10, maxAttempts: 3, maxLeaseExpiries: 3,
                                                backoffSeconds: 10, backoffMaxSeconds: 15)) throws -> JobQueue {
        try makeCampaign(in: directory, clock: clock).jobs(policy: policy)
    }

    func job(_ queue: JobQueue, _ id: Int64) throws -> JobRecord {
        try #require(try queue.jobs(stage: nil).first { $0.id == id })
    }

    @Test func enqueueingTheSameWorkTwiceIsANoOp() throws {
        let queue = try queue()
        #expect(try queue.enqueue([NewJob(stage: "s", parameters: #"{"a": 1, "b": [1, 2]}"#)]) == 1)
        #expect(try queue.enqueue([NewJob(stage: "s", parameters: #"{"b":[1,2],"a":1}"#)]) == 0)
        #expect(try queue.enqueue([NewJob(stage: "other", parameters: #"{"a": 1, "b": [1, 2]}"#)]) == 1)
        #expect(try queue.jobs(stage: nil).count == 2)
        #expect(try JobQueue.key(stage: "s", parameters: #"{"a":1,"b":[1,2]}"#)
            == JobQueue.key(stage: "s", parameters: "{ \"b\": [1, 2],\n \"a\": 1 }"))
    }

    @Test func claimTakesTheHighestPriorityThenTheOldest() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "[1]"), NewJob(stage: "s", parameters: "[2]", priority: 5),
                           NewJob(stage: "s", parameters: "[3]", priority: 5), NewJob(stage: "t", parameters: "[4]", priority: 9)])
        let order = try (0..<3).map { _ in try #require(try queue.claim(stage: "s", owner: "w")).parameters }
        #expect(order == ["[2]", "[3]", "[1]"])
        #expect(try queue.claim(stage: "s", owner: "w") == nil)
    }

    @Test func claimSetsOwnerLeaseAndAttempt() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        let claimed = try #require(try queue.claim(stage: "s", owner: "w1"))
        #expect(claimed.attempt == 1 && claimed.owner == "w1" && claimed.leaseExpiresAt == clock.now() + 10)
        let record = try job(queue, claimed.id)
        #expect(record.state == .running && record.owner == "w1" && record.leaseExpiresAt == clock.now() + 10)
    }

    @Test func completeWritesTheResultWithDone() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        let claimed = try #require(try queue.claim(stage: "s", owner: "w1"))
        #expect(try queue.complete(claimed, result: #"{"score": 0.5}"#) == .accepted)
        let record = try job(queue, claimed.id)
        #expect(record.state == .done && record.result == #"{"score": 0.5}"# && record.owner == nil && record.finishedAt != nil)
        #expect(try queue.attempts(jobID: claimed.id).map(\.outcome) == [.complete])
        // A second completion by the same holder is a lost lease, not a second result.
        guard case .leaseLost(let lost) = try queue.complete(claimed, result: "{}") else { Issue.record("accepted twice"); return }
        #expect(lost.currentState == .done)
    }

    @Test func leaseExpiresOnlyAfterItsTimeAndALateWorkerLosesIt() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        let first = try #require(try queue.claim(stage: "s", owner: "w1"))
        clock.advance(9.9)
        #expect(try queue.claim(stage: "s", owner: "w2") == nil)
        clock.advance(0.1)
        let second = try #require(try queue.claim(stage: "s", owner: "w2"))
        #expect(second.id == first.id && second.attempt == 2)
        #expect(try queue.heartbeat(first) == .leaseLost(LeaseLost(jobID: first.id, heldAttempt: 1, currentState: .running,
                                                                   currentAttempt: 2, currentOwner: "w2")))
        guard case .leaseLost = try queue.complete(first, result: #""late""#) else { Issue.record("late result accepted"); return }
        guard case .leaseLost = try queue.fail(first, error: "late") else { Issue.record("late failure accepted"); return }
        #expect(try queue.complete(second, result: #""w2""#) == .accepted)
        let record = try job(queue, first.id)
        #expect(record.result == #""w2""# && record.failures == 0 && record.expiries == 1)
        #expect(try queue.attempts(jobID: first.id).map(\.outcome) == [.expire, .complete])
    }

    @Test func heartbeatExtendsTheLease() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        let claimed = try #require(try queue.claim(stage: "s", owner: "w1"))
        clock.advance(8)
        #expect(try queue.heartbeat(claimed) == .accepted)
        clock.advance(8)
        #expect(try queue.claim(stage: "s", owner: "w2") == nil)
        #expect(try queue.leases(stage: "s").map(\.expiresAt) == [clock.now() + 2])
        clock.advance(2)
        #expect(try queue.claim(stage: "s", owner: "w2")?.attempt == 2)
    }

    @Test func releaseHandsTheJobBackWithoutUsingTheRetryBudget() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        let claimed = try #require(try queue.claim(stage: "s", owner: "w1"))
        #expect(try queue.release(claimed, reason: "SIGTERM") == .accepted)
        let record = try job(queue, claimed.id)
        #expect(record.state == .pending && record.failures == 0 && record.owner == nil)
        #expect(try queue.attempts(jobID: claimed.id).first?.error == "SIGTERM")
        #expect(try queue.claim(stage: "s", owner: "w2")?.attempt == 2)
    }

    @Test func failuresBackOffThenDieKeepingEveryError() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        var claimed = try #require(try queue.claim(stage: "s", owner: "w"))
        #expect(try queue.fail(claimed, error: "boom 1") == .accepted)
        #expect(try job(queue, claimed.id).state == .failed)
        clock.advance(9.9)
        #expect(try queue.claim(stage: "s", owner: "w") == nil)  // back-off 10 s
        clock.advance(0.1)
        claimed = try #require(try queue.claim(stage: "s", owner: "w"))
        #expect(try queue.fail(claimed, error: "boom 2") == .accepted)
        clock.advance(14.9)
        #expect(try queue.claim(stage: "s", owner: "w") == nil)  // back-off 20 s capped at 15 s
        clock.advance(0.1)
        claimed = try #require(try queue.claim(stage: "s", owner: "w"))
        #expect(claimed.attempt == 3)
        #expect(try queue.fail(claimed, error: "boom 3") == .accepted)
        let record = try job(queue, claimed.id)
        #expect(record.state == .dead && record.failures == 3 && record.lastError == "boom 3" && record.finishedAt != nil)
        #expect(try queue.attempts(jobID: claimed.id).map(\.error) == ["boom 1", "boom 2", "boom 3"])
        #expect(try queue.attempts(jobID: claimed.id).map(\.outcome) == [.fail, .fail, .failFinal])
        #expect(try queue.deadJobs(stage: "s").map(\.lastError) == ["boom 3"])
        clock.advance(1000)
        #expect(try queue.claim(stage: "s", owner: "w") == nil)

        #expect(try queue.retryDead(stage: "s") == 1)
        let revived = try job(queue, claimed.id)
        #expect(revived.state == .pending && revived.failures == 0 && revived.finishedAt == nil)
        #expect(try queue.claim(stage: "s", owner: "w")?.attempt == 4)
        #expect(try queue.attempts(jobID: claimed.id).count == 4)
    }

    @Test func tooManyExpiredLeasesKillAJob() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        for attempt in 1...3 {
            #expect(try queue.claim(stage: "s", owner: "w\(attempt)")?.attempt == attempt)
            clock.advance(10)
        }
        #expect(try queue.releaseExpired().map(\.owner) == ["w3"])
        let record = try #require(try queue.jobs(stage: "s").first)
        #expect(record.state == .dead && record.expiries == 3 && record.failures == 0)
        #expect(record.lastError?.contains("lease of w3 expired") == true)
    }

    @Test func releaseExpiredReturnsOnlyExpiredLeases() throws {
        let queue = try queue()
        try queue.enqueue([NewJob(stage: "s", parameters: "[1]"), NewJob(stage: "s", parameters: "[2]")])
        let old = try #require(try queue.claim(stage: "s", owner: "old"))
        clock.advance(5)
        _ = try queue.claim(stage: "s", owner: "young")
        clock.advance(5)
        let counts = try queue.counts(stage: "s")
        #expect(counts[.running] == 2 && counts.expiredByOwner == ["old": 1])
        #expect(try queue.releaseExpired().map(\.jobID) == [old.id])
        #expect(try queue.counts(stage: "s")[.pending] == 1)
    }

    @Test func nextChangeIsTheEarliestLeaseExpiryOrRetry() throws {
        let queue = try queue()
        #expect(try queue.nextChange(stage: "s") == nil)
        try queue.enqueue([NewJob(stage: "s", parameters: "[1]"), NewJob(stage: "s", parameters: "[2]")])
        let first = try #require(try queue.claim(stage: "s", owner: "w"))
        clock.advance(3)
        _ = try queue.claim(stage: "s", owner: "w")
        #expect(try queue.nextChange(stage: "s") == first.leaseExpiresAt)
        #expect(try queue.fail(first, error: "x") == .accepted)  // retry at now + 10, when the other lease expires too
        clock.advance(1)
        #expect(try queue.nextChange(stage: "s") == clock.now() + 9)
    }

    @Test func throughputCountsRecentCompletions() throws {
        let queue = try queue()
        #expect(try queue.throughput(stage: nil, window: 600) == nil)
        try queue.enqueue((0..<10).map { NewJob(stage: "s", parameters: "[\($0)]") })
        for _ in 0..<10 {
            let claimed = try #require(try queue.claim(stage: "s", owner: "w"))
            #expect(try queue.complete(claimed, result: "{}") == .accepted)
            clock.advance(2)
        }
        let rate = try #require(try queue.throughput(stage: "s", window: 600))
        #expect(abs(rate - 0.5) < 1e-9)
    }
}
