import GTN
import Pipeline
import Queue
import TensorCore

/// The metrics the stages record for later stages and the report: each
/// name spelled once, with the stage that records it and what its step means.
public enum Metric: Equatable, Sendable {
    /// Images per split (step 0).
    case trainCount, validationCount, testCount
    /// Normalisation constants of the training split (step: channel).
    case trainMean, trainStd
    /// Per meta-iteration (step: iteration).
    case metaLoss, metaGradientNorm, metaLearningRate
    /// A fresh learner's validation accuracy at a checkpoint (step: iteration).
    case validationAccuracy
    /// Test accuracy after inner step k (step: k), mean and standard deviation over learners.
    case innerStepAccuracy(TeachingVariant), innerStepAccuracyStandardDeviation(TeachingVariant)
    /// Fresh learners each inner-step accuracy is averaged over (step 0).
    case comparisonLearners
    /// The real-data control's learning rate (step 0).
    case realDataLearningRate
    /// Architectures proposed and the size of the space (step 0).
    case proposed, searchSpaceSize
    /// The equal-compute real proxy's learning rate, chosen once per campaign (step 0).
    case proxyLearningRate
    /// Choosing it, shared by side-by-side workers (step: trial, one per calibration
    /// architecture and grid rate): a trial taken (value 1) and its scoring accuracy.
    case proxyRateTrialStarted, proxyRateTrialAccuracy

    public var stage: StageName {
        switch self {
        case .trainCount, .validationCount, .testCount, .trainMean, .trainStd: return .fetchData
        case .metaLoss, .metaGradientNorm, .metaLearningRate, .validationAccuracy, .innerStepAccuracy,
             .innerStepAccuracyStandardDeviation, .comparisonLearners, .realDataLearningRate: return .metaTrainGenerator
        case .proposed, .searchSpaceSize: return .proposeArchitectures
        case .proxyLearningRate, .proxyRateTrialStarted, .proxyRateTrialAccuracy: return .realEvaluate
        }
    }

    /// The name in the `metrics` table (as `campaign status` and SQL see it).
    public var name: String {
        switch self {
        case .trainCount: return "train_count"
        case .validationCount: return "validation_count"
        case .testCount: return "test_count"
        case .trainMean: return "train_mean"
        case .trainStd: return "train_std"
        case .metaLoss: return "meta_loss"
        case .metaGradientNorm: return "meta_gradient_norm"
        case .metaLearningRate: return "meta_learning_rate"
        case .validationAccuracy: return "validation_accuracy"
        case .innerStepAccuracy(let variant): return "inner_step_accuracy.\(variant.rawValue)"
        case .innerStepAccuracyStandardDeviation(let variant): return "inner_step_accuracy_std.\(variant.rawValue)"
        case .comparisonLearners: return "comparison_learners"
        case .realDataLearningRate: return "real_data_learning_rate"
        case .proposed: return "proposed"
        case .searchSpaceSize: return "search_space_size"
        case .proxyLearningRate: return "proxy_learning_rate"
        case .proxyRateTrialStarted: return "proxy_rate_trial_started"
        case .proxyRateTrialAccuracy: return "proxy_rate_trial_accuracy"
        }
    }
}

extension StageContext {
    /// Records `metric` at `step`; only its own stage records it.
    public func record(_ metric: Metric, step: Int, value: Double) throws {
        require(metric.stage.rawValue == stage, "\(stage) recording \(metric.name), a metric of \(metric.stage.rawValue)")
        try recordMetric(step: step, name: metric.name, value: value)
    }
}

extension Campaign {
    /// Every recorded value of `metric`, by step.
    public func values(of metric: Metric) throws -> [MetricRecord] {
        try metrics(stage: metric.stage.rawValue, name: metric.name)
    }
}
