import JSONText
import Foundation
import Queue

/// The options that choose a campaign, shared by every stage and `campaign`.
enum CampaignOptions {
    static let pipeline = OptionSpec.value("--pipeline", "FILE",
        help: "Pipeline file (JSON, docs/pipeline.md). Stages and `campaign init` create the campaign from it; later runs check it is unchanged.")
    static let campaign = OptionSpec.value("--campaign", "NAME", help: "Campaign name: database queue/NAME.sqlite.")
    static let db = OptionSpec.value("--db", "PATH", help: "Campaign database path (instead of --campaign).")
    static let journal = OptionSpec.value("--journal", "MODE",
        help: "SQLite journal of a new campaign: wal (local disks) or delete (shared filesystems). Default: the pipeline's queue.journal. An existing campaign keeps its own; naming another is refused (see `campaign set-journal`).")
    static let force = OptionSpec.flag("--force", help: "Continue even though the pipeline file changed since the campaign was created.")

    static let all = [pipeline, campaign, db, journal, force]
}

/// An opened campaign with its pipeline.
struct OpenedCampaign<Sections: PipelineSections> {
    let campaign: Campaign
    let pipeline: PipelineConfig<Sections>
}

/// Finds, opens (or creates) and checks the campaign the options name.
///
/// Database: `--db PATH`, else `queue/<--campaign>.sqlite`, else
/// `queue/<pipeline campaign.name>.sqlite`. With `--pipeline` the campaign is
/// created when missing (if `create`), and an existing one must have been
/// created with the same pipeline (canonical JSON) unless `--force` or no
/// work is finished yet.
/// Without `--pipeline` the recorded pipeline is used. `readOnly` opens an
/// existing campaign for reading: nothing is created, migrated, recorded or
/// switched (journal mode).
///
/// The journal mode is the campaign's: set when it is created (`--journal`,
/// else the pipeline's `queue.journal`), before its pipeline is recorded, so
/// every later process finds it set; later a `--journal` naming another
/// mode is refused (switching needs the database to itself), except with
/// `switchJournal` (`campaign set-journal`).
func openCampaign<Sections>(_ arguments: ParsedArguments, create: Bool, readOnly: Bool = false, switchJournal: Bool = false,
                            clock: any Clock = SystemClock(), sections: Sections.Type) throws -> OpenedCampaign<Sections> {
    if arguments.string("--db") != nil && arguments.string("--campaign") != nil {
        throw UsageError("give either --db or --campaign, not both")
    }
    let fileConfig = try arguments.string("--pipeline").map(PipelineConfig<Sections>.load(path:))
    let path: String
    if let db = arguments.string("--db") {
        path = db
    } else if let name = arguments.string("--campaign") ?? fileConfig?.campaign.name {
        if let problem = CampaignSection.problem(withName: name) { throw UsageError("--campaign: \(problem)") }
        path = "queue/\(name).sqlite"
    } else {
        throw UsageError("name the campaign with --pipeline FILE, --campaign NAME or --db PATH")
    }
    let campaign = try Campaign.open(path: path, create: create && fileConfig != nil, readOnly: readOnly, clock: clock)
    let journal = try arguments.choice("--journal", as: JournalMode.self)
    let pipeline: PipelineConfig<Sections>
    var created = false
    switch (try campaign.pipeline(), fileConfig) {
    case (nil, nil):
        throw CampaignError.notACampaign(path: path)
    case (nil, _) where readOnly:
        throw CampaignError.notACampaign(path: path)
    case (nil, let config?):
        try campaign.setJournalMode(journal ?? config.queue.journal)
        try campaign.recordPipeline(name: config.campaign.name, json: config.document.canonicalText)
        pipeline = config
        created = true
    case (let record?, nil):
        pipeline = try PipelineConfig(text: record.json, origin: "pipeline recorded in \(path)")
    case (let record?, let config?):
        let recorded = try JSONValue(parsing: record.json)
        let changes = config.document.differences(from: recorded).map { "\($0.path): \($0.old) -> \($0.new)" }
        if !changes.isEmpty {
            // Before any work is finished (e.g. fetch-data stopped on a missing checksum) nothing depends on the old one.
            guard try arguments.flag("--force") || !campaign.hasFinishedWork() else {
                throw CampaignError.pipelineChanged(path: path, changes: changes)
            }
            try campaign.recordPipeline(name: config.campaign.name, json: config.document.canonicalText, changes: changes)
        }
        pipeline = config
    }
    if switchJournal, let journal {
        try campaign.setJournalMode(journal)
    } else if !readOnly && !created {
        try campaign.useCurrentJournalMode(requested: journal)
    }
    return OpenedCampaign(campaign: campaign, pipeline: pipeline)
}
