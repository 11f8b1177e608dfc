// propose-architectures: sample architectures and enqueue their GTN evaluations (see Stages/ProposeArchitectures.swift).
import Foundation
import Stages

exit(runComputeStage(ProposeArchitectures.stage))
