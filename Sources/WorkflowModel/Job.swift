/// A job: either one that runs steps on a runner, or one that calls a reusable workflow (`uses`).
public struct Job: Hashable, Sendable, Codable {
    /// The job's stored properties, shared between copies (see `CopyOnWrite`).
    @usableFromInline struct Fields: Hashable, Sendable, Codable {
        @usableFromInline var id: Located<String>
        @usableFromInline var name: Located<String>?
        @usableFromInline var needs: [Located<String>]
        @usableFromInline var condition: Located<String>?
        @usableFromInline var runsOn: RunsOn?
        @usableFromInline var environment: CopyOnWrite<DeploymentEnvironment>?
        @usableFromInline var outputs: [MappingEntry]
        @usableFromInline var env: Environment?
        @usableFromInline var defaults: CopyOnWrite<RunDefaults>?
        @usableFromInline var timeoutMinutes: Located<NumberOrExpression>?
        @usableFromInline var cancelTimeoutMinutes: Located<NumberOrExpression>?
        @usableFromInline var strategy: CopyOnWrite<Strategy>?
        @usableFromInline var continueOnError: Located<BoolOrExpression>?
        @usableFromInline var container: CopyOnWrite<Container>?
        @usableFromInline var services: [Service]
        @usableFromInline var servicesExpression: Located<String>?
        @usableFromInline var concurrency: CopyOnWrite<Concurrency>?
        @usableFromInline var cacheMode: Located<String>?
        @usableFromInline var permissions: Permissions?
        @usableFromInline var uses: Located<String>?
        @usableFromInline var with: [MappingEntry]
        @usableFromInline var secrets: ReusableWorkflowSecrets?
        @usableFromInline var steps: [Step]
    }

    /// The job's fields; the large parts most jobs leave out (environment, defaults, strategy,
    /// container, concurrency: 1,100 of 1,900 bytes) have boxes of their own, so a job without them
    /// keeps eight bytes for each.
    @usableFromInline var fields: CopyOnWrite<Fields>

    /// The job id (the key under `jobs:`); its location is the key's.
    @inlinable public var id: Located<String> { _read { yield fields.value.id } _modify { yield &fields.value.id } }
    @inlinable public var name: Located<String>? { _read { yield fields.value.name } _modify { yield &fields.value.name } }
    /// Job ids this job needs, in file order.
    @inlinable public var needs: [Located<String>] { _read { yield fields.value.needs } _modify { yield &fields.value.needs } }
    /// The raw `if:` condition.
    @inlinable public var condition: Located<String>? { _read { yield fields.value.condition } _modify { yield &fields.value.condition } }
    @inlinable public var runsOn: RunsOn? { _read { yield fields.value.runsOn } _modify { yield &fields.value.runsOn } }
    @inlinable public var environment: DeploymentEnvironment? {
        get { fields.value.environment?.value }
        set { fields.value.environment = newValue.map(CopyOnWrite.init) }
    }
    /// `outputs:` name → raw value.
    @inlinable public var outputs: [MappingEntry] { _read { yield fields.value.outputs } _modify { yield &fields.value.outputs } }
    @inlinable public var env: Environment? { _read { yield fields.value.env } _modify { yield &fields.value.env } }
    @inlinable public var defaults: RunDefaults? {
        get { fields.value.defaults?.value }
        set { fields.value.defaults = newValue.map(CopyOnWrite.init) }
    }
    @inlinable public var timeoutMinutes: Located<NumberOrExpression>? { _read { yield fields.value.timeoutMinutes } _modify { yield &fields.value.timeoutMinutes } }
    /// `cancel-timeout-minutes`: checked, and not used (Gantry cancels with the runner's signal ladder).
    @inlinable public var cancelTimeoutMinutes: Located<NumberOrExpression>? { _read { yield fields.value.cancelTimeoutMinutes } _modify { yield &fields.value.cancelTimeoutMinutes } }
    @inlinable public var strategy: Strategy? {
        get { fields.value.strategy?.value }
        set { fields.value.strategy = newValue.map(CopyOnWrite.init) }
    }
    @inlinable public var continueOnError: Located<BoolOrExpression>? { _read { yield fields.value.continueOnError } _modify { yield &fields.value.continueOnError } }
    @inlinable public var container: Container? {
        get { fields.value.container?.value }
        set { fields.value.container = newValue.map(CopyOnWrite.init) }
    }
    @inlinable public var services: [Service] { _read { yield fields.value.services } _modify { yield &fields.value.services } }
    /// `services:` written as one expression yielding the mapping, evaluated at run time.
    @inlinable public var servicesExpression: Located<String>? { _read { yield fields.value.servicesExpression } _modify { yield &fields.value.servicesExpression } }
    @inlinable public var concurrency: Concurrency? {
        get { fields.value.concurrency?.value }
        set { fields.value.concurrency = newValue.map(CopyOnWrite.init) }
    }
    /// `cache-mode`, over the workflow's.
    @inlinable public var cacheMode: Located<String>? { _read { yield fields.value.cacheMode } _modify { yield &fields.value.cacheMode } }
    @inlinable public var permissions: Permissions? { _read { yield fields.value.permissions } _modify { yield &fields.value.permissions } }
    /// A reusable workflow: `./.github/workflows/x.yml` or `owner/repo/path@ref`.
    @inlinable public var uses: Located<String>? { _read { yield fields.value.uses } _modify { yield &fields.value.uses } }
    /// Inputs for a reusable workflow.
    @inlinable public var with: [MappingEntry] { _read { yield fields.value.with } _modify { yield &fields.value.with } }
    @inlinable public var secrets: ReusableWorkflowSecrets? { _read { yield fields.value.secrets } _modify { yield &fields.value.secrets } }
    @inlinable public var steps: [Step] { _read { yield fields.value.steps } _modify { yield &fields.value.steps } }

