import Artifacts
import Foundation
import GTN
import Stages
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
        var compare = false
    }

    static func loadSplit(_ url: URL) throws -> LabelledImages { try labelledImages(ArtifactFile.read(url), from: url) }

    static func run(_ o: Options) throws {
        let dataDirectory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gtn-bench-fashion-mnist")
        let prepared = try DatasetPreparation.prepare(seed: 2026, into: dataDirectory)
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
        let trainer = MetaTrainer(setup: setup, config: config, seed: o.seed)
        print("meta-training: curriculum \(o.curriculum.rawValue), T = \(o.steps), generator batch \(o.batch), width \(o.width), meta batch \(o.metaBatch), "
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
        if o.compare {
            let test = try loadSplit(prepared.testURL)
            compare(trainer, state, train: train, validation: held, test: test)
        }
    }

    /// Test accuracy after each inner step k = 1…T, mean ± std over 5 fresh
    /// learners: trained on the generated data, and the real-data control
    /// (its learning rate chosen on validation data from a grid).
    static func compare(_ trainer: MetaTrainer, _ state: MetaTrainingState, train: LabelledImages,
                        validation: LabelledImages, test: LabelledImages) {
        let setup = trainer.setup, learners = 5
        let control = RealDataControl(learner: setup.learner, steps: setup.innerSteps, batch: setup.batch)
        let root = RandomStream(seed: 4242)
        let choice = control.chooseLearningRate(train: train, validation: validation, stream: root.derived("control-lr"))
        print(String(format: "real-data control: learning rate %.3g chosen on validation (accuracy %.4f)", choice.learningRate, choice.accuracy))
        func testAccuracy(_ theta: NDArray<Float>) -> Double {
            accuracy(of: setup.learner, parameters: theta, images: test.images, labels: test.labels)
        }
        let meta = NDArray(shape: [state.meta.count], data: state.meta)
        // perLearner[i][k]: learner i's test accuracy after step k + 1.
        let gtnPerLearner = (0..<learners).map { i -> [Double] in
            var accuracies: [Double] = []
            var rng = root.derived("learner/\(i)")
            _ = setup.trainLearner(meta: meta, learnerInitial: setup.learner.initialParameters(&rng), mode: trainer.config.curriculum,
                                   noiseStream: root.derived("noise/\(i)")) { _, theta in accuracies.append(testAccuracy(theta)) }
            return accuracies
        }
        let realPerLearner = (0..<learners).map { i -> [Double] in
            var accuracies: [Double] = []
            var rng = root.derived("learner/\(i)")
            _ = control.train(initial: setup.learner.initialParameters(&rng), on: train, learningRate: choice.learningRate,
                              stream: root.derived("control-batches/\(i)")) { _, theta in accuracies.append(testAccuracy(theta)) }
            return accuracies
        }
        let gtn = (0..<setup.innerSteps).map { k in gtnPerLearner.map { $0[k] } }
        let real = (0..<setup.innerSteps).map { k in realPerLearner.map { $0[k] } }
        func summary(_ values: [Double]) -> String {
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(values.count - 1, 1))).squareRoot()
            return String(format: "%.4f ± %.4f", mean, std)
        }
        print("test accuracy after k inner steps, mean ± std over \(learners) fresh learners")
        print("k    GTN (\(trainer.config.curriculum.rawValue))    real-data control")
        for k in 0..<setup.innerSteps { print("\(k + 1)    \(summary(gtn[k]))    \(summary(real[k]))") }
    }
}
