import Testing
import WorkflowExecution

/// A re-run of failed jobs (GitHub's "Re-run failed jobs"): what succeeded in the attempt before is
/// concluded at once with its outputs, everything else decides and runs again.
@Suite struct RunStateMachineRerunTests {
    typealias T = RunStateMachineTests

    @Test func succeededJobsAreKeptWithTheirOutputsAndTheRestRunsAgain() {
        var machine = T.machine([
            T.Job(id: "build"), T.Job(id: "m", rows: 2), T.Job(id: "test", needs: ["build", "m"]), T.Job(id: "deploy", needs: ["test"]),
        ])
        var definition = machine.definition
        definition.reused = [
            .init(job: JobKey(workflow: 0, id: "build"), row: 0, outcome: JobOutcome(result: .success, outputs: [NamedValue("v", "42")]), attempt: 1),
            .init(job: JobKey(workflow: 0, id: "m"), row: 1, outcome: JobOutcome(result: .success), attempt: 2),
        ]
        machine = RunStateMachine(definition)
        // build and m#1 are not run; m#0 (failed before) is.
        #expect(T.handle(&machine, .start) == [
            "note build: succeeded in attempt 1; not run again", "conclude build success", "began m#0",
            "note m#1: succeeded in attempt 2; not run again", "conclude m#1 success", "enqueue m#0",
        ])
        let actions = machine.handle(.jobFinished(T.id("m#0"), JobOutcome(result: .success)))
        #expect(actions.contains(.enqueue(T.id("test"), needs: [
            NeedResult(job: "build", result: .success, outputs: [NamedValue("v", "42")]), NeedResult(job: "m", result: .success),
        ])))
        #expect(machine.outcome(of: T.id("build"))?.outputs == [NamedValue("v", "42")])
        _ = T.finish(&machine, "test", .success)
        #expect(T.finish(&machine, "deploy", .success) == ["finished true"])
    }

    @Test func rowsOfAMatrixKnownOnlyAtRunTimeAreKeptToo() {
        let job = T.Job(id: "m", atRunTime: true)
        var definition = T.machine([job]).definition
        definition.reused = [.init(job: JobKey(workflow: 0, id: "m"), row: 1, outcome: JobOutcome(result: .success), attempt: 1)]
        var machine = RunStateMachine(definition)
        #expect(T.handle(&machine, .start) == ["expand m"])
        // Row 1 succeeded before: it is concluded with its outcome; rows 0 and 2 run.
        #expect(T.handle(&machine, .instancesAdded(JobKey(workflow: 0, id: "m"), T.rows(of: job, count: 3))) == [
            "began m#0", "note m#1: succeeded in attempt 1; not run again", "conclude m#1 success", "began m#2", "enqueue m#0", "enqueue m#2",
        ])
    }

    @Test func aDefinitionWithoutReusedDecodesAsBefore() throws {
        let machine = T.machine([T.Job(id: "a")])
        let text = CodableJSON.encode(machine.definition)
        #expect(!text.contains("reused"))
        let decoded = try CodableJSON.decode(RunDefinition.self, from: text)
        #expect(decoded.reused == nil)
        #expect(decoded.jobs.map(\.key) == machine.definition.jobs.map(\.key))
    }
}
