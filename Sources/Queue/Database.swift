import CSQLite
import Synchronization

/// A value bound to, or read from, a SQL statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// `.integer`, for the common case of a Swift `Int`.
    public static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }
    /// `.text`, or `.null` when `value` is nil.
    public static func optionalText(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
}

/// How the connection journals writes; see docs/queue.md for when to use which.
public enum JournalMode: String, Sendable, CaseIterable {
    /// Write-ahead log: readers never block the writer. Local disks only.
    case wal
    /// Classic rollback journal: works on network/shared filesystems
    /// (NFS, Lustre, GPFS) where WAL's shared-memory index does not.
    case delete
}

/// One connection to a SQLite database. Not thread-safe: use one connection
/// per thread (SQLite handles any number of connections across processes).
public final class Database {
    /// The path the database was opened from.
    public let path: String
    private let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    private let busyTimeoutMilliseconds: Int32

    /// Opens (and with `create`, creates) the database at `path`, with
    /// extended result codes and a busy timeout so that concurrent writers
    /// wait for each other instead of failing with `SQLITE_BUSY`. With
    /// `readOnly` nothing can write to it (and `create` is ignored).
    public init(path: String, create: Bool, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 60_000) throws(DatabaseError) {
        var flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else {
            throw DatabaseError(code: code, message: "out of memory", sql: nil, path: path)
        }
        do {
            try check(code, opened, path: path)
        } catch {
            sqlite3_close_v2(opened)
            throw error
        }
        self.path = path
        self.handle = opened
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        sqlite3_extended_result_codes(opened, 1)
        // SQLite's own busy timeout cannot be interrupted; this handler waits
        // the same way (growing sleeps up to the timeout) but, once
        // `DatabaseWaits.stop()` has been called, no longer than its grace.
        sqlite3_busy_handler(opened, { limit, count in
            let (sleep, slept) = DatabaseWaits.delay(afterAttempts: Int(count))
            guard slept + sleep <= DatabaseWaits.allowance(of: Int(bitPattern: limit)) else { return 0 }
            sqlite3_sleep(Int32(sleep))
            return 1
        }, UnsafeMutableRawPointer(bitPattern: Int(busyTimeoutMilliseconds)))
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters and return no rows.
    public func execute(_ sql: String) throws(DatabaseError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), handle, path: path, sql: sql)
    }

    /// Runs one statement with `values` bound to its `?` parameters and
    /// returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue]) throws(DatabaseError) -> Int {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs one statement and maps every result row with `transform`.
    public func query<T>(_ sql: String, _ values: [SQLValue], _ transform: (Row) throws -> T) throws -> [T] {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(values)
        var rows: [T] = []
        while try statement.step() {
            rows.append(try transform(Row(statement: statement)))
        }
        return rows
    }

    /// The first row of a query, mapped with `transform`, or nil when there is none.
    public func queryFirst<T>(_ sql: String, _ values: [SQLValue], _ transform: (Row) throws -> T) throws -> T? {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(values)
        return try statement.step() ? transform(Row(statement: statement)) : nil
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`: the write lock is taken
    /// up front (waiting up to the busy timeout), so the transaction can never
    /// fail half-way with `SQLITE_BUSY` when it starts writing. Any error
    /// rolls the transaction back and is rethrown.
    public func immediateTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// The journal mode in effect.
    public func journalMode() throws -> String {
        try queryFirst("PRAGMA journal_mode", []) { $0.text(0) } ?? ""
    }

    /// Switches the journal mode (persistent in the file for WAL) and sets
    /// the matching `synchronous` level: NORMAL under WAL (a process crash
    /// never loses a commit; only power loss can drop the last ones) and
    /// FULL under the rollback journal (where NORMAL could corrupt on power loss).
    ///
    /// The switch needs the database to itself, and SQLite answers
    /// `SQLITE_BUSY` at once, without waiting, when waiting could deadlock
    /// (two processes opening a new campaign together), so a refused switch
    /// is retried, a few milliseconds apart, until the busy timeout.
    public func setJournalMode(_ mode: JournalMode) throws {
        var waited = 0
        while try journalMode().lowercased() != mode.rawValue {
            let now: String
            do {
                now = try queryFirst("PRAGMA journal_mode = \(mode.rawValue.uppercased())", []) { $0.text(0) } ?? ""
            } catch let error as DatabaseError
                        where error.isBusy && waited < DatabaseWaits.allowance(of: Int(busyTimeoutMilliseconds)) {
                waited += Self.pause()
                continue
            }
            if now.lowercased() == mode.rawValue { break }
            guard waited < DatabaseWaits.allowance(of: Int(busyTimeoutMilliseconds)) else {
                throw DatabaseError(code: SQLITE_ERROR,
                                    message: "could not switch the journal to \(mode.rawValue) (still \(now)); "
                                        + "HINT: stop the other processes using this database first",
                                    sql: "PRAGMA journal_mode", path: path)
            }
            waited += Self.pause()
        }
        try setSynchronous(for: mode)
    }

    /// Sets this connection's `synchronous` level for `mode` (NORMAL under
    /// WAL, FULL under the rollback journal; see `setJournalMode`).
    public func setSynchronous(for mode: JournalMode) throws {
        try execute("PRAGMA synchronous = \(mode == .wal ? "NORMAL" : "FULL")")
    }

    /// Sleeps 5–20 ms (random, so that retrying processes fall out of step)
    /// and returns the milliseconds slept.
    private static func pause() -> Int {
        let milliseconds = Int.random(in: 5...20)
        sqlite3_sleep(Int32(milliseconds))
        return milliseconds
    }

    private func prepared(_ sql: String) throws(DatabaseError) -> Statement {
        if let cached = statements[sql] { return cached }
        var raw: OpaquePointer?
        try check(sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil),
                  handle, path: path, sql: sql)
        guard let raw else {
            throw DatabaseError(code: SQLITE_MISUSE, message: "empty statement", sql: sql, path: path)
        }
        let statement = Statement(handle: raw, database: handle, path: path, sql: sql)
        statements[sql] = statement
        return statement
    }
}

/// Waits for another process's lock (the busy handler of every
/// `Database`) that a stop request cuts short: after `stop()` — which a
/// signal handler may call — a statement that has waited `graceMilliseconds`
/// fails with `SQLITE_BUSY` within one more sleep (at most 100 ms), so a
/// stopping process still gets a short chance to record its last writes
/// (release its job) but never waits out the whole busy timeout.
public enum DatabaseWaits {
    private static let stopRequested = Atomic<Bool>(false)

    /// How long a wait may still last once a stop is requested.
    public static let graceMilliseconds = 1000

    /// Ends every current and future wait (async-signal-safe).
    public static func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Whether `stop()` has been called.
    public static var stopped: Bool { stopRequested.load(ordering: .relaxed) }

    /// How many milliseconds a wait whose timeout is `limit` may last now:
    /// `limit`, or at most the grace once a stop is requested.
    static func allowance(of limit: Int) -> Int { stopped ? min(graceMilliseconds, limit) : limit }

    /// SQLite's own schedule of sleeps (ms) between lock attempts, then 100 ms each.
    static let delays = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100]

    /// The sleep before attempt `attempts` + 1 and the milliseconds slept before it.
    static func delay(afterAttempts attempts: Int) -> (sleep: Int, slept: Int) {
        if attempts < delays.count { return (delays[attempts], delays[..<attempts].reduce(0, +)) }
        return (100, delays.reduce(0, +) + 100 * (attempts - delays.count))
    }
}

/// A prepared statement, cached per connection by its SQL text.
final class Statement {
    let handle: OpaquePointer
    let database: OpaquePointer
    let path: String
    let sql: String

    init(handle: OpaquePointer, database: OpaquePointer, path: String, sql: String) {
        self.handle = handle
        self.database = database
        self.path = path
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ values: [SQLValue]) throws(DatabaseError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let v): code = sqlite3_bind_int64(handle, index, v)
            case .real(let v): code = sqlite3_bind_double(handle, index, v)
            case .text(let v): code = sqlite3_bind_text(handle, index, v, -1, csqlite_transient())
            }
            try check(code, database, path: path, sql: sql)
        }
    }

    /// Advances to the next row; false when the statement is done.
    func step() throws(DatabaseError) -> Bool {
        try check(sqlite3_step(handle), database, path: path, sql: sql) == SQLITE_ROW
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }
}

/// The current result row of a query; valid only inside the `query` closure.
public struct Row {
    let statement: Statement

    /// True when column `index` is NULL.
    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(statement.handle, index) == SQLITE_NULL }
    /// Column `index` as an integer (0 when NULL).
    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(statement.handle, index) }
    /// Column `index` as an `Int` (0 when NULL).
    public func int(_ index: Int32) -> Int { Int(int64(index)) }
    /// Column `index` as a double (0 when NULL).
    public func double(_ index: Int32) -> Double { sqlite3_column_double(statement.handle, index) }
    /// Column `index` as a double, or nil when NULL.
    public func optionalDouble(_ index: Int32) -> Double? { isNull(index) ? nil : double(index) }
    /// Column `index` as text ("" when NULL).
    public func text(_ index: Int32) -> String { optionalText(index) ?? "" }
    /// Column `index` as text, or nil when NULL.
    public func optionalText(_ index: Int32) -> String? {
        guard let bytes = sqlite3_column_text(statement.handle, index) else { return nil }
        return String(cString: bytes)
    }
}
