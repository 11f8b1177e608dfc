import Foundation
import Queue

/// The `campaign` command: the operator's view of a campaign database, whose
/// pipeline files have the program's stage `Sections`.
public enum CampaignCommand<Sections: PipelineSections> {
    static var selection: [OptionSpec] { [CampaignOptions.pipeline, CampaignOptions.campaign, CampaignOptions.db] }

    static var subcommands: [(spec: CommandSpec, run: @Sendable (ParsedArguments) throws -> Void)] { [
        (CommandSpec(name: "campaign init", summary: "Create the campaign database for a pipeline file (or check an existing one).",
                     options: CampaignOptions.all), initialize),
        (CommandSpec(name: "campaign status",
                     summary: "Show stages, jobs by state, live leases, dead jobs with their last error, throughput and ETA.",
                     options: selection + [.value("--stage", "NAME", help: "Only jobs of this stage.")]), status),
        (CommandSpec(name: "campaign retry-dead", summary: "Make dead jobs pending again with a fresh retry budget (history kept).",
                     options: selection + [.value("--stage", "NAME", help: "Only jobs of this stage.")]), retryDead),
        (CommandSpec(name: "campaign release-expired", summary: "Return jobs whose lease has expired to pending now.",
                     options: selection), releaseExpired),
        (CommandSpec(name: "campaign set-journal",
                     summary: "Switch the campaign's journal mode (wal or delete); needs every other process to have closed it.",
                     options: selection + [.value("--journal", "MODE", help: "wal (local disks) or delete (shared filesystems).")]),
         setJournal),
        (CommandSpec(name: "campaign stages",
                     summary: "List the stages in campaign order, one per line: NAME once|jobs (jobs: a job worker, run as many as you like).",
                     options: []), listStages),
    ] }

    static var helpText: String {
        let width = subcommands.map(\.spec.name.count).max() ?? 0
        return (["usage: campaign <command> [options]", "", "Inspect and operate a GTN-NAS campaign database.", "", "commands:"]
            + subcommands.map { "  " + $0.spec.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.spec.summary }
            + ["", "Run `campaign <command> --help` for a command's options.", "", exitStatusHelp]).joined(separator: "\n")
    }

