import Foundation
import Queue
import TestSupport
import Testing

/// Runs the built `campaign` and `queue-worker` executables and checks exit
/// statuses, messages and the database afterwards.
@Suite(.serialized) struct EndToEndTests {
    let directory = TemporaryDirectory()

    /// A campaign database created by `campaign init` from a test pipeline, with `jobs` queue-worker jobs.
    func seededCampaign(jobs: Int, journal: JournalMode = .wal, leaseSeconds: Double = 300,
                        maxLeaseExpiries: Int = 10) throws -> (db: String, pipeline: String) {
        let pipeline = directory.write("pipeline.json", testPipeline(journal: journal, leaseSeconds: leaseSeconds,
                                                                     maxLeaseExpiries: maxLeaseExpiries))
        let db = directory.file("campaign.sqlite")
        let created = try runProduct("campaign", ["init", "--pipeline", pipeline, "--db", db], in: directory)
        #expect(created.termination == .exited(0), "\(created.stderr)")
        let campaign = try Campaign.open(path: db, create: false)
        try campaign.jobs(policy: JobPolicy()).enqueue((0..<jobs).map { NewJob(stage: "queue-worker", parameters: "{\"n\":\($0)}") })
        return (db, pipeline)
    }

    func jobs(_ db: String) throws -> (queue: JobQueue, jobs: [JobRecord]) {
        let queue = try Campaign.open(path: db, create: false).jobs(policy: JobPolicy())
        return (queue, try queue.jobs(stage: "queue-worker"))
    }

    /// `scripts/bench-queue.sh` drains workers in a campaign made from the default pipeline.
    @Test func queueWorkerRunsInACampaignOfTheDefaultPipeline() throws {
        let db = directory.file("default.sqlite")
        let pipeline = repositoryRoot + "/pipelines/default.json"
        #expect(try runProduct("campaign", ["init", "--pipeline", pipeline, "--db", db], in: directory).termination == .exited(0))
        let run = try runProduct("queue-worker", ["--db", db, "--seed", "3"], in: directory)
        #expect(run.termination == .exited(0), "\(run.stderr)")
        #expect(try jobs(db).jobs.map(\.state) == [.done, .done, .done])
    }

    @Test func helpForEveryCommandListsEveryOption() throws {
        for arguments in [["--help"], ["init", "--help"], ["status", "--help"], ["retry-dead", "--help"], ["release-expired", "--help"],
                          ["set-journal", "--help"], ["stages", "--help"]] {
            let run = try runProduct("campaign", arguments, in: directory)
            #expect(run.termination == .exited(0) && run.stdout.contains("usage: campaign"), "\(arguments)")
        }
        let worker = try runProduct("queue-worker", ["--help"], in: directory)
        #expect(worker.termination == .exited(0))
        for flag in ["--pipeline FILE", "--campaign NAME", "--db PATH", "--journal MODE", "--force", "--worker-id ID",
                     "--max-jobs N", "--max-seconds S", "--seed N", "--unit-ms MS", "--help", "75 interrupted"] {
            #expect(worker.stdout.contains(flag), "\(flag)")
        }
    }

