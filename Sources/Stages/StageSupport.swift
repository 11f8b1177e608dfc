import Artifacts
import Checksums
import Foundation
import GTN
import JSONText
import Pipeline
import TensorCore
import StageContract

// Helpers every stage uses.

/// A seed for `purpose` derived from the campaign seed (never from the worker or clock).
func stageSeed(_ context: GTNStageContext, _ purpose: String) -> UInt64 {
    var stream = RandomStream(seed: UInt64(truncatingIfNeeded: context.pipeline.campaign.seed)).derived(purpose)
    return stream.nextUInt64()
}

/// The plan of a stage whose work is done when it is recorded done and all of
/// `outputs` exist: skip then (adding `present` to the reason), run otherwise,
/// naming the missing outputs.
func planFromStatus(_ context: GTNStageContext, outputs: [URL], present: String) throws -> StagePlan {
    let missing = outputs.filter { !FileManager.default.fileExists(atPath: $0.path) }
    switch try GTNStage.planFromStatus(context) {
    case .skip(let reason) where missing.isEmpty:
        return .skip(reason: "\(reason); \(present)")
    case .skip:
        return .run(reason: "recorded done, but \(missing.map(\.path).joined(separator: ", ")) missing")
    case .run(let reason):
        return .run(reason: reason)
    }
}

/// The plan of a job-worker stage whose jobs an earlier stage or its own run
/// enqueues: run (saying `whenNone`) while it has no jobs, so the run can say
/// what it waits for; otherwise `GTNStage.planFromJobs`.
func planFromJobsOrRun(_ context: GTNStageContext, whenNone: String) throws -> StagePlan {
    try context.jobs.counts(stage: context.stage).total == 0 ? .run(reason: whenNone) : try GTNStage.planFromJobs(context)
}

/// The random stream of `purpose` for one architecture: from the campaign
/// seed and the encoding only, so every worker draws the same numbers.
func architectureStream(_ context: GTNStageContext, _ purpose: String, _ architecture: Architecture) -> RandomStream {
    RandomStream(seed: stageSeed(context, "\(purpose)/\(architecture)"))
}

/// The first `count` examples of `set` (all of them when it has fewer).
func leading(_ count: Int, of set: LabelledImages) -> LabelledImages {
    set.subset(Array(0..<min(count, set.count)))
}

/// Runs a numeric stage as a process: first makes sure OpenBLAS uses the
/// best kernels this CPU runs (which may restart the process, see
/// `BLASKernelSelection`) and that freed arrays are reused (`HeapTuning`),
/// then `runStage`, naming the kernels in the stage's "running:" line.
public func runComputeStage(_ stage: GTNStage, arguments: [String] = CommandLine.arguments) -> Int32 {
    // Handlers first, signals blocked: one that arrives during a restart
    // stays pending through execv for the new process's handlers.
    StopSignals.blocked {
        StopSignals.install(unblocking: false)
        BLASKernelSelection.selectAtLaunch()
    }
    HeapTuning.keepFreedMemory()
    return runStage(stage, arguments: arguments, setting: BLASKernelSelection.describe())
}
