import Pipeline

/// The pipeline sections of the six GTN-NAS stages (docs/pipeline.md); every
/// one is optional, with the defaults of its type.
public struct GTNSections: PipelineSections {
    public let metaTraining: MetaTrainingSection
    public let search: SearchSection
    public let gtnEvaluation: GTNEvaluationSection
    public let realEvaluation: RealEvaluationSection
    public let report: ReportSection

    public init(from root: inout ConfigObject) throws {
        metaTraining = try root.section(MetaTrainingSection.self, default: MetaTrainingSection())
        search = try root.section(SearchSection.self, default: SearchSection())
        gtnEvaluation = try root.section(GTNEvaluationSection.self, default: GTNEvaluationSection())
        realEvaluation = try root.section(RealEvaluationSection.self, default: RealEvaluationSection())
        report = try root.section(ReportSection.self, default: ReportSection())
    }

    public static var stages: [StageListing] {
        StageName.allCases.map { StageListing(name: $0.rawValue, drainsJobs: $0.drainsJobs) }
    }

    /// SGD steps `gtn-evaluate` trains each architecture for (default: T).
    public var gtnEvaluationSteps: Int { gtnEvaluation.steps ?? metaTraining.innerSteps }
}

/// A pipeline file of the GTN-NAS stages.
public typealias GTNPipeline = PipelineConfig<GTNSections>
/// A GTN-NAS stage and what it runs with.
public typealias GTNStage = Stage<GTNSections>
public typealias GTNStageContext = StageContext<GTNSections>
