import JSONText
import Artifacts
import Foundation
import Queue

/// The sections of a pipeline file that belong to a program's stages (all
/// but `campaign`, `data` and `queue`), defined and decoded by the library
/// of those stages (`StageContract.GTNSections` for the six GTN-NAS stages).
///
/// Adding a section: write `public struct MySection: PipelineSection` with
/// `static let key = "my_section"` and an `init(from:)` that reads each
/// field with `ConfigObject.integer/number/string/choice(...)` (range and
/// default in the call), cross-checking fields at the end; read it in the
/// `PipelineSections` type's `init(from:)` with `root.section(MySection.self)`
/// (pass `default:` to make it optional); document the fields in
/// docs/pipeline.md and extend pipelines/*.json. Unknown keys stay errors,
/// so a section is rejected until it is read there.
public protocol PipelineSections: Sendable {
    /// Reads the sections from the file's root object; `PipelineConfig`
    /// then rejects the keys nobody read.
    init(from root: inout ConfigObject) throws

    /// The program's stages in the order a campaign runs them (`campaign
    /// stages` prints them for the scripts).
    static var stages: [StageListing] { get }
}

/// A stage as `campaign stages` lists it.
public struct StageListing: Sendable, Equatable {
    /// The stage's name, which is also its executable's.
    public let name: String
    /// Whether it is a job worker (run as many side by side as you like)
    /// rather than a stage that runs once.
    public let drainsJobs: Bool

    public init(name: String, drainsJobs: Bool) {
        self.name = name
        self.drainsJobs = drainsJobs
    }
}

/// A decoded pipeline file (`pipelines/*.json`, docs/pipeline.md): the
/// common sections every program reads and the stage `Sections`, whose
/// fields read as the pipeline's own (`pipeline.search` for
/// `pipeline.sections.search`).
@dynamicMemberLookup
public struct PipelineConfig<Sections: PipelineSections>: Sendable {
    /// Where the pipeline was read from (a file, or the campaign database).
    public let origin: String
    /// The file's content, for recording in the campaign and for diffs.
    public let document: JSONValue

    public let campaign: CampaignSection
    public let data: DataSection
    public let queue: QueueSection
    public let sections: Sections

    public subscript<Value>(dynamicMember path: KeyPath<Sections, Value>) -> Value { sections[keyPath: path] }

    /// Decodes `text`; errors name `origin` and the field path.
    public init(text: String, origin: String) throws {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: text)
        } catch {
            throw ConfigError(file: origin, path: "", message: "malformed JSON at \(error)")
        }
        var root = try ConfigObject(document, file: origin, path: "")
        self.origin = origin
        self.document = document
        campaign = try root.section(CampaignSection.self)
        data = try root.section(DataSection.self)
        queue = try root.section(QueueSection.self, default: QueueSection())
        sections = try Sections(from: &root)
        try root.finish()
    }

    /// Reads and decodes the pipeline file at `path`.
    public static func load(path: String) throws -> PipelineConfig {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw InputError("pipeline file \(path) does not exist\nHINT: pipelines live in pipelines/, e.g. --pipeline pipelines/default.json")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("cannot read pipeline file \(path)\nHINT: check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, path: "", message: "not UTF-8 text; expected a JSON pipeline file")
        }
        return try PipelineConfig(text: text, origin: path)
    }

    /// The job lease and retry policy of the `queue` section.
    public var jobPolicy: JobPolicy {
        JobPolicy(leaseSeconds: queue.leaseSeconds, maxAttempts: queue.maxAttempts, maxLeaseExpiries: queue.maxLeaseExpiries,
                  backoffSeconds: queue.backoffSeconds, backoffMaxSeconds: queue.backoffMaxSeconds)
    }
}

/// `campaign`: what the campaign is called and its root seed.
public struct CampaignSection: PipelineSection {
    public static let key = "campaign"
    /// Names the database (`queue/<name>.sqlite`) and artifacts (`artifacts/<name>/`).
    public let name: String
    /// Root of every random stream (derived per stage and job key).
    public let seed: Int

