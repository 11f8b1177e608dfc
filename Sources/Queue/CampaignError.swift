import Foundation

/// Problems with a campaign database that are the user's to fix (wrong path,
/// wrong file, newer schema, changed pipeline), as opposed to `DatabaseError`s
/// that happen while working. Each message names the file and ends with a hint.
public enum CampaignError: Error, CustomStringConvertible, Sendable {
    /// The database file cannot be opened or created at this path.
    case cannotOpen(path: String, reason: String)
    /// No campaign database exists at this path (and none was to be created).
    case missing(path: String)
    /// The file exists but is not a SQLite database.
    case notADatabase(path: String)
    /// The file was written by a newer version of this program.
    case newerSchema(path: String, found: Int, supported: Int)
    /// The database holds no campaign record (created by something else).
    case notACampaign(path: String)
    /// Opened read-only, the file has an older schema that only a writer may upgrade.
    case olderSchema(path: String, found: Int, current: Int)
    /// The pipeline file differs from the one the campaign was created with.
    case pipelineChanged(path: String, changes: [String])
    /// `--journal` asks for another journal mode than the campaign uses
    /// (`requested`), or the campaign uses a mode stages do not work in (nil).
    case journalMismatch(path: String, current: String, requested: String?)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open campaign database \(path): \(reason)"
        case .missing(let path):
            return "no campaign database at \(path)\nHINT: create it with `campaign init --pipeline FILE`, or pass the right --db / --campaign"
        case .notADatabase(let path):
            return "\(path) is not a SQLite database\nHINT: --db must name a campaign database (queue/<campaign>.sqlite)"
        case .newerSchema(let path, let found, let supported):
            return "\(path) has schema version \(found), but this build supports up to version \(supported)\n"
                + "HINT: run the newer build that created it; an older one must not touch it"
        case .journalMismatch(let path, let current, let requested?):
            return "campaign \(path) uses the \(current) journal; --journal \(requested) would switch it under every process "
                + "using it\nHINT: leave out --journal (the campaign's mode is used), or stop every process using the campaign "
                + "and run `campaign set-journal --journal \(requested) --db \(path)`"
        case .journalMismatch(let path, let current, nil):
            return "campaign \(path) uses the \(current) journal, which the stages do not work in (only wal or delete)\n"
                + "HINT: stop every process using the campaign and run `campaign set-journal --journal wal --db \(path)` "
                + "(or delete on a shared filesystem)"
        case .olderSchema(let path, let found, let current):
            return "\(path) has schema version \(found), older than this build's \(current); reading it needs an upgrade\n"
                + "HINT: run any stage of the campaign or `campaign init` once (they upgrade it), then read it again"
        case .notACampaign(let path):
            return "\(path) is a SQLite database but holds no campaign\nHINT: create campaigns with `campaign init --pipeline FILE`"
        case .pipelineChanged(let path, let changes):
            return "the pipeline differs from the one campaign \(path) was created with:\n"
                + changes.map { "  \($0)" }.joined(separator: "\n")
                + "\nHINT: start a new campaign for a new pipeline, or pass --force to continue with the changed one"
        }
    }

    /// Explains why SQLite could not open `path`, looking at the directory.
    static func openFailure(path: String, error: DatabaseError) -> CampaignError {
        let directory = (path as NSString).deletingLastPathComponent
        let dir = directory.isEmpty ? "." : directory
        var isDirectory: ObjCBool = false
        let reason: String
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            reason = "directory \(dir) does not exist\nHINT: create it first, or pick another --db path"
        } else if !isDirectory.boolValue {
            reason = "\(dir) is not a directory\nHINT: pick another --db path"
        } else if isReadOnlyFileSystem(dir) {
            reason = "\(error.message) (SQLite code \(error.code))\nHINT: the file system holding \(dir) is mounted read-only; "
                + "a campaign database must be writable (under WAL even to be read): copy the campaign to a writable disk"
        } else if let hint = error.hint {
            reason = "\(error.message) (SQLite code \(error.code))\nHINT: \(hint)"
        } else if FileManager.default.fileExists(atPath: path) {
            reason = "\(error.message) (SQLite code \(error.code))\nHINT: check the file's permissions"
        } else {
            reason = "directory \(dir) is not writable (\(error.message))\nHINT: pick a writable directory for --db"
        }
        return .cannotOpen(path: path, reason: reason)
    }

    /// Whether the file system holding `directory` is mounted read-only.
    private static func isReadOnlyFileSystem(_ directory: String) -> Bool {
        var info = statvfs()
        return statvfs(directory, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0
    }
}