    public init(id: Located<String>) {
        fields = CopyOnWrite(Fields(id: id, needs: [], outputs: [], services: [], with: [], steps: []))
    }

    public init(from decoder: any Decoder) throws { fields = CopyOnWrite(try Fields(from: decoder)) }

    public func encode(to encoder: any Encoder) throws { try fields.value.encode(to: encoder) }

    /// Whether this job calls a reusable workflow instead of running steps.
    public var isReusableWorkflowCall: Bool { uses != nil }

    /// Every step that runs a script or an action, in file order: the steps of `parallel` groups in
    /// place of their group (control steps included; they have neither `run` nor `uses`).
    public var flattenedSteps: [Step] { steps.flatMap(\.flattened) }

    /// Calls `body` with each of `flattenedSteps` in order, without making the list.
    public func forEachFlattenedStep(_ body: (Step) throws -> Void) rethrows {
        // By index, so each step is lent to `body` in place rather than copied out (a step is
        // several hundred bytes and a dozen references).
        let steps = fields.value.steps
        for index in steps.indices {
            if let group = steps[index].parallel {
                for inner in group.indices { try body(group[inner]) }
            } else {
                try body(steps[index])
            }
        }
    }
}

/// `runs-on:`: labels, or a runner group with optional labels.
public struct RunsOn: Hashable, Sendable, Codable {
    /// The labels, raw (each may be an expression such as `${{ matrix.os }}`).
    public var labels: [Located<String>]
    public var group: Located<String>?
    public var location: SourceLocation

    public init(labels: [Located<String>], group: Located<String>? = nil, at location: SourceLocation) {
        self.labels = labels
        self.group = group
        self.location = location
    }
}

/// `environment:` of a job: a name, and optionally the deployment URL.
public struct DeploymentEnvironment: Hashable, Sendable, Codable {
    public var name: Located<String>
    public var url: Located<String>?

    public init(name: Located<String>, url: Located<String>? = nil) {
        self.name = name
        self.url = url
    }
}

/// `secrets:` of a job that calls a reusable workflow.
public enum ReusableWorkflowSecrets: Hashable, Sendable, Codable {
    /// `secrets: inherit`.
    case inherit(SourceLocation)
    case mapping([MappingEntry])
}

/// A `container:` or one entry of `services:`.
public struct Container: Hashable, Sendable, Codable {
    /// The image, raw; an empty image means a service is not started (GitHub's rule).
    public var image: Located<String>?
    public var credentials: Credentials?
    public var env: Environment?
    /// Port mappings as written (`5432:5432`, `6379/tcp`, or numbers).
    public var ports: [ValueNode]
    public var volumes: [Located<String>]
    /// Extra `docker create` options.
    public var options: Located<String>?
    /// Services only: replaces the image's CMD / ENTRYPOINT.
    public var command: Located<String>?
    public var entrypoint: Located<String>?
    public var location: SourceLocation

    public init(at location: SourceLocation) {
        self.ports = []
        self.volumes = []
        self.location = location
    }

    /// Registry credentials for a container image.
    public struct Credentials: Hashable, Sendable, Codable {
        public var username: Located<String>?
        public var password: Located<String>?
        /// The credentials written as one expression yielding `{username, password}`.
        public var expression: Located<String>?

        public init(username: Located<String>? = nil, password: Located<String>? = nil, expression: Located<String>? = nil) {
            self.username = username
            self.password = password
            self.expression = expression
        }
    }
}

/// One entry of `services:`.
public struct Service: Hashable, Sendable, Codable {
    /// The service id, which is also its host name on the job network.
    public var id: Located<String>
    public var container: Container

    public init(id: Located<String>, container: Container) {
        self.id = id
        self.container = container
    }
}
