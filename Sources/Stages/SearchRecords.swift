import Foundation
import GTN
import Pipeline
import Queue
import TensorCore

// The records the search stages keep in the job table: a job's parameters
// name one architecture, and its result (JSON, written in the transaction
// that marks the job done) holds the scores. `report` reads them back.

/// The parameters of a `gtn-evaluate` or `real-evaluate` job: the
/// architecture's encoding (so the job key is the encoding).
struct ArchitectureJob: Codable, Equatable {
    let architecture: String

    /// The job's parameters as JSON text.
    var json: String { encodeJSON(self) }

    /// The architecture of `job`; parameters that do not name a valid one
    /// fail the job (not the worker), with an error naming it.
    static func architecture(of job: JobHandle) throws -> Architecture {
        do {
            return try Architecture.parse(try decodeJSON(ArchitectureJob.self, job.parameters).architecture)
        } catch {
            throw InvalidJobParameters(description: "job \(job.job.id) has invalid parameters \(job.parameters): \(error)")
        }
    }
}

/// A job whose parameters cannot be worked on.
struct InvalidJobParameters: Error, CustomStringConvertible {
    let description: String
}

/// The result of a `gtn-evaluate` job.
public struct GTNScore: Codable, Equatable, Sendable {
    public let architecture: String
    /// Validation accuracy after training on the generator's data.
    public let score: Double
    public let steps: Int
    /// Wall-clock seconds: building, training and scoring.
    public let seconds: Double
    public let parameters: Int
    /// Multiply-adds per image (`ArchitectureLearner.multiplyAdds`); nil in
    /// results of older versions.
    public let multiplyAdds: Int?
    /// The architecture's training-free scores at its initial weights; nil
    /// in results of older versions.
    public let trainingFree: TrainingFreeRecord?
    /// What the score was computed under (`ComputeRecord`); nil in results of older versions.
    public let computed: ComputeRecord?

    /// `scores` best first (ties by encoding): the order of "top by GTN score".
    static func ranked(_ scores: [GTNScore]) -> [GTNScore] {
        scores.sorted { ($0.score, $1.architecture) > ($1.score, $0.architecture) }
    }
}

/// Training-free scores of an architecture (`TrainingFreeScores`) and the
/// seconds each took.
public struct TrainingFreeRecord: Codable, Equatable, Sendable {
    public let synflow: Double
    public let synflowSeconds: Double
    /// nil when NASWOT's kernel is singular (ranked below every defined score).
    public let naswot: Double?
    public let naswotSeconds: Double
    /// Images in NASWOT's batch.
    public let naswotImages: Int
}

/// The result of a `real-evaluate` job.
public struct RealScore: Codable, Equatable, Sendable {
    public let architecture: String
    /// The truth: accuracies after the whole budget of `steps` real steps.
    public let validationAccuracy: Double
    public let testAccuracy: Double
    public let steps: Int
    /// Seconds of the truth run: its training steps and final evaluations.
    public let seconds: Double
    /// The equal-compute real proxy: accuracy on the GTN scoring images after
    /// as many real-data steps (`proxySteps`, batches of `proxyBatch`) as
    /// `gtn-evaluate` takes on generated data, in a run of its own (own batch
    /// order, constant `proxyLearningRate` chosen on validation data).
    public let proxyScore: Double
    public let proxySteps: Int
    /// Seconds of the proxy: its training steps plus its scoring.
    public let proxySeconds: Double
    public let proxyLearningRate: Double?
    public let proxyBatch: Int?
    /// Accuracy on the GTN scoring images along the truth run (8, 16, 32, …
    /// steps): the early-stopping predictors. nil in results of older versions.
    public let learningCurve: [CurvePoint]?
    public let parameters: Int
    /// What the scores were computed under; nil in results of older versions.
    public let computed: ComputeRecord?
}

/// The settings and the arithmetic a result was computed with.
public struct ComputeRecord: Codable, Equatable, Sendable {
    /// SHA-256 of the pipeline sections the result depends on: results
    /// with different ones must not be ranked together.
    public let settings: String
    /// The BLAS kernels and thread count (`BLASKernelSelection.describe()`):
    /// sums in another order, so results differ in their last bits.
    public let arithmetic: String
}

/// The done results of `stage`'s jobs, decoded as `Result`, by architecture.
func results<Result: Decodable>(_ type: Result.Type, stage: String, in context: StageContext) throws -> [Result] {
    try context.jobs.jobs(stage: stage).filter { $0.state == .done }.map { record in
        guard let text = record.result else { throw InputError("\(stage) job \(record.id) is done without a result") }
        return try decodeJSON(Result.self, text)
    }
}

/// The architectures `real-evaluate` trains: the `topK` best by GTN score
/// (ties by encoding) and a calibration sample drawn uniformly, with the
/// campaign seed, from every scored architecture.
public struct RealSelection: Equatable, Sendable {
    public let topK: [String]
    public let calibration: [String]

    /// Every selected architecture once, top-k first.
    public var all: [String] {
        var seen = Set<String>()
        return (topK + calibration).filter { seen.insert($0).inserted }
    }

    /// The selection for `scores` under the `real_evaluation` section.
    init(scores: [GTNScore], section: RealEvaluationSection, seed: UInt64) {
        topK = Array(GTNScore.ranked(scores).prefix(section.topK).map(\.architecture))
        var rng = RandomStream(seed: seed)
        let pool = scores.map(\.architecture).sorted()
        calibration = Array(rng.permutation(pool.count).prefix(section.calibration).map { pool[$0] })
    }

    init(_ context: StageContext, scores: [GTNScore]) {
        self.init(scores: scores, section: context.pipeline.realEvaluation, seed: stageSeed(context, "real-evaluate/calibration"))
    }
}

/// JSON text of `value`, keys sorted.
func encodeJSON<Value: Encodable>(_ value: Value) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
        requirementFailure("cannot encode \(Value.self) as JSON")
    }
    return text
}

/// `text` decoded as `Value`.
func decodeJSON<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(Value.self, from: Data(text.utf8))
}
