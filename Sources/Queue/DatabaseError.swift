import CSQLite
import Foundation

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
    /// The operating system's error number behind an I/O failure (0 if none).
    public var systemErrno: Int32 = 0

    /// The primary result code (the low byte of `code`), e.g. `SQLITE_BUSY`.
    public var primaryCode: Int32 { code & 0xFF }

    /// Another connection held the lock for longer than this one would wait
    /// (`SQLITE_BUSY`; see `DatabaseWaits`).
    public var isBusy: Bool { primaryCode == SQLITE_BUSY }

    public var description: String {
        let name = String(cString: sqlite3_errstr(code))
        var text = "\(path): SQLite error \(code) (\(name)): \(message)"
        if let sql { text += "\n  while running: \(sql)" }
        if let hint { text += "\nHINT: " + hint }
        return text
    }

    /// What to do about a failure whose cause lies outside the database.
    public var hint: String? {
        if primaryCode == SQLITE_FULL || systemErrno == ENOSPC || systemErrno == EDQUOT {
            return "the disk holding \(path) is full (or over quota); free some space and run again "
                + "(the failed transaction was rolled back, nothing recorded is lost)"
        }
        if systemErrno == EROFS {
            return "the file system holding \(path) is mounted read-only; move the campaign to a writable disk"
        }
        return nil
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
        var error = DatabaseError(code: extended, message: message, sql: sql, path: path)
        error.systemErrno = handle.map { sqlite3_system_errno($0) } ?? 0
        throw error
    }
}
