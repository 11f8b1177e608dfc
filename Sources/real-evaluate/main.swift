// real-evaluate: train the selected architectures on real data (job worker) (see Stages/RealEvaluate.swift).
import Foundation
import Pipeline
import Stages

exit(runStage(RealEvaluate.stage, arguments: CommandLine.arguments))