    /// Runs `campaign` with argv (including the program name); returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        StopSignals.install()   // a signal ends any wait for the database (exit 75)
        let rest = arguments.dropFirst()
        guard let name = rest.first, name != "--help" else {
            Console.out(helpText)
            return rest.isEmpty ? ExitStatus.invalidInput.rawValue : ExitStatus.success.rawValue
        }
        guard let command = subcommands.first(where: { $0.spec.name == "campaign " + name }) else {
            return report(UsageError("unknown command '\(name)'; expected one of: "
                + subcommands.map { String($0.spec.name.dropFirst("campaign ".count)) }.joined(separator: ", ")
                + "\nHINT: run `campaign --help`"), command: "campaign").rawValue
        }
        do {
            try command.run(try command.spec.parse(rest.dropFirst()))
            return ExitStatus.success.rawValue
        } catch {
            return report(error, command: command.spec.name).rawValue
        }
    }

    static func initialize(_ arguments: ParsedArguments) throws {
        guard arguments.string("--pipeline") != nil else { throw UsageError("--pipeline FILE is required") }
        let opened = try openCampaign(arguments, create: true, sections: Sections.self)
        Console.out("campaign \(opened.pipeline.campaign.name): database \(opened.campaign.path), "
            + "artifacts \("artifacts/\(opened.pipeline.campaign.name)"), journal \(try opened.campaign.database.journalMode())")
    }

    static func status(_ arguments: ParsedArguments) throws {
        let opened = try openCampaign(arguments, create: false, readOnly: true, sections: Sections.self)
        let stage = arguments.string("--stage")
        let queue = opened.campaign.jobs(policy: opened.pipeline.jobPolicy)
        let now = opened.campaign.clock.now()
        var lines = ["campaign \(opened.pipeline.campaign.name) (\(opened.campaign.path))"]
        if let record = try opened.campaign.pipeline() {
            lines.append("pipeline sha256 \(record.sha256.prefix(16)), created \(timestamp(record.createdAt))"
                + (record.updatedAt != record.createdAt ? ", replaced \(timestamp(record.updatedAt))" : ""))
        }
        lines += ["", "stages:"]
        let stages = try opened.campaign.stages()
        if stages.isEmpty { lines.append("  (none run yet)") }
        for record in stages {
            let outcome = try opened.campaign.runOutcome(of: record.name)
            let state = record.state(given: outcome)
            var times = "started \(timestamp(record.startedAt))" + (record.finishedAt.map { ", finished \(timestamp($0))" } ?? "")
            if let ended = record.stoppedAt(given: outcome) { times += ", last run ended \(timestamp(ended))" }
            let reason = record.reason.split(separator: "\n").joined(separator: "; ")
            lines.append("  \(record.name): \(state) (\(times)) - \(reason)")
        }
        lines += ["", "jobs by state:"]
        for name in try stage.map({ [$0] }) ?? queue.stages() {
            let byStage = try queue.counts(stage: name)
            lines.append("  \(name): " + JobState.allCases.map { "\($0.rawValue) \(byStage[$0])" }.joined(separator: ", ")
                + " (total \(byStage.total))")
        }
        let counts = try queue.counts(stage: stage)
        if counts.total == 0 { lines.append("  (no jobs)") }
        if let rate = try queue.throughput(stage: stage, window: 600) {
            let eta = counts.unfinished > 0 ? ", ETA " + ProgressReporter.duration(Double(counts.unfinished) / rate) : ""
            lines.append("  throughput \(formatted(rate, digits: 2)) jobs/s over the last 10 minutes\(eta)")
        } else {
            lines.append("  throughput: no job finished in the last 10 minutes")
        }
        let leases = try queue.leases(stage: stage)
        lines += ["", "leases (\(leases.count)):"]
        for lease in leases.prefix(50) {
            let left = lease.expiresAt - now
            let state = left > 0 ? "expires in \(ProgressReporter.duration(left))" : "EXPIRED \(ProgressReporter.duration(-left)) ago"
            lines.append("  job \(lease.jobID) \(lease.stage) \(lease.key.prefix(12)) owner \(lease.owner) attempt \(lease.attempt) \(state)")
        }
        let dead = try queue.deadJobs(stage: stage)
        lines += ["", "dead jobs (\(dead.count)):"]
        for job in dead.prefix(50) {
            lines.append("  job \(job.jobID) \(job.stage) \(job.key.prefix(12)) after \(job.failures) failures, "
                + "\(job.expiries) expired leases: \(job.lastError.split(separator: "\n").first ?? "")")
        }
        if !dead.isEmpty { lines.append("  HINT: `campaign retry-dead` makes them pending again") }
        Console.out(lines.joined(separator: "\n"))
    }

    static func retryDead(_ arguments: ParsedArguments) throws {
        let opened = try openCampaign(arguments, create: false, sections: Sections.self)
        let count = try opened.campaign.jobs(policy: opened.pipeline.jobPolicy).retryDead(stage: arguments.string("--stage"))
        Console.out("campaign retry-dead: \(count) dead job\(count == 1 ? "" : "s") pending again")
    }

    static func setJournal(_ arguments: ParsedArguments) throws {
        guard let mode = try arguments.choice("--journal", as: JournalMode.self) else {
            throw UsageError("--journal MODE is required (wal or delete)")
        }
        let opened = try openCampaign(arguments, create: false, switchJournal: true, sections: Sections.self)
        Console.out("campaign set-journal: \(opened.campaign.path) now uses the \(mode.rawValue) journal")
    }

    static func listStages(_ arguments: ParsedArguments) throws {
        Console.out(Sections.stages.map { "\($0.name) \($0.drainsJobs ? "jobs" : "once")" }.joined(separator: "\n"))
    }

    static func releaseExpired(_ arguments: ParsedArguments) throws {
        let opened = try openCampaign(arguments, create: false, sections: Sections.self)
        let expired = try opened.campaign.jobs(policy: opened.pipeline.jobPolicy).releaseExpired()
        for lease in expired {
            Console.out("released job \(lease.jobID) (\(lease.stage), owner \(lease.owner), attempt \(lease.attempt))")
        }
        Console.out("campaign release-expired: \(expired.count) expired lease\(expired.count == 1 ? "" : "s") released")
    }
}
