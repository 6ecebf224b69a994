import Synchronization

/// What the job runner needs from a container engine (Docker's Engine API, or Podman's, which speaks the
/// same). Declared here so the runner stays free of HTTP; the `DockerEngine` target implements it with
/// AsyncHTTPClient's async API. The synchronous job runner (a thread per job) calls the blocking forms
/// in ContainerEngine+Blocking.swift, the one place a job's thread waits for the engine.
public protocol ContainerEngine: Sendable {
    /// Where the engine was looked for (`unix:///var/run/docker.sock`), for messages.
    var address: String { get }
    /// The engine's API version, or an error when none answers.
    func ping() async throws(ContainerEngineError) -> String
    /// The image's `Config.Env` when the engine has the image, nil when it does not.
    func imageEnvironment(_ reference: String) async throws(ContainerEngineError) -> [String]?
    /// Builds an image from a tar of a build context (`Dockerfile` at `dockerfile` inside it).
    func buildImage(context: [UInt8], dockerfile: String, tag: String, labels: [String: String], cancel: ExecCancellation, onLine: @escaping @Sendable (String) -> Void) async throws(ContainerEngineError)
    func createContainer(_ spec: ContainerSpec) async throws(ContainerEngineError) -> String
    func startContainer(_ id: String) async throws(ContainerEngineError)
    /// Whether a path exists in a container's file system (a stat, no process started).
    func pathExists(_ id: String, _ path: String) async throws(ContainerEngineError) -> Bool
    func inspectContainer(_ id: String) async throws(ContainerEngineError) -> ContainerStatus
    /// The container's output so far (both streams, interleaved as the engine stored them).
    func logs(_ id: String) async throws(ContainerEngineError) -> String
    /// Starts a created container with its output attached first (as `docker run` does, so none is
    /// missed), streams the output until the container exits, and returns its exit code.
    func startAttached(_ id: String, onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) async throws(ContainerEngineError) -> Int32
    /// Prepares a command to run in a running container; returns the exec's id.
    func execCreate(_ id: String, _ spec: ExecSpec) async throws(ContainerEngineError) -> String
    /// Runs a prepared command, streaming its output until every holder of its stdout and stderr has
    /// closed them (a background child keeps them open). `cancel` abandons the stream.
    func execStart(_ execID: String, cancel: ExecCancellation, onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) async throws(ContainerEngineError)
    /// Whether the command still runs, and its exit code once it does not.
    func execInspect(_ execID: String) async throws(ContainerEngineError) -> (running: Bool, exitCode: Int32)
    /// Sends a signal (`INT`, `TERM`, `KILL`) to a container's main process; a stopped one is no error.
    func killContainer(_ id: String, signal: String) async throws(ContainerEngineError)
    /// Removes a container, its anonymous volumes with it; a missing container is not an error.
    func removeContainer(_ id: String) async throws(ContainerEngineError)
    /// Containers carrying a label (`key=value`), running or not.
    func listContainers(label: String) async throws(ContainerEngineError) -> [ContainerSummary]
    func createNetwork(_ name: String, labels: [String: String]) async throws(ContainerEngineError) -> String
    func removeNetwork(_ id: String) async throws(ContainerEngineError)
    /// Networks carrying a label (`key=value`): their ids and names.
    func listNetworks(label: String) async throws(ContainerEngineError) -> [(id: String, name: String, labels: [String: String])]
    /// Removes an image (a Dockerfile action's build), untagging it.
    func removeImage(_ reference: String) async throws(ContainerEngineError)
}

/// stdout or stderr of a container or exec.
public enum OutputStreamKind: Sendable {
    case stdout, stderr
}

/// An engine call that failed: no engine, an HTTP error with the engine's message, or bad data.
public struct ContainerEngineError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The HTTP status, when the engine answered.
    public var status: Int?

    public init(_ message: String, status: Int? = nil) {
        self.message = message
        self.status = status
    }

    public var description: String { message }
}

