import Testing
import WorkflowExecution
import WorkflowPlanning

/// The scheduler's decisions, as a plain value: true DAG order, parallel bounds, fail-fast, cancellation.
@Suite struct RunStateMachineTests {
    static func instance(_ id: String, job: String? = nil, needs: [String] = []) -> JobInstance {
        JobInstance(
            id: id, job: job ?? id, name: id, matrix: [], matrixAtRunTime: false, needs: needs, runsOn: [],
            backend: "host", container: nil, services: [], condition: nil, concurrencyGroup: nil,
            cancelInProgress: nil, timeoutMinutes: "360", continueOnError: nil, uses: nil, failFast: nil, maxParallel: nil)
    }

    @Test func aJobStartsAsSoonAsWhatItNeedsHasFinishedNotWhenItsStageDoes() {
        // a -> c ; b (slow, unrelated); c needs only a.
        var machine = RunStateMachine(
            instances: [Self.instance("a"), Self.instance("b"), Self.instance("c", needs: ["a"])], maxJobs: 4)
        #expect(machine.start() == [.start(id: "a"), .start(id: "b")])
        #expect(machine.finished("a", .success) == [.start(id: "c")])
        #expect(machine.finished("c", .success) == [])
        #expect(machine.finished("b", .success) == [.finished(success: true)])
    }

    @Test func diamondWaitsForBothSides() {
        var machine = RunStateMachine(
            instances: [
                Self.instance("a"), Self.instance("b", needs: ["a"]), Self.instance("c", needs: ["a"]),
                Self.instance("d", needs: ["b", "c"]),
            ], maxJobs: 8)
        #expect(machine.start() == [.start(id: "a")])
        #expect(machine.finished("a", .success) == [.start(id: "b"), .start(id: "c")])
        #expect(machine.finished("c", .failure) == [])
        // d starts once both finished, whatever their results: its `if` decides whether it runs.
        #expect(machine.finished("b", .success) == [.start(id: "d")])
        #expect(machine.finished("d", .skipped) == [.finished(success: false)])
        #expect(machine.results == ["a": .success, "b": .success, "c": .failure, "d": .skipped])
    }

    @Test func jobsBoundRespectsTheLimit() {
        var machine = RunStateMachine(instances: (1...5).map { Self.instance("j\($0)") }, maxJobs: 2)
        #expect(machine.start() == [.start(id: "j1"), .start(id: "j2")])
        #expect(machine.finished("j2", .success) == [.start(id: "j3")])
        #expect(machine.finished("j1", .success) == [.start(id: "j4")])
    }

    @Test func maxParallelBoundsOneMatrix() {
        let rows = (1...3).map { Self.instance("t (\($0))", job: "t") }
        var machine = RunStateMachine(
            instances: rows + [Self.instance("other")], maxJobs: 10, strategies: ["t": .init(maxParallel: 1)])
        #expect(machine.start() == [.start(id: "t (1)"), .start(id: "other")])
        #expect(machine.finished("t (1)", .success) == [.start(id: "t (2)")])
    }

    @Test func failFastCancelsTheRestOfTheMatrixOnly() {
        let rows = (1...3).map { Self.instance("t (\($0))", job: "t") }
        var machine = RunStateMachine(
            instances: rows + [Self.instance("lint")], maxJobs: 2, strategies: ["t": .init(failFast: true)])
        #expect(machine.start() == [.start(id: "t (1)"), .start(id: "t (2)")])
        // Row 1 fails: row 2 (running) is cancelled, row 3 (waiting) never starts; lint still runs.
        #expect(machine.finished("t (1)", .failure) == [.cancel(id: "t (2)"), .start(id: "lint")])
        #expect(machine.results["t (3)"] == .cancelled)
        #expect(machine.finished("t (2)", .cancelled) == [])
        #expect(machine.finished("lint", .success) == [.finished(success: false)])
    }

    @Test func withoutFailFastOrWithContinueOnErrorTheMatrixGoesOn() {
        let rows = (1...2).map { Self.instance("t (\($0))", job: "t") }
        var machine = RunStateMachine(instances: rows, maxJobs: 4, strategies: ["t": .init(failFast: false)])
        _ = machine.start()
        #expect(machine.finished("t (1)", .failure) == [])
        #expect(machine.finished("t (2)", .success) == [.finished(success: false)])

        var tolerant = RunStateMachine(instances: rows, maxJobs: 4, continueOnError: ["t (1)"])
        _ = tolerant.start()
        #expect(tolerant.finished("t (1)", .failure) == [])
        #expect(tolerant.finished("t (2)", .success) == [.finished(success: true)])
    }

    @Test func cancellingTheRunCancelsRunningJobsAndLetsWaitingOnesDecideByTheirIf() {
        var machine = RunStateMachine(instances: [Self.instance("a"), Self.instance("b", needs: ["a"])], maxJobs: 2)
        _ = machine.start()
        #expect(machine.cancelAll() == [.cancel(id: "a")])
        // b still becomes ready: an `always()` job runs after a cancellation; others are reported cancelled.
        #expect(machine.finished("a", .cancelled) == [.start(id: "b")])
        #expect(machine.finished("b", .cancelled) == [.finished(success: false)])
        #expect(machine.results == ["a": .cancelled, "b": .cancelled])
    }

    @Test func aLongChainRunsOneAtATimeInOrder() {
        let chain = (0..<100).map { Self.instance("j\($0)", needs: $0 == 0 ? [] : ["j\($0 - 1)"]) }
        var machine = RunStateMachine(instances: chain, maxJobs: 8)
        var started = machine.start()
        var order: [String] = []
        while let action = started.first {
            guard case .start(let id) = action else { break }
            order.append(id)
            started = machine.finished(id, .success)
        }
        #expect(order == chain.map(\.id))
        #expect(started == [.finished(success: true)])
    }

    @Test func aJobPendingOnItsConcurrencyGroupHoldsNoSlot() {
        let instances = ["a", "b", "c"].map { Self.instance($0) }
        var machine = RunStateMachine(instances: instances, maxJobs: 2)
        #expect(machine.start() == [.start(id: "a"), .start(id: "b")])
        // b waits for its group: c takes the slot.
        #expect(machine.pending("b") == [.start(id: "c")])
        // b's turn comes while both slots are busy: it waits for one, ahead of nothing else.
        #expect(machine.groupAcquired("b") == [])
        #expect(machine.finished("a", .success) == [.resume(id: "b")])
        #expect(machine.finished("c", .success) == [])
        #expect(machine.finished("b", .success) == [.finished(success: true)])
    }

    @Test func failFastCancelsPendingAndQueuedRows() {
        let instances = ["m1", "m2", "m3"].map { Self.instance($0, job: "m") }
        var machine = RunStateMachine(instances: instances, maxJobs: 3)
        #expect(machine.start().count == 3)
        _ = machine.pending("m2")
        _ = machine.pending("m3")
        _ = machine.groupAcquired("m3")
        #expect(machine.finished("m1", .failure).sorted { "\($0)" < "\($1)" } == [.cancel(id: "m2"), .cancel(id: "m3")])
    }
}
