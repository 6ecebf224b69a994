public import ContentCache
public import WorkflowExpressions
public import WorkflowPlanning
import FoundationEssentials

/// Everything one job instance needs to run on any node, as values: the run and instance, the
/// repository and commit, the workflow file (read again at that commit by whoever runs it), the planned
/// instance, what it receives from its needs, the event, `inputs`, `vars`, the `--env` variables, and
/// the names of the secrets it may see — never their values, which each node resolves itself.
public struct JobTicket: Sendable, Codable {
    public var run: RunID
    public var instance: InstanceID
    /// The name its lines and folders go under (`job (row)`, `workflow / job` in a run of several).
    public var displayName: String
    public var repository: String?
    public var sha: String?
    public var workflowFile: String
    public var job: JobInstance
    public var needs: [NeedResult]
    public var event: Event
    /// The `inputs` context, as JSON.
    public var inputs: String
    public var vars: [NamedValue]
    public var env: [NamedValue]
    public var secretNames: [String]
    public var verbose: Bool
    public var checkoutCommitted: Bool
    public var containerNetwork: String
    /// `RunContext.callerCacheMode` (absent in tickets written before it existed).
    public var callerCacheMode: String?

    /// The event as the runner's `github` context is made from it.
    public struct Event: Sendable, Codable {
        public var name: String
        /// `github.event`, as JSON.
        public var payload: String
        public var ref: String?
        public var headRef: String?
        public var baseRef: String?
        public var action: String?
        public var changedPaths: [String]
        public var inputs: [NamedValue]
        public var git: GitFacts
        public var runID: String
        public var runNumber: String
        /// Absent in tickets written before re-runs existed: the first attempt.
        public var runAttempt: String?

        public init(_ event: PlanEvent) {
            name = event.name
            payload = JSONText.compact(event.payload)
            ref = event.ref
            headRef = event.headRef
            baseRef = event.baseRef
            action = event.action
            changedPaths = event.changedPaths
            inputs = event.inputs.map { NamedValue($0.name, $0.value) }
            git = event.git
            runID = event.runID
            runNumber = event.runNumber
            runAttempt = event.runAttempt
        }

        /// The event again; a payload that does not parse is `null`.
        public var planEvent: PlanEvent {
            var event = PlanEvent(
                name: name, git: git, payload: (try? JSONText.parse(payload)) ?? .null, inputs: inputs.map { (name: $0.name, value: $0.value) })
            event.ref = ref
            event.headRef = headRef
            event.baseRef = baseRef
            event.action = action
            event.changedPaths = changedPaths
            event.runID = runID
            event.runNumber = runNumber
            event.runAttempt = runAttempt ?? "1"
            return event
        }
    }

    /// The ticket of a claimed instance that runs with `context` (its workflow's run context).
    public init(claim: JobClaim, displayName: String, workflowFile: String, job: JobInstance, context: RunContext) {
        run = claim.instance.run
        instance = claim.instance
        self.displayName = displayName
        repository = context.event.git.repository
        sha = context.event.git.sha
        self.workflowFile = workflowFile
        self.job = job
        needs = claim.needs
        event = Event(context.event)
        inputs = JSONText.compact(context.inputs)
        vars = context.vars.map { NamedValue($0.0, $0.1) }
        env = context.env.map { NamedValue($0.0, $0.1) }
        secretNames = context.secrets.map(\.0)
        verbose = context.verbose
        checkoutCommitted = context.checkoutCommitted
        containerNetwork = context.containerNetwork
        callerCacheMode = context.callerCacheMode
    }

}

/// JSON for the values that cross processes (tickets, outcomes): keys sorted, so equal values are
/// equal text.
public enum CodableJSON {
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// What a node brings to a ticket: its folders and environment, its secrets, and its services
/// (actions and checkout, cache, container engine, concurrency groups). `gantry run` and a second
/// process running one ticket build it the same way.
public struct NodeServices: Sendable {
    /// The folder holding each job's workspace and temp folders.
    public var root: String
    public var hostEnvironment: [(String, String)]
    /// A secret's value by name; nil when this node has none of that name.
    public var secret: @Sendable (String) -> String?
    public var actions: ActionSupport?
    public var concurrency: ConcurrencyStore?
    public var cacheRoot: String?
    public var cacheIndex: (any CacheIndex)?
    public var runnerName = "gantry"
    public var cacheLimit: Int64 = 10 << 30
    public var containerEngine: (any ContainerEngine)?
    /// Names this node's run in the labels of what it creates.
    public var runLabel: String
    /// What the run's jobs on this node started and have not cleaned up.
    public var resources = RunResources()

    public init(root: String, hostEnvironment: [(String, String)], secret: @escaping @Sendable (String) -> String?, runLabel: String) {
        self.root = root
        self.hostEnvironment = hostEnvironment
        self.secret = secret
        self.runLabel = runLabel
    }

    /// The services of an existing run context (`gantry run`: its secrets are the values given).
    public init(_ context: RunContext) {
        let secrets = context.secrets
        self.init(root: context.root, hostEnvironment: context.hostEnvironment, secret: { name in secrets.last { $0.0 == name }?.1 }, runLabel: context.runID)
        actions = context.actions
        concurrency = context.concurrency
        cacheRoot = context.cacheRoot
        cacheIndex = context.cacheIndex
        runnerName = context.runnerName
        cacheLimit = context.cacheLimit
        containerEngine = context.containerEngine
        resources = context.resources
    }
}

extension RunContext {
    /// The context a ticket runs in on a node: the ticket's values, the node's services and secrets.
    public init(ticket: JobTicket, node: NodeServices) {
        self.init(
            event: ticket.event.planEvent, root: node.root, hostEnvironment: node.hostEnvironment,
            secrets: ticket.secretNames.compactMap { name in node.secret(name).map { (name, $0) } },
            vars: ticket.vars.map { ($0.name, $0.value) }, env: ticket.env.map { ($0.name, $0.value) }, verbose: ticket.verbose)
        inputs = (try? JSONText.parse(ticket.inputs)) ?? .object([])
        actions = node.actions
        concurrency = node.concurrency
        cacheRoot = node.cacheRoot
        cacheIndex = node.cacheIndex
        runnerName = node.runnerName
        cacheLimit = node.cacheLimit
        checkoutCommitted = ticket.checkoutCommitted
        containerEngine = node.containerEngine
        containerNetwork = ticket.containerNetwork
        callerCacheMode = ticket.callerCacheMode
        runID = node.runLabel
        resources = node.resources
    }
}
