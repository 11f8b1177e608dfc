import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import GTN
import Queue
@testable import Stages
import TestSupport
import Testing

/// End-to-end runs of `propose-architectures`, `gtn-evaluate`, `real-evaluate`
/// and `report` on a campaign over a small synthetic dataset (8×8 images).
@Suite(.serialized) struct SearchStages {
    /// The sections every campaign here shares; `search`, `real_evaluation`
    /// and `report` vary.
    static let base = """
        "queue": {"lease_seconds": 1, "backoff_seconds": 0, "backoff_max_seconds": 0, "max_attempts": 1},
         "meta_training": {"inner_steps": 2, "generator_batch": 6, "meta_batch": 12, "width": 0.0625, "noise_size": 4,
                           "iterations": 3, "checkpoint_every": 3, "evaluation_images": 20, "recompute_block": 1},
         "gtn_evaluation": {"steps": 60, "validation_images": 20}
        """

    static func sections(architectures: Int = 60, calibration: Int = 6, threshold: Double = -1, include: String = "",
                         realSteps: Int = 20, checkpointEvery: Int = 100) -> String {
        base + """
            ,
             "search": {"architectures": \(architectures), "blocks": [1, 2], "layers_per_block": [1, 2], "widths": [4, 8]\(include)},
             "real_evaluation": {"top_k": 2, "calibration": \(calibration), "steps": \(realSteps), "batch": 8,
                                 "validation_images": 20, "test_images": 20, "checkpoint_every": \(checkpointEvery)},
             "report": {"spearman_threshold": \(threshold), "bootstrap_resamples": 1000, "precision_k": 2}
            """
    }

    /// A directory with the dataset and a pipeline; campaigns in it have their
    /// own databases and share the artifacts of `artifacts`.
    struct Setup {
        let directory = TemporaryDirectory()
        let checksums: [String: String]

        init() throws {
            checksums = try FetchDataStage.writeDataset(in: directory.file("mnist"), height: 8, width: 8)
        }

        func pipeline(_ name: String, _ sections: String) -> String {
            directory.write("\(name).json", FetchDataStage.pipeline(name: "c", source: directory.file("mnist"),
                                                                    checksums: checksums, extra: sections))
        }

        func arguments(_ pipeline: String, db: String, artifacts: String = "art") -> [String] {
            ["--pipeline", pipeline, "--db", directory.file("\(db).sqlite"), "--artifacts", directory.file(artifacts)]
        }

        @discardableResult
        func run(_ stage: String, _ arguments: [String], expect status: Int32 = 0,
                 environment: [String: String?] = [:]) throws -> (termination: Termination, stdout: String, stderr: String) {
            let result = try runProduct(stage, arguments, in: directory, timeout: 300, environment: environment)
            #expect(result.termination == .exited(status), "\(stage) \(arguments): \(result.stdout)\n\(result.stderr)")
            return result
        }

        func jobs(db: String, stage: String) throws -> [JobRecord] {
            try Queue.Campaign.open(path: directory.file("\(db).sqlite"), create: false).jobs(policy: JobPolicy()).jobs(stage: stage)
        }
    }

    /// Score of each architecture (the result's `score` field) by encoding.
    static func scores(_ jobs: [JobRecord]) throws -> [String: Double] {
        Dictionary(uniqueKeysWithValues: try jobs.map { job in
            let object = try JSONSerialization.jsonObject(with: Data((job.result ?? "{}").utf8)) as? [String: Any] ?? [:]
            return (object["architecture"] as? String ?? "?", object["score"] as? Double ?? .nan)
        })
    }

