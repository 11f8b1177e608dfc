import StageContract
@testable import Stages
import Testing

/// `real-evaluate` records its selection in its jobs' parameters, and the
/// report reads it back from there.
@Suite struct SelectionRecordTests {
    @Test func theRecordedSelectionReadsBackInOrder() throws {
        // "b" is both among the top-k and drawn for calibration; the draw order is not the top-k order.
        let selection = RealSelection(topK: ["a", "b"], calibration: ["d", "b", "c"])
        let parameters = selection.jobs.map(\.json)
        #expect(selection.jobs.map(\.architecture) == ["a", "b", "d", "c"])
        #expect(parameters[1] == #"{"architecture":"b","selected_as":{"calibration_draw":1,"top_k_rank":1}}"#)
        #expect(try RealSelection.recorded(parameters: parameters) == selection)
        #expect(try RealSelection.recorded(parameters: parameters.reversed()) == selection)
    }

    @Test func noJobsOrJobsWithoutRolesRecordNoSelection() throws {
        #expect(try RealSelection.recorded(parameters: []) == nil)
        #expect(try RealSelection.recorded(parameters: [ArchitectureJob(architecture: "a").json]) == nil)
        #expect(ArchitectureJob(architecture: "a").json == #"{"architecture":"a"}"#)
    }
}
