import Checksums
import CSQLite
import Foundation

/// The pipeline a campaign was created with.
public struct PipelineRecord: Sendable {
    /// The campaign name from the pipeline.
    public let name: String
    /// The pipeline in canonical JSON (sorted keys, no whitespace).
    public let json: String
    /// SHA-256 of `json`.
    public let sha256: String
    public let createdAt: Double
    public let updatedAt: Double
}

/// Where a stage stands. "Incomplete" is recorded (`running`), never inferred.
public enum StageStatus: String, Sendable, CaseIterable {
    case notStarted = "not_started"
    case running
    case done
}

/// A stage's recorded status and the reason given for its latest run or skip.
public struct StageRecord: Sendable {
    public let name: String
    public let status: StageStatus
    public let startedAt: Double?
    public let finishedAt: Double?
    public let reason: String
}

/// Whether a stage invocation does work or skips.
public enum StageDecision: String, Sendable {
    case run
    case skip
}

/// How a stage's runs stand: runs without an end (still running, or killed
/// before they could record one) and the last run to end.
public struct StageRunOutcome: Sendable, Equatable {
    public let openRuns: Int
    public let lastEndedAt: Double?
    public let lastExitStatus: Int32?

    /// A stage with no runs.
    public static let neverRun = StageRunOutcome(openRuns: 0, lastEndedAt: nil, lastExitStatus: nil)
}

/// One recorded metric value.
public struct MetricRecord: Sendable, Equatable {
    public let stage: String
    public let step: Int
    public let name: String
    public let value: Double
    public let recordedAt: Double
}

/// One recorded event.
public struct EventRecord: Sendable {
    public let recordedAt: Double
    public let stage: String?
    public let kind: String
    public let message: String
    public let jobID: Int64?
}

/// One campaign database: the recorded pipeline, stage status, metrics,
/// events and the job table (`jobs(policy:)`).
public final class Campaign {
    /// The connection; stages may run their own statements on it.
    public let database: Database
    /// The clock every timestamp comes from.
    public let clock: any Clock
    /// The database file.
    public var path: String { database.path }

    private init(database: Database, clock: any Clock) {
        self.database = database
        self.clock = clock
    }

    /// Opens the campaign database at `path`, creating the file only when
    /// `create` is true, and migrates its schema to the current version.
    /// `readOnly` opens an existing campaign for reading only: it creates,
    /// migrates and writes nothing, and refuses a file that holds no campaign.
    /// User-fixable problems throw `CampaignError`. Set the journal mode
    /// next (`setJournalMode`; never on a read-only campaign): it may come
    /// from the recorded pipeline.
    public static func open(path: String, create: Bool, readOnly: Bool = false, clock: any Clock = SystemClock()) throws -> Campaign {
        if (readOnly || !create) && !FileManager.default.fileExists(atPath: path) { throw CampaignError.missing(path: path) }
        let database: Database
        do {
            database = try Database(path: path, create: create, readOnly: readOnly)
        } catch {
            throw CampaignError.openFailure(path: path, error: error)
        }
        let version: Int
        do {
            version = try database.queryFirst("PRAGMA user_version", []) { $0.int(0) } ?? 0
        } catch let error as DatabaseError where error.primaryCode == SQLITE_NOTADB {
            throw CampaignError.notADatabase(path: path)
        } catch let error as DatabaseError where error.primaryCode == SQLITE_CANTOPEN || error.primaryCode == SQLITE_READONLY {
            throw CampaignError.openFailure(path: path, error: error)
        }
        if version > Schema.currentVersion {
            throw CampaignError.newerSchema(path: path, found: version, supported: Schema.currentVersion)
        }
        if readOnly {
            if version == 0 { throw CampaignError.notACampaign(path: path) }
            if version < Schema.currentVersion {
                throw CampaignError.olderSchema(path: path, found: version, current: Schema.currentVersion)
            }
            return Campaign(database: database, clock: clock)
        }
        do {
            try migrate(database)
        } catch let error as DatabaseError where error.primaryCode == SQLITE_CANTOPEN || error.primaryCode == SQLITE_READONLY {
            throw CampaignError.openFailure(path: path, error: error)
        }
        return Campaign(database: database, clock: clock)
    }

    /// Sets the journal mode (see `Database.setJournalMode`).
    public func setJournalMode(_ mode: JournalMode) throws {
        do {
            try database.setJournalMode(mode)
        } catch let error as DatabaseError where error.primaryCode == SQLITE_CANTOPEN || error.primaryCode == SQLITE_READONLY {
            throw CampaignError.openFailure(path: path, error: error)
        }
    }

    /// Works in the journal mode the campaign already uses (setting this
    /// connection's `synchronous` level to match), never switching it under
    /// other processes; `requested`, when given, must be that mode.
    public func useCurrentJournalMode(requested: JournalMode?) throws {
        let current = try database.journalMode().lowercased()
        guard let mode = JournalMode(rawValue: current) else {
            throw CampaignError.journalMismatch(path: path, current: current, requested: nil)
        }
        if let requested, requested != mode {
            throw CampaignError.journalMismatch(path: path, current: current, requested: requested.rawValue)
        }
        try database.setSynchronous(for: mode)
    }

