/// The campaign database schema as numbered migrations under
/// `PRAGMA user_version`: migration `i` (0-based) brings a database from
/// version `i` to `i + 1`. Never edit a released migration; append one.
///
/// The partial indexes keep every statement of a claim an index seek, not a
/// scan: claim walks `jobs_claimable` in priority order; expiry and retry
/// look only at running / failed rows (check plans with EXPLAIN QUERY PLAN
/// when changing a statement: a sort of all pending jobs per claim once cut
/// throughput to a quarter at 20,000 jobs).
enum Schema {
    static let migrations: [String] = [version1]

    /// The schema version this build writes.
    static var currentVersion: Int { migrations.count }

    private static let jobStates = JobState.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    private static let attemptOutcomes = JobEvent.allCases.filter(\.isFenced).filter { $0 != .heartbeat }
        .map { "'\($0.rawValue)'" }.joined(separator: ", ") + ", 'expire', 'expireFinal'"

    private static let version1 = """
        CREATE TABLE campaign (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            name TEXT NOT NULL,
            pipeline_json TEXT NOT NULL,
            pipeline_sha256 TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE stages (
            name TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('not_started', 'running', 'done')),
            started_at REAL,
            finished_at REAL,
            reason TEXT NOT NULL,
            CHECK (status <> 'done' OR finished_at IS NOT NULL),
            CHECK (status = 'not_started' OR started_at IS NOT NULL)
        );
        CREATE TABLE stage_runs (
            id INTEGER PRIMARY KEY,
            stage TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('run', 'skip')),
            reason TEXT NOT NULL,
            worker TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            exit_status INTEGER
        );
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            stage TEXT NOT NULL,
            parameters TEXT NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL CHECK (state IN (\(jobStates))),
            attempt INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
            failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
            expiries INTEGER NOT NULL DEFAULT 0 CHECK (expiries >= 0),
            owner TEXT,
            lease_expires_at REAL,
            available_at REAL NOT NULL,
            result TEXT,
            last_error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            finished_at REAL,
            CHECK ((state = 'running') = (owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
            CHECK ((state = 'done') = (result IS NOT NULL)),
            CHECK ((state IN ('done', 'dead')) = (finished_at IS NOT NULL))
        );
        CREATE INDEX jobs_by_stage ON jobs (stage, state);
        CREATE INDEX jobs_claimable ON jobs (stage, priority DESC, id) WHERE state = 'pending';
        CREATE INDEX jobs_retry_due ON jobs (available_at) WHERE state = 'failed';
        CREATE INDEX jobs_lease_expiry ON jobs (lease_expires_at) WHERE state = 'running';
        CREATE TABLE job_attempts (
            job_id INTEGER NOT NULL REFERENCES jobs (id),
            attempt INTEGER NOT NULL,
            owner TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            outcome TEXT CHECK (outcome IN (\(attemptOutcomes))),
            error TEXT,
            PRIMARY KEY (job_id, attempt),
            CHECK ((outcome IS NULL) = (ended_at IS NULL))
        );
        CREATE TABLE metrics (
            id INTEGER PRIMARY KEY,
            stage TEXT NOT NULL,
            step INTEGER NOT NULL,
            name TEXT NOT NULL,
            value REAL NOT NULL,
            recorded_at REAL NOT NULL
        );
        CREATE UNIQUE INDEX metrics_by_name ON metrics (stage, name, step);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            recorded_at REAL NOT NULL,
            stage TEXT,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            job_id INTEGER
        );
        """
}
