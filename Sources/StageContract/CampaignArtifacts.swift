import Artifacts
import Checksums
import Foundation
import Pipeline

/// Where the stages keep a campaign's artifacts, under its artifact
/// directory (`artifacts/<campaign>/` unless `--artifacts DIR`): the one
/// spelling of every path (docs/artifact-format.md lists them).
public struct CampaignArtifacts: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// `data/`: the dataset splits `fetch-data` writes.
    public var dataDirectory: URL { root.appendingPathComponent("data") }

    /// The three split artifacts, in the order train, validation, test.
    public var splitFiles: [URL] {
        [DatasetPreparation.trainFileName, DatasetPreparation.validationFileName, DatasetPreparation.testFileName]
            .map { dataDirectory.appendingPathComponent($0) }
    }

    /// `meta-training/`: what `meta-train-generator` writes.
    public var metaTrainingDirectory: URL { root.appendingPathComponent("meta-training") }
    /// Its checkpoint, rewritten every `checkpoint_every` meta-iterations.
    public var metaTrainingCheckpoint: URL { metaTrainingDirectory.appendingPathComponent("checkpoint." + ArtifactFile.fileExtension) }
    /// The meta-trained generator, curriculum and inner rates (`GeneratorArtifact`): what later stages read.
    public var generator: URL { metaTrainingDirectory.appendingPathComponent("generator." + ArtifactFile.fileExtension) }
    /// The curriculum's images [T, B, C, H, W] and labels [B].
    public var curriculumImages: URL { metaTrainingDirectory.appendingPathComponent("curriculum-images." + ArtifactFile.fileExtension) }

    /// `real-evaluate/checkpoints/`: training state of `real-evaluate` jobs in progress.
    public var truthCheckpointDirectory: URL { root.appendingPathComponent("\(StageName.realEvaluate.rawValue)/checkpoints") }
    /// The checkpoint of the job training `architecture` (its encoding).
    public func truthCheckpoint(architecture: String) -> URL {
        truthCheckpointDirectory.appendingPathComponent(String(SHA256.hash(architecture).prefix(24)) + "." + ArtifactFile.fileExtension)
    }

    /// `report.md`, with its images in `report/` and `results.csv` beside it.
    public static let reportFileName = "report.md", resultsTableFileName = "results.csv"
    public var report: URL { root.appendingPathComponent(Self.reportFileName) }
    /// The report's image folder, as the report links it (relative).
    public static let reportImageFolder = "report"
    public var reportImages: URL { root.appendingPathComponent(Self.reportImageFolder) }
    /// One row per proposed architecture, every predictor a column.
    public var resultsTable: URL { root.appendingPathComponent(Self.resultsTableFileName) }
    /// What the last report was written from and its check (written last).
    public var reportState: URL { root.appendingPathComponent("report-state.json") }
}

extension StageContext {
    /// The campaign's artifact paths.
    public var artifacts: CampaignArtifacts { CampaignArtifacts(root: URL(fileURLWithPath: artifactsDirectory)) }
}
