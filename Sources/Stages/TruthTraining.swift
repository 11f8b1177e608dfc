import Artifacts
import Checksums
import Foundation
import GTN
import JSONText
import Pipeline
import TensorCore
import StageContract

/// The result of the equal-compute real proxy: a short run of its own.
struct ProxyResult: Equatable {
    let score: Double
    let seconds: Double
}

/// A `real-evaluate` job's truth run in progress: everything needed to go on
/// after a kill exactly as if it had not stopped, saved as one artifact.
struct TruthProgress {
    var run: RealTrainingRun
    /// Seconds spent in training steps so far, over every attempt.
    var trainingSeconds: Double
    var curve: [CurvePoint]
    var proxy: ProxyResult?
}

/// The step counts at which the truth run's learning curve is recorded:
/// 8, 16, 32, … below `budget`, then `budget` itself.
func learningCurveSteps(budget: Int) -> [Int] {
    var ladder: [Int] = []
    var k = 8
    while k < budget {
        ladder.append(k)
        k *= 2
    }
    return ladder + [budget]
}

/// Checkpoints of `real-evaluate` jobs, one file per architecture under the
/// campaign's artifacts, tied by a fingerprint to the settings and the
/// architecture that made them, and removed when the job's result is ready.
enum TruthCheckpoint {
    /// SHA-256 of what a run's numbers depend on: the campaign seed, the
    /// `data`, `gtn_evaluation` and `real_evaluation` sections, the
    /// architecture and the proxy's learning rate.
    static func fingerprint(_ context: GTNStageContext, architecture: String, proxyLearningRate: Double) -> String {
        let sections = pipelineSections(context, [CampaignSection.key, DataSection.key, GTNEvaluationSection.key, RealEvaluationSection.key])
        let settings = JSONValue.object(sections + [("architecture", .string(architecture)),
                                                    ("proxy_learning_rate", .real(proxyLearningRate))])
        return SHA256.hash(settings.canonicalText)
    }

    static func save(_ progress: TruthProgress, fingerprint: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let run = progress.run
        let count = run.parameters.count
        let stream = run.batches
        var tensors = [
            StoredTensor(name: "parameters", shape: [count], values: run.parameters.data),
            StoredTensor(name: "velocity", shape: [count], values: run.velocity.data),
            StoredTensor(name: "steps_done", shape: [], values: [Int64(run.stepsDone)]),
            StoredTensor(name: "batches.state", shape: [4], values: stream.state.map { Int64(bitPattern: $0) }),
            StoredTensor(name: "training_seconds", shape: [], values: [progress.trainingSeconds]),
            StoredTensor(name: "curve.steps", shape: [progress.curve.count], values: progress.curve.map { Int64($0.steps) }),
            StoredTensor(name: "curve.accuracy", shape: [progress.curve.count], values: progress.curve.map(\.accuracy)),
            StoredTensor(name: "curve.seconds", shape: [progress.curve.count], values: progress.curve.map(\.seconds)),
        ]
        if let spare = stream.spareNormal { tensors.append(StoredTensor(name: "batches.spare_normal", shape: [], values: [spare])) }
        if let proxy = progress.proxy {
            tensors.append(StoredTensor(name: "proxy", shape: [2], values: [proxy.score, proxy.seconds]))
        }
        try ArtifactFile.write(TensorArchive(tensors: tensors, metadata: [
            "stage": RealEvaluate.name, "kind": "checkpoint", "settings_sha256": fingerprint,
        ]), to: url)
    }

    /// The saved progress, or nil when there is none or it belongs to other
    /// settings (then it is stale and the run starts over).
    static func load(_ url: URL, fingerprint: String, parameterCount: Int) throws -> TruthProgress? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let archive = try ArtifactFile.read(url)
        guard archive.metadata["settings_sha256"] == fingerprint else { return nil }
        let parameters = try archive.values("parameters", as: Float.self)
        let velocity = try archive.values("velocity", as: Float.self)
        let state = try archive.values("batches.state", as: Int64.self).map { UInt64(bitPattern: $0) }
        guard parameters.count == parameterCount, velocity.count == parameterCount, state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw ArtifactError.damaged(path: url.path, reason: "checkpoint holds \(parameters.count) parameters and "
                                        + "\(velocity.count) velocities, expected \(parameterCount)")
        }
        let spare = archive.tensor(named: "batches.spare_normal") == nil ? nil
            : try archive.values("batches.spare_normal", as: Double.self).first
        let steps = try archive.values("curve.steps", as: Int64.self)
        let accuracies = try archive.values("curve.accuracy", as: Double.self)
        let seconds = try archive.values("curve.seconds", as: Double.self)
        guard steps.count == accuracies.count, steps.count == seconds.count else {
            throw ArtifactError.damaged(path: url.path, reason: "learning-curve tensors differ in length")
        }
        let proxy = archive.tensor(named: "proxy") == nil ? nil : try archive.values("proxy", as: Double.self)
        let run = RealTrainingRun(parameters: NDArray(shape: [parameterCount], data: parameters),
                                  velocity: NDArray(shape: [parameterCount], data: velocity),
                                  stepsDone: Int(try archive.values("steps_done", as: Int64.self)[0]),
                                  batches: RandomStream(state: state, spareNormal: spare))
        return TruthProgress(run: run, trainingSeconds: try archive.values("training_seconds", as: Double.self)[0],
                             curve: zip(steps, zip(accuracies, seconds)).map { CurvePoint(steps: Int($0), accuracy: $1.0, seconds: $1.1) },
                             proxy: proxy.flatMap { $0.count == 2 ? ProxyResult(score: $0[0], seconds: $0[1]) : nil })
    }
}
