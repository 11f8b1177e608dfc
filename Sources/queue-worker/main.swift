// queue-worker: a test and benchmark tool, not a pipeline stage. It drains
// the campaign's `queue-worker` jobs through the same stage runner and worker loop
// as the real stages; each job's "work" returns its own key as the result.
// Used by the contention, SIGTERM and throughput tests (docs/queue.md), in
// campaigns of the GTN-NAS stages' pipelines (it reads their sections too).
import Foundation
import Pipeline
import Queue
import StageContract

let stage = GTNStage.jobWorker(
    name: "queue-worker",
    summary: "Test/benchmark worker: drains `queue-worker` jobs, writing each job's key as its result.",
    options: [
        .value("--seed", "N", help: "First enqueue jobs with parameters {\"n\": 0..<N} (idempotent: existing keys are skipped)."),
        .value("--unit-ms", "MS", help: "Let each job take MS milliseconds, checking for stop signals every 10 ms."),
    ]
) { job, context in
    let unit = try context.arguments.number("--unit-ms", in: 0...3_600_000) ?? 0
    let start = Date()
    while Date().timeIntervalSince(start) * 1000 < unit {
        if job.isInterrupted { throw JobInterrupted() }
        try job.heartbeat()
        usleep(10_000)
    }
    return "{\"key\":\"\(job.job.key)\"}"
}

let seeded = GTNStage(name: stage.name, summary: stage.summary, options: stage.options, plan: { context in
    if let count = try context.arguments.integer("--seed", in: 0...10_000_000) {
        let added = try context.jobs.enqueue((0..<count).map { NewJob(stage: stage.name, parameters: "{\"n\":\($0)}") })
        context.say("seeded \(added) new jobs")
    }
    return try stage.plan(context)
}, run: stage.run)

exit(runStage(seeded, arguments: CommandLine.arguments))
