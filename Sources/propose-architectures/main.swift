// propose-architectures: sample architectures and enqueue their GTN evaluations (see Stages/ProposeArchitectures.swift).
import Foundation
import Pipeline
import Stages

exit(runStage(ProposeArchitectures.stage, arguments: CommandLine.arguments))
