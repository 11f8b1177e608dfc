import Testing
import Autodiff
@testable import GTN
import TensorCore

@Suite struct RealDataControlTraining {
    static let image = ImageShape(channels: 1, height: 8, width: 8, classes: 3)

    @Test func trainsAndChoosesALearningRateThatLearns() {
        let control = RealDataControl(learner: StandardLearner(image: Self.image, width: 1.0 / 16), steps: 8, batch: 12,
                                      learningRateGrid: [1e-4, 0.3])
        let train = syntheticImages(count: 120, seed: 5), validation = syntheticImages(count: 60, seed: 6)
        let choice = control.chooseLearningRate(train: train, validation: validation, stream: RandomStream(seed: 9))
        #expect(choice.learningRate == 0.3, "chose \(choice.learningRate) with accuracy \(choice.accuracy)")
        #expect(choice.accuracy > 0.8, "8 real steps at lr 0.3 reach \(choice.accuracy)")

        var steps: [Int] = []
        var rng = RandomStream(seed: 1)
        _ = control.train(initial: control.learner.initialParameters(&rng), on: train, learningRate: 0.3,
                          stream: RandomStream(seed: 2)) { step, _ in steps.append(step) }
        #expect(steps == Array(1...8))
    }

    @Test func curriculumTrainingReportsEveryStep() {
        let setup = TeachingSetup(generator: Generator(image: Self.image, noiseSize: 4, width: 1.0 / 32, outputRange: -1...3),
                                  learner: StandardLearner(image: Self.image, width: 1.0 / 16),
                                  innerSteps: 3, batch: 6, recomputeBlock: 0)
        var rng = RandomStream(seed: 3)
        let meta: NDArray<Float> = setup.initialMetaParameters(&rng)
        let initial: NDArray<Float> = setup.learner.initialParameters(&rng)
        var seen: [Int] = []
        var last = NDArray<Float>(zeros: [0])
        let final = setup.trainLearner(meta: meta, learnerInitial: initial, steps: 5) { step, theta in
            seen.append(step)
            last = theta
        }
        #expect(seen == [1, 2, 3, 4, 5])
        #expect(last == final)
    }

    /// gtn-evaluate makes the learned curriculum once and trains every
    /// architecture on it: that must teach exactly as the meta-loss's inner
    /// loop does, generating each step's batch inside the step.
    @Test func aCurriculumMadeOnceTeachesAsTheGeneratorDoesStepByStep() {
        let setup = TeachingSetup(generator: Generator(image: Self.image, noiseSize: 4, width: 1.0 / 32, outputRange: -1...3),
                                  learner: StandardLearner(image: Self.image, width: 1.0 / 16),
                                  innerSteps: 3, batch: 6, recomputeBlock: 0)
        var rng = RandomStream(seed: 4)
        let meta: NDArray<Float> = setup.initialMetaParameters(&rng)
        let initial: NDArray<Float> = setup.learner.initialParameters(&rng)
        let trained = setup.trainLearner(on: setup.curriculum(meta: meta), learnerInitial: initial) { _, _ in }

        let p = setup.layout.views(of: Tensor(meta))
        let noise = p[TeachingSetup.curriculumPart]!.value.split(axis: 0, sizes: [1, 1, 1])
        let (lrs, moms) = (p[TeachingSetup.logLearningRatePart]!.value.data, p[TeachingSetup.logMomentumPart]!.value.data)
        var (theta, velocity) = (initial, NDArray<Float>(zeros: initial.shape))
        for k in 0..<3 {
            let next = setup.innerStep(parameters: Tensor(theta, requiresGrad: true), velocity: Tensor(velocity),
                                       generatorWeights: setup.generator.weights(p[TeachingSetup.generatorPart]!),
                                       noise: Tensor(noise[k].reshaped([6, 4])), logLearningRate: Tensor(scalar: lrs[k]),
                                       logMomentum: Tensor(scalar: moms[k]), createGraph: false)
            (theta, velocity) = (next[0].value, next[1].value)
        }
        #expect(theta == trained)
        #expect(theta != initial)
    }
}
