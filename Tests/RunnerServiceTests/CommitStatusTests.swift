import WebhookReading
import Logging
import RunnerService
import Synchronization
import Testing
import WorkflowExecution

/// Commit statuses: what each job result becomes, the request body, and the reporter's order and
/// retries (the network side is tested end to end against a recording HTTP server in ServeTests).
@Suite struct CommitStatusTests {
    static let record = ServiceRunRecord(
        intake: Intake(repository: "octo/app", event: "push", ref: "refs/heads/main", sha: "abc", payload: "{}", delivery: "d", forge: .gitea),
        sha: "abc", workflow: ".github/workflows/ci.yml", workflowName: "CI", runNumber: 3)

    @Test func eachResultBecomesGitHubsStateWithItsWording() {
        func status(_ result: JobResult?, _ seconds: Double) -> (String, String) {
            let made = CommitStatus.job("build (linux)", of: Self.record, result: result, seconds: seconds)
            return (made.state.rawValue, made.description)
        }
        #expect(status(nil, 0) == ("pending", "In progress"))
        #expect(status(.success, 12.4) == ("success", "Successful in 12s"))
        #expect(status(.failure, 185) == ("failure", "Failing after 3m 5s"))
        #expect(status(.cancelled, 3725) == ("error", "Cancelled after 1h 2m"))
        #expect(status(.skipped, 0) == ("success", "Skipped"))
        let made = CommitStatus.job("build (linux)", of: Self.record, result: .success, seconds: 1)
        #expect(made.context == "CI / build (linux) (push)")
        #expect(made.path == "/repos/octo/app/statuses/abc")
        #expect(made.forge == .gitea)
        #expect(made.json == #"{"state":"success","context":"CI / build (linux) (push)","description":"Successful in 1s"}"#)
        // GitHub refuses descriptions over 140 characters.
        let long = CommitStatus(repository: "o/r", sha: "s", state: .failure, context: "c", description: String(repeating: "é", count: 200), forge: .github)
        #expect(long.description.count == 140)
    }

    /// A sink that fails the first `failures` sends, then records.
    final class Sink: StatusSink {
        let state = Mutex<(failures: Int, sent: [String])>((0, []))
        init(failures: Int) { state.withLock { $0.failures = failures } }
        func send(_ status: CommitStatus) async throws {
            try state.withLock { state in
                if state.failures > 0 {
                    state.failures -= 1
                    throw RunStoreError("the forge is down")
                }
                state.sent.append("\(status.context) \(status.state.rawValue)")
            }
        }
        var sent: [String] { state.withLock { $0.sent } }
    }

    @Test func statusesAreSentInOrderAndRetriedWithoutOvertaking() async {
        let sink = Sink(failures: 2)
        let reporter = StatusReporter(sink: sink, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), backoff: [0.01, 0.01, 0.01])
        for (job, result) in [("a", nil), ("b", nil), ("a", JobResult.success), ("b", .failure)] as [(String, JobResult?)] {
            reporter.post(.job(job, of: Self.record, result: result, seconds: 1))
        }
        await reporter.flush(timeout: 300)
        #expect(sink.sent == ["CI / a (push) pending", "CI / b (push) pending", "CI / a (push) success", "CI / b (push) failure"])
    }

    /// A sink whose forge is down for one repository.
    final class HalfDown: StatusSink {
        let sent = Mutex<[String]>([])
        func send(_ status: CommitStatus) async throws {
            if status.repository == "octo/down" { throw RunStoreError("no answer") }
            sent.withLock { $0.append(status.repository + " " + status.state.rawValue) }
        }
    }

    @Test func aRepositoryWhoseForgeFailsDoesNotHoldUpAnothers() async throws {
        let sink = HalfDown()
        // The failing repository's status waits a minute between tries; the other's goes at once.
        let reporter = StatusReporter(sink: sink, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), backoff: [60])
        var down = Self.record
        down.intake.repository = "octo/down"
        reporter.post(.job("a", of: down, result: nil, seconds: 0))
        reporter.post(.job("a", of: Self.record, result: nil, seconds: 0))
        reporter.post(.job("a", of: Self.record, result: .success, seconds: 1))
        let deadline = ContinuousClock.now + .seconds(120)
        while sink.sent.withLock({ $0.count }) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(sink.sent.withLock { $0 } == ["octo/app pending", "octo/app success"])
    }

    /// A sink that refuses the first status for good.
    final class Refusing: StatusSink {
        let attempts = Mutex(0)
        let sent = Mutex<[String]>([])
        func send(_ status: CommitStatus) async throws {
            let attempt = attempts.withLock { n in
                n += 1
                return n
            }
            if attempt == 1 { throw StatusRefused("the forge answered 404") }
            sent.withLock { $0.append(status.state.rawValue) }
        }
    }

    @Test func aStatusTheForgeRefusesForGoodIsNotTriedAgain() async {
        let sink = Refusing()
        let reporter = StatusReporter(sink: sink, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), backoff: [60])
        reporter.post(.job("a", of: Self.record, result: nil, seconds: 0))
        reporter.post(.job("a", of: Self.record, result: .success, seconds: 2))
        await reporter.flush(timeout: 300)
        // Not retried (the backoff would have taken a minute): the next status went at once.
        #expect(sink.attempts.withLock { $0 } == 2)
        #expect(sink.sent.withLock { $0 } == ["success"])
    }

    @Test func aStatusTheForgeNeverTakesIsDroppedAndTheNextOneStillGoes() async {
        let sink = Sink(failures: 3)
        let reporter = StatusReporter(sink: sink, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), backoff: [0.01, 0.01])
        reporter.post(.job("a", of: Self.record, result: nil, seconds: 0))
        reporter.post(.job("a", of: Self.record, result: .success, seconds: 2))
        await reporter.flush(timeout: 300)
        #expect(sink.sent == ["CI / a (push) success"])
    }
}
