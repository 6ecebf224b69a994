/// A job: either one that runs steps on a runner, or one that calls a reusable workflow (`uses`).
public struct Job: Hashable, Sendable, Codable {
    /// The job id (the key under `jobs:`); its location is the key's.
    public var id: Located<String>
    public var name: Located<String>?
    /// Job ids this job needs, in file order.
    public var needs: [Located<String>]
    /// The raw `if:` condition.
    public var condition: Located<String>?
    @Boxed public var runsOn: RunsOn?
    @Boxed public var environment: DeploymentEnvironment?
    /// `outputs:` name → raw value.
    public var outputs: [MappingEntry]
    public var env: Environment?
    @Boxed public var defaults: RunDefaults?
    public var timeoutMinutes: Located<NumberOrExpression>?
    /// `cancel-timeout-minutes`: checked, and not used (Gantry cancels with the runner's signal ladder).
    public var cancelTimeoutMinutes: Located<NumberOrExpression>?
    @Boxed public var strategy: Strategy?
    public var continueOnError: Located<BoolOrExpression>?
    @Boxed public var container: Container?
    public var services: [Service]
    /// `services:` written as one expression yielding the mapping, evaluated at run time.
    public var servicesExpression: Located<String>?
    @Boxed public var concurrency: Concurrency?
    /// `cache-mode`, over the workflow's.
    public var cacheMode: Located<String>?
    @Boxed public var permissions: Permissions?
    /// A reusable workflow: `./.github/workflows/x.yml` or `owner/repo/path@ref`.
    public var uses: Located<String>?
    /// Inputs for a reusable workflow.
    public var with: [MappingEntry]
    @Boxed public var secrets: ReusableWorkflowSecrets?
    public var steps: [Step]

    public init(id: Located<String>) {
        self.id = id
        self.needs = []
        self.outputs = []
        self.services = []
        self.with = []
        self.steps = []
    }

    /// Whether this job calls a reusable workflow instead of running steps.
    public var isReusableWorkflowCall: Bool { uses != nil }

    /// Every step that runs a script or an action, in file order: the steps of `parallel` groups in
    /// place of their group (control steps included; they have neither `run` nor `uses`).
    public var flattenedSteps: [Step] { steps.flatMap(\.flattened) }

    /// Calls `body` with each of `flattenedSteps` in order, without making the list.
    public func forEachFlattenedStep(_ body: (Step) throws -> Void) rethrows {
        for step in steps {
            if let group = step.parallel {
                for inner in group { try body(inner) }
            } else {
                try body(step)
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