    @Test func badInputExitsTwoNamingTheProblem() throws {
        let good = directory.write("good.json", testPipeline())
        let notADatabase = directory.write("notes.sqlite", String(repeating: "plain text, not SQLite\n", count: 200))
        let newer = directory.file("newer.sqlite")
        try Database(path: newer, create: true).execute("PRAGMA user_version = 42")
        let readOnly = try ReadOnlyDirectory(in: directory)
        let cases: [(String, [String], String)] = [
            ("malformed JSON", ["--pipeline", directory.write("m.json", "{\"campaign\": {"), "--db", directory.file("m.sqlite")],
             "malformed JSON at line 1"),
            ("unknown key", ["--pipeline", directory.write("u.json", testPipeline().replacingOccurrences(of: "\"seed\"", with: "\"sede\": 1, \"seed\"")),
                             "--db", directory.file("u.sqlite")], "campaign.sede: unknown key"),
            ("wrong type", ["--pipeline", directory.write("t.json", testPipeline().replacingOccurrences(of: "55000", with: "\"many\"")),
                            "--db", directory.file("t.sqlite")], "data.train_count: expected an integer"),
            ("negative size", ["--pipeline", directory.write("n.json", testPipeline().replacingOccurrences(of: "5000 }", with: "-5000 }")),
                               "--db", directory.file("n.sqlite")], "data.validation_count: expected an integer in 1...60000, found -5000"),
            ("missing pipeline file", ["--pipeline", directory.file("absent.json"), "--db", directory.file("a.sqlite")],
             "pipeline file \(directory.file("absent.json")) does not exist"),
            ("database in a missing directory", ["--pipeline", good, "--db", directory.file("no/such/dir/c.sqlite")],
             "directory \(directory.file("no/such/dir")) does not exist"),
            ("database in a read-only directory", ["--pipeline", good, "--db", readOnly.path + "/c.sqlite"],
             "directory \(readOnly.path) is not writable"),
            ("not a SQLite file", ["--pipeline", good, "--db", notADatabase], "\(notADatabase) is not a SQLite database"),
            ("newer schema", ["--pipeline", good, "--db", newer], "has schema version 42, but this build supports up to version 1"),
            ("unknown flag", ["--db", newer, "--colour", "red"], "unknown option '--colour'"),
            ("bad flag value", ["--db", newer, "--max-seconds", "soon"], "--max-seconds: expected a number"),
        ]
        for (problem, arguments, message) in cases {
            let run = try runProduct("queue-worker", arguments, in: directory)
            #expect(run.termination == .exited(2), "\(problem): \(run.termination)")
            #expect(run.stderr.contains(message), "\(problem): \(run.stderr)")
        }
        #expect(try runProduct("campaign", ["status", "--db", notADatabase], in: directory).termination == .exited(2))
        #expect(try runProduct("campaign", ["frobnicate"], in: directory).stderr.contains("unknown command 'frobnicate'"))
    }

