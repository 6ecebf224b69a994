import Testing
import WorkflowExecution
import WorkflowExpressions
import WorkflowPlanning

/// The scheduler's decisions, as a plain value fed events: true DAG order, `needs` merging, the job's
/// `if`, fail-fast, max-parallel, concurrency groups, cancellation, rows added at run time, lost
/// runners. No processes, no clock.
@Suite struct RunStateMachineTests {
    typealias Machine = RunStateMachine

    /// A job of the test run.
    struct Job {
        var id: String
        var needs: [String] = []
        var rows = 1
        var condition: String?
        var failFast = true
        var maxParallel: Int?
        var continueOnError: Set<Int> = []
        var group: String?
        var atRunTime = false
        var runsOn: [String] = []
    }

    static let run = RunID("r")

    static func instance(_ id: String, job: String, row: Int, total: Int, runsOn: [String] = []) -> JobInstance {
        var instance = JobInstance(
            id: id, job: job, name: id, matrix: [], matrixAtRunTime: false, needs: [], runsOn: runsOn,
            backend: "host", container: nil, services: [], condition: nil, concurrencyGroup: nil,
            cancelInProgress: nil, timeoutMinutes: "360", continueOnError: nil, uses: nil, failFast: nil, maxParallel: nil)
        instance.strategyIndex = row
        instance.strategyTotal = total
        return instance
    }

    static func rows(of job: Job, count: Int? = nil) -> [RunDefinition.Row] {
        let count = count ?? job.rows
        return (0..<count).map { row in
            RunDefinition.Row(
                index: row, instance: instance(count > 1 ? "\(job.id) (\(row))" : job.id, job: job.id, row: row, total: count, runsOn: job.runsOn),
                continueOnError: job.continueOnError.contains(row), group: job.group.map { RunDefinition.JobGroup(name: $0) })
        }
    }

