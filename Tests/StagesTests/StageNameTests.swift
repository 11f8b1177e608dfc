import Foundation
import QueueTestSupport
@testable import Stages
import Testing

/// The stage list is spelled once (`StageName`): the stages carry those
/// names, in that order, and the scripts' list (scripts/lib/stages.sh) agrees.
@Suite struct StageNames {
    @Test func stagesAndScriptsUseTheOneList() throws {
        let stages = [FetchData.stage, MetaTrainGenerator.stage, ProposeArchitectures.stage, GTNEvaluate.stage,
                      RealEvaluate.stage, ReportStage.stage]
        #expect(stages.map(\.name) == StageName.allCases.map(\.rawValue))
        let script = try String(contentsOfFile: repositoryRoot + "/scripts/lib/stages.sh", encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("GTN_STAGES=(") })
        let listed = line.dropFirst("GTN_STAGES=(".count).dropLast().split(separator: " ").map(String.init)
        #expect(listed == StageName.allCases.map(\.rawValue))
    }
}
