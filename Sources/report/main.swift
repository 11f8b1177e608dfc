// report: write the campaign report and check the rank correlation (see Stages/ReportStage.swift).
import Foundation
import Pipeline
import Stages

exit(runStage(ReportStage.stage, arguments: CommandLine.arguments))
