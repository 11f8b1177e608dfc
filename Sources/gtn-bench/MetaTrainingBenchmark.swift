import Artifacts
import Foundation
import GTN
import StageContract
import TensorCore

/// Meta-training on Fashion-MNIST (Debian's package): seconds per
/// meta-iteration, achieved GFLOP/s of the matrix products, peak memory, and
/// every `evaluateEvery` iterations the validation accuracy of fresh learners
/// trained for T steps on the generated data.
enum MetaTrainingBenchmark {
    struct Options {
        var steps = 16, batch = 64, width = 0.25, metaBatch = 128, iterations = 20, block = 4
        var evaluateEvery = 0, seed: UInt64 = 1, innerLearningRate = 0.02, metaLearningRate = 0.02
        var clipNorm: Double? = nil
        var curriculum = CurriculumMode.learned
        var learners = LearnerSource.fixed
        var compare = false
    }

    static func loadSplit(_ url: URL) throws -> LabelledImages { try labelledImages(ArtifactFile.read(url)) }

    /// The Fashion-MNIST splits (prepared once under the temporary directory).
    static func prepared() throws -> PreparedDataset {
        let dataDirectory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gtn-bench-fashion-mnist")
        return try DatasetPreparation.prepare(seed: 2026, into: dataDirectory)
    }

    /// Seconds per step of first-order SGD with momentum of the paper's
    /// learner (`width`) on real batches of `batch`, the path `real-evaluate`
    /// trains on (`trainOnRealData`): the median of `steps` - 5 steps after 5
    /// warm-up steps.
    static func sgdStep(batch: Int, width: Double, steps: Int, architecture: String?) throws {
        let data = try prepared()
        let train = try loadSplit(data.trainURL)
        let image = ImageShape(channels: data.imageShape[0], height: data.imageShape[1], width: data.imageShape[2],
                               classes: data.classCount)
        let learner: any LearnerModel = try architecture.map { ArchitectureLearner(architecture: try Architecture.parse($0), image: image) }
            ?? StandardLearner(image: image, width: width)
        let name = architecture.map { "architecture \($0)" } ?? String(format: "paper learner, width %g", width)
        var rng = RandomStream(seed: 1)
        var times: [Double] = []
        var last = Date()
        _ = trainOnRealData(learner, initial: learner.initialParameters(&rng), on: train, steps: steps, batch: batch,
                            momentum: 0.9, learningRate: { _ in 0.01 }, stream: RandomStream(seed: 2)) { _, _ in
            times.append(Date().timeIntervalSince(last))
            last = Date()
        }
        let timed = times.dropFirst(5).sorted()
        print(String(format: "sgd step: %@ (%d parameters), batch %d: median %.4f s per step over %d steps; peak memory %.0f MiB",
                     name, learner.layout.count, batch, timed[timed.count / 2], timed.count, peakMemoryMiB()))
    }

    static func run(_ o: Options) throws {
        let prepared = try prepared()
        let train = try loadSplit(prepared.trainURL), validation = try loadSplit(prepared.validationURL)
        let image = ImageShape(channels: prepared.imageShape[0], height: prepared.imageShape[1],
                               width: prepared.imageShape[2], classes: prepared.classCount)
        let low = Double(-prepared.mean[0] / prepared.std[0]), high = Double((1 - prepared.mean[0]) / prepared.std[0])
        let setup = TeachingSetup(generator: Generator(image: image, width: o.width, outputRange: low...high),
                                  learner: StandardLearner(image: image, width: o.width),
                                  innerSteps: o.steps, batch: o.batch, recomputeBlock: o.block,
                                  initialLearningRate: o.innerLearningRate)
        var config = MetaTrainingConfig(iterations: o.iterations)
        config.metaBatch = o.metaBatch
        config.learningRate = o.metaLearningRate
        config.gradientClipNorm = o.clipNorm
        config.curriculum = o.curriculum
        config.learners = o.learners
        let trainer = MetaTrainer(setup: setup, config: config, seed: o.seed)
        print("meta-training: curriculum \(o.curriculum.rawValue), learners \(o.learners == .fixed ? "standard" : "search space"), T = \(o.steps), generator batch \(o.batch), width \(o.width), meta batch \(o.metaBatch), "
              + "recompute block \(o.block), \(setup.layout.count) meta-parameters, \(setup.learner.layout.count) learner parameters")
        let held = validation.subset(Array(0..<2000))
        var state = trainer.initialState()
        let start = Date()
        let operationsBefore = BLASInfo.gemmOperations
        for _ in 0..<o.iterations {
            let t0 = Date()
            let step = try trainer.step(&state, train: train)
            let seconds = Date().timeIntervalSince(t0)
            var line = String(format: "iteration %4d  meta-loss %.4f  |g| %.3g  %.2f s", step.iteration, step.metaLoss, step.gradientNorm, seconds)
            if o.evaluateEvery > 0 && state.iteration % o.evaluateEvery == 0 {
                line += String(format: "  validation accuracy after %d steps: %.4f", o.steps, trainer.evaluate(state, on: held))
            }
            print(line)
        }
        let elapsed = Date().timeIntervalSince(start)
        let gflops = (BLASInfo.gemmOperations - operationsBefore) / elapsed / 1e9
        print(String(format: "%.2f s per meta-iteration; matrix products %.1f GFLOP/s over the run; peak memory %.0f MiB",
                     elapsed / Double(o.iterations), gflops, peakMemoryMiB()))
        let peak = KernelBenchmark.sgemmReference(repeats: 3)
        print(String(format: "meta-iteration throughput: %.0f%% of sgemm", 100 * gflops / peak))
        if o.compare {
            let test = try loadSplit(prepared.testURL)
            compare(trainer, state, train: train, validation: held, test: test)
        }
    }

    /// Test accuracy after each inner step k = 1…T, mean ± std over 5 fresh
    /// learners, for every curriculum mode and the real-data control (its
    /// learning rate chosen on validation data from a grid).
    static func compare(_ trainer: MetaTrainer, _ state: MetaTrainingState, train: LabelledImages,
                        validation: LabelledImages, test: LabelledImages) {
        let learners = 5
        let (curves, learningRate) = compareInnerSteps(trainer.setup, meta: NDArray(shape: [state.meta.count], data: state.meta),
                                                       train: train, validation: validation, evaluation: test,
                                                       learners: learners, stream: RandomStream(seed: 4242))
        print(String(format: "real-data control: learning rate %.3g chosen on validation", learningRate))
        print("test accuracy after k inner steps, mean ± std over \(learners) fresh learners")
        print("k    " + curves.map(\.variant.rawValue).joined(separator: "    "))
        for k in 0..<trainer.setup.innerSteps {
            print("\(k + 1)    " + curves.map { String(format: "%.4f ± %.4f", $0.mean[k], $0.standardDeviation[k]) }
                .joined(separator: "    "))
        }
    }
}
