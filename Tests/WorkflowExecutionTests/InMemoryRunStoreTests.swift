import Testing
import WorkflowExecution
import WorkflowExpressions
import WorkflowPlanning

/// The store's transactions: the machine and the queue change together; claims follow labels and
/// leases; a lapsed lease concludes the job as a lost runner.
@Suite struct InMemoryRunStoreTests {
    typealias Job = RunStateMachineTests.Job

    static func definition(_ jobs: [Job], run: RunID = RunStateMachineTests.run) -> RunDefinition {
        let entries = jobs.map { job in
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: job.id), needs: job.needs.map { .init(name: $0, job: JobKey(workflow: 0, id: $0)) },
                rows: RunStateMachineTests.rows(of: job))
        }
        return RunDefinition(run: run, workflows: [.init(file: "w.yml", name: "w", contexts: ExpressionObject([]))], jobs: entries)
    }

    @Test func aWorkerTakesOnlyJobsWhoseLabelsItHasAndWithdrawnJobsLeaveTheQueue() async throws {
        let store = InMemoryRunStore()
        _ = try await store.create(Self.definition([
            Job(id: "gpu", runsOn: ["self-hosted", "GPU"]), Job(id: "plain", runsOn: ["self-hosted"]), Job(id: "later"),
        ]))
        #expect(await store.queued == 3)
        let linux = WorkerIdentity(name: "linux", labels: ["self-hosted", "linux"])
        let first = try await store.claim(worker: linux, now: 0, lease: 10)
        #expect(first?.instance.job.id == "plain")
        // Labels match ignoring case.
        let gpu = try await store.claim(worker: WorkerIdentity(name: "g", labels: ["Self-Hosted", "gpu"]), now: 0, lease: 10)
        #expect(gpu?.instance.job.id == "gpu")
        #expect(try await store.machine(RunStateMachineTests.run)?.phase(of: gpu!.instance) == .running)
        // A job without `runs-on` labels runs anywhere.
        #expect(try await store.claim(worker: WorkerIdentity(name: "none", labels: []), now: 0, lease: 10)?.instance.job.id == "later")
        _ = try await store.create(Self.definition([Job(id: "gpu", runsOn: ["gpu"])], run: RunID("r2")))
        #expect(try await store.claim(worker: linux, now: 0, lease: 10) == nil)
        // Ctrl-C: the job nobody took yet leaves the queue in the same transaction.
        #expect(await store.queued == 1)
        _ = try await store.apply(RunID("r2"), .cancelRun)
        #expect(await store.queued == 0)
    }

    @Test func completingAClaimFeedsItsOutcomeToTheMachineAndQueuesWhatBecameReady() async throws {
        let store = InMemoryRunStore()
        _ = try await store.create(Self.definition([Job(id: "a"), Job(id: "b", needs: ["a"])]))
        let worker = WorkerIdentity(name: "w")
        let a = try #require(try await store.claim(worker: worker, now: 0, lease: 10))
        let actions = try await store.complete(a, JobOutcome(result: .success, outputs: [NamedValue("x", "1")]))
        #expect(actions.contains(.enqueue(InstanceID(run: RunStateMachineTests.run, job: JobKey(workflow: 0, id: "b")), needs: [
            NeedResult(job: "a", result: .success, outputs: [NamedValue("x", "1")]),
        ])))
        let b = try #require(try await store.claim(worker: worker, now: 1, lease: 10))
        #expect(b.needs == [NeedResult(job: "a", result: .success, outputs: [NamedValue("x", "1")])])
        #expect(try await store.complete(b, JobOutcome(result: .success)).last == .finished(success: true))
    }

    @Test func aLeaseThatIsNotRenewedLapsesAndTheLateResultIsIgnored() async throws {
        let store = InMemoryRunStore()
        _ = try await store.create(Self.definition([Job(id: "a"), Job(id: "b")]))
        let worker = WorkerIdentity(name: "w")
        let a = try #require(try await store.claim(worker: worker, now: 0, lease: 10))
        let b = try #require(try await store.claim(worker: worker, now: 0, lease: 10))
        #expect(try await store.renew(b, now: 8, lease: 10))
        #expect(try await store.expireLeases(now: 9).isEmpty)
        let expired = try await store.expireLeases(now: 12)
        #expect(expired.count == 1)
        #expect(expired.first?.1.contains(.conclude(a.instance, .failure)) == true)
        #expect(try await store.renew(a, now: 12, lease: 10) == false)
        #expect(try await store.complete(a, JobOutcome(result: .success)) == [])
        #expect(try await store.machine(RunStateMachineTests.run)?.result(of: a.instance) == .failure)
        #expect(try await store.complete(b, JobOutcome(result: .success)).last == .finished(success: false))
    }

    @Test func wakeUpsSignalQueuedWorkToEveryListener() async throws {
        let store = InMemoryRunStore()
        let one = store.wakeUps()
        let two = store.wakeUps()
        // Let both listeners register before the first instance is queued.
        while await store.listenerCount < 2 { await Task.yield() }
        _ = try await store.create(Self.definition([Job(id: "a")]))
        var first = one.makeAsyncIterator()
        var second = two.makeAsyncIterator()
        #expect(await first.next() != nil)
        #expect(await second.next() != nil)
        await #expect(throws: RunStoreError("no run nope")) { try await store.apply(RunID("nope"), .start) }
    }
}
