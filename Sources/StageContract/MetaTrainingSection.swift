import Pipeline
import GTN

/// Which learners `meta-train-generator` teaches.
public enum MetaTrainingLearners: String, Sendable, CaseIterable {
    /// The paper's MNIST learner (scaled by `width`), every meta-iteration.
    case standard
    /// A learner drawn from the `search` section's space every meta-iteration.
    case searchSpace = "search_space"
}

/// `meta_training`: how `meta-train-generator` meta-learns the generator,
/// curriculum and inner optimiser (docs/pipeline.md). Optional; every field
/// has a default (the small configuration: T 16, generator batch 64, width 0.25).
public struct MetaTrainingSection: PipelineSection {
    public static let key = "meta_training"
    /// T: inner SGD steps per meta-iteration (one generated batch each).
    public let innerSteps: Int
    /// Generated images per inner step.
    public let generatorBatch: Int
    /// Real training images per meta-loss evaluation.
    public let metaBatch: Int
    /// Width multiplier of the generator and the learner (1 = the paper's sizes).
    public let width: Double
    /// Size of each curriculum noise vector.
    public let noiseSize: Int
    /// Meta-iterations to run.
    public let iterations: Int
    /// Adam's learning rate, decayed by a cosine to `finalLearningRateFraction` of it.
    public let learningRate: Double
    public let finalLearningRateFraction: Double
    /// Rescale meta-gradients to at most this norm; 0 = no clipping.
    public let gradientClipNorm: Double
    /// Starting values of the learned per-step learning rate and momentum.
    public let innerLearningRate: Double
    public let innerMomentum: Double
    /// Inner steps per recompute block; 0 = keep the whole unroll in memory.
    public let recomputeBlock: Int
    /// Also score the learner on real data after every this many inner steps
    /// (the meta-loss is the mean of the scores); 0 = only after the last step.
    public let intermediateLossEvery: Int
    public let curriculum: CurriculumMode
    public let learners: MetaTrainingLearners
    /// Checkpoint (and evaluate) every this many meta-iterations.
    public let checkpointEvery: Int
    /// Validation images used for the periodic accuracy of a fresh learner.
    public let evaluationImages: Int

    /// The defaults.
    public init() {
        innerSteps = 16; generatorBatch = 64; metaBatch = 128; width = 0.25; noiseSize = 128
        iterations = 200; learningRate = 0.02; finalLearningRateFraction = 0.1; gradientClipNorm = 1
        innerLearningRate = 0.02; innerMomentum = 0.5; recomputeBlock = 4; intermediateLossEvery = 0; curriculum = .learned
        learners = .standard
        checkpointEvery = 10; evaluationImages = 2000
    }

    public init(from object: inout ConfigObject) throws {
        let d = MetaTrainingSection()
        innerSteps = try object.integer("inner_steps", in: 1...1024, default: d.innerSteps)
        generatorBatch = try object.integer("generator_batch", in: 1...4096, default: d.generatorBatch)
        metaBatch = try object.integer("meta_batch", in: 1...4096, default: d.metaBatch)
        width = try object.number("width", in: 0.01...8, default: d.width)
        noiseSize = try object.integer("noise_size", in: 1...4096, default: d.noiseSize)
        iterations = try object.integer("iterations", in: 1...10_000_000, default: d.iterations)
        learningRate = try object.number("learning_rate", in: 1e-7...10, default: d.learningRate)
        finalLearningRateFraction = try object.number("final_learning_rate_fraction", in: 0...1, default: d.finalLearningRateFraction)
        gradientClipNorm = try object.number("gradient_clip_norm", in: 0...1e9, default: d.gradientClipNorm)
        innerLearningRate = try object.number("inner_learning_rate", in: 1e-7...10, default: d.innerLearningRate)
        innerMomentum = try object.number("inner_momentum", in: 1e-6...0.999, default: d.innerMomentum)
        recomputeBlock = try object.integer("recompute_block", in: 0...1024, default: d.recomputeBlock)
        intermediateLossEvery = try object.integer("intermediate_loss_every", in: 0...1024, default: d.intermediateLossEvery)
        curriculum = try object.choice("curriculum", as: CurriculumMode.self, default: d.curriculum)
        learners = try object.choice("learners", as: MetaTrainingLearners.self, default: d.learners)
        checkpointEvery = try object.integer("checkpoint_every", in: 1...10_000_000, default: d.checkpointEvery)
        evaluationImages = try object.integer("evaluation_images", in: 1...1_000_000, default: d.evaluationImages)
        if generatorBatch < 2 {
            throw object.error("generator_batch", "expected at least 2 (batch norm needs a batch), found \(generatorBatch)")
        }
    }
}
