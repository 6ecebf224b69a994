import Foundation
import RunStoreSQLite
import Testing
import WorkflowExecution
import WorkflowExpressions
import WorkflowPlanning

/// The SQLite store keeps what the in-memory one keeps, across processes: a store opened again on the
/// same file has every run's machine (its events replayed), the queue, deliveries and counters; a claim
/// of the process before is lapsed and concluded as a lost runner by the lease sweep.
@Suite struct SQLiteRunStoreTests {
    static let run = RunID("r1")

    static func instance(_ id: String, runsOn: [String]) -> JobInstance {
        JobInstance(
            id: id, job: id, name: id, matrix: [], matrixAtRunTime: false, needs: [], runsOn: runsOn,
            backend: "host", container: nil, services: [], condition: nil, concurrencyGroup: nil,
            cancelInProgress: nil, timeoutMinutes: "360", continueOnError: nil, uses: nil, failFast: nil, maxParallel: nil)
    }

    /// Jobs by id with what they need and the labels they ask for.
    static func definition(_ jobs: [(String, [String], [String])], run: RunID = run) -> RunDefinition {
        let entries = jobs.map { id, needs, runsOn in
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: id), needs: needs.map { .init(name: $0, job: JobKey(workflow: 0, id: $0)) },
                rows: [RunDefinition.Row(index: 0, instance: instance(id, runsOn: runsOn))])
        }
        let contexts = ExpressionObject([("github", .object([("sha", .string("abc")), ("run_attempt", .number(1))]))])
        return RunDefinition(run: run, workflows: [.init(file: "w.yml", name: "w", contexts: contexts)], jobs: entries)
    }

    final class Scratch {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-store-\(UUID().uuidString)").path
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var database: String { path + "/serve.sqlite" }
    }

    static func key(_ id: String, run: RunID = run) -> InstanceID { InstanceID(run: run, job: JobKey(workflow: 0, id: id)) }

    @Test func aReopenedStoreHasTheRunsTheQueueAndTheDeliveries() async throws {
        let scratch = Scratch()
        do {
            let store = try SQLiteRunStore(path: scratch.database)
            let actions = try await store.accept(
                [(Self.definition([("a", [], []), ("gpu", [], ["self-hosted", "GPU"]), ("b", ["a"], [])]), record: #"{"repo":"o/n"}"#)],
                delivery: "d-1", now: 100)
            #expect(actions?.first?.contains(.enqueue(Self.key("a"), needs: [])) == true)
            // The same delivery again writes nothing.
            #expect(try await store.accept([(Self.definition([("a", [], [])], run: RunID("other")), record: "{}")], delivery: "d-1", now: 101) == nil)
            #expect(await store.machine(RunID("other")) == nil)
            let worker = WorkerIdentity(name: "n1", labels: ["self-hosted", "linux"])
            let a = try #require(try await store.claim(worker: worker, run: nil, now: 100, lease: 60))
            #expect(a.instance == Self.key("a"))
            let done = try await store.complete(a, JobOutcome(result: .success, outputs: [NamedValue("x", "1")]))
            #expect(done.contains(.enqueue(Self.key("b"), needs: [NeedResult(job: "a", result: .success, outputs: [NamedValue("x", "1")])])))
            // b is claimed and the process dies with it.
            _ = try #require(try await store.claim(worker: worker, run: Self.run, now: 101, lease: 60))
            #expect(try await store.next("run") == 1)
            #expect(try await store.next("run") == 2)
        }
        let store = try SQLiteRunStore(path: scratch.database)
        #expect(try await store.delivery("d-1") == [Self.run])
        #expect(try await store.delivery("d-2") == nil)
        #expect(try await store.next("run") == 3)
        let machine = try #require(await store.machine(Self.run))
        #expect(machine.result(of: Self.key("a")) == .success)
        #expect(machine.outcome(of: Self.key("a"))?.outputs == [NamedValue("x", "1")])
        #expect(machine.phase(of: Self.key("b")) == .running)
        guard case .object(let github)? = machine.definition.workflows[0].contexts["github"] else { Issue.record("no github context"); return }
        #expect(github["sha"]?.stringValue == "abc")
        #expect(github["run_attempt"]?.numberValue == 1)
        // The GPU job waits for a runner with its labels, with the time it was queued.
        let queued = try await store.queuedJobs()
        #expect(queued.map(\.instance) == [Self.key("gpu")])
        #expect(queued.map(\.runsOn) == [["self-hosted", "GPU"]])
        #expect(queued.map(\.since) == [100])
        #expect(try await store.runs(unfinishedOnly: true).map(\.record) == [#"{"repo":"o/n"}"#])
        // The dead process's claim lapsed: the sweep concludes it as lost.
        let lost = try await store.expireLeases(now: 102)
        #expect(lost.count == 1)
        #expect(lost.first?.1.contains(.conclude(Self.key("b"), .failure)) == true)
        #expect(await store.machine(Self.run)?.result(of: Self.key("b")) == .failure)
        let gpuWorker = WorkerIdentity(name: "n2", labels: ["SELF-HOSTED", "gpu"])
        let gpu = try #require(try await store.claim(worker: gpuWorker, run: nil, now: 103, lease: 60))
        #expect(try await store.complete(gpu, JobOutcome(result: .success)).last == .finished(success: false))
        // A finished run's machine is no longer held, but replayed from its log when asked for.
        let finished = try #require(await store.machine(Self.run))
        #expect(finished.isFinished && finished.succeeded == false)
        #expect(finished.result(of: Self.key("gpu")) == .success)
        #expect(await store.machine(RunID("never")) == nil)
        let stored = try #require(try await store.run(Self.run))
        #expect(stored.success == false)
        #expect(stored.finished != nil)
        #expect(try await store.queuedJobs().isEmpty)
    }

    @Test func aLateResultOfALapsedClaimChangesNothingAndClaimsStayPerRun() async throws {
        let scratch = Scratch()
        let store = try SQLiteRunStore(path: scratch.database)
        _ = try await store.accept(
            [(Self.definition([("a", [], [])]), record: "{}"), (Self.definition([("a", [], [])], run: RunID("r2")), record: "{}")], delivery: nil, now: 0)
        let worker = WorkerIdentity(name: "w")
        let a2 = try #require(try await store.claim(worker: worker, run: RunID("r2"), now: 0, lease: 10))
        #expect(a2.instance.run == RunID("r2"))
        #expect(try await store.renew(a2, now: 5, lease: 10))
        #expect(try await store.expireLeases(now: 12).isEmpty)
        #expect(try await store.expireLeases(now: 16).count == 1)
        #expect(try await store.renew(a2, now: 16, lease: 10) == false)
        #expect(try await store.complete(a2, JobOutcome(result: .success)) == [])
        #expect(await store.machine(RunID("r2"))?.result(of: Self.key("a", run: RunID("r2"))) == .failure)
        #expect(try await store.runs().count == 2)
        await #expect(throws: RunStoreError("no run nope")) { try await store.apply(RunID("nope"), .start) }
    }

    @Test func aFileThatIsNotADatabaseIsAClearError() throws {
        let scratch = Scratch()
        try Data("not sqlite at all, but long enough to be read as a header of a database file".utf8).write(to: URL(fileURLWithPath: scratch.database))
        let error = #expect(throws: RunStoreError.self) { try SQLiteRunStore(path: scratch.database) }
        #expect(error?.description.hasPrefix("cannot open the run store \(scratch.database): ") == true)
    }
}
