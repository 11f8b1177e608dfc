@testable import Queue
import Testing

/// The whole transition table, written out independently of the code.
private let expected: [JobState: [JobEvent: JobState]] = [
    .pending: [.claim: .running],
    .running: [.heartbeat: .running, .complete: .done, .fail: .failed, .failFinal: .dead,
               .release: .pending, .expire: .pending, .expireFinal: .dead],
    .failed: [.retryDue: .pending],
    .done: [:],
    .dead: [.revive: .pending],
]

@Suite struct JobStateMachineTests {
    @Test(arguments: JobState.allCases, JobEvent.allCases)
    func everyStateEventPair(state: JobState, event: JobEvent) {
        if let next = expected[state]?[event] {
            #expect((try? state.next(on: event)) == next, "\(state) on \(event)")
        } else {
            #expect(throws: TransitionRejected(state: state, event: event)) { try state.next(on: event) }
        }
    }

    @Test func tableCoversEveryState() {
        #expect(Set(expected.keys) == Set(JobState.allCases))
    }

    @Test func sourceAndTargetStatesFollowTheTable() {
        for event in JobEvent.allCases {
            let sources = JobState.allCases.filter { expected[$0]?[event] != nil }
            #expect(event.sourceStates == sources, "\(event)")
            #expect(sources.allSatisfy { expected[$0]?[event] == event.targetState }, "\(event)")
        }
    }

    @Test func onlyHolderEventsAreFenced() {
        #expect(JobEvent.allCases.filter(\.isFenced) == [.heartbeat, .complete, .fail, .failFinal, .release])
    }
}