    static func machine(_ jobs: [Job], workflowGroup: RunDefinition.Group? = nil, contexts: ExpressionObject = ExpressionObject([])) -> Machine {
        let entries = jobs.map { job in
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: job.id), needs: job.needs.map { .init(name: $0, job: JobKey(workflow: 0, id: $0)) },
                condition: job.condition, strategy: .init(failFast: job.failFast, maxParallel: job.maxParallel),
                rows: job.atRunTime ? nil : rows(of: job), template: job.atRunTime ? rows(of: job, count: 1)[0] : nil)
        }
        let definition = RunDefinition(
            run: run, workflows: [.init(file: "w.yml", name: "w", contexts: contexts, group: workflowGroup)], jobs: entries)
        return Machine(definition)
    }

    static func id(_ name: String) -> InstanceID {
        let parts = name.split(separator: "#")
        return InstanceID(run: run, job: JobKey(workflow: 0, id: String(parts[0])), row: parts.count > 1 ? Int(parts[1])! : 0)
    }

    /// The actions as short lines: `enqueue a`, `conclude t#2 cancelled`, `enter job b shared` …
    static func lines(_ actions: [Machine.Action]) -> [String] {
        func n(_ id: InstanceID) -> String { id.row == 0 && !id.job.id.hasPrefix("t") && !id.job.id.hasPrefix("m") ? id.job.id : "\(id.job.id)#\(id.row)" }
        func scope(_ scope: Machine.GroupScope) -> String {
            switch scope {
            case .workflow(let w): "workflow \(w)"
            case .job(let id): "job \(n(id))"
            }
        }
        return actions.map { action in
            switch action {
            case .began(let id): "began \(n(id))"
            case .enqueue(let id, _): "enqueue \(n(id))"
            case .withdraw(let id): "withdraw \(n(id))"
            case .cancel(let id): "cancel \(n(id))"
            case .conclude(let id, let result): "conclude \(n(id)) \(result.rawValue)"
            case .expand(let key, _): "expand \(key.id)"
            case .enterGroup(let s, let group): "enter \(scope(s)) \(group.name)"
            case .leaveGroup(let s): "leave \(scope(s))"
            case .note(let id, let text): "note \(id.map(n) ?? "run"): \(text)"
            case .finished(let success): "finished \(success)"
            }
        }
    }

    static func handle(_ machine: inout Machine, _ event: Machine.Event) -> [String] { lines(machine.handle(event)) }

    static func finish(_ machine: inout Machine, _ name: String, _ result: JobResult, outputs: [NamedValue] = []) -> [String] {
        _ = machine.handle(.claimed(id(name)))
        return lines(machine.handle(.jobFinished(id(name), JobOutcome(result: result, outputs: outputs))))
    }

    @Test func aJobIsReadyAsSoonAsWhatItNeedsHasFinishedNotWhenItsStageDoes() {
        var machine = Self.machine([Job(id: "a"), Job(id: "b"), Job(id: "c", needs: ["a"])])
        #expect(Self.handle(&machine, .start) == ["began a", "began b", "enqueue a", "enqueue b"])
        #expect(Self.finish(&machine, "a", .success) == ["began c", "enqueue c"])
        #expect(Self.finish(&machine, "c", .success) == [])
        #expect(Self.finish(&machine, "b", .success) == ["finished true"])
        #expect(machine.finishedOrder == [Self.id("a"), Self.id("c"), Self.id("b")])
    }

    @Test func aDiamondWaitsForBothSidesAndItsIfDecides() {
        var machine = Self.machine([Job(id: "a"), Job(id: "b", needs: ["a"]), Job(id: "c", needs: ["a"]), Job(id: "d", needs: ["b", "c"])])
        #expect(Self.handle(&machine, .start) == ["began a", "enqueue a"])
        #expect(Self.finish(&machine, "a", .success) == ["began b", "began c", "enqueue b", "enqueue c"])
        #expect(Self.finish(&machine, "c", .failure) == [])
        // d is decided once both finished: success() is false, so it is skipped without running.
        #expect(Self.finish(&machine, "b", .success) == ["note d: skipped (if: success())", "conclude d skipped", "finished false"])
        #expect(machine.result(of: Self.id("d")) == .skipped)
    }

    @Test func statusFunctionsSeeEveryAncestorAndNeedsHoldsTheDirectOnes() {
        // c needs b needs a; a fails, b runs anyway (always()), c's failure() looks at a too.
        var machine = Self.machine([
            Job(id: "a"), Job(id: "b", needs: ["a"], condition: "always()"),
            Job(id: "c", needs: ["b"], condition: "failure() && needs.b.result == 'success'"),
        ])
        _ = machine.handle(.start)
        #expect(Self.finish(&machine, "a", .failure) == ["began b", "enqueue b"])
        #expect(Self.finish(&machine, "b", .success) == ["began c", "enqueue c"])
    }

    @Test func matrixOutputsMergeInCompletionOrderAndContinueOnErrorCountsAsSuccess() {
        var machine = Self.machine([Job(id: "m", rows: 3, continueOnError: [2]), Job(id: "use", needs: ["m"])])
        _ = machine.handle(.start)
        _ = Self.finish(&machine, "m#1", .success, outputs: [NamedValue("v", "one"), NamedValue("w", "w1")])
        _ = Self.finish(&machine, "m#2", .failure, outputs: [NamedValue("v", "")])
        let actions = machine.handle(.jobFinished(Self.id("m#0"), JobOutcome(result: .success, outputs: [NamedValue("v", "zero")])))
        // A later row's non-empty value wins and moves last; the tolerated failure counts as success.
        #expect(actions.contains(.enqueue(Self.id("use"), needs: [NeedResult(job: "m", result: .success, outputs: [NamedValue("w", "w1"), NamedValue("v", "zero")])])))
        #expect(Self.finish(&machine, "use", .success) == ["finished true"])
    }

    @Test func aJobIfReadsNeedsOutputsAndVarsAndABadOneFailsTheJob() {
        let contexts = ExpressionObject([("vars", .object([("GO", .string("yes"))]))])
        var machine = Self.machine(
            [
                Job(id: "a"), Job(id: "b", needs: ["a"], condition: "needs.a.outputs.target == 'prod' && vars.GO == 'yes'"),
                Job(id: "c", needs: ["a"], condition: "fromJSON('{')"),
            ], contexts: contexts)
        _ = machine.handle(.start)
        let lines = Self.finish(&machine, "a", .success, outputs: [NamedValue("target", "prod")])
        #expect(lines.first == "began b")
        #expect(lines.contains { $0.hasPrefix("note c: error: if: ") })
        #expect(lines.contains("conclude c failure"))
    }

    @Test func failFastCancelsTheRestOfTheMatrixOnly() {
        var machine = Self.machine([Job(id: "t", rows: 3), Job(id: "lint")])
        _ = machine.handle(.start)
        _ = machine.handle(.claimed(Self.id("t#0")))
        _ = machine.handle(.claimed(Self.id("t#1")))
        // Row 0 fails: row 1 (running) is cancelled, row 2 (still queued) is withdrawn; lint goes on.
        #expect(Self.handle(&machine, .jobFinished(Self.id("t#0"), JobOutcome(result: .failure))) == ["cancel t#1", "withdraw t#2", "conclude t#2 cancelled"])
        #expect(Self.handle(&machine, .jobFinished(Self.id("t#1"), JobOutcome(result: .cancelled))) == [])
        #expect(Self.finish(&machine, "lint", .success) == ["finished false"])
    }

    @Test func withoutFailFastOrWithContinueOnErrorTheMatrixGoesOn() {
        var machine = Self.machine([Job(id: "t", rows: 2, failFast: false)])
        _ = machine.handle(.start)
        #expect(Self.finish(&machine, "t#0", .failure) == [])
        #expect(Self.finish(&machine, "t#1", .success) == ["finished false"])

        var tolerant = Self.machine([Job(id: "t", rows: 2, continueOnError: [0])])
        _ = tolerant.handle(.start)
        #expect(Self.finish(&tolerant, "t#0", .failure) == [])
        #expect(Self.finish(&tolerant, "t#1", .success) == ["finished true"])
    }

    @Test func maxParallelBoundsOneMatrixAndTheQueueHoldsTheRest() {
        var machine = Self.machine([Job(id: "t", rows: 3, maxParallel: 1), Job(id: "other")])
        #expect(Self.handle(&machine, .start) == ["began t#0", "began t#1", "began t#2", "began other", "enqueue t#0", "enqueue other"])
        #expect(Self.finish(&machine, "t#0", .success) == ["enqueue t#1"])
        #expect(machine.phase(of: Self.id("t#2")) == .ready)
    }

    @Test func cancellingTheRunCancelsRunningJobsWithdrawsQueuedOnesAndLetsAlwaysJobsRun() {
        var machine = Self.machine([Job(id: "a"), Job(id: "q"), Job(id: "b", needs: ["a"]), Job(id: "z", needs: ["a"], condition: "always()")])
        _ = machine.handle(.start)
        _ = machine.handle(.claimed(Self.id("a")))
        // q was queued and never claimed: withdrawn, and decided again with cancelled() true.
        #expect(Self.handle(&machine, .cancelRun) == ["cancel a", "withdraw q", "conclude q cancelled"])
        #expect(Self.handle(&machine, .jobFinished(Self.id("a"), JobOutcome(result: .cancelled))) == ["conclude b cancelled", "began z", "enqueue z"])
        #expect(Self.finish(&machine, "z", .success) == ["finished false"])
    }

    @Test func aLongChainRunsOneAtATimeInOrder() {
        let chain = (0..<100).map { Job(id: "j\($0)", needs: $0 == 0 ? [] : ["j\($0 - 1)"]) }
        var machine = Self.machine(chain)
        var actions = machine.handle(.start)
        var order: [String] = []
        while case .enqueue(let id, _)? = actions.last {
            order.append(id.job.id)
            _ = machine.handle(.claimed(id))
            actions = machine.handle(.jobFinished(id, JobOutcome(result: .success)))
        }
        #expect(order == chain.map(\.id))
        #expect(actions == [.finished(success: true)])
    }

    @Test func aWorkflowGroupIsTakenOnceSharedByItsJobsAndLeftAfterTheLast() {
        var machine = Self.machine([Job(id: "a"), Job(id: "b")], workflowGroup: .init(name: "deploy"))
        #expect(Self.handle(&machine, .start) == ["began a", "enter workflow 0 deploy", "began b"])
        #expect(Self.handle(&machine, .groupTurn(.workflow(0), .running)) == ["enqueue a", "enqueue b"])
        #expect(Self.finish(&machine, "a", .success) == [])
        #expect(Self.finish(&machine, "b", .success) == ["leave workflow 0", "finished true"])
    }

    @Test func aRunReplacedInItsGroupCancelsEveryWaitingJob() {
        var machine = Self.machine([Job(id: "a"), Job(id: "b")], workflowGroup: .init(name: "deploy"))
        _ = machine.handle(.start)
        #expect(Self.handle(&machine, .groupTurn(.workflow(0), .replaced)) == [
            "note a: cancelled: a newer run of concurrency group 'deploy' took this run's place", "conclude a cancelled",
            "note b: cancelled: a newer run of concurrency group 'deploy' took this run's place", "conclude b cancelled",
            "finished false",
        ])
    }

    @Test func cancelInProgressFromANewerRunCancelsTheRunningJobs() {
        var machine = Self.machine([Job(id: "a"), Job(id: "b", needs: ["a"])], workflowGroup: .init(name: "deploy", cancelInProgress: true))
        _ = machine.handle(.start)
        _ = machine.handle(.groupTurn(.workflow(0), .running))
        _ = machine.handle(.claimed(Self.id("a")))
        #expect(Self.handle(&machine, .groupCancelRequested(.workflow(0))) == [
            "note run: cancelling w: a newer run of concurrency group 'deploy' has cancel-in-progress", "cancel a",
        ])
        #expect(Self.handle(&machine, .jobFinished(Self.id("a"), JobOutcome(result: .cancelled))) == ["conclude b cancelled", "leave workflow 0", "finished false"])
    }

    @Test func aJobGroupIsEvaluatedWithNeedsAndAWaitingJobIsNotQueued() {
        var machine = Self.machine([
            Job(id: "build"), Job(id: "deploy", needs: ["build"], group: "deploy-${{ needs.build.outputs.target }}"), Job(id: "c", needs: ["build"]),
        ])
        _ = machine.handle(.start)
        // deploy waits for its group and takes no place in the queue; c is queued at once.
        #expect(Self.finish(&machine, "build", .success, outputs: [NamedValue("target", "prod")]) == [
            "began deploy", "enter job deploy deploy-prod", "began c", "enqueue c",
        ])
        #expect(Self.handle(&machine, .groupTurn(.job(Self.id("deploy")), .running)) == ["enqueue deploy"])
        #expect(Self.finish(&machine, "deploy", .success) == ["leave job deploy"])
    }

    @Test func aJobGroupThatIsTheWorkflowsGroupIsADeadlockAndAnUnusableOneFails() {
        var machine = Self.machine([Job(id: "a", group: "G"), Job(id: "b", group: "other")], workflowGroup: .init(name: "g"))
        _ = machine.handle(.start)
        #expect(Self.handle(&machine, .groupTurn(.workflow(0), .running)) == [
            "note a: cancelled: a deadlock for concurrency group 'G' was detected between the top level workflow and 'a'", "conclude a cancelled",
            "enter job b other",
        ])
        #expect(Self.handle(&machine, .groupTurn(.job(Self.id("b")), .unavailable("cannot open /x"))) == [
            "note b: error: concurrency group 'other' cannot be used: cannot open /x (GANTRY_STATE_DIR names the folder)", "conclude b failure",
            "leave workflow 0", "finished false",
        ])
    }

    @Test func failFastStopsARowWaitingForItsGroup() {
        var machine = Self.machine([Job(id: "m", rows: 2, group: "g")])
        _ = machine.handle(.start)
        _ = machine.handle(.groupTurn(.job(Self.id("m#0")), .running))
        #expect(Self.finish(&machine, "m#0", .failure) == ["leave job m#0", "leave job m#1"])
        #expect(Self.handle(&machine, .groupTurn(.job(Self.id("m#1")), .interrupted)) == [
            "note m#1: cancelled while waiting for concurrency group 'g'", "conclude m#1 cancelled", "finished false",
        ])
    }

    @Test func aJobWhoseMatrixIsKnownAtRunTimeBlocksItsDependentsUntilItsRowsFinish() {
        var machine = Self.machine([
            Job(id: "a"), Job(id: "m", needs: ["a"], maxParallel: 2, atRunTime: true), Job(id: "after", needs: ["m"]),
        ])
        #expect(Self.handle(&machine, .start) == ["began a", "enqueue a"])
        #expect(machine.phase(of: Self.id("m")) == .unexpanded)
        let actions = machine.handle(.jobFinished(Self.id("a"), JobOutcome(result: .success, outputs: [NamedValue("m", "[1,2,3]")])))
        #expect(actions == [.expand(JobKey(workflow: 0, id: "m"), needs: [NeedResult(job: "a", result: .success, outputs: [NamedValue("m", "[1,2,3]")])])])
        let rows = Self.rows(of: Job(id: "m", rows: 3))
        // The rows take the job's place; max-parallel holds for them.
        #expect(Self.handle(&machine, .instancesAdded(JobKey(workflow: 0, id: "m"), rows)) == [
            "began m#0", "began m#1", "began m#2", "enqueue m#0", "enqueue m#1",
        ])
        #expect(machine.order.map(\.row) == [0, 0, 1, 2, 0])
        #expect(Self.finish(&machine, "m#0", .success) == ["enqueue m#2"])
        #expect(Self.finish(&machine, "m#1", .success) == [])
        #expect(Self.finish(&machine, "m#2", .success) == ["began after", "enqueue after"])
    }

    @Test func aMatrixThatCannotBeComputedFailsTheJobAndItsDependentsAreSkipped() {
        var machine = Self.machine([Job(id: "m", atRunTime: true), Job(id: "after", needs: ["m"])])
        #expect(Self.handle(&machine, .start) == ["expand m"])
        #expect(Self.handle(&machine, .expansionFailed(JobKey(workflow: 0, id: "m"), "error: matrix is empty")) == [
            "note m#0: error: matrix is empty", "conclude m#0 failure", "note after: skipped (if: success())", "conclude after skipped", "finished false",
        ])
    }

    @Test func aMatrixWithNoRowsLeftIsSkippedAndSoAreItsDependents() {
        var machine = Self.machine([Job(id: "m", atRunTime: true), Job(id: "after", needs: ["m"])])
        _ = machine.handle(.start)
        #expect(Self.handle(&machine, .instancesAdded(JobKey(workflow: 0, id: "m"), [])) == [
            "note m#0: warning: the matrix of job 'm' has no rows left; the job does not run", "conclude m#0 skipped",
            "note after: skipped (if: success())", "conclude after skipped", "finished true",
        ])
    }

    @Test func aLostRunnerFailsItsJobAndDependentsFollowTheirIf() {
        var machine = Self.machine([Job(id: "a"), Job(id: "b", needs: ["a"]), Job(id: "c", needs: ["a"], condition: "always()")])
        _ = machine.handle(.start)
        _ = machine.handle(.claimed(Self.id("a")))
        let lines = Self.handle(&machine, .leaseLost(Self.id("a")))
        #expect(lines == [
            "note a: error: the runner lost communication with the server (its lease expired); the job's remaining steps did not run",
            "conclude a failure", "note b: skipped (if: success())", "conclude b skipped", "began c", "enqueue c",
        ])
        // A late result from the lost runner changes nothing.
        #expect(Self.handle(&machine, .jobFinished(Self.id("a"), JobOutcome(result: .success))) == [])
        #expect(machine.result(of: Self.id("a")) == .failure)
    }
}

/// A run continued by a new process asks again for what the old one never answered.
@Suite struct RunStateMachineResumeTests {
    typealias Job = RunStateMachineTests.Job

    @Test func aResumedRunEntersItsGroupAgainAndKeepsItsQueue() {
        let group = RunDefinition.Group(name: "deploy")
        var machine = RunStateMachineTests.machine([Job(id: "a"), Job(id: "b", needs: ["a"])], workflowGroup: group)
        let a = InstanceID(run: RunStateMachineTests.run, job: JobKey(workflow: 0, id: "a"))
        #expect(machine.handle(.start) == [.began(a), .enterGroup(.workflow(0), group)])
        // The process died before the turn came: the new one waits for the group again.
        #expect(machine.handle(.resumed) == [.enterGroup(.workflow(0), group)])
        let turn = machine.handle(.groupTurn(.workflow(0), .running))
        #expect(turn.contains(.enqueue(a, needs: [])))
        // Held when the process died: entered again, and nothing already queued is queued twice.
        #expect(machine.handle(.resumed) == [.enterGroup(.workflow(0), group)])
        #expect(!machine.handle(.groupTurn(.workflow(0), .running)).contains(.enqueue(a, needs: [])))
    }
}