    /// Workers that name another journal mode than the campaign's, while
    /// another process has it open, are refused at once with the way out
    /// (they used to wait 61 s for a switch that could not happen, and exit 1).
    @Test func workersNamingAnotherJournalAreRefusedAtOnce() throws {
        let (db, _) = try seededCampaign(jobs: 3, journal: .wal)
        let holder = try Campaign.open(path: db, create: false)
        let started = Date()
        for _ in 0..<3 {
            let run = try runProduct("queue-worker", ["--db", db, "--journal", "delete", "--max-jobs", "1"], in: directory)
            #expect(run.termination == .exited(2) && run.stderr.contains("uses the wal journal")
                    && run.stderr.contains("campaign set-journal --journal delete"), "\(run)")
        }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(try holder.database.journalMode() == "wal")
        let worker = try runProduct("queue-worker", ["--db", db], in: directory)
        #expect(worker.termination == .exited(0) && worker.stdout.contains("all 3 jobs done"), "\(worker)")
    }

    /// SIGTERM while a worker waits for another process's lock ends the
    /// wait: exit 75 at once, not when the 60 s busy timeout runs out.
    @Test func aStopSignalEndsALockWait() throws {
        let (db, _) = try seededCampaign(jobs: 1)
        let holder = try Database(path: db, create: false)
        try holder.execute("BEGIN IMMEDIATE")
        let worker = try ChildProcess("queue-worker", ["--db", db], logPrefix: directory.file("waiting"))
        usleep(1_500_000)
        #expect(!worker.poll(), "the worker should be waiting for the lock: \(worker.stdout)\n\(worker.stderr)")
        let signalled = Date()
        worker.send(SIGTERM)
        #expect(worker.wait(timeout: 30) == .exited(75), "\(worker.stdout)\n\(worker.stderr)")
        #expect(Date().timeIntervalSince(signalled) < 2, "took \(Date().timeIntervalSince(signalled)) s")
        #expect(worker.stdout.contains("interrupted by SIGTERM while waiting for the campaign database"), "\(worker.stdout)")
        try holder.execute("ROLLBACK")
    }

    /// `campaign status` reads: a database that holds no campaign, or an
    /// empty file, is refused and left exactly as it was.
    @Test func statusNeverCreatesOrMigrates() throws {
        let foreign = directory.file("foreign.sqlite")
        try Database(path: foreign, create: true).execute("CREATE TABLE birds (name TEXT)")
        let empty = directory.write("empty.sqlite", "")
        for path in [foreign, empty] {
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            let run = try runProduct("campaign", ["status", "--db", path], in: directory)
            #expect(run.termination == .exited(2) && run.stderr.contains("holds no campaign"), "\(path): \(run)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "\(path) changed")
        }
        let tables = try Database(path: foreign, create: false).query("SELECT name FROM sqlite_master WHERE type = 'table'", []) { $0.text(0) }
        #expect(tables == ["birds"])
    }

    /// A campaign name given with --campaign obeys the pipeline's rule for
    /// campaign.name, so it cannot reach outside queue/.
    @Test func campaignNamesCannotLeaveTheQueueDirectory() throws {
        for name in ["../escape", "a/b", ".hidden", ""] {
            let run = try runProduct("campaign", ["init", "--campaign", name, "--pipeline", directory.write("p.json", testPipeline())],
                                     in: directory)
            #expect(run.termination == .exited(2) && run.stderr.contains("--campaign: expected 1-64 characters"), "\(name): \(run)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("escape.sqlite")))
    }

    @Test func budgetsExit75WhileWorkRemainsAndZeroWhenDone() throws {
        let (db, _) = try seededCampaign(jobs: 10)
        let limited = try runProduct("queue-worker", ["--db", db, "--max-jobs", "3"], in: directory)
        #expect(limited.termination == .exited(75) && limited.stdout.contains("--max-jobs 3 reached"), "\(limited)")
        #expect(limited.stdout.contains("queue-worker: running: 10 pending"))
        #expect(try jobs(db).jobs.filter { $0.state == .done }.count == 3)
        // No worker is left running: the status says how the last run ended and why, not "running".
        let stopped = try runProduct("campaign", ["status", "--db", db], in: directory)
        #expect(stopped.stdout.contains("queue-worker: stopped, exit 75: stopped early with progress saved (started ")
                && stopped.stdout.contains("--max-jobs 3 reached"), "\(stopped.stdout)")
        let timed = try runProduct("queue-worker", ["--db", db, "--max-seconds", "0"], in: directory)
        #expect(timed.termination == .exited(75))
        let rest = try runProduct("queue-worker", ["--db", db], in: directory)
        #expect(rest.termination == .exited(0) && rest.stdout.contains("done: all 10 jobs done (7 here)"), "\(rest)")
        let again = try runProduct("queue-worker", ["--db", db, "--max-jobs", "1"], in: directory)
        #expect(again.termination == .exited(0) && again.stdout.contains("queue-worker: skipping: all 10 jobs done"))
        let status = try runProduct("campaign", ["status", "--db", db], in: directory)
        #expect(status.termination == .exited(0) && status.stdout.contains("done 10") && status.stdout.contains("throughput"))
        #expect(status.stdout.contains("queue-worker: done (started "), "\(status.stdout)")
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP])
    func stopSignalReleasesTheJobAndExits75(signal: Int32) throws {
        let (db, _) = try seededCampaign(jobs: 1)
        let worker = try ChildProcess("queue-worker", ["--db", db, "--unit-ms", "60000", "--worker-id", "w1"],
                                      logPrefix: directory.file("worker"))
        let deadline = Date().addingTimeInterval(20)
        while try jobs(db).jobs.first?.state != .running {
            #expect(Date() < deadline && !worker.poll(), "job never claimed")
            if Date() > deadline || worker.poll() { return }
            usleep(10_000)
        }
        let sent = Date()
        worker.send(signal)
        let termination = worker.wait(timeout: 10)
        #expect(termination == .exited(75), "\(worker.stdout) \(worker.stderr)")
        #expect(Date().timeIntervalSince(sent) < 2, "exit within the grace period")
        let (queue, records) = try jobs(db)
        let job = try #require(records.first)
        #expect(job.state == .pending && job.failures == 0 && job.owner == nil)
        #expect(try queue.attempts(jobID: job.id).map(\.outcome) == [.release])
        #expect(worker.stdout.contains("interrupted by"))
    }

    @Test(arguments: [JournalMode.wal, .delete])
    func contentionWithRandomKillsDoesEveryJobExactlyOnce(journal: JournalMode) throws {
        let total = 2000
        let (db, _) = try seededCampaign(jobs: total, journal: journal, leaseSeconds: 1, maxLeaseExpiries: 1000)
        var generator = SystemRandomNumberGenerator()
        var started = 0
        var workers: [ChildProcess] = []
        var killed: [ChildProcess] = []
        var finished: [ChildProcess] = []
        func startWorker() throws {
            started += 1
            workers.append(try ChildProcess("queue-worker", ["--db", db, "--worker-id", "w\(started)", "--unit-ms", "4"],
                                            logPrefix: directory.file("w\(started)")))
        }
        for _ in 0..<4 { try startWorker() }
        let deadline = Date().addingTimeInterval(90)
        var nextKill = Date().addingTimeInterval(Double.random(in: 0.15...0.4, using: &generator))
        while !workers.isEmpty && Date() < deadline {
            for worker in workers where worker.poll() { finished.append(worker) }
            workers.removeAll { $0.termination != nil }
            if Date() >= nextKill, !workers.isEmpty, try jobs(db).queue.counts(stage: nil)[.done] < total {
                let victim = workers.remove(at: Int.random(in: 0..<workers.count, using: &generator))
                victim.send(SIGKILL)
                victim.wait()
                killed.append(victim)
                try startWorker()
                nextKill = Date().addingTimeInterval(Double.random(in: 0.15...0.4, using: &generator))
            }
            usleep(5_000)
        }
        workers.forEach { $0.send(SIGKILL); $0.wait() }
        #expect(workers.isEmpty, "workers still running at the deadline")
        #expect(killed.count >= 3, "only \(killed.count) kills")
        #expect(killed.allSatisfy { $0.termination == .signaled(SIGKILL) })
        for worker in finished {
            #expect(worker.termination == .exited(0), "\(worker.termination ?? .exited(-1)): \(worker.stderr)")
        }
        for worker in finished + killed {
            #expect(!worker.stderr.contains("BUSY") && !worker.stderr.contains("locked") && !worker.stderr.contains("error"),
                    "\(worker.stderr)")
        }
        let (queue, records) = try jobs(db)
        #expect(records.count == total)
        #expect(records.allSatisfy { $0.state == .done })
        #expect(records.allSatisfy { $0.result == "{\"key\":\"\($0.key)\"}" })
        #expect(Set(records.compactMap(\.result)).count == total)
        #expect(try queue.counts(stage: nil)[.running] == 0)
        let completions = try Campaign.open(path: db, create: false).database.query(
            "SELECT count(*), count(DISTINCT job_id) FROM job_attempts WHERE outcome = 'complete'", []) { ($0.int(0), $0.int(1)) }
        #expect(completions.first?.0 == total && completions.first?.1 == total)
        #expect(try Campaign.open(path: db, create: false).database.journalMode() == journal.rawValue)
        let expired = try Campaign.open(path: db, create: false).database.queryFirst(
            "SELECT count(*) FROM job_attempts WHERE outcome = 'expire'", []) { $0.int(0) } ?? 0
        print("contention (\(journal.rawValue)): \(total) jobs, \(started) workers started, \(killed.count) SIGKILLs, "
            + "\(expired) expired leases recovered")
    }
}