    private static func migrate(_ database: Database) throws {
        try database.immediateTransaction {
            let version = try database.queryFirst("PRAGMA user_version", []) { $0.int(0) } ?? 0
            if version > Schema.currentVersion {
                throw CampaignError.newerSchema(path: database.path, found: version, supported: Schema.currentVersion)
            }
            for migration in Schema.migrations[version...] { try database.execute(migration) }
            if version < Schema.currentVersion { try database.execute("PRAGMA user_version = \(Schema.currentVersion)") }
        }
    }

    // MARK: Pipeline

    /// The recorded pipeline, or nil for a database that holds no campaign yet.
    public func pipeline() throws -> PipelineRecord? {
        try database.queryFirst(
            "SELECT name, pipeline_json, pipeline_sha256, created_at, updated_at FROM campaign WHERE id = 1", []
        ) { PipelineRecord(name: $0.text(0), json: $0.text(1), sha256: $0.text(2), createdAt: $0.double(3), updatedAt: $0.double(4)) }
    }

    /// Records the pipeline (canonical JSON) at creation, or replaces it
    /// (after `--force`), logging an event that says what changed.
    public func recordPipeline(name: String, json: String, changes: [String] = []) throws {
        let now = clock.now()
        try database.immediateTransaction {
            try database.run("""
                INSERT INTO campaign (id, name, pipeline_json, pipeline_sha256, created_at, updated_at)
                VALUES (1, ?1, ?2, ?3, ?4, ?4)
                ON CONFLICT (id) DO UPDATE SET name = ?1, pipeline_json = ?2, pipeline_sha256 = ?3, updated_at = ?4
                """, [.text(name), .text(json), .text(SHA256.hash(json)), .real(now)])
            let message = changes.isEmpty ? "campaign created" : "pipeline replaced: " + changes.joined(separator: "; ")
            try insertEvent(stage: nil, kind: changes.isEmpty ? "created" : "pipeline-changed", message: message, jobID: nil, at: now)
        }
    }

    /// Whether any stage has finished or any job is done: until then a
    /// changed pipeline can replace the recorded one without `--force`.
    public func hasFinishedWork() throws -> Bool {
        try database.queryFirst("""
            SELECT EXISTS (SELECT 1 FROM stages WHERE status = 'done') OR EXISTS (SELECT 1 FROM jobs WHERE state = 'done')
            """, []) { $0.int(0) != 0 } ?? false
    }

    // MARK: Stages

    /// Every stage that has been run or skipped at least once, by name.
    public func stages() throws -> [StageRecord] {
        try database.query("SELECT name, status, started_at, finished_at, reason FROM stages ORDER BY started_at, name", [], Campaign.stageRecord)
    }

    /// The recorded status of `stage` (`notStarted` when never run).
    public func stage(_ name: String) throws -> StageRecord {
        try database.queryFirst("SELECT name, status, started_at, finished_at, reason FROM stages WHERE name = ?", [.text(name)],
                                Campaign.stageRecord)
            ?? StageRecord(name: name, status: .notStarted, startedAt: nil, finishedAt: nil, reason: "never run")
    }

