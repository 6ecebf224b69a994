public import WorkflowExpressions
public import WorkflowModel

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
    /// The instance's stored properties, shared between copies (see `CopyOnWrite`).
    @usableFromInline struct Fields: Sendable, Codable {
        @usableFromInline var id: String
        @usableFromInline var job: String
        @usableFromInline var name: String
        @usableFromInline var matrix: [MatrixEntry]
        @usableFromInline var matrixAtRunTime: Bool
        @usableFromInline var needs: [String]
        @usableFromInline var runsOn: [String]
        @usableFromInline var backend: String
        @usableFromInline var container: String?
        @usableFromInline var services: [String]
        @usableFromInline var condition: String?
        @usableFromInline var concurrencyGroup: String?
        @usableFromInline var cancelInProgress: String?
        @usableFromInline var timeoutMinutes: String
        @usableFromInline var continueOnError: String?
        @usableFromInline var uses: String?
        @usableFromInline var failFast: String?
        @usableFromInline var maxParallel: String?
        @usableFromInline var strategyIndex: Int = 0
        @usableFromInline var strategyTotal: Int = 1
        @usableFromInline var callPath: [String] = []
        @usableFromInline var workflowFile: String?
        @usableFromInline var calledFile: String?
    }

    @usableFromInline var fields: CopyOnWrite<Fields>

    /// Unique within its workflow: the display name, with ` #n` added when two rows share a name.
    @inlinable public var id: String { _read { yield fields.value.id } _modify { yield &fields.value.id } }
    /// The job's id under `jobs:`.
    @inlinable public var job: String { _read { yield fields.value.job } _modify { yield &fields.value.job } }
    /// The name GitHub shows: `name` (evaluated) or the id, plus `(v1, v2)` for a matrix row.
    @inlinable public var name: String { _read { yield fields.value.name } _modify { yield &fields.value.name } }
    /// The matrix row as `key: value` pairs in order; empty without a matrix.
    @inlinable public var matrix: [MatrixEntry] { _read { yield fields.value.matrix } _modify { yield &fields.value.matrix } }
    /// True when the matrix comes from an expression that can only be evaluated at run time.
    @inlinable public var matrixAtRunTime: Bool { _read { yield fields.value.matrixAtRunTime } _modify { yield &fields.value.matrixAtRunTime } }
    /// Instance ids this instance needs.
    @inlinable public var needs: [String] { _read { yield fields.value.needs } _modify { yield &fields.value.needs } }
    /// `runs-on` labels, evaluated where their contexts are known.
    @inlinable public var runsOn: [String] { _read { yield fields.value.runsOn } _modify { yield &fields.value.runsOn } }
    /// Where the steps run: `host`, `docker://IMAGE` or `reusable workflow`.
    @inlinable public var backend: String { _read { yield fields.value.backend } _modify { yield &fields.value.backend } }
    @inlinable public var container: String? { _read { yield fields.value.container } _modify { yield &fields.value.container } }
    @inlinable public var services: [String] { _read { yield fields.value.services } _modify { yield &fields.value.services } }
    /// The raw `if:`.
    @inlinable public var condition: String? { _read { yield fields.value.condition } _modify { yield &fields.value.condition } }
    /// The concurrency group, evaluated when its contexts are known at plan time, else raw.
    @inlinable public var concurrencyGroup: String? { _read { yield fields.value.concurrencyGroup } _modify { yield &fields.value.concurrencyGroup } }
    @inlinable public var cancelInProgress: String? { _read { yield fields.value.cancelInProgress } _modify { yield &fields.value.cancelInProgress } }
    /// Minutes, or the raw expression.
    @inlinable public var timeoutMinutes: String { _read { yield fields.value.timeoutMinutes } _modify { yield &fields.value.timeoutMinutes } }
    @inlinable public var continueOnError: String? { _read { yield fields.value.continueOnError } _modify { yield &fields.value.continueOnError } }
    /// A reusable workflow this job calls.
    @inlinable public var uses: String? { _read { yield fields.value.uses } _modify { yield &fields.value.uses } }
    /// `strategy.fail-fast` and `max-parallel` as written (defaults: true, unbounded).
    @inlinable public var failFast: String? { _read { yield fields.value.failFast } _modify { yield &fields.value.failFast } }
    @inlinable public var maxParallel: String? { _read { yield fields.value.maxParallel } _modify { yield &fields.value.maxParallel } }
    /// `strategy.job-index` and `strategy.job-total` of this row.
    @inlinable public var strategyIndex: Int { _read { yield fields.value.strategyIndex } _modify { yield &fields.value.strategyIndex } }
    @inlinable public var strategyTotal: Int { _read { yield fields.value.strategyTotal } _modify { yield &fields.value.strategyTotal } }
    /// For a job of a called (reusable) workflow: the calling instances, outermost first, each as
    /// `job-id#row`; empty for a job of the workflow file itself.
    @inlinable public var callPath: [String] { _read { yield fields.value.callPath } _modify { yield &fields.value.callPath } }
    /// For a job of a called workflow: the file it is defined in.
    @inlinable public var workflowFile: String? { _read { yield fields.value.workflowFile } _modify { yield &fields.value.workflowFile } }
    /// For a job that calls a reusable workflow: the file of the workflow it calls.
    @inlinable public var calledFile: String? { _read { yield fields.value.calledFile } _modify { yield &fields.value.calledFile } }

    public init(
        id: String, job: String, name: String, matrix: [MatrixEntry], matrixAtRunTime: Bool, needs: [String],
        runsOn: [String], backend: String, container: String?, services: [String], condition: String?,
        concurrencyGroup: String?, cancelInProgress: String?, timeoutMinutes: String, continueOnError: String?,
        uses: String?, failFast: String?, maxParallel: String?
    ) {
        fields = CopyOnWrite(Fields(
            id: id, job: job, name: name, matrix: matrix, matrixAtRunTime: matrixAtRunTime, needs: needs, runsOn: runsOn,
            backend: backend, container: container, services: services, condition: condition, concurrencyGroup: concurrencyGroup,
            cancelInProgress: cancelInProgress, timeoutMinutes: timeoutMinutes, continueOnError: continueOnError, uses: uses,
            failFast: failFast, maxParallel: maxParallel))
    }

    public init(from decoder: any Decoder) throws { fields = CopyOnWrite(try Fields(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try fields.value.encode(to: encoder) }

    /// One `key: value` of a matrix row, the value as compact JSON.
    public struct MatrixEntry: Sendable, Codable, Equatable {
        public var key: String
        public var json: String
    }
}
