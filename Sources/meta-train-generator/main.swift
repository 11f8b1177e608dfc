// meta-train-generator: the second pipeline stage (see Stages/MetaTrainGenerator.swift).
import Foundation
import Pipeline
import Stages

exit(runStage(MetaTrainGenerator.stage, arguments: CommandLine.arguments))
