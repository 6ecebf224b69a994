public import ContentCache
public import WorkflowExpressions
public import WorkflowPlanning

/// Everything a run shares between its jobs.
public struct RunContext: Sendable {
    public var event: PlanEvent
    /// The directory holding each job's workspace and temp folders.
    public var root: String
    /// The environment `gantry` was started with (host steps inherit it, as on a self-hosted runner).
    public var hostEnvironment: [(String, String)]
    public var secrets: [(String, String)]
    public var vars: [(String, String)]
    /// Variables from `--env`, `--env-file` and `.env`: in every step's environment and the `env` context,
    /// below the workflow's own `env`.
    public var env: [(String, String)]
    /// Show `::debug::` lines.
    public var verbose: Bool
    /// The `inputs` context; set per workflow from its plan by `forWorkflow(_:)`.
    public var inputs: ExpressionValue = .object([])
    /// Reading actions and checking out the repository; without it, steps that use actions fail.
    public var actions: ActionSupport?
    /// Concurrency groups shared with other `gantry run`s; without it, `concurrency:` is ignored.
    public var concurrency: ConcurrencyStore?
    /// The content cache's root (actions/cache); nil when caching is off.
    public var cacheRoot: String?
    /// The cache's index when it is not `cacheRoot/index.sqlite` (a cluster's, in PostgreSQL).
    public var cacheIndex: (any CacheIndex)?
    /// `runner.name` and `RUNNER_NAME`: the node's name under `gantry serve`.
    public var runnerName = "gantry"
    /// The cache's size limit in bytes for eviction (default 10 GB).
    public var cacheLimit: Int64 = 10 << 30
    /// The `cache-mode` the calls above a called workflow's job give it (the calling job's, else its
    /// workflow's, outermost last); the job's own and its workflow's win over it.
    public var callerCacheMode: String?
    /// `actions/checkout` copies the HEAD commit's tree instead of the working tree (`--checkout head`).
    public var checkoutCommitted = false
    /// The container engine for job containers, services and Docker actions; nil when none is configured.
    public var containerEngine: (any ContainerEngine)?
    /// `host` (every container on the host's network; services on 127.0.0.1) or `bridge` (a network per
    /// job, services reachable by their ids, as on GitHub).
    public var containerNetwork = "host"
    /// Names this run in the labels of what it creates (`gantry docker prune` finds leftovers by them).
    public var runID = ""
    /// What this run's jobs started and have not cleaned up (process groups, containers).
    public var resources = RunResources()

    public init(event: PlanEvent, root: String, hostEnvironment: [(String, String)], secrets: [(String, String)] = [], vars: [(String, String)] = [], env: [(String, String)] = [], verbose: Bool = false) {
        self.event = event
        self.root = root
        self.hostEnvironment = hostEnvironment
        self.secrets = secrets
        self.vars = vars
        self.env = env
        self.verbose = verbose
    }

    /// This context for one planned workflow: its resolved inputs (defaults applied) in `inputs` and,
    /// as strings, in `github.event.inputs`.
    public func forWorkflow(_ planned: PlannedWorkflow) -> RunContext {
        guard let inputs = planned.inputs else { return self }
        var copy = self
        copy.inputs = .object(inputs.map { ($0.name, $0.expressionValue) })
        if event.name == "workflow_dispatch", let payload = event.payload(withInputs: .object(inputs.map { ($0.name, .string($0.value)) })) {
            copy.event.payload = payload
        }
        return copy
    }
}

/// Where a job's output goes: lines already masked, prefixed by the caller's renderer.
public protocol RunOutput: Sendable {
    func line(_ instance: String, _ text: String)
    /// A line for the console only or the run's log only (the lines of a folded `::group::`).
    func line(_ instance: String, _ text: String, to destination: OutputDestination)
    /// A step or job started or finished.
    func event(_ event: RunEvent)
}

/// Where a line goes when it is not meant for both the console and the log.
public enum OutputDestination: Sendable {
    case console, log
}

extension RunOutput {
    /// Outputs without a log print console lines and drop log-only lines.
    public func line(_ instance: String, _ text: String, to destination: OutputDestination) {
        if destination == .console { line(instance, text) }
    }

    /// Text outputs print the event's line.
    public func event(_ event: RunEvent) {
        if let text = event.text { line(event.job, text) }
    }
}
