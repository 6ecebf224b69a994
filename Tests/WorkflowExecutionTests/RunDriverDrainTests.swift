import Foundation
import Synchronization
import Testing
import WorkflowExecution
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

/// `RunDriver.drain`: the driver stops taking jobs, lets running ones end (cancelling them after the
/// timeout), and leaves the rest queued in its store — what `gantry serve` does on SIGTERM.
@Suite struct RunDriverDrainTests {
    /// Events and lines as they come, in order.
    final class Recorder: RunOutput {
        private let log = Mutex<[String]>([])
        var lines: [String] { log.withLock { $0 } }
        func line(_ instance: String, _ text: String) { log.withLock { $0.append("[\(instance)] \(text)") } }
        func event(_ event: RunEvent) {
            switch event {
            case .jobStarted(let job): log.withLock { $0.append("started \(job)") }
            case .jobFinished(let job, let result, _): log.withLock { $0.append("finished \(job) \(result.rawValue)") }
            default: break
            }
        }
        /// Waits (up to 10 s) until a line satisfies `predicate`.
        func waitFor(_ predicate: (String) -> Bool) async {
            for _ in 0..<1000 where !lines.contains(where: predicate) { try? await Task.sleep(for: .milliseconds(10)) }
        }
    }

    /// A driver for `yaml` (jobs run on the host, one at a time) over a fresh in-memory store.
    static func driver(_ yaml: String, root: String, output: Recorder) throws -> (RunDriver, InMemoryRunStore) {
        let workflow = try #require(WorkflowParser.parse(yaml, file: "w.yml").workflow)
        let event = PlanEvent(name: "push", git: GitFacts(sha: "0123456789abcdef0123456789abcdef01234567", ref: "refs/heads/main"))
        let (plan, _) = Planner.plan([workflow], PlanRequest(event: event))
        let context = RunContext(event: event, root: root, hostEnvironment: ProcessInfo.processInfo.environment.map { ($0.key, $0.value) })
        let contexts = plan.workflows.map { context.forWorkflow($0) }
        let store = InMemoryRunStore()
        let definition = RunDefinition(run: RunID("drain-test"), plan: plan, workflows: [workflow], runContexts: contexts)
        return (RunDriver(definition: definition, workflows: [workflow], contexts: contexts, store: store, capacity: 1, output: output), store)
    }

    static func scratch() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-drain-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    @Test func aDrainLetsTheRunningJobFinishAndStartsNoOther() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let output = Recorder()
        let (driver, store) = try Self.driver("""
            on: push
            jobs:
              first:
                runs-on: ubuntu-latest
                steps:
                  - run: echo begun; while [ ! -e "\(root)/release" ]; do sleep 0.02; done; echo done
              second:
                runs-on: ubuntu-latest
                steps:
                  - run: echo second ran
            """, root: root, output: output)
        let run = Task { await driver.run() }
        await output.waitFor { $0 == "[first] begun" }
        // `first` ends only once the drain has begun, however slow the machine.
        let drain = Task { await driver.drain(timeout: 30) }
        while !(await driver.isDraining) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(FileManager.default.createFile(atPath: root + "/release", contents: nil))
        let clean = await drain.value
        let summary = await run.value
        #expect(clean)
        // `second` was ready (began) but never claimed: it printed nothing and did not finish.
        #expect(output.lines.filter { $0.hasPrefix("[") && !$0.contains("▶") && !$0.contains("✓") } == ["[first] begun", "[first] done"])
        #expect(output.lines.filter { $0.hasPrefix("finished") } == ["finished first success"])
        #expect(summary.success == false)
        // The job that did not start is still queued: another worker claims it.
        let claim = try await store.claim(worker: WorkerIdentity(name: "other"), now: 0, lease: 60)
        #expect(claim?.instance.job.id == "second")
    }

    @Test func aDrainCancelsWhatOutlivesItsTimeout() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let output = Recorder()
        let (driver, _) = try Self.driver("""
            on: push
            jobs:
              slow:
                runs-on: ubuntu-latest
                steps:
                  - run: echo begun; sleep 30
                  - if: always()
                    run: echo cleanup
            """, root: root, output: output)
        let run = Task { await driver.run() }
        await output.waitFor { $0 == "[slow] begun" }
        let clean = await driver.drain(timeout: 0.3)
        _ = await run.value
        #expect(!clean)
        #expect(output.lines.contains("[slow] cleanup"))
        #expect(output.lines.last == "finished slow cancelled")
    }
}