/// What to create: the parts of Docker's `ContainerCreate` body Gantry uses.
public struct ContainerSpec: Sendable {
    public var name: String
    public var image: String
    public var command: [String]?
    public var entrypoint: [String]?
    public var env: [String] = []
    public var labels: [String: String] = [:]
    /// `host:container[:mode]` binds.
    public var binds: [String] = []
    public var workingDirectory: String?
    public var user: String?
    /// `host`, `none`, or a network's name.
    public var networkMode = "host"
    /// Aliases on a user-defined network (the service's id).
    public var networkAliases: [String] = []
    /// `name:ip` entries for /etc/hosts.
    public var extraHosts: [String] = []
    /// Container port (`5432/tcp`) → host port ("" for any), for bridge networks.
    public var portBindings: [(container: String, host: String)] = []
    public var health: HealthCheck?
    public var privileged = false
    public var capAdd: [String] = []
    public var memoryBytes: Int64?
    public var nanoCPUs: Int64?
    public var hostname: String?
    public var tmpfs: [String: String] = [:]
    public var attachOutput = false
    /// Further `HostConfig` fields from `options:` (`ShmSize`, `Mounts`, `Ulimits`, `Devices`, `Dns`,
    /// `CapDrop`, `SecurityOpt`, `GroupAdd`, `Init`, `IpcMode`, `PidMode`, `ReadonlyRootfs`), as JSON
    /// values the engine takes as they are.
    public var hostConfig: [String: HostConfigValue] = [:]

    public init(name: String, image: String) {
        self.name = name
        self.image = image
    }
}

/// A JSON value for `ContainerSpec.hostConfig`.
public indirect enum HostConfigValue: Sendable, Equatable {
    case string(String), int(Int64), bool(Bool), array([HostConfigValue]), object([String: HostConfigValue])
}

/// A container's health check, from `--health-*` options.
public struct HealthCheck: Sendable, Equatable {
    /// `["CMD-SHELL", "..."]`, or `["NONE"]`.
    public var test: [String]
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double?
    public var startPeriodSeconds: Double?
    public var retries: Int?
    public var startIntervalSeconds: Double?

    public init(test: [String], intervalSeconds: Double? = nil, timeoutSeconds: Double? = nil, startPeriodSeconds: Double? = nil, retries: Int? = nil) {
        self.test = test
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.startPeriodSeconds = startPeriodSeconds
        self.retries = retries
    }
}

/// A command to run in a container.
public struct ExecSpec: Sendable {
    public var command: [String]
    public var env: [String]
    public var workingDirectory: String?
    public var user: String?

    public init(command: [String], env: [String] = [], workingDirectory: String? = nil, user: String? = nil) {
        self.command = command
        self.env = env
        self.workingDirectory = workingDirectory
        self.user = user
    }
}

/// Lets the runner abandon a running exec's stream (its process is killed by another exec).
public final class ExecCancellation: Sendable {
    private let state = Mutex<(cancelled: Bool, action: (@Sendable () -> Void)?)>((false, nil))

    public init() {}

    /// Called by the engine once the exec runs: how to abandon it.
    public func onCancel(_ action: @escaping @Sendable () -> Void) {
        let run = state.withLock { state -> Bool in
            state.action = action
            return state.cancelled
        }
        if run { action() }
    }

    public func cancel() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            state.cancelled = true
            return state.action
        }
        action?()
    }
}

/// What `inspectContainer` reports.
public struct ContainerStatus: Sendable {
    public var running: Bool
    public var exitCode: Int32
    /// `starting`, `healthy`, `unhealthy`, or nil without a health check.
    public var health: String?
    /// Container port (`5432/tcp`) → host port, as bound.
    public var ports: [(container: String, host: String)]

    public init(running: Bool, exitCode: Int32, health: String?, ports: [(container: String, host: String)]) {
        self.running = running
        self.exitCode = exitCode
        self.health = health
        self.ports = ports
    }
}

/// One row of `listContainers`.
public struct ContainerSummary: Sendable {
    public var id: String
    public var names: [String]
    public var labels: [String: String]
    public var state: String

    public init(id: String, names: [String], labels: [String: String], state: String) {
        self.id = id
        self.names = names
        self.labels = labels
        self.state = state
    }
}
