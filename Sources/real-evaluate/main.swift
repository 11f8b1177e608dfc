// real-evaluate: train the selected architectures on real data (job worker) (see Stages/RealEvaluate.swift).
import Foundation
import Stages

exit(runComputeStage(RealEvaluate.stage))
