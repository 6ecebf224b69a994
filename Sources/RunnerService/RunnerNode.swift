public import WebhookReading
public import WorkflowExecution
public import WorkflowModel
public import WorkflowPlanning

/// What the service needs of its store beyond the scheduler's `RunStore`: runs with the service's
/// record, deliveries, counters and the queue as the API shows it. SQLite implements it (and
/// PostgreSQL, for several nodes).
public protocol ServiceStore: RunStore {
    /// Stores runs and the delivery that brought them in one transaction: each `.start`'s actions, or
    /// nil (nothing written) when the delivery was seen before.
    func accept(_ runs: [(RunDefinition, record: String)], delivery: String?, now: Double) async throws -> [[RunStateMachine.Action]]?
    func delivery(_ id: String) async throws -> [RunID]?
    func next(_ counter: String) async throws -> Int
    func storedRuns(limit: Int, unfinishedOnly: Bool) async throws -> [StoredRunRecord]
    func storedRun(_ id: RunID) async throws -> StoredRunRecord?
    func queued() async throws -> [(instance: InstanceID, runsOn: [String], since: Double)]

    /// True when other nodes share the store: a node then drives, besides the runs it accepted, each
    /// run with work queued for its labels, and learns of runs other nodes change.
    var isShared: Bool { get }
    /// Unfinished runs with an instance queued that `worker` can take (a shared store's; else none).
    func runsWithWork(for worker: WorkerIdentity) async throws -> [RunID]
    /// Records this node's heartbeat; true when no other node's heartbeat is recent (this node is the
    /// first up, and continues what nobody drives). A store of one node answers true.
    func heartbeat(_ node: RunnerStatus, alone window: Double) async throws -> Bool
    /// Takes over the runs only dead nodes drove (see `PostgresRunStore.adoptOrphans`): each with
    /// the actions its `.resumed` returned.
    func adoptOrphans(window: Double, now: Double) async throws -> [(RunID, [RunStateMachine.Action])]
    /// Every node the store knows, for `/api/v1/runners`; nil: just this one.
    func runners() async throws -> [RunnerStatus]?
    /// Why the node cannot take work now (its store's server cannot be reached); nil when it can.
    func unavailable() async -> String?
}

extension ServiceStore {
    public var isShared: Bool { false }
    public func runsWithWork(for worker: WorkerIdentity) async throws -> [RunID] { [] }
    public func heartbeat(_ node: RunnerStatus, alone window: Double) async throws -> Bool { true }
    public func adoptOrphans(window: Double, now: Double) async throws -> [(RunID, [RunStateMachine.Action])] { [] }
    public func runners() async throws -> [RunnerStatus]? { nil }
    public func unavailable() async -> String? { nil }
}


/// A run as the store keeps it for the service.
public struct StoredRunRecord: Sendable, Equatable {
    public var id: RunID
    public var record: ServiceRunRecord
    public var created: Double
    public var finished: Double?
    public var success: Bool?

    public init(id: RunID, record: ServiceRunRecord, created: Double, finished: Double?, success: Bool?) {
        self.id = id
        self.record = record
        self.created = created
        self.finished = finished
        self.success = success
    }
}

/// What the service stores with a run: where it came from, so that it can be prepared again after a
/// restart and shown by the API.
public struct ServiceRunRecord: Sendable, Codable, Equatable {
    public var intake: Intake
    /// The commit the run is for (the intake's, or the ref's head when the intake had none).
    public var sha: String
    /// The planned workflows' files (one run per workflow, as on GitHub).
    public var workflow: String
    public var workflowName: String
    public var runNumber: Int
    /// A re-run's attempt (`github.run_attempt`); nil for the first.
    public var attempt: Int?
    /// A re-run's first attempt, whose id is the re-run's `github.run_id` too; nil for the first.
    public var firstRun: RunID?

    public init(intake: Intake, sha: String, workflow: String, workflowName: String, runNumber: Int) {
        self.intake = intake
        self.sha = sha
        self.workflow = workflow
        self.workflowName = workflowName
        self.runNumber = runNumber
    }
}

/// A run ready to drive: what `RunDriver` needs, made by the launcher from a record.
public struct PreparedRun: Sendable {
    public var definition: RunDefinition
    public var workflows: [Workflow]
    public var contexts: [RunContext]
    public var request: PlanRequest?
    public var output: any RunOutput

    public init(definition: RunDefinition, workflows: [Workflow], contexts: [RunContext], request: PlanRequest?, output: any RunOutput) {
        self.definition = definition
        self.workflows = workflows
        self.contexts = contexts
        self.request = request
        self.output = output
    }
}

/// Turns an intake into planned runs, and a stored run back into one after a restart: fetches the
/// repository's mirror, reads the workflows at the commit, plans and sets up the run's folder. It is
/// the CLI's planning front end, handed to the service (which does not parse or plan itself).
public protocol RunLauncher: Sendable {
    /// The runs an intake triggers (one per workflow), not yet stored: `runID` makes each run's id.
    func plan(_ intake: Intake, runID: @Sendable () async throws -> String) async throws -> [(ServiceRunRecord, PreparedRun)]
    /// A stored run, prepared again to continue in this process.
    func prepare(_ record: ServiceRunRecord, run: RunID) async throws -> PreparedRun
    /// The `schedule` entries of the workflows at the head of a repository's default branch, fetched now.
    func schedules(_ repository: String) async throws -> ScheduleSnapshot
}

/// What a repository's default branch schedules.
public struct ScheduleSnapshot: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The workflow's path in its repository (`.github/workflows/nightly.yml`).
        public var workflow: String
        public var cron: String
        /// An IANA time zone name; nil: UTC.
        public var timezone: String?

        public init(workflow: String, cron: String, timezone: String?) {
            self.workflow = workflow
            self.cron = cron
            self.timezone = timezone
        }
    }

    /// `refs/heads/<default branch>` and its head.
    public var ref: String
    public var sha: String
    public var entries: [Entry]

    public init(ref: String, sha: String, entries: [Entry]) {
        self.ref = ref
        self.sha = sha
        self.entries = entries
    }
}

/// Why an intake could not be planned, for the HTTP answer.
public struct LaunchFailure: Error, Sendable {
    public var status: Int
    public var message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}
