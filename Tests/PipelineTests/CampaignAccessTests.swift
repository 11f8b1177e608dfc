import Checksums
import Foundation
@testable import Pipeline
import Queue
import TestSupport
import StageContract
import Testing

@Suite struct CampaignAccessTests {
    let directory = TemporaryDirectory()
    let spec = CommandSpec(name: "stage", summary: "", options: CampaignOptions.all)

    func open(_ arguments: [String]) throws -> OpenedCampaign<GTNSections> {
        try openCampaign(try spec.parse(arguments), create: true, sections: GTNSections.self)
    }

    @Test func recordsThePipelineAndRefusesAChangedOneOnceWorkIsDoneUnlessForced() throws {
        let db = directory.file("c.sqlite")
        let original = directory.write("p.json", testPipeline())
        let created = try open(["--pipeline", original, "--db", db])
        let record = try #require(try created.campaign.pipeline())
        #expect(record.sha256 == SHA256.hash(record.json) && record.name == "test")

        // Same content, other formatting: accepted. No --pipeline: the recorded one is used.
        directory.write("same.json", testPipeline().replacingOccurrences(of: "\n", with: " "))
        _ = try open(["--pipeline", directory.file("same.json"), "--db", db])
        #expect(try open(["--db", db]).pipeline.data.trainCount == 55000)

        // Before any work is finished a corrected pipeline simply replaces the recorded one.
        let corrected = directory.write("corrected.json", testPipeline(maxAttempts: 4))
        #expect(try open(["--pipeline", corrected, "--db", db]).pipeline.queue.maxAttempts == 4)
        #expect(try created.campaign.events().last?.message == "pipeline replaced: queue.max_attempts: 3 -> 4")
        _ = try open(["--pipeline", original, "--db", db])
        let run = try created.campaign.beginStageRun("fetch-data", decision: .run, reason: "test", worker: "w")
        try created.campaign.endStageRun(run, stage: "fetch-data", exitStatus: 0, stageDone: true, reason: "done")

        let changed = directory.write("changed.json", testPipeline(maxAttempts: 5)
            .replacingOccurrences(of: "\"train_count\": 55000", with: "\"train_count\": 50000"))
        #expect {
            _ = try open(["--pipeline", changed, "--db", db])
        } throws: { error in
            let text = "\(error)"
            return error is CampaignError && text.contains("data.train_count: 55000 -> 50000")
                && text.contains("queue.max_attempts: 3 -> 5") && text.contains("--force")
        }
        let forced = try open(["--pipeline", changed, "--db", db, "--force"])
        #expect(forced.pipeline.data.trainCount == 50000)
        #expect(try forced.campaign.events().last?.message.contains("data.train_count: 55000 -> 50000") == true)
        #expect(try open(["--db", db]).pipeline.queue.maxAttempts == 5)
    }

    /// The journal mode is set when the campaign is created (the flag, else
    /// the pipeline) and is the campaign's from then on: a process naming
    /// another mode is refused instead of switching it under the others;
    /// only `campaign set-journal` switches it.
    @Test func journalIsChosenAtCreationAndNeverSwitchedByTheWay() throws {
        let db = directory.file("j.sqlite")
        let file = directory.write("p.json", testPipeline(journal: .delete))
        #expect(try open(["--pipeline", file, "--db", db]).campaign.database.journalMode() == "delete")
        #expect(try open(["--db", db, "--journal", "delete"]).campaign.database.journalMode() == "delete")
        #expect {
            _ = try open(["--db", db, "--journal", "wal"])
        } throws: { error in
            "\(error)".contains("uses the delete journal; --journal wal would switch it") && "\(error)".contains("campaign set-journal")
        }
        #expect(try open(["--db", db]).campaign.database.journalMode() == "delete")
        let switchSpec = try #require(CampaignCommand<GTNSections>.subcommands.first { $0.spec.name == "campaign set-journal" }).spec
        _ = try openCampaign(try switchSpec.parse(["--db", db, "--journal", "wal"]), create: false, switchJournal: true, sections: GTNSections.self)
        #expect(try open(["--db", db]).campaign.database.journalMode() == "wal")

        let flagged = directory.file("flag.sqlite")
        #expect(try open(["--pipeline", file, "--db", flagged, "--journal", "wal"]).campaign.database.journalMode() == "wal")
        #expect(try open(["--pipeline", file, "--db", flagged]).campaign.database.journalMode() == "wal")
    }

    @Test func campaignNameGivesTheDefaultPath() throws {
        #expect(throws: UsageError("give either --db or --campaign, not both")) {
            _ = try open(["--db", "x", "--campaign", "y"])
        }
        #expect(throws: UsageError("name the campaign with --pipeline FILE, --campaign NAME or --db PATH")) {
            _ = try open([])
        }
        #expect {
            _ = try open(["--campaign", "nonexistent-campaign-\(UUID().uuidString)"])
        } throws: { error in
            "\(error)".contains("no campaign database at queue/nonexistent-campaign-")
        }
    }
}
