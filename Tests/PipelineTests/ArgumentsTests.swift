@testable import Pipeline
import Queue
import Testing

@Suite struct ArgumentsTests {
    let spec = CommandSpec(name: "demo", summary: "A demo.", options: [
        .value("--max-jobs", "N", help: "Stop after N jobs."),
        .value("--journal", "MODE", help: "wal or delete."),
        .flag("--force", help: "Force."),
    ])

    @Test func parsesValuesFlagsAndEqualsForms() throws {
        let parsed = try spec.parse(["--max-jobs", "5", "--force", "--journal=delete"])
        #expect(try parsed.integer("--max-jobs", in: 0...10) == 5)
        #expect(parsed.flag("--force") && !parsed.flag("--help"))
        #expect(try parsed.choice("--journal", as: JournalMode.self) == .delete)
        #expect(try spec.parse([]).integer("--max-jobs", in: 0...10) == nil)
    }

    @Test(arguments: [
        (["--colour"], "unknown option '--colour'"),
        (["stray"], "unexpected argument 'stray'"),
        (["--max-jobs"], "--max-jobs needs a value"),
        (["--max-jobs", "--force"], "--max-jobs needs a value"),
        (["--force=yes"], "--force takes no value"),
        (["--max-jobs", "1", "--max-jobs", "2"], "--max-jobs given twice"),
    ])
    func usageErrorsNameTheFlag(arguments: [String], message: String) {
        #expect {
            _ = try spec.parse(arguments)
        } throws: { error in
            error is UsageError && "\(error)".hasPrefix(message)
        }
    }

    @Test func badValuesNameTheFlagAndTheExpectation() throws {
        let parsed = try spec.parse(["--max-jobs", "-3", "--journal", "memory"])
        #expect(throws: UsageError("--max-jobs: expected a whole number in 0...10, got '-3'")) {
            try parsed.integer("--max-jobs", in: 0...10)
        }
        #expect(throws: UsageError("--journal: expected one of wal, delete, got 'memory'")) {
            try parsed.choice("--journal", as: JournalMode.self)
        }
    }

    @Test func helpListsEveryOption() {
        #expect {
            _ = try spec.parse(["--force", "--help"])
        } throws: { error in
            guard let help = error as? HelpRequested else { return false }
            return ["--max-jobs N", "--journal MODE", "--force", "--help", "A demo."].allSatisfy(help.text.contains)
        }
    }

    @Test func everyErrorMapsToOneExitStatus() {
        #expect(exitStatus(for: HelpRequested(text: "")) == .success)
        #expect(exitStatus(for: UsageError("x")) == .invalidInput)
        #expect(exitStatus(for: InputError("x")) == .invalidInput)
        #expect(exitStatus(for: ConfigError(file: "f", path: "p", message: "m")) == .invalidInput)
        #expect(exitStatus(for: CampaignError.missing(path: "x")) == .invalidInput)
        #expect(exitStatus(for: StageInterrupted("x")) == .interrupted)
        #expect(exitStatus(for: CheckFailed("x")) == .checkFailed)
        #expect(exitStatus(for: DeadJobsError(stage: "s", dead: 1, done: 0)) == .failure)
        #expect(ExitStatus.interrupted.rawValue == 75)
    }
}

@Suite struct ProgressTests {
    @Test func linesShowDoneTotalRateEtaAndFields() {
        var lines: [String] = []
        let progress = ProgressReporter(label: "gtn-evaluate", total: 200, interval: 0, terminal: false) { lines.append($0) }
        progress.update(done: 0)
        let line = progress.line(done: 50, fields: [("loss", "0.12")], now: monotonicSeconds() + 10)
        #expect(lines == ["gtn-evaluate: 0/200 (0.0%) 0.00/s"])
        #expect(line.hasPrefix("gtn-evaluate: 50/200 (25.0%) 5.00/s ETA 30s loss=0.12"))
    }

    /// In a log, the final line is not printed again when the last one
    /// already showed the same count (a worker's last job, then its finish).
    @Test func finishDoesNotRepeatTheLastLineInALog() {
        var lines: [String] = []
        let progress = ProgressReporter(label: "real-evaluate", total: 3, interval: 0, terminal: false) { lines.append($0) }
        progress.update(done: 3)
        progress.finish(done: 3)
        #expect(lines.count == 1 && lines[0].hasPrefix("real-evaluate: 3/3 (100.0%)"))
        progress.update(done: 2)
        progress.finish(done: 3)
        #expect(lines.count == 3 && lines[2].hasPrefix("real-evaluate: 3/3 (100.0%)"))
    }

    @Test func durations() {
        #expect(ProgressReporter.duration(42) == "42s")
        #expect(ProgressReporter.duration(185) == "3m05s")
        #expect(ProgressReporter.duration(3720) == "1h02m")
    }
}

@Suite struct ReasonLineTests {
    @Test func jobCountsReadAsOneLine() {
        let counts = JobCounts(byState: [.pending: 12, .running: 3, .failed: 1, .done: 40, .dead: 2], expiredByOwner: ["w3": 1])
        #expect(describe(counts)
            == "12 pending, 1 lease expired from worker w3, 2 running elsewhere, 1 waiting to retry, 40 done, 2 dead")
    }
}
