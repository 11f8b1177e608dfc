// fetch-data: the first pipeline stage (see Stages/FetchData.swift).
import Foundation
import Stages

exit(runComputeStage(FetchData.stage))
