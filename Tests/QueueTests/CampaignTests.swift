import CSQLite
import Foundation
import Queue
import TestSupport
import Testing

@Suite struct CampaignTests {
    let directory = TemporaryDirectory()
    let clock = FakeClock()

    @Test func freshDatabaseIsMigratedToTheCurrentVersion() throws {
        let campaign = try makeCampaign(in: directory, clock: clock)
        #expect(try campaign.database.queryFirst("PRAGMA user_version", []) { $0.int(0) } == 1)
        #expect(try campaign.database.journalMode() == "wal")
        // Reopening does not re-run migrations.
        let again = try Campaign.open(path: campaign.path, create: false, clock: clock)
        #expect(try again.pipeline()?.name == "test")
    }

    /// Processes that open a new campaign at the same moment (two cron ticks)
    /// all get it in WAL mode: SQLite refuses the switch at once with
    /// SQLITE_BUSY, without waiting, when waiting could deadlock, so the
    /// switch is retried within the busy timeout.
    @Test func simultaneousOpensOfANewDatabaseAllSwitchToWAL() throws {
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var messages: [String] = []
            func add(_ message: String) { lock.withLock { messages.append(message) } }
        }
        let failures = Failures()
        for round in 0..<60 {
            let path = directory.file("race-\(round).sqlite")
            let clock = self.clock
            DispatchQueue.concurrentPerform(iterations: 4) { opener in
                do {
                    let campaign = try Campaign.open(path: path, create: true, clock: clock)
                    try campaign.setJournalMode(.wal)
                    try campaign.database.immediateTransaction {
                        try campaign.database.execute("CREATE TABLE IF NOT EXISTS opener_\(opener) (x)")
                    }
                    if try campaign.database.journalMode() != "wal" { failures.add("round \(round), opener \(opener): not WAL") }
                } catch {
                    failures.add("round \(round), opener \(opener): \(error)")
                }
            }
        }
        #expect(failures.messages.isEmpty, "\(failures.messages.count) failed opens, first: \(failures.messages.first ?? "")")
    }

    @Test func newerSchemaIsRefused() throws {
        let path = directory.file("new.sqlite")
        let database = try Database(path: path, create: true)
        try database.execute("PRAGMA user_version = 99")
        #expect {
            _ = try Campaign.open(path: path, create: false, clock: clock)
        } throws: { error in
            guard case CampaignError.newerSchema(_, 99, 1) = error else { return false }
            return "\(error)".contains("schema version 99")
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        let path = directory.write("text.sqlite", String(repeating: "not a database\n", count: 100))
        #expect {
            _ = try Campaign.open(path: path, create: false, clock: clock)
        } throws: { error in
            if case CampaignError.notADatabase = error { return true }
            return false
        }
    }

    @Test func theDatabaseRefusesInvalidStates() throws {
        let campaign = try makeCampaign(in: directory, clock: clock)
        let queue = campaign.jobs(policy: JobPolicy())
        try queue.enqueue([NewJob(stage: "s", parameters: "{}")])
        for (sql, reason) in [("UPDATE jobs SET state = 'finished'", "unknown state"),
                              ("UPDATE jobs SET state = 'running'", "running without owner"),
                              ("UPDATE jobs SET state = 'done', finished_at = 1", "done without result"),
                              ("UPDATE jobs SET state = 'dead'", "terminal without finished_at")] {
            #expect(throws: DatabaseError.self, "\(reason)") { try campaign.database.run(sql, []) }
        }
        let error = try #require(throws: DatabaseError.self) { try campaign.database.run("UPDATE jobs SET state = 'bogus'", []) }
        #expect(error.code == SQLITE_CONSTRAINT | 1 << 8)  // SQLITE_CONSTRAINT_CHECK, a macro Swift cannot import
        #expect(error.sql == "UPDATE jobs SET state = 'bogus'" && error.path == campaign.path)
        #expect("\(error)".contains("CHECK constraint failed"))
    }

    @Test func stageRunsAreRecordedWithTheirReasons() throws {
        let campaign = try makeCampaign(in: directory, clock: clock)
        #expect(try campaign.stage("fetch-data").status == .notStarted)
        let run = try campaign.beginStageRun("fetch-data", decision: .run, reason: "not started yet", worker: "w")
        #expect(try campaign.stage("fetch-data").status == .running)
        clock.advance(5)
        try campaign.endStageRun(run, stage: "fetch-data", exitStatus: 0, stageDone: true, reason: "3 files")
        let record = try campaign.stage("fetch-data")
        #expect(record.status == .done && record.startedAt == 1_000_000 && record.finishedAt == 1_000_005 && record.reason == "3 files")
        try campaign.beginStageRun("fetch-data", decision: .skip, reason: "done", worker: "w")
        #expect(try campaign.stage("fetch-data").status == .done)
        #expect(try campaign.database.queryFirst("SELECT count(*) FROM stage_runs", []) { $0.int(0) } == 2)
    }

    @Test func metricsAndEvents() throws {
        let campaign = try makeCampaign(in: directory, clock: clock)
        try campaign.recordMetric(stage: "meta-train-generator", step: 2, name: "loss", value: 0.5)
        try campaign.recordMetric(stage: "meta-train-generator", step: 1, name: "loss", value: 0.9)
        #expect(try campaign.metrics(stage: "meta-train-generator", name: "loss").map(\.value) == [0.9, 0.5])
        // A resumed stage repeats steps: the metric is replaced, not duplicated.
        try campaign.recordMetric(stage: "meta-train-generator", step: 2, name: "loss", value: 0.4)
        #expect(try campaign.metrics(stage: "meta-train-generator", name: "loss").map(\.value) == [0.9, 0.4])
        try campaign.recordEvent(stage: "report", kind: "checkpoint", message: "saved")
        #expect(try campaign.events().map(\.kind) == ["created", "checkpoint"])
    }

    @Test func immediateTransactionRollsBackOnError() throws {
        let campaign = try makeCampaign(in: directory, clock: clock)
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try campaign.database.immediateTransaction {
                try campaign.recordMetric(stage: "s", step: 1, name: "x", value: 1)
                throw Abort()
            }
        }
        #expect(try campaign.metrics(stage: "s", name: "x").isEmpty)
    }
}
