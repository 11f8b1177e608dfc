import Foundation
import GTN
import Pipeline
import Queue
import TensorCore
import StageContract

/// `propose-architectures`: the `search` section's `include` list, then
/// distinct architectures sampled at random from its search space with the
/// campaign seed (only those within `search.parameter_band` when it is set),
/// up to `search.architectures` (or `--count`); one
/// `gtn-evaluate` job per architecture, keyed by its encoding, so proposing
/// again adds nothing and a larger `--count` adds only the new ones (a
/// longer sample starts with the shorter one).
public enum ProposeArchitectures {
    public static var stage: GTNStage {
        GTNStage(name: StageName.proposeArchitectures.rawValue,
              summary: "Sample distinct architectures from the search space and enqueue one \(StageName.gtnEvaluate.rawValue) job each.",
              options: [.value("--count", "N", help: "Propose N architectures in all (default: search.architectures); "
                                + "a larger N extends the campaign.")],
              plan: plan, run: run)
    }

    /// The stage the proposals are enqueued for.
    static let evaluationStage = GTNEvaluate.name

    static func requestedCount(_ context: GTNStageContext) throws -> Int {
        try context.arguments.integer("--count", in: 1...10_000_000) ?? context.pipeline.search.architectures
    }

    static func plan(_ context: GTNStageContext) throws -> StagePlan {
        let proposed = try context.jobs.counts(stage: evaluationStage).total
        let wanted = try requestedCount(context)
        if proposed >= wanted, case .skip(let reason) = try GTNStage.planFromStatus(context) {
            return .skip(reason: "\(reason); \(proposed) architectures proposed")
        }
        return .run(reason: proposed == 0 ? "proposing \(wanted) architectures"
                            : "\(proposed) architectures proposed, \(wanted) wanted")
    }

    /// The first `count` architectures of the campaign: `include`, then draws
    /// from the space (skipping ones already included).
    static func proposals(_ context: GTNStageContext, count: Int) throws -> [Architecture] {
        let search = context.pipeline.search
        let included = Array(search.include.prefix(count))
        let stream = RandomStream(seed: stageSeed(context, "propose-architectures"))
        // At most the whole space, so sampling cannot fail for want of
        // architectures; `run` rejects larger counts first.
        let wanted = min(count, search.space.distinctCount)
        let sampled: [Architecture]
        if let band = search.parameterBand {
            guard let data = try DataSplits.load(context) else {
                throw InputError("search.parameter_band counts parameters for the campaign's images, but the dataset "
                                 + "splits are missing\nHINT: run \(StageName.fetchData.rawValue) first")
            }
            do {
                sampled = try search.space.sample(wanted, using: stream, maxDraws: maxDrawsPerArchitecture * count) {
                    band.contains(ArchitectureLearner(architecture: $0, image: data.image).parameterCount)
                }
            } catch {
                throw InputError("search.parameter_band \(band.lowerBound)...\(band.upperBound): \(error)")
            }
        } else {
            sampled = try search.space.sample(wanted, using: stream)
        }
        var seen = Set(included)
        return included + sampled.filter { seen.insert($0).inserted }.prefix(count - included.count)
    }

    /// Draws allowed per wanted architecture when a parameter band filters them.
    static let maxDrawsPerArchitecture = 1000

    static func run(_ context: GTNStageContext) throws -> StageResult {
        let count = try requestedCount(context)
        let space = context.pipeline.search.space
        guard count - context.pipeline.search.include.count <= space.distinctCount else {
            throw InputError("--count \(count): \(SearchSpaceError.tooFewArchitectures(requested: count, available: space.distinctCount))")
        }
        let architectures = try proposals(context, count: count)
        // Earlier proposals are claimed first.
        let jobs = architectures.enumerated().map { index, architecture in
            NewJob(stage: evaluationStage, parameters: ArchitectureJob(architecture: architecture.description).json,
                   priority: -index)
        }
        let added = try context.jobs.enqueue(jobs)
        try context.record(.proposed, step: 0, value: Double(architectures.count))
        try context.record(.searchSpaceSize, step: 0, value: Double(space.distinctCount))
        return .done(summary: "\(architectures.count) architectures proposed (\(added) new) from a space of \(space.distinctCountDescription)")
    }
}
