// meta-train-generator: the second pipeline stage (see Stages/MetaTrainGenerator.swift).
import Foundation
import Stages

exit(runComputeStage(MetaTrainGenerator.stage))