    @Test func killedWorkerLeavesExactlyTheUninterruptedScores() throws {
        let setup = try Setup()
        let pipeline = setup.pipeline("p", Self.sections())
        let single = setup.arguments(pipeline, db: "single")
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures"] { try setup.run(stage, single) }
        let again = try setup.run("propose-architectures", single)
        #expect(again.stdout.contains("skipping"), "\(again.stdout)")
        try setup.run("gtn-evaluate", single)
        let expected = try Self.scores(try setup.jobs(db: "single", stage: "gtn-evaluate"))
        #expect(expected.count == 60)

        // Two workers on a second campaign (same generator); one is killed mid-job and restarted.
        let pair = setup.arguments(pipeline, db: "pair")
        try setup.run("propose-architectures", pair)
        let workers = try (0..<2).map { i in
            try ChildProcess("gtn-evaluate", pair + ["--worker-id", "w\(i)"], logPrefix: setup.directory.file("w\(i)"))
        }
        var killed = false
        for _ in 0..<400 where !killed {
            usleep(20_000)
            let running = try setup.jobs(db: "pair", stage: "gtn-evaluate").filter { $0.state == .running && $0.owner == "w0" }
            let done = try setup.jobs(db: "pair", stage: "gtn-evaluate").filter { $0.state == .done }.count
            if !running.isEmpty && done >= 10 {
                workers[0].send(SIGKILL)
                killed = true
            }
        }
        #expect(killed, "worker w0 was never seen holding a job after 10 were done")
        #expect(workers[0].wait(timeout: 30) == .signaled(SIGKILL))
        let restarted = try ChildProcess("gtn-evaluate", pair + ["--worker-id", "w0-again"], logPrefix: setup.directory.file("w0b"))
        #expect(workers[1].wait(timeout: 300) == .exited(0), "w1: \(workers[1].stderr)")
        #expect(restarted.wait(timeout: 300) == .exited(0), "w0-again: \(restarted.stderr)")

        let jobs = try setup.jobs(db: "pair", stage: "gtn-evaluate")
        #expect(jobs.count == 60 && jobs.allSatisfy { $0.state == .done })
        #expect(jobs.reduce(0) { $0 + $1.expiries } >= 1, "the killed worker's lease never expired")
        #expect(try Self.scores(jobs) == expected, "scores after the kill differ from the uninterrupted worker's")

        // real-evaluate selects top-k + calibration and trains them; report checks.
        try setup.run("real-evaluate", single)
        let real = try setup.jobs(db: "single", stage: "real-evaluate")
        #expect((6...8).contains(real.count) && real.allSatisfy { $0.state == .done }, "\(real.count) real-evaluate jobs")
        // Whether GTN beats its baselines on this toy data is not the point
        // here; the exit status, the check line and the results table must agree.
        let report = try runProduct("report", single, in: setup.directory, timeout: 300)
        let text = try String(contentsOfFile: setup.directory.file("art/report.md"), encoding: .utf8)
        switch report.termination {
        case .exited(0): #expect(text.contains("**Check: PASS**") && report.stdout.contains("done: PASS"), "\(report.stdout)")
        case .exited(3): #expect(text.contains("**Check: FAIL**") && report.stderr.contains("FAIL:"), "\(report.stderr)")
        default: Issue.record("report ended with \(report.termination): \(report.stderr)")
        }
        for predictor in ["| parameter count |", "| FLOPs |", "| equal-compute real proxy |", "| synflow |", "| NASWOT |", "| truth run after 8 steps |"] {
            #expect(text.contains(predictor), "\(predictor) missing from the report")
        }
        #expect(text.contains(ReportDocument.comparisonLearnerSentence(learners: .standard, width: 0.0625)), "the comparison's learner is not named")
        try checkResultsTable(setup.directory.file("art/results.csv"), proposed: 60, trained: real.count)
        try checkReportFiles(setup.directory.file("art"))
    }

