import Pipeline
import GTN
import JSONText

/// `search`: the architectures `propose-architectures` proposes (docs/pipeline.md).
/// Optional; the defaults are `SearchSpace.standard` and 100 architectures.
public struct SearchSection: PipelineSection {
    public static let key = "search"
    /// How many distinct architectures to propose (`--count` extends it).
    public let architectures: Int
    /// Architectures always proposed first (e.g. hand-designed baselines),
    /// counted among `architectures`.
    public let include: [Architecture]
    public let space: SearchSpace
    /// Propose only sampled architectures whose parameter count (for the
    /// campaign's images) lies in this range; nil = any size. A narrow band
    /// makes the ranking about topology rather than size.
    public let parameterBand: ClosedRange<Int>?

    /// The defaults.
    public init() {
        architectures = 100
        include = []
        space = .standard
        parameterBand = nil
    }

    public init(from object: inout ConfigObject) throws {
        let d = SearchSection()
        architectures = try object.integer("architectures", in: 1...1_000_000, default: d.architectures)
        let blocks = try object.integerRange("blocks", within: Architecture.blockLimit, default: d.space.blocks)
        let layers = try object.integerRange("layers_per_block", within: Architecture.layerLimit, default: d.space.layersPerBlock)
        let names = LayerOperation.allCases.map(\.rawValue).joined(separator: ", ")
        let operations = try object.array("operations", default: d.space.operations, element: "an operation (\(names))") { item -> LayerOperation? in
            guard case .string(let text) = item else { return nil }
            return LayerOperation(rawValue: text)
        }
        let widths = try object.array("widths", default: d.space.widths,
                                      element: "an integer in \(Architecture.widthLimit.lowerBound)...\(Architecture.widthLimit.upperBound)") { item -> Int? in
            guard case .integer(let width) = item, Architecture.widthLimit.contains(width) else { return nil }
            return width
        }
        let skip = try object.number("skip_probability", in: 0...1, default: d.space.skipProbability)
        do {
            space = try SearchSpace(blocks: blocks, layersPerBlock: layers, operations: operations, widths: widths,
                                    skipProbability: skip)
        } catch {
            guard case .invalidSetting(let field, let found, let expected) = error else { throw object.error("", "\(error)") }
            throw object.error(field, "expected \(expected), found \(found)")
        }
        let texts = try object.array("include", default: [], element: "an architecture encoding string") { item -> String? in
            guard case .string(let text) = item else { return nil }
            return text
        }
        var parsed: [Architecture] = []
        for (index, text) in texts.enumerated() {
            do {
                let architecture = try Architecture.parse(text)
                if !parsed.contains(architecture) { parsed.append(architecture) }
            } catch {
                throw object.error("include[\(index)]", "\(error)")
            }
        }
        include = parsed
        parameterBand = object.value("parameter_band") == nil ? nil
            : try object.integerRange("parameter_band", within: 1...Int(Int32.max))
        if include.count > architectures {
            throw object.error("include", "lists \(include.count) distinct architectures, more than architectures (\(architectures))")
        }
        if architectures - include.count > space.distinctCount {
            throw object.error("architectures", "\(SearchSpaceError.tooFewArchitectures(requested: architectures - include.count, available: space.distinctCount))")
        }
    }
}

/// `gtn_evaluation`: how `gtn-evaluate` scores an architecture on the
/// generator's data. Optional.
public struct GTNEvaluationSection: PipelineSection {
    public static let key = "gtn_evaluation"
    /// SGD steps on generated batches; nil = one pass over the curriculum
    /// (`meta_training.inner_steps`). More steps repeat the curriculum.
    public let steps: Int?
    /// Validation images (the first ones of the split) each architecture is scored on.
    public let validationImages: Int

    /// The defaults.
    public init() {
        steps = nil
        validationImages = 1000
    }

    public init(from object: inout ConfigObject) throws {
        let d = GTNEvaluationSection()
        steps = object.value("steps") == nil ? nil : try object.integer("steps", in: 1...1_000_000)
        validationImages = try object.integer("validation_images", in: 1...1_000_000, default: d.validationImages)
    }
}

/// `real_evaluation`: which architectures `real-evaluate` trains on real data
/// and how. Optional.
public struct RealEvaluationSection: PipelineSection {
    public static let key = "real_evaluation"
    /// The best architectures by GTN score to evaluate.
    public let topK: Int
    /// Architectures drawn uniformly from all scored ones (the calibration sample).
    public let calibration: Int
    /// The truth's budget: SGD-with-momentum steps on real batches, learning
    /// rate cosine-decayed to 0.
    public let steps: Int
    public let batch: Int
    public let learningRate: Double
    public let momentum: Double
    /// Validation and test images (the first ones of each split) for the accuracies.
    public let validationImages: Int
    public let testImages: Int
    /// A job saves its training state every this many steps (and when stopped
    /// by a signal), so a killed or preempted job resumes from there.
    public let checkpointEvery: Int
    /// The equal-compute real proxy's constant learning rate; nil: chosen
    /// once per campaign on validation data from `RealDataControl`'s grid.
    public let proxyLearningRate: Double?

    /// The defaults.
    public init() {
        topK = 10; calibration = 30; steps = 256; batch = 64; learningRate = 0.05; momentum = 0.9
        validationImages = 10_000; testImages = 10_000; checkpointEvery = 100; proxyLearningRate = nil
    }

    public init(from object: inout ConfigObject) throws {
        let d = RealEvaluationSection()
        topK = try object.integer("top_k", in: 0...1_000_000, default: d.topK)
        calibration = try object.integer("calibration", in: 0...1_000_000, default: d.calibration)
        steps = try object.integer("steps", in: 1...10_000_000, default: d.steps)
        batch = try object.integer("batch", in: 2...4096, default: d.batch)
        learningRate = try object.number("learning_rate", in: 1e-7...10, default: d.learningRate)
        momentum = try object.number("momentum", in: 0...0.999, default: d.momentum)
        validationImages = try object.integer("validation_images", in: 1...1_000_000, default: d.validationImages)
        testImages = try object.integer("test_images", in: 1...1_000_000, default: d.testImages)
        checkpointEvery = try object.integer("checkpoint_every", in: 1...10_000_000, default: d.checkpointEvery)
        proxyLearningRate = object.value("proxy_learning_rate") == nil ? nil
            : try object.number("proxy_learning_rate", in: 1e-7...10)
    }
}

/// `report`: the rank-correlation check and its statistics. Optional.
public struct ReportSection: PipelineSection {
    public static let key = "report"
    /// PASS needs Spearman's ρ between GTN score and real validation accuracy
    /// on the calibration sample to be at least this (and at least every
    /// baseline's, `decideRankCheck`).
    public let spearmanThreshold: Double
    /// Bootstrap resamples for the 95% intervals.
    public let bootstrapResamples: Int
    /// k of "precision of the GTN top-k among the real top-k" (calibration sample).
    public let precisionK: Int

    /// The defaults.
    public init() {
        spearmanThreshold = 0.3; bootstrapResamples = 2000; precisionK = 5
    }

    public init(from object: inout ConfigObject) throws {
        let d = ReportSection()
        spearmanThreshold = try object.number("spearman_threshold", in: -1...1, default: d.spearmanThreshold)
        bootstrapResamples = try object.integer("bootstrap_resamples", in: 1000...10_000_000, default: d.bootstrapResamples)
        precisionK = try object.integer("precision_k", in: 1...1_000_000, default: d.precisionK)
    }
}
