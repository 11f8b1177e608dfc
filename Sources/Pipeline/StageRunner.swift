import Artifacts
import Foundation
import Queue

/// What a stage decides before doing anything; printed as one line
/// (`fetch-data: skipping: all 3 files present`) and recorded in `stage_runs`.
public enum StagePlan: Sendable, Equatable {
    case run(reason: String)
    case skip(reason: String)
}

/// How a stage's run ended (errors are thrown instead).
public enum StageResult: Sendable, Equatable {
    /// The stage's work is complete: exit 0, stage marked done.
    case done(summary: String)
    /// Work remains (signal, time or job budget) with progress saved: exit 75.
    case incomplete(reason: String)
}

/// A pipeline stage: a name, its extra options, a plan ("why run or skip")
/// and a run. `runStage` supplies everything else (arguments, pipeline,
/// campaign database, signals, budgets, exit statuses), so an executable's
/// `main.swift` is `exit(runStage(myStage, arguments: CommandLine.arguments))`.
public struct Stage<Sections: PipelineSections> {
    public let name: String
    public let summary: String
    /// Options beyond the common ones (`StageContext.commonOptions`).
    public let options: [OptionSpec]
    public let plan: (StageContext<Sections>) throws -> StagePlan
    public let run: (StageContext<Sections>) throws -> StageResult

    /// A stage with its own plan; the default plan skips a stage recorded
    /// as done and runs it otherwise.
    public init(name: String, summary: String, options: [OptionSpec] = [],
                plan: ((StageContext<Sections>) throws -> StagePlan)? = nil,
                run: @escaping (StageContext<Sections>) throws -> StageResult) {
        self.name = name
        self.summary = summary
        self.options = options
        self.plan = plan ?? Stage.planFromStatus
        self.run = run
    }

    /// Skip when the stage is recorded as done, otherwise run, saying why.
    public static func planFromStatus(_ context: StageContext<Sections>) throws -> StagePlan {
        let record = try context.campaign.stage(context.stage)
        switch record.status {
        case .done: return .skip(reason: "done since \(timestamp(record.finishedAt)) (\(record.reason))")
        case .running: return .run(reason: "resuming: incomplete since \(timestamp(record.startedAt))")
        case .notStarted: return .run(reason: "not started yet")
        }
    }
}

/// Everything a running stage needs; `Sections` are the pipeline sections
/// of the program's stages (`PipelineSections`).
public final class StageContext<Sections: PipelineSections> {
    /// The stage name (for jobs, metrics, events).
    public let stage: String
    public let arguments: ParsedArguments
    public let pipeline: PipelineConfig<Sections>
    public let campaign: Campaign
    /// This process's name in leases and logs (`--worker-id`, default host:pid).
    public let workerID: String
    public let budget: Budget

    init(stage: String, arguments: ParsedArguments, pipeline: PipelineConfig<Sections>, campaign: Campaign, workerID: String, budget: Budget) {
        self.stage = stage
        self.arguments = arguments
        self.pipeline = pipeline
        self.campaign = campaign
        self.workerID = workerID
        self.budget = budget
    }

    /// Options every stage accepts.
    public static var commonOptions: [OptionSpec] { CampaignOptions.all + [
        .value("--artifacts", "DIR", help: "Directory of the campaign's artifacts (default: artifacts/<campaign name>)."),
        .value("--worker-id", "ID", help: "Name of this worker in leases and logs (default: hostname:pid)."),
        .value("--max-jobs", "N", help: "Stop after N units of work (exit 75 if work remains)."),
        .value("--max-seconds", "S", help: "Stop after S seconds, finishing the current unit (exit 75 if work remains)."),
    ] }

    /// The campaign's artifact directory: `--artifacts DIR`, else `artifacts/<campaign>/`.
    public var artifactsDirectory: String { arguments.string("--artifacts") ?? "artifacts/\(pipeline.campaign.name)" }

    /// The job table under the pipeline's lease/retry policy.
    public var jobs: JobQueue { campaign.jobs(policy: pipeline.jobPolicy) }

    /// Why work must stop now, or nil (signal, `--max-jobs`, `--max-seconds`).
    public func stopReason(unitsDone: Int) -> String? { budget.stopReason(unitsDone: unitsDone) }

    /// Prints a line prefixed with the stage name.
    public func say(_ line: String) { Console.out("\(stage): \(line)") }

    /// A progress reporter labelled with the stage name.
    public func progress(total: Int?, startDone: Int = 0) -> ProgressReporter {
        ProgressReporter(label: stage, total: total, startDone: startDone)
    }

    /// Records a metric of this stage.
    public func recordMetric(step: Int, name: String, value: Double) throws {
        try campaign.recordMetric(stage: stage, step: step, name: name, value: value)
    }