    /// The inner-step comparison names its learner, and says so when the
    /// generator was meta-trained on others (drawn from the search space).
    @Test func comparisonNamesItsLearner() {
        #expect(ReportDocument.comparisonLearnerSentence(learners: .standard, width: 0.25)
                == "The learners are the paper's learner at width 0.250.")
        let searchSpace = ReportDocument.comparisonLearnerSentence(learners: .searchSpace, width: 0.25)
        #expect(searchSpace.hasPrefix("The learners are the paper's learner at width 0.250, not drawn from the search space"),
                "\(searchSpace)")
    }

    @Test func badInputAndNotReady() throws {
        let setup = try Setup()
        let pipeline = setup.pipeline("p", Self.sections())
        let args = setup.arguments(pipeline, db: "c", artifacts: "art-c")
        try setup.run("fetch-data", args)
        let early = try setup.run("gtn-evaluate", args, expect: 75)
        #expect(early.stdout.contains("run propose-architectures first"), "\(early.stdout)")
        try setup.run("propose-architectures", args)
        let noGenerator = try setup.run("gtn-evaluate", args, expect: 2)
        #expect(noGenerator.stderr.contains("run meta-train-generator first"), "\(noGenerator.stderr)")
        let notReady = try setup.run("real-evaluate", args, expect: 75)
        #expect(notReady.stdout.contains("not ready: GTN scoring is not finished (60 pending)"), "\(notReady.stdout)")
        let tooMany = try setup.run("propose-architectures", args + ["--count", "100000"], expect: 2)
        #expect(tooMany.stderr.contains("search space holds"), "\(tooMany.stderr)")
        // A report part way through says what is missing and exits 75.
        let partial = try setup.run("report", args, expect: 75)
        #expect(partial.stdout.contains("not final"), "\(partial.stdout)")
        let text = try String(contentsOfFile: setup.directory.file("art-c/report.md"), encoding: .utf8)
        #expect(text.contains("Meta-training has not started yet"))
        #expect(text.contains("Not available yet: GTN scoring: 60 pending"))
        // Stages whose runs all ended unfinished are not called running.
        #expect(text.contains("| gtn-evaluate | stopped, exit 2: bad usage or invalid input |"), "\(text)")
        #expect(text.contains("| real-evaluate | stopped, exit 75: stopped early with progress saved |"), "\(text)")

        // Pipeline mistakes name the field.
        let badEncoding = setup.pipeline("bad", Self.sections(include: ", \"include\": [\"w8|c3|skip=1\", \"w8|c3,zz|skip=0\"]"))
        let bad = try setup.run("propose-architectures", setup.arguments(badEncoding, db: "bad"), expect: 2)
        #expect(bad.stderr.contains("search.include[1]") && bad.stderr.contains("column 7"), "\(bad.stderr)")
        let small = setup.pipeline("small", Self.sections(architectures: 100_000))
        let smallRun = try setup.run("propose-architectures", setup.arguments(small, db: "small"), expect: 2)
        #expect(smallRun.stderr.contains("search.architectures") && smallRun.stderr.contains("distinct architectures"),
                "\(smallRun.stderr)")
    }

    /// Three gtn-evaluate workers on a rollback-journal campaign, one of
    /// them SIGKILLed every 0.3–1 s and replaced: every job ends done exactly
    /// once, with the score an uninterrupted worker gives.
    @Test func rollbackJournalKillStormDoesEveryJobExactlyOnce() throws {
        let setup = try Setup()
        let sections = Self.sections().replacingOccurrences(of: "\"queue\": {", with: "\"queue\": {\"journal\": \"delete\", ")
        let args = setup.arguments(setup.pipeline("p", sections), db: "storm")
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures"] { try setup.run(stage, args) }
        var rng = SystemRandomNumberGenerator()
        var started = 0, kills = 0
        func start() throws -> ChildProcess {
            started += 1
            return try ChildProcess("gtn-evaluate", args + ["--worker-id", "w\(started)"], logPrefix: setup.directory.file("w\(started)"))
        }
        var workers = try (0..<3).map { _ in try start() }
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            usleep(UInt32.random(in: 300_000...1_000_000, using: &rng))
            workers.removeAll { $0.poll() }
            let unfinished = try setup.jobs(db: "storm", stage: "gtn-evaluate").filter { $0.state != .done }.count
            if unfinished == 0 { break }
            if let victim = workers.randomElement(using: &rng) {
                victim.send(SIGKILL)
                victim.wait()
                kills += 1
                workers.removeAll { $0 === victim }
            }
            while workers.count < 3 { workers.append(try start()) }
        }
        for worker in workers { #expect(worker.wait(timeout: 120) == .exited(0), "\(worker.stderr)") }
        let queue = try Queue.Campaign.open(path: setup.directory.file("storm.sqlite"), create: false).jobs(policy: JobPolicy())
        let jobs = try queue.jobs(stage: "gtn-evaluate")
        #expect(jobs.count == 60 && jobs.allSatisfy { $0.state == .done }, "\(jobs.filter { $0.state != .done }.count) not done")
        for job in jobs {
            let completions = try queue.attempts(jobID: job.id).filter { $0.outcome == .complete }.count
            #expect(completions == 1, "job \(job.id) completed \(completions) times")
        }
        #expect(kills >= 3, "only \(kills) workers were killed; the storm says little")
        // The same scores as one uninterrupted worker on a campaign of its own.
        let calm = setup.arguments(setup.pipeline("q", sections), db: "calm")
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures", "gtn-evaluate"] { try setup.run(stage, calm) }
        #expect(try Self.scores(jobs) == Self.scores(try setup.jobs(db: "calm", stage: "gtn-evaluate")))
        print("rollback-journal storm: \(started) workers started, \(kills) SIGKILLs, 60 jobs done once each")
    }

    /// Scores made before and after a `--force`d change of gtn_evaluation
    /// are never ranked together: the report fails its check saying so. The
    /// two runs also used different BLAS thread counts, which the report's
    /// provenance counts per arithmetic.
    @Test func scoresUnderDifferentSettingsAreNotRankedTogether() throws {
        let setup = try Setup()
        let first = setup.pipeline("p", Self.sections(architectures: 8, calibration: 4))
        let args = setup.arguments(first, db: "c")
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures"] { try setup.run(stage, args) }
        try setup.run("gtn-evaluate", args + ["--max-jobs", "3"], expect: 75, environment: ["OPENBLAS_NUM_THREADS": "1"])
        let changed = setup.pipeline("q", Self.sections(architectures: 8, calibration: 4)
            .replacingOccurrences(of: "\"validation_images\": 20}", with: "\"validation_images\": 10}"))
        let forced = setup.arguments(changed, db: "c") + ["--force"]
        for stage in ["gtn-evaluate", "real-evaluate"] { try setup.run(stage, forced, environment: ["OPENBLAS_NUM_THREADS": "2"]) }
        let report = try setup.run("report", forced, expect: 3)
        #expect(report.stderr.contains("the results of gtn-evaluate were computed under different settings"), "\(report.stderr)")
        let text = try String(contentsOfFile: setup.directory.file("art/report.md"), encoding: .utf8)
        let provenance = text.split(separator: "\n").first { $0.contains("gtn-evaluate results:") }.map(String.init) ?? ""
        #expect(provenance.contains("results: 3 computed with OpenBLAS") && provenance.contains(", 1 thread; 5 computed with OpenBLAS")
                    && provenance.hasSuffix(", 2 threads — **mixed arithmetic**: their last bits differ"),
                "arithmetic per result missing from the provenance: \(provenance)")
    }

    /// Exchanging the train and validation files is refused, naming the
    /// file and what it holds, instead of scoring on the wrong images.
    @Test func swappedDataSplitsAreRefused() throws {
        let setup = try Setup()
        let args = setup.arguments(setup.pipeline("p", Self.sections()), db: "c")
        try setup.run("fetch-data", args)
        let data = setup.directory.file("art/data/")
        let manager = FileManager.default
        try manager.moveItem(atPath: data + "train.safetensors.lz4", toPath: data + "held.safetensors.lz4")
        try manager.moveItem(atPath: data + "validation.safetensors.lz4", toPath: data + "train.safetensors.lz4")
        try manager.moveItem(atPath: data + "held.safetensors.lz4", toPath: data + "validation.safetensors.lz4")
        let swapped = try setup.run("meta-train-generator", args, expect: 2)
        #expect(swapped.stderr.contains("train.safetensors.lz4 is not this campaign's train split: its split is \"validation\""),
                "\(swapped.stderr)")
        #expect(swapped.stderr.contains("HINT: the data files were replaced or mixed up"), "\(swapped.stderr)")
    }

    /// A stop signal that arrives before the stage could install its
    /// handlers — also across the restart that picks OpenBLAS's kernels —
    /// is received once they are: fetch-data exits 75 and keeps no split.
    @Test(arguments: [nil, "Prescott"])
    func fetchDataStoppedBeforeItStartsKeepsNothing(pretendedPick: String?) throws {
        let setup = try Setup()
        let args = setup.arguments(setup.pipeline("p", Self.sections()), db: "c")
        let process = try ChildProcess("fetch-data", args, logPrefix: setup.directory.file("fetch"),
                                       environment: ["OPENBLAS_CORETYPE": nil, "GTN_NAS_OPENBLAS_CHOICE": nil,
                                                     "GTN_NAS_TEST_OPENBLAS_PICK": pretendedPick],
                                       blocked: [SIGTERM])
        process.send(SIGTERM)
        #expect(process.wait(timeout: 30) == .exited(75), "\(process.stdout)\n\(process.stderr)")
        #expect(process.stdout.contains("interrupted by SIGTERM before the splits were complete (none kept)"), "\(process.stdout)")
        let kept = (try? FileManager.default.contentsOfDirectory(atPath: setup.directory.file("art/data"))) ?? []
        #expect(!kept.contains { $0.hasSuffix(".lz4") }, "\(kept)")
    }

    /// A FIFO where the generator should be is refused at once (it used to
    /// block gtn-evaluate in open(), deaf to SIGTERM).
    @Test func aFIFOInPlaceOfAnArtifactIsRefused() throws {
        let setup = try Setup()
        let args = setup.arguments(setup.pipeline("p", Self.sections()), db: "c")
        for stage in ["fetch-data", "propose-architectures"] { try setup.run(stage, args) }
        try FileManager.default.createDirectory(atPath: setup.directory.file("art/meta-training"), withIntermediateDirectories: true)
        #expect(mkfifo(setup.directory.file("art/meta-training/generator.safetensors.lz4"), 0o644) == 0)
        let run = try setup.run("gtn-evaluate", args, expect: 2)
        #expect(run.stderr.contains("it is a FIFO, not a regular file"), "\(run.stderr)")
    }

    @Test func aParameterBandKeepsEverySampledProposalWithinIt() throws {
        let setup = try Setup()
        let banded = setup.pipeline("banded", Self.sections(architectures: 12, include: ", \"parameter_band\": [300, 1500]"))
        let args = setup.arguments(banded, db: "banded")
        let early = try setup.run("propose-architectures", args, expect: 2)
        #expect(early.stderr.contains("run fetch-data first"), "\(early.stderr)")
        try setup.run("fetch-data", args)
        try setup.run("propose-architectures", args)
        let counts = try setup.jobs(db: "banded", stage: "gtn-evaluate").map { job in
            let encoding = try JSONDecoder().decode([String: String].self, from: Data(job.parameters.utf8))["architecture"]!
            return ArchitectureLearner(architecture: try Architecture.parse(encoding),
                                       image: ImageShape(channels: 1, height: 8, width: 8, classes: 10)).parameterCount
        }
        #expect(counts.count == 12 && counts.allSatisfy { (300...1500).contains($0) }, "\(counts)")
        let narrow = setup.pipeline("narrow", Self.sections(architectures: 12, include: ", \"parameter_band\": [1, 2]"))
        try setup.run("fetch-data", setup.arguments(narrow, db: "narrow"))
        let none = try setup.run("propose-architectures", setup.arguments(narrow, db: "narrow"), expect: 2)
        #expect(none.stderr.contains("search.parameter_band 1...2") && none.stderr.contains("HINT: widen"), "\(none.stderr)")
    }

    @Test func reportSaysSoForEmptyCalibrationAndDeadJobs() throws {
        let setup = try Setup()
        let pipeline = setup.pipeline("p", Self.sections(architectures: 6, calibration: 0))
        let args = setup.arguments(pipeline, db: "c")
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures"] { try setup.run(stage, args) }
        // A job whose parameters are not an architecture dies (max_attempts 1).
        let campaign = try Queue.Campaign.open(path: setup.directory.file("c.sqlite"), create: false)
        try campaign.jobs(policy: JobPolicy()).enqueue([NewJob(stage: "gtn-evaluate", parameters: #"{"architecture": "w8|nope"}"#)])
        let gtn = try setup.run("gtn-evaluate", args, expect: 1)
        #expect(gtn.stderr.contains("1 gtn-evaluate job is dead"), "\(gtn.stderr)")
        // Dead jobs keep every rerun and every later stage from exiting 0.
        let rerun = try setup.run("gtn-evaluate", args, expect: 1)
        #expect(rerun.stderr.contains("1 gtn-evaluate job is dead (6 done)") && rerun.stderr.contains("retry-dead"), "\(rerun.stderr)")
        let real = try setup.run("real-evaluate", args, expect: 1)
        #expect(real.stderr.contains("1 gtn-evaluate job is dead"), "\(real.stderr)")
        let report = try setup.run("report", args, expect: 3)
        #expect(report.stderr.contains("FAIL: the campaign has dead jobs (1 gtn-evaluate)"), "\(report.stderr)")
        let text = try String(contentsOfFile: setup.directory.file("art/report.md"), encoding: .utf8)
        #expect(text.contains("**Check: FAIL**"))
        #expect(text.contains("Dead jobs") && text.contains(#"w8\|nope"#), "dead job missing from the report")
        try checkReportFiles(setup.directory.file("art"))
        // Nothing changed: not rewritten, and the same verdict.
        let modified = try FileManager.default.attributesOfItem(atPath: setup.directory.file("art/report.md"))[.modificationDate] as? Date
        let again = try setup.run("report", args, expect: 3)
        #expect(again.stdout.contains("nothing the report reads has changed") && again.stderr.contains("FAIL: the campaign has dead jobs"),
                "\(again)")
        #expect(try FileManager.default.attributesOfItem(atPath: setup.directory.file("art/report.md"))[.modificationDate] as? Date == modified)
        // Something changed (the dead job is pending again): written again, no longer a FAIL for dead jobs.
        let retry = try runProduct("campaign", ["retry-dead", "--db", setup.directory.file("c.sqlite")], in: setup.directory)
        #expect(retry.termination == .exited(0), "\(retry)")
        let changed = try setup.run("report", args, expect: 75)
        #expect(changed.stdout.contains("report written to"), "\(changed.stdout)")
    }

    /// The proxy's learning rate is chosen from trials that side-by-side
    /// workers share through the campaign: a worker uses the accuracies
    /// another recorded (here ones that make the smallest rate win, which it
    /// would not on its own) and runs only the trials left, including one
    /// taken by a worker that stopped before finishing it.
    @Test func proxyRateTrialsAreSharedBetweenWorkers() throws {
        let setup = try Setup()
        let arguments = setup.arguments(setup.pipeline("p", Self.sections(architectures: 8, calibration: 4)), db: "c")
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures", "gtn-evaluate"] { try setup.run(stage, arguments) }
        let campaign = try Queue.Campaign.open(path: setup.directory.file("c.sqlite"), create: false)
        let (rates, trials, unfinished) = (5, 15, 6)   // 3 architectures × the grid 0.003, 0.01, 0.03, 0.1, 0.3
        for trial in 0..<trials {
            try campaign.recordMetric(stage: "real-evaluate", step: trial, name: "proxy_rate_trial_started", value: 1)
            guard trial != unfinished else { continue }
            try campaign.recordMetric(stage: "real-evaluate", step: trial, name: "proxy_rate_trial_accuracy",
                                      value: trial % rates == 0 ? 1 : 0)
        }
        try setup.run("real-evaluate", arguments)
        let accuracies = try campaign.metrics(stage: "real-evaluate", name: "proxy_rate_trial_accuracy")
        #expect(accuracies.map(\.step) == Array(0..<trials), "every trial finished once")
        for record in accuracies where record.step != unfinished {
            #expect(record.value == (record.step % rates == 0 ? 1 : 0), "trial \(record.step) finished elsewhere was run again")
        }
        let ran = accuracies.first { $0.step == unfinished }?.value ?? -1
        #expect((0...1).contains(ran) && (ran * 20).rounded() == ran * 20, "the unfinished trial's accuracy on 20 images: \(ran)")
        #expect(try campaign.metrics(stage: "real-evaluate", name: "proxy_learning_rate").map(\.value) == [0.003])
        for job in try setup.jobs(db: "c", stage: "real-evaluate") {
            let object = try JSONSerialization.jsonObject(with: Data((job.result ?? "{}").utf8)) as? [String: Any] ?? [:]
            #expect(object["proxy_learning_rate"] as? Double == 0.003)
        }
    }

    /// A `real-evaluate` worker killed with SIGKILL mid-training: the rerun
    /// resumes the job from its last checkpoint and records the same truth,
    /// proxy and learning curve as a campaign that was never interrupted.
    @Test func killedRealEvaluationResumesFromItsCheckpoint() throws {
        let setup = try Setup()
        let pipeline = setup.pipeline("p", Self.sections(architectures: 6, calibration: 2, realSteps: 1500, checkpointEvery: 25))
        let killed = setup.arguments(pipeline, db: "killed", artifacts: "art-killed")
        let straight = setup.arguments(pipeline, db: "straight", artifacts: "art-straight")
        for arguments in [killed, straight] {
            for stage in ["fetch-data", "meta-train-generator", "propose-architectures", "gtn-evaluate"] { try setup.run(stage, arguments) }
        }
        let checkpoints = setup.directory.file("art-killed/real-evaluate/checkpoints")
        // Finished checkpoints, not the temporary files of one being written.
        func saved() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).filter { !$0.hasPrefix(".") } }
        let worker = try ChildProcess("real-evaluate", killed, logPrefix: setup.directory.file("killed-worker"))
        var sawCheckpoint = false
        for _ in 0..<6000 where !sawCheckpoint {
            usleep(5_000)
            sawCheckpoint = !saved().isEmpty
        }
        #expect(sawCheckpoint, "no checkpoint appeared: \(worker.stdout)")
        worker.send(SIGKILL)
        #expect(worker.wait(timeout: 30) == .signaled(SIGKILL))
        let resumed = try setup.run("real-evaluate", killed)
        #expect(resumed.stdout.contains("resuming `"), "\(resumed.stdout)")
        try setup.run("real-evaluate", straight)
        #expect(saved().isEmpty, "checkpoints left behind: \(saved())")

        func results(_ db: String) throws -> [String: [String: Any]] {
            Dictionary(uniqueKeysWithValues: try setup.jobs(db: db, stage: "real-evaluate").map { job in
                #expect(job.state == .done)
                let object = try JSONSerialization.jsonObject(with: Data((job.result ?? "{}").utf8)) as? [String: Any] ?? [:]
                return (object["architecture"] as? String ?? "?", object)
            })
        }
        let (after, before) = (try results("killed"), try results("straight"))
        #expect(after.count == before.count && !after.isEmpty)
        for (architecture, expected) in before {
            let got = after[architecture] ?? [:]
            for field in ["validation_accuracy", "test_accuracy", "proxy_score", "proxy_learning_rate"] {
                #expect(got[field] as? Double == expected[field] as? Double, "\(architecture) \(field): \(got[field] ?? "none") vs \(expected[field] ?? "none")")
            }
            let curve = { (result: [String: Any]) in ((result["learning_curve"] as? [[String: Any]]) ?? []).map { [$0["steps"] as? Int ?? -1: $0["accuracy"] as? Double ?? -1] } }
            #expect(curve(got) == curve(expected) && curve(got).count == 9, "\(architecture) learning curve")
        }
    }

    /// `results.csv`: the header, one row per proposed architecture, real-data
    /// columns filled exactly for the architectures trained on real data.
    func checkResultsTable(_ path: String, proposed: Int, trained: Int) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines: [String] = text.split(separator: "\n").map(String.init)
        let header = "architecture,selection,parameters,flops,gtn_score,gtn_seconds,real_proxy_score,real_proxy_seconds,"
            + "truth_validation_accuracy,truth_test_accuracy,truth_seconds,synflow,naswot"
        #expect(lines.first == header)
        let rows: [[String]] = lines.dropFirst().map { csvCells($0) }
        #expect(rows.count == proposed)
        for row in rows {
            #expect(row.count == 13, "\(row)")
            guard row.count == 13 else { continue }
            #expect(Int(row[2]) != nil && Int(row[3]) != nil && Double(row[4]) != nil && Double(row[11]) != nil
                    && Double(row[12]) != nil,
                    "every proposed architecture has a size, FLOPs, a GTN score and training-free scores: \(row)")
        }
        let withTruth = rows.filter { $0.count == 13 && Double($0[8]) != nil }
        #expect(withTruth.count == trained)
        #expect(withTruth.allSatisfy { row in !row[1].isEmpty && Double(row[6]) != nil })
    }

    /// The cells of one CSV line (RFC 4180 quoting, no line breaks in cells).
    func csvCells(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false, previous: Character = " "
        for character in line {
            if character == "\"" {
                if quoted == false && previous == "\"" { cell.append("\"") }   // "" inside a quoted cell
                quoted.toggle()
            } else if character == "," && !quoted {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
            previous = character
        }
        return cells + [cell]
    }

    /// Every image the report references exists; PNGs pass `pngcheck`, SVGs parse as XML.
    func checkReportFiles(_ artifacts: String) throws {
        let text = try String(contentsOfFile: artifacts + "/report.md", encoding: .utf8)
        let references = text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("!["), let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        #expect(!references.isEmpty)
        for reference in references {
            let path = artifacts + "/" + reference
            #expect(!reference.hasPrefix("/") && FileManager.default.fileExists(atPath: path), "missing image \(reference)")
            if reference.hasSuffix(".svg") {
                #expect(XMLParser(contentsOf: URL(fileURLWithPath: path))?.parse() == true, "\(reference) is not well-formed XML")
            } else {
                let check = Process()
                check.executableURL = URL(fileURLWithPath: "/usr/bin/pngcheck")
                check.arguments = ["-q", path]
                try check.run()
                check.waitUntilExit()
                #expect(check.terminationStatus == 0, "pngcheck rejects \(reference)")
            }
        }
    }
}
