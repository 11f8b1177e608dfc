// gtn-evaluate: score architectures on the generator's data (job worker) (see Stages/GTNEvaluate.swift).
import Foundation
import Stages

exit(runComputeStage(GTNEvaluate.stage))
