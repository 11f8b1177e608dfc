import Artifacts
import Foundation
import GTN
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
    }

    static func loadSplit(_ url: URL) throws -> LabelledImages {
        let archive = try ArtifactFile.read(url)
        guard let shape = archive.tensor(named: "images")?.shape else {
            throw ArtifactError.missingTensor(path: url.path, name: "images", available: archive.tensors.map(\.name))
        }
        let images = try archive.values("images", as: Float.self)
        let labels = try archive.values("labels", as: Int64.self).map(Int.init)
        return LabelledImages(images: NDArray(shape: shape, data: images), labels: labels)
    }

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
        let trainer = MetaTrainer(setup: setup, config: config, seed: o.seed)
        print("meta-training: T = \(o.steps), generator batch \(o.batch), width \(o.width), meta batch \(o.metaBatch), "
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
    }
}
