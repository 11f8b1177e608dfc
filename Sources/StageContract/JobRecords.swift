import Foundation
import GTN
import Pipeline
import Queue
import TensorCore

// The records the search stages keep in the job table: a job's parameters
// name one architecture, and its result (JSON, written in the transaction
// that marks the job done) holds the scores. `report` reads them back.

/// The parameters of a `gtn-evaluate` or `real-evaluate` job: the
/// architecture's encoding (so the job key is the encoding) and, for
/// `real-evaluate`, why it was selected.
public struct ArchitectureJob: Codable, Equatable, Sendable {
    public let architecture: String
    /// Why `real-evaluate` trains it (nil for `gtn-evaluate` jobs, and in
    /// jobs of earlier versions, which did not record it).
    public let selectedAs: Selection?

    /// The roles of an architecture in `real-evaluate`'s selection, with its
    /// place in each list, as the stage decided them.
    public struct Selection: Codable, Equatable, Sendable {
        /// 0-based rank among the top-k by GTN score; nil when not among them.
        public let topKRank: Int?
        /// 0-based position in the calibration sample's draw; nil when not drawn.
        public let calibrationDraw: Int?

        public init(topKRank: Int?, calibrationDraw: Int?) {
            self.topKRank = topKRank
            self.calibrationDraw = calibrationDraw
        }
    }

    public init(architecture: String, selectedAs: Selection? = nil) {
        self.architecture = architecture
        self.selectedAs = selectedAs
    }

    /// The job's parameters as JSON text.
    public var json: String { encodeJSON(self) }

    /// The architecture of `job`; parameters that do not name a valid one
    /// fail the job (not the worker), with an error naming it.
    public static func architecture(of job: JobHandle) throws -> Architecture {
        do {
            return try Architecture.parse(try decodeJSON(ArchitectureJob.self, job.parameters).architecture)
        } catch {
            throw InvalidJobParameters(description: "job \(job.job.id) has invalid parameters \(job.parameters): \(error)")
        }
    }
}

/// A job whose parameters cannot be worked on.
public struct InvalidJobParameters: Error, CustomStringConvertible {
    public let description: String
}

/// The result of a `gtn-evaluate` job.
public struct GTNScore: Codable, Equatable, Sendable {
    public let architecture: String
    /// Validation accuracy after training on the generator's data.
    public let score: Double
    public let steps: Int
    /// Wall-clock seconds: building, training and scoring (a learned curriculum is
    /// generated once per worker, not per architecture, and not counted here).
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
    public static func ranked(_ scores: [GTNScore]) -> [GTNScore] {
        scores.sorted { ($0.score, $1.architecture) > ($1.score, $0.architecture) }
    }

    public init(architecture: String, score: Double, steps: Int, seconds: Double, parameters: Int, multiplyAdds: Int?,
                trainingFree: TrainingFreeRecord?, computed: ComputeRecord?) {
        self.architecture = architecture
        self.score = score
        self.steps = steps
        self.seconds = seconds
        self.parameters = parameters
        self.multiplyAdds = multiplyAdds
        self.trainingFree = trainingFree
        self.computed = computed
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

    public init(synflow: Double, synflowSeconds: Double, naswot: Double?, naswotSeconds: Double, naswotImages: Int) {
        self.synflow = synflow
        self.synflowSeconds = synflowSeconds
        self.naswot = naswot
        self.naswotSeconds = naswotSeconds
        self.naswotImages = naswotImages
    }
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

    public init(architecture: String, validationAccuracy: Double, testAccuracy: Double, steps: Int, seconds: Double,
                proxyScore: Double, proxySteps: Int, proxySeconds: Double, proxyLearningRate: Double?, proxyBatch: Int?,
                learningCurve: [CurvePoint]?, parameters: Int, computed: ComputeRecord?) {
        self.architecture = architecture
        self.validationAccuracy = validationAccuracy
        self.testAccuracy = testAccuracy
        self.steps = steps
        self.seconds = seconds
        self.proxyScore = proxyScore
        self.proxySteps = proxySteps
        self.proxySeconds = proxySeconds
        self.proxyLearningRate = proxyLearningRate
        self.proxyBatch = proxyBatch
        self.learningCurve = learningCurve
        self.parameters = parameters
        self.computed = computed
    }
}

/// The settings and the arithmetic a result was computed with.
public struct ComputeRecord: Codable, Equatable, Sendable {
    /// SHA-256 of the pipeline sections the result depends on: results
    /// with different ones must not be ranked together.
    public let settings: String
    /// The BLAS kernels and thread count (`BLASKernelSelection.describe()`):
    /// sums in another order, so results differ in their last bits.
    public let arithmetic: String

    public init(settings: String, arithmetic: String) {
        self.settings = settings
        self.arithmetic = arithmetic
    }
}

/// One point of an architecture's real-data learning curve: accuracy on the
/// GTN scoring images after `steps` steps of the truth run, and the seconds
/// an early-stopping predictor at that point costs (training so far plus
/// this one evaluation).
public struct CurvePoint: Codable, Equatable, Sendable {
    public let steps: Int
    public let accuracy: Double
    public let seconds: Double

    public init(steps: Int, accuracy: Double, seconds: Double) {
        self.steps = steps
        self.accuracy = accuracy
        self.seconds = seconds
    }
}

/// JSON text of `value`, keys sorted.
public func encodeJSON<Value: Encodable>(_ value: Value) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8) else {
        requirementFailure("cannot encode \(Value.self) as JSON")
    }
    return text
}

/// `text` decoded as `Value`.
public func decodeJSON<Value: Decodable>(_ type: Value.Type, _ text: String) throws -> Value {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(Value.self, from: Data(text.utf8))
}
