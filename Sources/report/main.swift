// report: write the campaign report and check the rank correlation (see Stages/ReportStage.swift).
import Foundation
import Stages

exit(runComputeStage(ReportStage.stage))
