import Artifacts
import Foundation
import Pipeline
import TensorCore
import StageContract

/// `fetch-data`: reads the dataset named in the pipeline's `data` section
/// (checking every file's SHA-256), splits the official training set into
/// train and validation from the campaign seed, normalises with the training
/// split's statistics, and writes train / validation / test artifacts to
/// `artifacts/<campaign>/data/`.
public enum FetchData {
    public static var stage: GTNStage {
        GTNStage(name: StageName.fetchData.rawValue,
              summary: "Read, verify, split and normalise the dataset into train/validation/test artifacts.",
              plan: plan, run: run)
    }

    static func plan(_ context: GTNStageContext) throws -> StagePlan {
        try planFromStatus(context, outputs: context.artifacts.splitFiles, present: "train, validation and test artifacts present")
    }

    static func run(_ context: GTNStageContext) throws -> StageResult {
        let data = context.pipeline.data
        let source = try DatasetSource(dataset: data.dataset, location: data.source, checksums: data.sha256 ?? [:])
        context.say("reading \(data.dataset.rawValue) from \(data.source)")
        let prepared: PreparedDataset
        do {
            prepared = try DatasetPreparation.prepare(
                source: source, seed: stageSeed(context, "fetch-data/split"), trainCount: data.trainCount,
                validationCount: data.validationCount, into: context.artifacts.dataDirectory,
                metadata: ["stage": StageName.fetchData.rawValue, "producer": StageName.fetchData.rawValue, "campaign": context.pipeline.campaign.name,
                           "campaign_seed": String(context.pipeline.campaign.seed)],
                shouldStop: { StopSignals.received != nil })
        } catch is PreparationStopped {
            return .incomplete(reason: "\(context.stopReason(unitsDone: 0) ?? "stopped") before the splits were complete "
                               + "(none kept)")
        }
        for (metric, value) in [(Metric.trainCount, prepared.trainCount), (.validationCount, prepared.validationCount),
                                (.testCount, prepared.testCount)] {
            try context.record(metric, step: 0, value: Double(value))
        }
        for (channel, (mean, std)) in zip(prepared.mean, prepared.std).enumerated() {
            try context.record(.trainMean, step: channel, value: Double(mean))
            try context.record(.trainStd, step: channel, value: Double(std))
        }
        return .done(summary: "\(prepared.trainCount) train, \(prepared.validationCount) validation, "
                     + "\(prepared.testCount) test images (\(prepared.imageShape.map(String.init).joined(separator: "x"))) "
                     + "in \(context.artifacts.dataDirectory.path)")
    }
}
