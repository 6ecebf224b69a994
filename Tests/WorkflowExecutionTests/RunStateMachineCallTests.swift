import Testing
import WorkflowExecution
import WorkflowExpressions
import WorkflowPlanning

/// Jobs that call reusable workflows, as the machine decides them: the call starts when its `if`
/// holds and its inputs check out, its workflow's jobs start with it, and it ends when they have.
@Suite struct RunStateMachineCallTests {
    typealias Job = RunStateMachineTests.Job
    static let run = RunStateMachineTests.run

    /// `prep` → `call` (calling build.yml: `compile` → `test`) → `report`.
    static func machine(
        call: RunDefinition.Call, condition: String? = nil, compileCondition: String? = nil
    ) -> RunStateMachine {
        let caller = InstanceID(run: run, job: JobKey(workflow: 0, id: "call"))
        let path = ["call#0"]
        func rows(_ id: String) -> [RunDefinition.Row] { RunStateMachineTests.rows(of: Job(id: id)) }
        let jobs = [
            RunDefinition.JobEntry(key: JobKey(workflow: 0, id: "prep"), rows: rows("prep")),
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: "call"), call: call, needs: [.init(name: "prep", job: JobKey(workflow: 0, id: "prep"))],
                condition: condition, rows: rows("call")),
            RunDefinition.JobEntry(key: JobKey(workflow: 0, callPath: path, id: "compile"), parent: caller, condition: compileCondition, rows: rows("compile")),
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, callPath: path, id: "test"), parent: caller,
                needs: [.init(name: "compile", job: JobKey(workflow: 0, callPath: path, id: "compile"))], rows: rows("test")),
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: "report"), needs: [.init(name: "call", job: JobKey(workflow: 0, id: "call"))], condition: "always()",
                rows: rows("report")),
        ]
        let contexts = ExpressionObject([("inputs", .object([("outer", .string("caller's"))]))])
        return RunStateMachine(RunDefinition(run: run, workflows: [.init(file: "ci.yml", name: "ci", contexts: contexts)], jobs: jobs))
    }

    static let build = RunDefinition.Call(
        uses: "./.github/workflows/build.yml",
        with: [NamedValue("greeting", "hi ${{ needs.prep.outputs.who }}"), NamedValue("count", "3")],
        inputs: [
            .init(name: "greeting", required: true), .init(name: "count", type: "number", defaultValue: "1"),
            .init(name: "debug", type: "boolean", defaultValue: "false"),
        ],
        outputs: [NamedValue("artifact", "${{ jobs.compile.outputs.file }}-${{ inputs.count }}"), NamedValue("result", "${{ jobs.test.result }}")])

    static func id(_ job: String, inCall: Bool = false) -> InstanceID {
        InstanceID(run: run, job: JobKey(workflow: 0, callPath: inCall ? ["call#0"] : [], id: job))
    }

    static func finish(_ machine: inout RunStateMachine, _ id: InstanceID, _ result: JobResult, outputs: [NamedValue] = []) -> [RunStateMachine.Action] {
        _ = machine.handle(.claimed(id))
        return machine.handle(.jobFinished(id, JobOutcome(result: result, outputs: outputs)))
    }

    @Test func aCallStartsItsWorkflowsJobsWithTypedInputsAndEndsWithTheirOutputs() {
        var machine = Self.machine(call: Self.build)
        #expect(machine.handle(.start) == [.began(Self.id("prep")), .enqueue(Self.id("prep"), needs: [])])
        let started = Self.finish(&machine, Self.id("prep"), .success, outputs: [NamedValue("who", "Mona")])
        // The call takes no worker: its first job is queued at once, with the call's inputs in its contexts.
        #expect(started == [.began(Self.id("call")), .began(Self.id("compile", inCall: true)), .enqueue(Self.id("compile", inCall: true), needs: [])])
        #expect(machine.phase(of: Self.id("call")) == .calling)
        let inputs = machine.contexts(for: JobKey(workflow: 0, callPath: ["call#0"], id: "compile"))["inputs"]
        #expect(inputs.map(JSONText.compact) == #"{"greeting":"hi Mona","count":3,"debug":false}"#)
        // The caller's own jobs keep the caller's inputs.
        #expect(machine.contexts(for: JobKey(workflow: 0, id: "report"))["inputs"].map(JSONText.compact) == #"{"outer":"caller's"}"#)
        _ = Self.finish(&machine, Self.id("compile", inCall: true), .success, outputs: [NamedValue("file", "app.tar")])
        let ended = Self.finish(&machine, Self.id("test", inCall: true), .success)
        #expect(ended == [.conclude(Self.id("call"), .success), .began(Self.id("report")), .enqueue(Self.id("report"), needs: [
            NeedResult(job: "call", result: .success, outputs: [NamedValue("artifact", "app.tar-3"), NamedValue("result", "success")]),
        ])])
    }

    @Test func aFailingJobFailsTheCallAndAFalseIfSkipsItsWholeWorkflow() {
        var failing = Self.machine(call: Self.build)
        _ = failing.handle(.start)
        _ = Self.finish(&failing, Self.id("prep"), .success)
        let failed = Self.finish(&failing, Self.id("compile", inCall: true), .failure)
        #expect(failed.contains(.note(Self.id("test", inCall: true), "skipped (if: success())")))
        #expect(failed.contains(.conclude(Self.id("call"), .failure)))
        #expect(failing.result(of: Self.id("call")) == .failure)

        var skipped = Self.machine(call: Self.build, condition: "false")
        _ = skipped.handle(.start)
        let actions = Self.finish(&skipped, Self.id("prep"), .success)
        #expect(actions.contains(.conclude(Self.id("call"), .skipped)))
        #expect(actions.contains(.conclude(Self.id("compile", inCall: true), .skipped)))
        #expect(actions.contains(.conclude(Self.id("test", inCall: true), .skipped)))
        #expect(!actions.contains { if case .enqueue(let id, _) = $0 { return id.job.callPath == ["call#0"] } else { return false } })
    }

    @Test func aMissingRequiredInputOrAnUnknownOneStopsTheCall() {
        var missing = Self.machine(call: RunDefinition.Call(uses: "./b.yml", inputs: [.init(name: "greeting", required: true)]))
        _ = missing.handle(.start)
        let actions = Self.finish(&missing, Self.id("prep"), .success)
        #expect(actions.contains(.note(Self.id("call"), "error: Input greeting is required, but not provided while calling './b.yml'")))
        #expect(missing.result(of: Self.id("call")) == .failure)
        #expect(missing.result(of: Self.id("compile", inCall: true)) == .cancelled)

        var unknown = Self.machine(call: RunDefinition.Call(uses: "./b.yml", with: [NamedValue("nope", "1")]))
        _ = unknown.handle(.start)
        #expect(Self.finish(&unknown, Self.id("prep"), .success).contains(.note(Self.id("call"), "error: Invalid input, nope is not defined in the referenced workflow './b.yml'")))

        var typed = Self.machine(call: RunDefinition.Call(uses: "./b.yml", with: [NamedValue("n", "many")], inputs: [.init(name: "n", type: "number")]))
        _ = typed.handle(.start)
        #expect(Self.finish(&typed, Self.id("prep"), .success).contains(.note(Self.id("call"), #"error: Input n of './b.yml' is a number; got "many""#)))
    }

    @Test func cancellingTheRunStopsTheJobsOfACallAndTheCallEndsCancelled() {
        var machine = Self.machine(call: Self.build)
        _ = machine.handle(.start)
        _ = Self.finish(&machine, Self.id("prep"), .success)
        _ = machine.handle(.claimed(Self.id("compile", inCall: true)))
        #expect(machine.handle(.cancelRun) == [.cancel(Self.id("compile", inCall: true))])
        let actions = machine.handle(.jobFinished(Self.id("compile", inCall: true), JobOutcome(result: .cancelled)))
        #expect(actions.contains(.conclude(Self.id("test", inCall: true), .cancelled)))
        #expect(actions.contains(.conclude(Self.id("call"), .cancelled)))
        // report has `always()`: it still runs.
        #expect(actions.contains(.began(Self.id("report"))))
    }
}
