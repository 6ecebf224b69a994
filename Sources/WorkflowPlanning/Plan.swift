public import WorkflowExpressions

/// What would run for an event: every workflow that takes part, its job instances (one per matrix
/// row) in an order that respects `needs`, and the workflows that do not take part with the reason.
/// `graph`, `plan` and `run` all consume this value.
public struct Plan: Sendable, Codable {
    /// Bumped whenever the encoded form changes incompatibly.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var event: String
    public var ref: String?
    public var sha: String?
    public var workflows: [PlannedWorkflow]
    public var skipped: [SkippedWorkflow]

    public init(event: String, ref: String?, sha: String?, workflows: [PlannedWorkflow], skipped: [SkippedWorkflow]) {
        self.schemaVersion = Self.currentSchemaVersion
        self.event = event
        self.ref = ref
        self.sha = sha
        self.workflows = workflows
        self.skipped = skipped
    }

    public var instanceCount: Int { workflows.reduce(0) { $0 + $1.instances.count } }
}

/// A workflow that takes part in the event.
public struct PlannedWorkflow: Sendable, Codable {
    public var file: String
    public var name: String
    /// The workflow-level concurrency group, evaluated (its contexts are all known at plan time).
    public var concurrencyGroup: String?
    public var cancelInProgress: String?
    /// Job instances in a valid order (every instance after all it needs).
    public var instances: [JobInstance]
    /// The `inputs` context, defaults applied, when the event has inputs (`workflow_dispatch`).
    public var inputs: [PlannedInput]?
}

/// One resolved input: its declared type and its value as text.
public struct PlannedInput: Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case string, boolean, number }
    public var name: String
    public var type: Kind
    public var value: String

    /// The value as the `inputs` context holds it: booleans and numbers typed, the rest strings.
    public var expressionValue: ExpressionValue {
        switch type {
        case .boolean: .bool(value == "true")
        case .number: .number(ExpressionNumber.parse(value))
        case .string: .string(value)
        }
    }
}

/// A workflow that does not take part, and why.
public struct SkippedWorkflow: Sendable, Codable {
    public var file: String
    public var name: String
    public var reason: String
}

/// One job instance: a job, or one row of its matrix.
public struct JobInstance: Sendable, Codable {
    /// Unique within its workflow: the display name, with ` #n` added when two rows share a name.
    public var id: String
    /// The job's id under `jobs:`.
    public var job: String
    /// The name GitHub shows: `name` (evaluated) or the id, plus `(v1, v2)` for a matrix row.
    public var name: String
    /// The matrix row as `key: value` pairs in order; empty without a matrix.
    public var matrix: [MatrixEntry]
    /// True when the matrix comes from an expression that can only be evaluated at run time.
    public var matrixAtRunTime: Bool
    /// Instance ids this instance needs.
    public var needs: [String]
    /// `runs-on` labels, evaluated where their contexts are known.
    public var runsOn: [String]
    /// Where the steps run: `host`, `docker://IMAGE` or `reusable workflow`.
    public var backend: String
    public var container: String?
    public var services: [String]
    /// The raw `if:`.
    public var condition: String?
    /// The concurrency group, evaluated when its contexts are known at plan time, else raw.
    public var concurrencyGroup: String?
    public var cancelInProgress: String?
    /// Minutes, or the raw expression.
    public var timeoutMinutes: String
    public var continueOnError: String?
    /// A reusable workflow this job calls.
    public var uses: String?
    /// `strategy.fail-fast` and `max-parallel` as written (defaults: true, unbounded).
    public var failFast: String?
    public var maxParallel: String?
    /// `strategy.job-index` and `strategy.job-total` of this row.
    public var strategyIndex: Int = 0
    public var strategyTotal: Int = 1
    /// For a job of a called (reusable) workflow: the calling instances, outermost first, each as
    /// `job-id#row`; empty for a job of the workflow file itself.
    public var callPath: [String] = []
    /// For a job of a called workflow: the file it is defined in.
    public var workflowFile: String?
    /// For a job that calls a reusable workflow: the file of the workflow it calls.
    public var calledFile: String?

    public init(
        id: String, job: String, name: String, matrix: [MatrixEntry], matrixAtRunTime: Bool, needs: [String],
        runsOn: [String], backend: String, container: String?, services: [String], condition: String?,
        concurrencyGroup: String?, cancelInProgress: String?, timeoutMinutes: String, continueOnError: String?,
        uses: String?, failFast: String?, maxParallel: String?
    ) {
        self.id = id
        self.job = job
        self.name = name
        self.matrix = matrix
        self.matrixAtRunTime = matrixAtRunTime
        self.needs = needs
        self.runsOn = runsOn
        self.backend = backend
        self.container = container
        self.services = services
        self.condition = condition
        self.concurrencyGroup = concurrencyGroup
        self.cancelInProgress = cancelInProgress
        self.timeoutMinutes = timeoutMinutes
        self.continueOnError = continueOnError
        self.uses = uses
        self.failFast = failFast
        self.maxParallel = maxParallel
    }

    /// One `key: value` of a matrix row, the value as compact JSON.
    public struct MatrixEntry: Sendable, Codable, Equatable {
        public var key: String
        public var json: String
    }
}