/// A directory nobody may create files in, even root: mode 0555 plus the
/// immutable attribute (root ignores permission bits). Falls back to /sys,
/// where even root cannot create files, if `chattr` is unavailable.
final class ReadOnlyDirectory {
    let path: String
    private let candidate: String
    private let immutable: Bool

    init(in parent: TemporaryDirectory) throws {
        candidate = parent.file("read-only")
        try FileManager.default.createDirectory(atPath: candidate, withIntermediateDirectories: false)
        chmod(candidate, 0o555)
        let probe = candidate + "/probe"
        if FileManager.default.createFile(atPath: probe, contents: nil) {
            unlink(probe)
            let chattr = try? runChattr("+i", candidate)
            immutable = chattr == 0 && !FileManager.default.createFile(atPath: probe, contents: nil)
            path = immutable ? candidate : "/sys"
        } else {
            immutable = false
            path = candidate
        }
    }

    deinit {
        if immutable { _ = try? runChattr("-i", candidate) }
        chmod(candidate, 0o755)
    }
}

private func runChattr(_ flag: String, _ path: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
    process.arguments = [flag, path]
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Full and read-only disks, on small tmpfs mounts (needs root and a kernel
/// that lets this process mount; skipped, saying so, where it cannot).
@Suite(.serialized, .enabled(if: TmpfsMount.available, "mounting a tmpfs needs root"))
struct FullAndReadOnlyDisks {
    let directory = TemporaryDirectory()

    /// A campaign database created on a fresh tmpfs of `kilobytes`; `damage`
    /// then spoils the disk, and a worker must fail with `status` saying `message`.
    func workerOnSpoiledDisk(kilobytes: Int, damage: (TmpfsMount) throws -> Void, status: Int32, message: (String) -> String) throws {
        let disk = try TmpfsMount(at: directory.file("disk-\(UUID().uuidString)"), kilobytes: kilobytes)
        defer { disk.unmount() }
        let db = disk.path + "/c.sqlite"
        let pipeline = directory.write("p.json", testPipeline())
        #expect(try runProduct("campaign", ["init", "--pipeline", pipeline, "--db", db], in: directory).termination == .exited(0))
        try damage(disk)
        let run = try runProduct("queue-worker", ["--db", db], in: directory)
        #expect(run.termination == .exited(status) && run.stderr.contains(message(db)), "\(run)")
    }

    @Test func aFullDiskIsNamedAsSuch() throws {
        try workerOnSpoiledDisk(kilobytes: 300, damage: { $0.fill() }, status: 1) { "HINT: the disk holding \($0) is full" }
    }

    @Test func aReadOnlyMountIsNamedAsSuch() throws {
        try workerOnSpoiledDisk(kilobytes: 2048, damage: { try $0.remountReadOnly() }, status: 2) { _ in "is mounted read-only" }
    }
}

/// A tmpfs mounted for one test.
struct TmpfsMount {
    let path: String

    /// Whether this process may mount (checked once, on a throwaway mount).
    static let available: Bool = {
        guard geteuid() == 0 else { return false }
        let probe = NSTemporaryDirectory() + "/tmpfs-probe-\(getpid())"
        guard let mount = try? TmpfsMount(at: probe, kilobytes: 64) else { return false }
        mount.unmount()
        return true
    }()

    init(at path: String, kilobytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard Self.run(["mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", path]) else {
            throw POSIXError(.EPERM)
        }
        self.path = path
    }

    func remountReadOnly() throws {
        guard Self.run(["mount", "-o", "remount,ro", path]) else { throw POSIXError(.EPERM) }
    }

    func unmount() { _ = Self.run(["umount", path]) }

    /// Writes a filler file until the disk is full.
    func fill() {
        let descriptor = open(path + "/filler", O_WRONLY | O_CREAT, 0o644)
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        while write(descriptor, chunk, chunk.count) > 0 {}
    }

    private static func run(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
