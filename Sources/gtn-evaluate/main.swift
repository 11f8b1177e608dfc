// gtn-evaluate: score architectures on the generator's data (job worker) (see Stages/GTNEvaluate.swift).
import Foundation
import Pipeline
import Stages

exit(runStage(GTNEvaluate.stage, arguments: CommandLine.arguments))
