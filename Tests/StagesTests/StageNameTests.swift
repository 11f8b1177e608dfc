import Foundation
import TestSupport
import StageContract
@testable import Stages
import Testing

/// The stage list is spelled once (`StageName`): the stages carry those
/// names, in that order; `campaign stages` lists them for the scripts
/// (scripts/lib/stages.sh reads it), and each Slurm batch script runs the
/// stage it is named after.
@Suite struct StageNames {
    @Test func stagesCarryTheOneList() {
        let stages = [FetchData.stage, MetaTrainGenerator.stage, ProposeArchitectures.stage, GTNEvaluate.stage,
                      RealEvaluate.stage, ReportStage.stage]
        #expect(stages.map(\.name) == StageName.allCases.map(\.rawValue))
    }

    @Test func campaignStagesListsThemForTheScripts() throws {
        let directory = TemporaryDirectory()
        let run = try runProduct("campaign", ["stages"], in: directory)
        #expect(run.termination == .exited(0))
        #expect(run.stdout.split(separator: "\n").map(String.init)
                == ["fetch-data once", "meta-train-generator once", "propose-architectures once",
                    "gtn-evaluate jobs", "real-evaluate jobs", "report once"])
        #expect(run.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) } == StageName.allCases.map(\.rawValue))
    }

    @Test func eachSlurmBatchScriptRunsTheStageItIsNamedAfter() throws {
        let folder = repositoryRoot + "/scripts/slurm"
        let scripts = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sbatch") }.sorted()
        #expect(scripts == StageName.allCases.map { "\($0.rawValue).sbatch" }.sorted())
        for script in scripts {
            let stage = String(script.dropLast(".sbatch".count))
            let text = try String(contentsOfFile: folder + "/" + script, encoding: .utf8)
            #expect(text.contains("\ngtn_slurm_stage \(stage) \"$@\"\n"), "\(script) does not run \(stage)")
        }
    }
}