    /// Per stage: how many times it ran (not counting skips), how many of
    /// those runs ended, and their summed wall-clock seconds.
    public func stageRunTotals() throws -> [String: (runs: Int, ended: Int, seconds: Double)] {
        let rows = try database.query("""
            SELECT stage, count(*), count(ended_at), coalesce(sum(ended_at - started_at), 0) FROM stage_runs
            WHERE decision = 'run' GROUP BY stage
            """, []) { ($0.text(0), $0.int(1), $0.int(2), $0.double(3)) }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.0, (runs: $0.1, ended: $0.2, seconds: $0.3)) })
    }

    private static func stageRecord(_ row: Row) -> StageRecord {
        StageRecord(name: row.text(0), status: StageStatus(rawValue: row.text(1)) ?? .notStarted,
                    startedAt: row.optionalDouble(2), finishedAt: row.optionalDouble(3), reason: row.text(4))
    }

    /// Records that `worker` runs or skips `stage` and why; a run marks the
    /// stage `running` until `endStageRun(_:exitStatus:stageDone:)`.
    /// Returns the id of the run record.
    @discardableResult
    public func beginStageRun(_ stage: String, decision: StageDecision, reason: String, worker: String) throws -> Int64 {
        let now = clock.now()
        return try database.immediateTransaction {
            if decision == .run {
                try database.run("""
                    INSERT INTO stages (name, status, started_at, reason) VALUES (?1, 'running', ?2, ?3)
                    ON CONFLICT (name) DO UPDATE SET status = 'running', started_at = ?2, finished_at = NULL, reason = ?3
                    """, [.text(stage), .real(now), .text(reason)])
            }
            return try database.queryFirst("""
                INSERT INTO stage_runs (stage, decision, reason, worker, started_at) VALUES (?, ?, ?, ?, ?) RETURNING id
                """, [.text(stage), .text(decision.rawValue), .text(reason), .text(worker), .real(now)]) { $0.int64(0) } ?? 0
        }
    }

    /// Closes a run record with the process's exit status; with `stageDone`
    /// the stage is marked `done` (with `reason`). A run that ends otherwise
    /// with a nonzero status leaves the stage unfinished, with `reason` (why
    /// it stopped) as the stage's reason.
    public func endStageRun(_ runID: Int64, stage: String, exitStatus: Int32, stageDone: Bool, reason: String) throws {
        let now = clock.now()
        try database.immediateTransaction {
            try database.run("UPDATE stage_runs SET ended_at = ?, exit_status = ? WHERE id = ?",
                             [.real(now), .integer(Int64(exitStatus)), .integer(runID)])
            if stageDone {
                try database.run("""
                    INSERT INTO stages (name, status, started_at, finished_at, reason) VALUES (?1, 'done', ?2, ?2, ?3)
                    ON CONFLICT (name) DO UPDATE SET status = 'done', finished_at = ?2, reason = ?3
                    """, [.text(stage), .real(now), .text(reason)])
            } else if exitStatus != 0 {
                try database.run("UPDATE stages SET reason = ? WHERE name = ? AND status = 'running'", [.text(reason), .text(stage)])
            }
        }
    }

    /// Whether any run of `stage` (skips aside) is still open, and the last
    /// run to end: when and with which exit status.
    public func runOutcome(of stage: String) throws -> StageRunOutcome {
        try database.queryFirst("""
            SELECT count(*) - count(ended_at),
                   (SELECT ended_at FROM stage_runs WHERE stage = ?1 AND decision = 'run' AND ended_at IS NOT NULL
                    ORDER BY ended_at DESC, id DESC LIMIT 1),
                   (SELECT exit_status FROM stage_runs WHERE stage = ?1 AND decision = 'run' AND ended_at IS NOT NULL
                    ORDER BY ended_at DESC, id DESC LIMIT 1)
            FROM stage_runs WHERE stage = ?1 AND decision = 'run'
            """, [.text(stage)]) { row in
            StageRunOutcome(openRuns: row.int(0), lastEndedAt: row.optionalDouble(1),
                            lastExitStatus: row.isNull(2) ? nil : Int32(row.int(2)))
        } ?? .neverRun
    }

    // MARK: Metrics and events

    /// Records one metric value (e.g. stage "meta-train-generator", step 120, "meta_loss").
    /// A metric has one value per (stage, name, step): recording it again
    /// replaces it, so a stage that resumes and repeats steps leaves no duplicates.
    public func recordMetric(stage: String, step: Int, name: String, value: Double) throws {
        try database.run("""
            INSERT INTO metrics (stage, step, name, value, recorded_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (stage, name, step) DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at
            """, [.text(stage), .int(step), .text(name), .real(value), .real(clock.now())])
    }

    /// Recorded values of metric `name` of `stage`, by step.
    public func metrics(stage: String, name: String) throws -> [MetricRecord] {
        try database.query("""
            SELECT stage, step, name, value, recorded_at FROM metrics WHERE stage = ? AND name = ? ORDER BY step, id
            """, [.text(stage), .text(name)]) {
            MetricRecord(stage: $0.text(0), step: $0.int(1), name: $0.text(2), value: $0.double(3), recordedAt: $0.double(4))
        }
    }

    /// Records an event (e.g. kind "checkpoint", "lease-expired").
    public func recordEvent(stage: String?, kind: String, message: String, jobID: Int64? = nil) throws {
        try insertEvent(stage: stage, kind: kind, message: message, jobID: jobID, at: clock.now())
    }

    func insertEvent(stage: String?, kind: String, message: String, jobID: Int64?, at time: Double) throws {
        try database.run("INSERT INTO events (recorded_at, stage, kind, message, job_id) VALUES (?, ?, ?, ?, ?)",
                         [.real(time), .optionalText(stage), .text(kind), .text(message), jobID.map(SQLValue.integer) ?? .null])
    }

    /// The most recent `limit` events, oldest first.
    public func events(limit: Int = 20) throws -> [EventRecord] {
        try database.query("""
            SELECT recorded_at, stage, kind, message, job_id FROM
              (SELECT * FROM events ORDER BY id DESC LIMIT ?) ORDER BY id
            """, [.int(limit)]) {
            EventRecord(recordedAt: $0.double(0), stage: $0.optionalText(1), kind: $0.text(2), message: $0.text(3),
                        jobID: $0.isNull(4) ? nil : $0.int64(4))
        }
    }

    // MARK: Jobs

    /// The job table, operated under `policy`.
    public func jobs(policy: JobPolicy) -> JobQueue { JobQueue(campaign: self, policy: policy) }
}
