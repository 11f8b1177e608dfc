import Foundation
import TensorCore

/// A way of training fresh learners for T steps: on the generator's data in
/// one of the curriculum modes, or on real data (the control).
public enum TeachingVariant: String, Sendable, CaseIterable {
    case learned, fresh, shuffled, real

    public init(_ mode: CurriculumMode) {
        switch mode {
        case .learned: self = .learned
        case .fresh: self = .fresh
        case .shuffled: self = .shuffled
        }
    }

    /// How a reader would name it.
    public var title: String {
        switch self {
        case .learned: return "learned curriculum"
        case .fresh: return "no curriculum (fresh noise)"
        case .shuffled: return "curriculum shuffled"
        case .real: return "real data"
        }
    }
}

/// Accuracy after each inner step k = 1…T of one way of training fresh learners.
public struct InnerStepCurve: Sendable, Equatable {
    public let variant: TeachingVariant
    /// Mean and sample standard deviation over the learners, [T] each.
    public let mean: [Double]
    public let standardDeviation: [Double]
}

/// The comparison of the paper's Figure 2: fresh learners trained for T steps
/// on the generator's data with the learned curriculum, with fresh noise
/// instead (no curriculum), with the curriculum's batches shuffled, and on
/// real training batches (the real-data control, whose learning rate is
/// chosen from its grid on `validation`), each scored on `evaluation` after
/// every step. `learners` learners per variant; every learner, noise draw
/// and batch comes from `stream`. Returns the curves (in that order) and the
/// control's learning rate.
public func compareInnerSteps(_ setup: TeachingSetup, meta: NDArray<Float>, train: LabelledImages,
                              validation: LabelledImages, evaluation: LabelledImages, learners: Int,
                              stream: RandomStream) -> (curves: [InnerStepCurve], realLearningRate: Double) {
    require(learners >= 1, "compareInnerSteps needs at least one learner, got \(learners)")
    func curve(_ variant: TeachingVariant, _ train: (_ initial: NDArray<Float>, _ learner: Int, _ afterStep: (Int, NDArray<Float>) -> Void) -> Void) -> InnerStepCurve {
        var perStep = [[Double]](repeating: [], count: setup.innerSteps)
        for i in 0..<learners {
            var rng = stream.derived("learner/\(i)")
            train(setup.learner.initialParameters(&rng), i) { step, theta in
                perStep[step - 1].append(accuracy(of: setup.learner, parameters: theta, images: evaluation.images,
                                                  labels: evaluation.labels))
            }
        }
        // One learner has no spread: its deviation is 0.
        return InnerStepCurve(variant: variant, mean: perStep.map { mean($0) ?? 0 },
                              standardDeviation: perStep.map { sampleStandardDeviation($0) ?? 0 })
    }
    var curves = CurriculumMode.allCases.map { mode in
        curve(TeachingVariant(mode)) { initial, i, afterStep in
            _ = setup.trainLearner(meta: meta, learnerInitial: initial, mode: mode,
                                   noiseStream: stream.derived("noise/\(mode.rawValue)/\(i)"), afterStep: afterStep)
        }
    }
    let control = RealDataControl(learner: setup.learner, steps: setup.innerSteps, batch: setup.batch)
    let choice = control.chooseLearningRate(train: train, validation: validation, stream: stream.derived("real/learning-rate"))
    curves.append(curve(.real) { initial, i, afterStep in
        _ = control.train(initial: initial, on: train, learningRate: choice.learningRate,
                          stream: stream.derived("real/batches/\(i)"), afterStep: afterStep)
    })
    return (curves, choice.learningRate)
}
