import CSQLite

/// The one error type of the SQLite layer: what SQLite said, about which
/// statement, in which database file.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    /// SQLite's extended result code (e.g. 261 = SQLITE_BUSY_RECOVERY).
    public let code: Int32
    /// SQLite's message for this failure (`sqlite3_errmsg`).
    public let message: String
    /// The statement that failed, if the failure belongs to one.
    public let sql: String?
    /// The database file the connection was opened on.
    public let path: String

    /// The primary result code (the low byte of `code`), e.g. `SQLITE_BUSY`.
    public var primaryCode: Int32 { code & 0xFF }

    /// Another connection held the lock for longer than this one would wait
    /// (`SQLITE_BUSY`; see `DatabaseWaits`).
    public var isBusy: Bool { primaryCode == SQLITE_BUSY }

    public var description: String {
        let name = String(cString: sqlite3_errstr(code))
        var text = "\(path): SQLite error \(code) (\(name)): \(message)"
        if let sql { text += "\n  while running: \(sql)" }
        return text
    }
}

/// Turns a SQLite return code into `DatabaseError`; `SQLITE_OK`, `SQLITE_ROW`
/// and `SQLITE_DONE` pass through. Every SQLite call in this module goes
/// through here.
@discardableResult
func check(_ code: Int32, _ handle: OpaquePointer?, path: String, sql: String? = nil) throws(DatabaseError) -> Int32 {
    switch code {
    case SQLITE_OK, SQLITE_ROW, SQLITE_DONE:
        return code
    default:
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        let extended = handle.map { sqlite3_extended_errcode($0) } ?? code
        throw DatabaseError(code: extended, message: message, sql: sql, path: path)
    }
}