    /// Records an event of this stage.
    public func recordEvent(kind: String, message: String, jobID: Int64? = nil) throws {
        try campaign.recordEvent(stage: stage, kind: kind, message: message, jobID: jobID)
    }
}

/// Runs `stage` as a process: parses `arguments` (argv, including the
/// program name), opens the campaign, installs the stop signals, prints and
/// records the plan, runs, and returns the exit status. `setting`, when
/// given, is appended to the "running:" line (the compute kernels in use).
public func runStage<Sections>(_ stage: Stage<Sections>, arguments: [String], setting: String? = nil) -> Int32 {
    let spec = CommandSpec(name: stage.name, summary: stage.summary, options: StageContext<Sections>.commonOptions + stage.options,
                           details: exitStatusHelp)
    var context: StageContext<Sections>?
    var runID: Int64?
    StopSignals.install()
    do {
        let parsed = try spec.parse(arguments.dropFirst())
        let budget = Budget(maxJobs: try parsed.integer("--max-jobs", in: 0...1_000_000_000),
                            maxSeconds: try parsed.number("--max-seconds", in: 0...1e9))
        let opened = try openCampaign(parsed, create: true, sections: Sections.self)
        let ctx = StageContext(stage: stage.name, arguments: parsed, pipeline: opened.pipeline, campaign: opened.campaign,
                               workerID: parsed.string("--worker-id") ?? defaultWorkerID(), budget: budget)
        context = ctx
        let stale = AtomicFile.removeStale(under: URL(fileURLWithPath: ctx.artifactsDirectory))
        if !stale.isEmpty { ctx.say("removed \(stale.count) temporary file(s) that killed writers left behind") }
        let reason: String
        switch try stage.plan(ctx) {
        case .skip(let why):
            ctx.say("skipping: \(why)")
            let id = try ctx.campaign.beginStageRun(stage.name, decision: .skip, reason: why, worker: ctx.workerID)
            try ctx.campaign.endStageRun(id, stage: stage.name, exitStatus: 0, stageDone: false, reason: why)
            return ExitStatus.success.rawValue
        case .run(let why):
            reason = why
        }
        ctx.say("running: \(reason)" + (setting.map { "; \($0)" } ?? ""))
        let id = try ctx.campaign.beginStageRun(stage.name, decision: .run, reason: reason, worker: ctx.workerID)
        runID = id
        switch try stage.run(ctx) {
        case .done(let summary):
            ctx.say("done: \(summary)")
            try ctx.campaign.endStageRun(id, stage: stage.name, exitStatus: 0, stageDone: true, reason: summary)
            return ExitStatus.success.rawValue
        case .incomplete(let why):
            ctx.say("stopping: \(why); run again to continue")
            let status = ExitStatus.interrupted
            try ctx.campaign.endStageRun(id, stage: stage.name, exitStatus: status.rawValue, stageDone: false, reason: why)
            return status.rawValue
        }
    } catch {
        let status = report(error, command: stage.name)
        if let context, let runID {
            try? context.campaign.endStageRun(runID, stage: stage.name, exitStatus: status.rawValue, stageDone: false,
                                              reason: "\(error)")
        }
        return status.rawValue
    }
}

/// Prints `error` the way every executable does and returns its exit status.
@discardableResult
func report(_ error: any Error, command: String) -> ExitStatus {
    let error = interruptedWait(error) ?? error
    let status = exitStatus(for: error)
    switch error {
    case let help as HelpRequested: Console.out(help.text)
    case let interrupted as StageInterrupted: Console.out("\(command): stopping: \(interrupted.reason); run again to continue")
    default: Console.error("\(command): error: \(error)")
    }
    return status
}

/// A lock wait that a stop signal cut short (`DatabaseWaits`), as the
/// interruption it is: nothing was written, so running again continues.
func interruptedWait(_ error: any Error) -> StageInterrupted? {
    guard let database = error as? DatabaseError, database.isBusy, DatabaseWaits.stopped else { return nil }
    let signal = StopSignals.received.map(StopSignals.name) ?? "a stop signal"
    return StageInterrupted("interrupted by \(signal) while waiting for the campaign database")
}

/// The exit statuses, for `--help`.
let exitStatusHelp = """
    exit status: 0 done (or nothing to do), 1 error, 2 bad usage or invalid input,
                 75 interrupted or budget reached with progress saved (run again)
    """

/// `hostname:pid`.
func defaultWorkerID() -> String {
    "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
}

/// A wall-clock time as `2026-11-23 12:00:00 UTC`.
public func timestamp(_ seconds: Double?) -> String {
    guard let seconds else { return "?" }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
}
