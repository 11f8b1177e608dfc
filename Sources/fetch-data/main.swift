// fetch-data: the first pipeline stage (see Stages/FetchData.swift).
import Foundation
import Pipeline
import Stages

exit(runStage(FetchData.stage, arguments: CommandLine.arguments))