    public init(from object: inout ConfigObject) throws {
        name = try object.string("name", validate: Self.problem(withName:))
        seed = try object.integer("seed", in: 0...Int(Int32.max))
    }

    /// What is wrong with `name` as a campaign name (it becomes a file and a
    /// directory name, so it cannot leave `queue/` or `artifacts/`); nil if nothing.
    public static func problem(withName name: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (1...64).contains(name.count), name.allSatisfy(allowed.contains), !name.hasPrefix(".") else {
            return "expected 1-64 characters from A-Z a-z 0-9 . _ - (not starting with '.'), found \"\(name)\""
        }
        return nil
    }
}

/// The datasets a campaign can use.
/// `data`: which dataset, where from, and how the training set is split.
public struct DataSection: PipelineSection {
    public static let key = "data"
    public let dataset: DatasetKind
    /// A local directory or an http(s) URL holding the dataset's files.
    public let source: String
    /// Expected SHA-256 (lowercase hex) per file name; nil = not checked.
    public let sha256: [String: String]?
    /// Examples used for training (meta-training's real batches, real evaluation).
    public let trainCount: Int
    /// Examples held out for validation (GTN scores), from the training set's end.
    public let validationCount: Int

    public init(from object: inout ConfigObject) throws {
        dataset = try object.choice("dataset", as: DatasetKind.self)
        source = try object.string("source") { $0.isEmpty ? "expected a directory path or an http(s) URL, found \"\"" : nil }
        sha256 = try object.stringMap("sha256") { _, digest in
            digest.count == 64 && digest.allSatisfy({ "0123456789abcdef".contains($0) })
                ? nil : "expected 64 lowercase hex digits, found \"\(digest)\""
        }
        let size = dataset.trainingSetSize
        trainCount = try object.integer("train_count", in: 1...size)
        validationCount = try object.integer("validation_count", in: 1...size)
        if trainCount + validationCount > size {
            throw object.error("validation_count", "train_count + validation_count must be at most \(size) "
                + "(the \(dataset.rawValue) training set), found \(trainCount) + \(validationCount)")
        }
    }
}

/// `queue`: journal mode and the job lease/retry policy. Optional; every
/// field has a default.
public struct QueueSection: PipelineSection {
    public static let key = "queue"
    /// `wal` on local disks, `delete` (rollback journal) on shared filesystems.
    public let journal: JournalMode
    public let leaseSeconds: Double
    public let maxAttempts: Int
    public let maxLeaseExpiries: Int
    public let backoffSeconds: Double
    public let backoffMaxSeconds: Double

    /// The defaults.
    public init() {
        let policy = JobPolicy()
        journal = .wal
        leaseSeconds = policy.leaseSeconds
        maxAttempts = policy.maxAttempts
        maxLeaseExpiries = policy.maxLeaseExpiries
        backoffSeconds = policy.backoffSeconds
        backoffMaxSeconds = policy.backoffMaxSeconds
    }

    public init(from object: inout ConfigObject) throws {
        let defaults = QueueSection()
        journal = try object.choice("journal", as: JournalMode.self, default: defaults.journal)
        leaseSeconds = try object.number("lease_seconds", in: 1...86_400, default: defaults.leaseSeconds)
        maxAttempts = try object.integer("max_attempts", in: 1...100, default: defaults.maxAttempts)
        maxLeaseExpiries = try object.integer("max_lease_expiries", in: 1...1000, default: defaults.maxLeaseExpiries)
        backoffSeconds = try object.number("backoff_seconds", in: 0...86_400, default: defaults.backoffSeconds)
        backoffMaxSeconds = try object.number("backoff_max_seconds", in: 0...604_800, default: defaults.backoffMaxSeconds)
        if backoffMaxSeconds < backoffSeconds {
            throw object.error("backoff_max_seconds", "expected at least backoff_seconds (\(backoffSeconds)), found \(backoffMaxSeconds)")
        }
    }
}
