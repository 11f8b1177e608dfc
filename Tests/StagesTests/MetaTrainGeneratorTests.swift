import Foundation
import Queue
import TestSupport
import Testing

/// End-to-end runs of the built `meta-train-generator`: a run stopped by its
/// budget, by SIGTERM or by SIGKILL at random moments and run again ends with
/// a generator artifact byte-identical to an uninterrupted run's.
@Suite(.serialized) struct MetaTrainGeneratorStage {
    static let metaTraining = """
        "meta_training": {"inner_steps": 2, "generator_batch": 6, "meta_batch": 12, "width": 0.0625,
                          "noise_size": 4, "iterations": 60, "checkpoint_every": 4, "evaluation_images": 20,
                          "recompute_block": 1}
        """

    /// A directory with the dataset, its pipeline, and `fetch-data` already run for campaign `run`.
    struct Campaign {
        let directory = TemporaryDirectory()
        let pipeline: String

        let checksums: [String: String]

        /// `extra`: the pipeline's sections after `campaign` and `data`.
        init(extra: String = MetaTrainGeneratorStage.metaTraining) throws {
            checksums = try FetchDataStage.writeDataset(in: directory.file("mnist"), height: 8, width: 8)
            pipeline = directory.write("p.json", "")
            rewritePipeline(extra: extra)
        }

        func rewritePipeline(extra: String) {
            _ = directory.write("p.json", FetchDataStage.pipeline(name: "c", source: directory.file("mnist"),
                                                                  checksums: checksums, extra: extra))
        }

        /// Arguments for campaign copy `run` (its own database and artifacts).
        func arguments(_ run: String) -> [String] {
            ["--pipeline", pipeline, "--db", directory.file("\(run).sqlite"), "--artifacts", directory.file("art-\(run)")]
        }

        func generator(_ run: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: directory.file("art-\(run)/meta-training/generator.safetensors.lz4")))
        }

        func fetch(_ run: String) throws {
            let result = try runProduct("fetch-data", arguments(run), in: directory)
            #expect(result.termination == .exited(0), "fetch-data: \(result.stderr)")
        }
    }

    /// Meta-training on learners drawn from a small search space.
    static func searchSpaceSettings(widths: String) -> String {
        """
        "meta_training": {"inner_steps": 2, "generator_batch": 6, "meta_batch": 12, "width": 0.0625,
                          "noise_size": 4, "iterations": 8, "checkpoint_every": 2, "evaluation_images": 20,
                          "recompute_block": 1, "learners": "search_space"},
        "search": {"blocks": [1, 2], "layers_per_block": [1, 2], "widths": \(widths)}
        """
    }

    @Test func searchSpaceLearnersResumeExactlyAndTheSpaceCannotChange() throws {
        let campaign = try Campaign(extra: Self.searchSpaceSettings(widths: "[2, 4]"))
        try campaign.fetch("straight")
        let straight = try runProduct("meta-train-generator", campaign.arguments("straight"), in: campaign.directory, timeout: 300)
        #expect(straight.termination == .exited(0), "stderr: \(straight.stderr)")
        let accuracies = try Queue.Campaign.open(path: campaign.directory.file("straight.sqlite"), create: false)
            .metrics(stage: "meta-train-generator", name: "validation_accuracy")
        #expect(accuracies.map(\.step) == [2, 4, 6, 8])

        try campaign.fetch("budget")
        var budgetRuns = 0
        while budgetRuns < 10 {
            let run = try runProduct("meta-train-generator", campaign.arguments("budget") + ["--max-jobs", "3"], in: campaign.directory, timeout: 300)
            budgetRuns += 1
            if run.termination == .exited(0) { break }
            #expect(run.termination == .exited(75), "stderr: \(run.stderr)")
        }
        #expect(budgetRuns == 3)
        #expect(try campaign.generator("budget") == campaign.generator("straight"), "resumed run: generator differs")

        // Another search space does not continue this campaign's meta-training.
        try campaign.fetch("changed")
        let partial = try runProduct("meta-train-generator", campaign.arguments("changed") + ["--max-jobs", "3"], in: campaign.directory, timeout: 300)
        #expect(partial.termination == .exited(75), "stderr: \(partial.stderr)")
        campaign.rewritePipeline(extra: Self.searchSpaceSettings(widths: "[2, 3]"))
        let refused = try runProduct("meta-train-generator", campaign.arguments("changed"), in: campaign.directory, timeout: 300)
        #expect(refused.termination == .exited(2), "stdout: \(refused.stdout) stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("the pipeline differs"), "stderr: \(refused.stderr)")
    }

    @Test func notReadyBeforeFetchData() throws {
        let campaign = try Campaign()
        let result = try runProduct("meta-train-generator", campaign.arguments("early"), in: campaign.directory)
        #expect(result.termination == .exited(75))
        #expect(result.stdout.contains("run fetch-data first"), "stdout: \(result.stdout)")
    }

    @Test func interruptedRunsResumeToTheSameGenerator() throws {
        let campaign = try Campaign()
        try campaign.fetch("straight")
        let straight = try runProduct("meta-train-generator", campaign.arguments("straight"), in: campaign.directory, timeout: 300)
        #expect(straight.termination == .exited(0), "stderr: \(straight.stderr)")
        let expected = try campaign.generator("straight")

        // A budget: 7 meta-iterations at a time (not a multiple of checkpoint_every).
        try campaign.fetch("budget")
        var budgetRuns = 0
        while true {
            let run = try runProduct("meta-train-generator", campaign.arguments("budget") + ["--max-jobs", "7"], in: campaign.directory, timeout: 300)
            budgetRuns += 1
            if run.termination == .exited(0) { break }
            #expect(run.termination == .exited(75), "stderr: \(run.stderr)")
            if budgetRuns > 20 { Issue.record("budgeted runs never finished"); return }
        }
        #expect(budgetRuns >= 9)
        #expect(try campaign.generator("budget") == expected, "resumed after --max-jobs: generator differs")

        // Signals at random moments: SIGTERM (exit 75, checkpoint) and SIGKILL (no warning).
        var rng = SystemRandomNumberGenerator()
        for signal in [SIGTERM, SIGKILL] {
            let run = signal == SIGTERM ? "term" : "kill"
            try campaign.fetch(run)
            var interrupted = 0
            for _ in 0..<4 {
                let process = try ChildProcess("meta-train-generator", campaign.arguments(run),
                                               logPrefix: campaign.directory.file("\(run)-\(interrupted)"))
                usleep(UInt32.random(in: 150_000...700_000, using: &rng))
                process.send(signal)
                let termination = process.wait(timeout: 120)
                if termination == .exited(0) { break }
                #expect(termination == (signal == SIGTERM ? .exited(75) : .signaled(SIGKILL)),
                        "\(run): \(termination) \(process.stderr)")
                interrupted += 1
            }
            #expect(interrupted > 0, "\(run): no signal landed before the run finished")
            let finish = try runProduct("meta-train-generator", campaign.arguments(run), in: campaign.directory, timeout: 300)
            #expect(finish.termination == .exited(0), "\(run) final run: \(finish.stderr)")
            #expect(try campaign.generator(run) == expected, "resumed after \(run): generator differs")
            // Repeated meta-iterations replace their metrics: one meta_loss per iteration.
            let losses = try Queue.Campaign.open(path: campaign.directory.file("\(run).sqlite"), create: false)
                .metrics(stage: "meta-train-generator", name: "meta_loss")
            #expect(losses.map(\.step) == Array(0..<60), "\(run): meta_loss steps \(losses.map(\.step))")
        }
    }
}
