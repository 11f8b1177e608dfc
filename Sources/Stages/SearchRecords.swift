import Foundation
import GTN
import Pipeline
import Queue
import TensorCore
import StageContract

// The records the search stages keep in the job table: a job's parameters
// name one architecture, and its result (JSON, written in the transaction
// that marks the job done) holds the scores. `report` reads them back.

/// The done results of `stage`'s jobs, decoded as `Result`, by architecture.
func results<Result: Decodable>(_ type: Result.Type, stage: String, in context: GTNStageContext) throws -> [Result] {
    try context.jobs.jobs(stage: stage).filter { $0.state == .done }.map { record in
        guard let text = record.result else { throw InputError("\(stage) job \(record.id) is done without a result") }
        return try decodeJSON(Result.self, text)
    }
}

/// The architectures `real-evaluate` trains: the `topK` best by GTN score
/// (ties by encoding) and a calibration sample drawn uniformly, with the
/// campaign seed, from every scored architecture. `real-evaluate` decides it
/// once and records each architecture's roles in its job's parameters,
/// where the report reads it (`recorded(in:)`).
public struct RealSelection: Equatable, Sendable {
    public let topK: [String]
    public let calibration: [String]

    /// Every selected architecture once, top-k first.
    public var all: [String] {
        var seen = Set<String>()
        return (topK + calibration).filter { seen.insert($0).inserted }
    }

    /// The job parameters of `all`, each with its roles.
    var jobs: [ArchitectureJob] {
        all.map { architecture in
            ArchitectureJob(architecture: architecture, selectedAs: ArchitectureJob.Selection(
                topKRank: topK.firstIndex(of: architecture), calibrationDraw: calibration.firstIndex(of: architecture)))
        }
    }

    init(topK: [String], calibration: [String]) {
        self.topK = topK
        self.calibration = calibration
    }

    /// The selection for `scores` under the `real_evaluation` section.
    init(scores: [GTNScore], section: RealEvaluationSection, seed: UInt64) {
        topK = Array(GTNScore.ranked(scores).prefix(section.topK).map(\.architecture))
        var rng = RandomStream(seed: seed)
        let pool = scores.map(\.architecture).sorted()
        calibration = Array(rng.permutation(pool.count).prefix(section.calibration).map { pool[$0] })
    }

    init(_ context: GTNStageContext, scores: [GTNScore]) {
        self.init(scores: scores, section: context.pipeline.realEvaluation, seed: stageSeed(context, "real-evaluate/calibration"))
    }

    /// The selection recorded in the parameters of `real-evaluate`'s jobs;
    /// nil before it has enqueued them. Jobs of earlier versions, which did
    /// not record their roles, give nil too.
    static func recorded(in jobs: [JobRecord]) throws -> RealSelection? {
        try recorded(parameters: jobs.map(\.parameters))
    }

    static func recorded(parameters: [String]) throws -> RealSelection? {
        let selected = try parameters.map { try decodeJSON(ArchitectureJob.self, $0) }
        guard !selected.isEmpty else { return nil }
        var topK: [(Int, String)] = [], calibration: [(Int, String)] = []
        for job in selected {
            guard let roles = job.selectedAs else { return nil }
            if let rank = roles.topKRank { topK.append((rank, job.architecture)) }
            if let draw = roles.calibrationDraw { calibration.append((draw, job.architecture)) }
        }
        return RealSelection(topK: topK.sorted { $0.0 < $1.0 }.map(\.1), calibration: calibration.sorted { $0.0 < $1.0 }.map(\.1))
    }
}

