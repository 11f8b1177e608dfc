import Testing
import GTN
import NN
import TensorCore

/// A tiny synthetic task: 3 classes of 8×8 images, each class a bright 3×3
/// patch at its own place plus noise.
func syntheticImages(count: Int, seed: UInt64) -> LabelledImages {
    var rng = RandomStream(seed: seed)
    var data = [Float](repeating: 0, count: count * 64)
    let labels = (0..<count).map { $0 % 3 }
    for (n, label) in labels.enumerated() {
        for i in 0..<64 { data[n * 64 + i] = Float(0.3 * rng.nextNormal()) }
        let (row, column) = [(1, 1), (1, 4), (4, 2)][label]
        for dy in 0..<3 { for dx in 0..<3 { data[n * 64 + (row + dy) * 8 + column + dx] += 2 } }
    }
    return LabelledImages(images: NDArray(shape: [count, 1, 8, 8], data: data), labels: labels)
}

@Suite struct MetaTraining {
    static let image = ImageShape(channels: 1, height: 8, width: 8, classes: 3)

    static func trainer(iterations: Int, mode: CurriculumMode = .learned, learners: LearnerSource = .fixed) -> MetaTrainer {
        let setup = TeachingSetup(generator: Generator(image: image, noiseSize: 8, width: 1.0 / 32, outputRange: -1...3),
                                  learner: StandardLearner(image: image, width: 1.0 / 16),
                                  innerSteps: 4, batch: 6, recomputeBlock: 2, initialLearningRate: 0.5)
        var config = MetaTrainingConfig(iterations: iterations)
        config.metaBatch = 24
        config.learningRate = 0.02
        config.curriculum = mode
        config.learners = learners
        return MetaTrainer(setup: setup, config: config, seed: 77)
    }

    @Test func resumingFromASavedStateRepeatsTheUninterruptedRun() throws {
        let data = syntheticImages(count: 60, seed: 1)
        for mode in CurriculumMode.allCases {
            let trainer = Self.trainer(iterations: 4, mode: mode)
            var straight = trainer.initialState()
            for _ in 0..<4 { _ = try trainer.step(&straight, train: data) }
            var first = trainer.initialState()
            for _ in 0..<2 { _ = try trainer.step(&first, train: data) }
            var resumed = first        // what a checkpoint holds
            for _ in 0..<2 { _ = try trainer.step(&resumed, train: data) }
            #expect(resumed == straight, "curriculum \(mode): resumed state differs from the uninterrupted run")
        }
    }

    @Test func searchSpaceLearnersAreDrawnPerIterationAndResumeExactly() throws {
        let space = try SearchSpace(blocks: 1...2, layersPerBlock: 1...2, widths: [2, 4])
        let trainer = Self.trainer(iterations: 6, learners: .searchSpace(space))
        let drawn = (0..<6).map { trainer.teaching(iteration: $0, "learner").learner }
        let architectures = drawn.compactMap { ($0 as? ArchitectureLearner)?.architecture }
        #expect(architectures.count == 6 && architectures.allSatisfy(space.contains))
        #expect(Set(architectures).count > 1, "every iteration drew \(architectures[0])")
        #expect(trainer.teaching(iteration: 3, "learner").learner.layout == drawn[3].layout, "draws are not repeatable")
        #expect(Self.trainer(iterations: 6).teaching(iteration: 3, "learner").learner is StandardLearner)

        let data = syntheticImages(count: 60, seed: 5)
        var straight = trainer.initialState()
        for _ in 0..<6 { #expect(try trainer.step(&straight, train: data).metaLoss.isFinite) }
        // A new trainer (a restarted process) continuing from the state after 3 iterations.
        var resumed = trainer.initialState()
        for _ in 0..<3 { _ = try trainer.step(&resumed, train: data) }
        let restarted = Self.trainer(iterations: 6, learners: .searchSpace(space))
        for _ in 0..<3 { _ = try restarted.step(&resumed, train: data) }
        #expect(resumed == straight)
        #expect(trainer.evaluate(straight, on: syntheticImages(count: 30, seed: 6)).isFinite)
    }

    @Test func metaLossFallsOnASyntheticTask() throws {
        let data = syntheticImages(count: 120, seed: 2)
        let trainer = Self.trainer(iterations: 100)
        var state = trainer.initialState()
        var losses: [Double] = []
        for _ in 0..<100 { losses.append(try trainer.step(&state, train: data).metaLoss) }
        let early = losses.prefix(10).reduce(0, +) / 10, late = losses.suffix(10).reduce(0, +) / 10
        #expect(late < 0.5 * early, "meta-loss did not fall: first 10 mean \(early), last 10 mean \(late)")
        let held = syntheticImages(count: 90, seed: 3)
        let accuracies = (0..<3).map { trainer.evaluate(state, on: held, learnerIndex: $0) }
        let mean = accuracies.reduce(0, +) / 3
        #expect(mean > 0.8, "fresh learners trained on the generated data reach \(accuracies) on held-out images")
    }

    @Test func nonFiniteMetaLossStopsWithoutTouchingTheState() {
        let trainer = Self.trainer(iterations: 2)
        var state = trainer.initialState()
        let lr = trainer.setup.layout.entry("inner.log_learning_rate")
        state.meta[lr.offset] = .nan
        let before = state
        #expect {
            _ = try trainer.step(&state, train: syntheticImages(count: 30, seed: 4))
        } throws: { error in
            "\(error)".hasPrefix("meta-iteration 0: the meta-loss is") && "\(error)".contains("nan; the state was not updated")
        }
        #expect(state == before)
    }
}
