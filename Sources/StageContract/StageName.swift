/// The six stages in pipeline order: the one spelling of each name, which
/// the job table, the metrics, the artifacts' metadata and the report use.
/// (Random-stream purposes spell theirs out: a seed must never change with
/// a rename.)
public enum StageName: String, CaseIterable, Sendable {
    case fetchData = "fetch-data"
    case metaTrainGenerator = "meta-train-generator"
    case proposeArchitectures = "propose-architectures"
    case gtnEvaluate = "gtn-evaluate"
    case realEvaluate = "real-evaluate"
    case report

    /// A job worker: many may run side by side, each draining the stage's jobs.
    public var drainsJobs: Bool { self == .gtnEvaluate || self == .realEvaluate }
}
