public import WebhookReading
public import Logging
import Synchronization
public import WorkflowExecution

/// One commit status, as GitHub's `POST /repos/{owner}/{repo}/statuses/{sha}` and Gitea's and
/// Forgejo's `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` take it (the same four fields).
public struct CommitStatus: Sendable, Equatable {
    public enum State: String, Sendable { case pending, success, failure, error }

    /// `owner/name`.
    public var repository: String
    public var sha: String
    public var state: State
    /// `<workflow> / <job> (<event>)`, as GitHub names a workflow job's check.
    public var context: String
    /// At most 140 characters (GitHub answers 422 to a longer one).
    public var description: String
    /// The forge whose API shape the status is sent in.
    public var forge: Forge

    public init(repository: String, sha: String, state: State, context: String, description: String, forge: Forge) {
        self.repository = repository
        self.sha = sha
        self.state = state
        self.context = context
        self.description = String(description.prefix(140))
        self.forge = forge
    }

    /// The request body.
    public var json: String {
        let q = ServiceLogHandler.quote
        return #"{"state":\#(q(state.rawValue)),"context":\#(q(context)),"description":\#(q(description))}"#
    }

    /// The path under the API's base URL.
    public var path: String { "/repos/\(repository)/statuses/\(sha)" }

    /// A job's status: pending while it is under way (`result` nil), else its result. A cancelled job is
    /// an `error` (a commit status has no "cancelled"), a skipped one a `success` that says so.
    public static func job(_ job: String, of record: ServiceRunRecord, result: JobResult?, seconds: Double) -> CommitStatus {
        let state: State
        let description: String
        switch result {
        case nil: (state, description) = (.pending, "In progress")
        case .success?: (state, description) = (.success, "Successful in \(duration(seconds))")
        case .failure?: (state, description) = (.failure, "Failing after \(duration(seconds))")
        case .cancelled?: (state, description) = (.error, "Cancelled after \(duration(seconds))")
        case .skipped?: (state, description) = (.success, "Skipped")
        }
        return CommitStatus(
            repository: record.intake.repository, sha: record.sha, state: state,
            context: "\(record.workflowName) / \(job) (\(record.intake.event))", description: description, forge: record.intake.forge)
    }

    /// `12s`, `3m 5s`, `1h 2m`, as GitHub's checks show durations.
    static func duration(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded()))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m \(whole % 60)s" }
        return "\(whole / 3600)h \(whole % 3600 / 60)m"
    }
}

/// Where commit statuses go: a forge's REST API (ForgeClient), reached over the network.
public protocol StatusSink: Sendable {
    /// Sends one status; throws when the forge did not take it: `StatusRefused` when trying again
    /// cannot help (the reporter then drops it at once), anything else to be tried again.
    func send(_ status: CommitStatus) async throws
}

/// A forge's answer that no retry changes (a bad token, an unknown repository or commit, a status the
/// forge refuses).
public struct StatusRefused: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Sends commit statuses in the order they were posted, one repository's after another (a job's
/// `pending` never overtakes its result), each retried with exponential backoff. Each repository has
/// a queue of its own, so a forge that fails for one repository does not hold up the others' statuses.
/// A forge that is down or refuses never touches a job: after the last try the status is dropped with
/// a log line.
public final class StatusReporter: Sendable {
    /// How many statuses were posted and not yet sent or given up.
    private final class Unsent: Sendable {
        let count = Atomic<Int>(0)
    }

    private let unsent = Unsent()
    /// Each repository's queue (`owner/name` lowercased), made at its first status.
    private let queues = Mutex<[String: AsyncStream<CommitStatus>.Continuation]>([:])
    private let sink: any StatusSink
    private let logger: Logger
    private let metrics: ServiceMetrics?
    private let backoff: [Double]

    public init(sink: any StatusSink, logger: Logger, metrics: ServiceMetrics? = nil, backoff: [Double] = [1, 2, 4, 8, 16, 32]) {
        self.sink = sink
        self.logger = logger
        self.metrics = metrics
        self.backoff = backoff
    }

    deinit {
        for queue in queues.withLock({ Array($0.values) }) { queue.finish() }
    }

    /// Queues a status; it is sent after every status of its repository posted before it.
    public func post(_ status: CommitStatus) {
        unsent.count.add(1, ordering: .sequentiallyConsistent)
        let queue = queues.withLock { queues in
            let key = status.repository.lowercased()
            if let queue = queues[key] { return queue }
            let (stream, continuation) = AsyncStream.makeStream(of: CommitStatus.self)
            queues[key] = continuation
            Task { [unsent, sink, logger, metrics, backoff] in
                for await status in stream {
                    await Self.send(status, sink: sink, logger: logger, metrics: metrics, backoff: backoff)
                    unsent.count.subtract(1, ordering: .sequentiallyConsistent)
                }
            }
            return continuation
        }
        queue.yield(status)
    }

    /// Waits until every posted status was sent or given up, at most `timeout` seconds (a drain gives
    /// the last statuses their chance).
    public func flush(timeout: Double) async {
        let deadline = HostProcess.wallClock() + timeout
        while unsent.count.load(ordering: .sequentiallyConsistent) > 0, HostProcess.wallClock() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func send(_ status: CommitStatus, sink: any StatusSink, logger: Logger, metrics: ServiceMetrics?, backoff: [Double]) async {
        var metadata: Logger.Metadata = [
            "repository": .string(status.repository), "sha": .string(status.sha), "context": .string(status.context),
            "state": .string(status.state.rawValue),
        ]
        for attempt in 0...backoff.count {
            do {
                try await sink.send(status)
                metrics?.status("sent")
                return
            } catch {
                metadata["error"] = .string("\(error)")
                metadata["attempt"] = .stringConvertible(attempt + 1)
                guard attempt < backoff.count, !(error is StatusRefused) else { break }
                metrics?.status("retried")
                logger.warning("commit status not sent; trying again", metadata: metadata)
                try? await Task.sleep(for: .seconds(backoff[attempt]))
            }
        }
        metrics?.status("dropped")
        logger.error("commit status given up", metadata: metadata)
    }
}
