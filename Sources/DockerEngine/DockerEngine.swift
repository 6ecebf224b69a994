public import WorkflowExecution
import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import Synchronization

/// Docker's Engine API (v1.41, which Podman's compatible socket also serves) over a unix socket or
/// `tcp://`, through AsyncHTTPClient's async API: requests are awaited and streams (attach, exec, build)
/// are read as async sequences, cancelled with their task.
public final class DockerEngine: ContainerEngine {
    public let address: String
    /// `http+unix://…/v1.41` or `http://host:port/v1.41`.
    private let base: Result<String, ContainerEngineError>
    private let client: HTTPClient
    /// The socket's path for `unix://` addresses: a missing one fails at once (AsyncHTTPClient would
    /// retry the connection until its timeout).
    private let socketPath: String?
    /// Whether the engine is Podman (its replies carry a `Libpod-Api-Version` header): 0 not known yet,
    /// 1 no, 2 yes. Every reply tells.
    private let podman = Atomic<Int>(0)
    /// When Gantry last ran a Podman health check by hand, per container (seconds since the epoch).
    private let healthRuns = Mutex<[String: Double]>([:])

    /// The engine `DOCKER_HOST` names, else the first socket that exists of Docker's, rootful Podman's
    /// and rootless Podman's (in `XDG_RUNTIME_DIR`); Docker's when none does.
    public convenience init(environment: [(String, String)]) {
        let value = { (name: String) in environment.last { $0.0 == name }?.1 }
        if let host = value("DOCKER_HOST"), !host.isEmpty {
            self.init(address: host)
            return
        }
        var candidates = ["/var/run/docker.sock", "/run/podman/podman.sock"]
        if let runtime = value("XDG_RUNTIME_DIR") { candidates.append(runtime + "/podman/podman.sock") }
        let found = candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates[0]
        self.init(address: "unix://" + found)
    }

    /// `unix:///path/to.sock` or `tcp://host:port` (no TLS). An address that is neither makes every call
    /// fail with the reason, so only jobs that need an engine fail.
    public init(address: String) {
        self.address = address
        socketPath = address.hasPrefix("unix://") ? String(address.dropFirst("unix://".count)) : nil
        if address.hasPrefix("unix://"), let url = URL(httpURLWithSocketPath: String(address.dropFirst("unix://".count)), uri: "/v1.41") {
            base = .success(url.absoluteString)
        } else if address.hasPrefix("tcp://") {
            base = .success("http://" + address.dropFirst("tcp://".count) + "/v1.41")
        } else {
            base = .failure(ContainerEngineError("DOCKER_HOST '\(address)' is neither unix:// nor tcp:// (TLS and ssh:// are not supported)"))
        }
        client = Self.sharedClient
    }

    /// One client for the process (never shut down: it lives as long as gantry), with a short connect
    /// timeout so a socket nobody listens on fails quickly.
    private static let sharedClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(3))))

    // MARK: Requests

    private struct Reply {
        var status: Int
        var body: [UInt8]
        var headers: HTTPHeaders = [:]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) }
    }

    /// The most of a reply Gantry reads (a container list or an inspect is far smaller).
    private static let maxReply = 64 << 20

    private func request(
        _ method: HTTPMethod, _ path: String, json: Any? = nil, body: [UInt8]? = nil, contentType: String = "application/json",
        timeout: Int64? = 120
    ) async throws(ContainerEngineError) -> Reply {
        var bytes = body
        if let json, let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) { bytes = [UInt8](data) }
        do {
            let request = try makeRequest(method, path, body: bytes, contentType: contentType)
            let deadline = timeout.map { NIODeadline.now() + .seconds($0) } ?? .distantFuture
            let response = try await client.execute(request, deadline: deadline)
            // Podman's replies carry its libpod API version.
            podman.store(response.headers.contains(name: "Libpod-Api-Version") ? 2 : 1, ordering: .relaxed)
            let body = try await response.body.collect(upTo: Self.maxReply)
            return Reply(status: Int(response.status.code), body: Array(body.readableBytesView), headers: response.headers)
        } catch let error as ContainerEngineError {
            throw error
        } catch {
            throw unreachable(error)
        }
    }

    /// A request to the engine: the `Host` header Docker requires (AsyncHTTPClient sends none over a unix
    /// socket) and the body with its type.
    private func makeRequest(_ method: HTTPMethod, _ path: String, body: [UInt8]?, contentType: String) throws(ContainerEngineError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: try url(path))
        request.method = method
        request.headers.add(name: "Host", value: "docker")
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// The URL for an API path, or why there is no engine to ask.
    private func url(_ path: String) throws(ContainerEngineError) -> String {
        let base = try self.base.get()
        if let socketPath, !FileManager.default.fileExists(atPath: socketPath) { throw unreachable(CocoaError(.fileNoSuchFile)) }
        return base + path
    }

    /// Connects to a unix socket and hangs up: nil when something listens, else the reason.
    static func connectProblem(_ path: String) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result == 0 { return nil }
        return errno == ECONNREFUSED ? "connection refused" : errno == EACCES ? "permission denied: add yourself to the docker group" : String(cString: strerror(errno))
    }

    private func unreachable(_ error: any Error) -> ContainerEngineError {
        var why = (error as? ContainerEngineError)?.message ?? "\(error)"
        if let socketPath, !FileManager.default.fileExists(atPath: socketPath) {
            why = "no such socket"
        } else if let client = error as? HTTPClientError, client == .connectTimeout || client == .deadlineExceeded {
            why = "timed out"
        }
        return ContainerEngineError("no container engine answers at \(address) (\(why)); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST")
    }

    /// The engine's `message` for an error status.
    private func check(_ reply: Reply, _ what: String, accept: Set<Int> = []) throws(ContainerEngineError) {
        guard reply.status >= 300, !accept.contains(reply.status) else { return }
        let message = (reply.json as? [String: Any])?["message"] as? String ?? String(decoding: reply.body, as: UTF8.self)
        throw ContainerEngineError("\(what): \(message.trimmingCharacters(in: .whitespacesAndNewlines))", status: reply.status)
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    private static func filters(label: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: ["label": [label]])) ?? Data()
        return escape(String(decoding: data, as: UTF8.self))
    }

    // MARK: ContainerEngine

    public func ping() async throws(ContainerEngineError) -> String {
        // A socket file nobody listens on is refused at once; AsyncHTTPClient would retry until its
        // connect timeout.
        if let socketPath, FileManager.default.fileExists(atPath: socketPath), let problem = Self.connectProblem(socketPath) {
            throw unreachable(ContainerEngineError(problem))
        }
        // `/_ping` rather than `/version`, which asks the engine's components and takes longer.
        let reply = try await request(.GET, "/_ping", timeout: 5)
        try check(reply, "the engine at \(address)")
        return reply.headers.first(name: "Api-Version") ?? "?"
    }

    public func imageEnvironment(_ reference: String) async throws(ContainerEngineError) -> [String]? {
        let reply = try await request(.GET, "/images/\(Self.escape(reference))/json")
        if reply.status == 404 { return nil }
        try check(reply, "inspecting image \(reference)")
        let config = (reply.json as? [String: Any])?["Config"] as? [String: Any]
        return config?["Env"] as? [String] ?? []
    }

    public func buildImage(
        context: [UInt8], dockerfile: String, tag: String, labels: [String: String], cancel: ExecCancellation,
        onLine: @escaping @Sendable (String) -> Void
    ) async throws(ContainerEngineError) {
        let labelJSON = String(decoding: (try? JSONSerialization.data(withJSONObject: labels)) ?? Data(), as: UTF8.self)
        let path = "/build?t=\(Self.escape(tag))&dockerfile=\(Self.escape(dockerfile))&labels=\(Self.escape(labelJSON))&rm=1&forcerm=1&pull=0"
        let lines = JSONLines()
        let request = try makeRequest(.POST, path, body: context, contentType: "application/x-tar")
        let status = try await read(request, "building \(tag)", cancel: cancel) { bytes in lines.feed(bytes, onLine: onLine) }
        guard let status else { throw ContainerEngineError("building \(tag): stopped (the step was cancelled or timed out)") }
        lines.finish(onLine: onLine)
        if status >= 300 {
            throw ContainerEngineError("building \(tag): " + (lines.errorMessage ?? lines.raw), status: status)
        }
        if let message = lines.errorMessage { throw ContainerEngineError("building \(tag): \(message)") }
    }

    public func createContainer(_ spec: ContainerSpec) async throws(ContainerEngineError) -> String {
        var host: [String: Any] = [
            "Binds": spec.binds, "NetworkMode": spec.networkMode, "ExtraHosts": spec.extraHosts,
            "Privileged": spec.privileged, "CapAdd": spec.capAdd, "Init": false,
        ]
        for (key, value) in spec.hostConfig { host[key] = Self.json(value) }
        if let memory = spec.memoryBytes { host["Memory"] = memory }
        if let cpus = spec.nanoCPUs { host["NanoCpus"] = cpus }
        if !spec.tmpfs.isEmpty { host["Tmpfs"] = spec.tmpfs }
        var exposed: [String: Any] = [:]
        var bindings: [String: [[String: String]]] = [:]
        for (container, hostPort) in spec.portBindings {
            exposed[container] = [String: Any]()
            bindings[container, default: []].append(["HostIp": "127.0.0.1", "HostPort": hostPort])
        }
        if !bindings.isEmpty { host["PortBindings"] = bindings }
        var body: [String: Any] = [
            "Image": spec.image, "Env": spec.env, "Labels": spec.labels, "HostConfig": host,
            "AttachStdout": spec.attachOutput, "AttachStderr": spec.attachOutput, "Tty": false, "OpenStdin": false,
        ]
        if !exposed.isEmpty { body["ExposedPorts"] = exposed }
        if let command = spec.command { body["Cmd"] = command }
        if let entrypoint = spec.entrypoint { body["Entrypoint"] = entrypoint }
        if let directory = spec.workingDirectory { body["WorkingDir"] = directory }
        if let user = spec.user { body["User"] = user }
        if let hostname = spec.hostname { body["Hostname"] = hostname }
        if let health = spec.health {
            var check: [String: Any] = ["Test": health.test]
            if let s = health.intervalSeconds { check["Interval"] = Int64(s * 1e9) }
            if let s = health.timeoutSeconds { check["Timeout"] = Int64(s * 1e9) }
            if let s = health.startPeriodSeconds { check["StartPeriod"] = Int64(s * 1e9) }
            if let n = health.retries { check["Retries"] = n }
            if let s = health.startIntervalSeconds { check["StartInterval"] = Int64(s * 1e9) }
            body["Healthcheck"] = check
        }
        if spec.networkMode != "host" && spec.networkMode != "none" && !spec.networkAliases.isEmpty {
            body["NetworkingConfig"] = ["EndpointsConfig": [spec.networkMode: ["Aliases": spec.networkAliases]]]
        }
        let reply = try await request(.POST, "/containers/create?name=\(Self.escape(spec.name))", json: body)
        if reply.status == 404 {
            throw ContainerEngineError("image '\(spec.image)' is not in the engine at \(address), and gantry does not pull: `docker pull \(spec.image)` or build it first", status: 404)
        }
        try check(reply, "creating container \(spec.name)")
        guard let id = (reply.json as? [String: Any])?["Id"] as? String else { throw ContainerEngineError("creating container \(spec.name): the engine returned no id") }
        return id
    }

    private static func json(_ value: HostConfigValue) -> Any {
        switch value {
        case .string(let s): return s
        case .int(let n): return n
        case .bool(let b): return b
        case .array(let items): return items.map(json)
        case .object(let fields): return fields.mapValues(json)
        }
    }

    public func pathExists(_ id: String, _ path: String) async throws(ContainerEngineError) -> Bool {
        let reply = try await request(.HEAD, "/containers/\(id)/archive?path=\(Self.escape(path))")
        if reply.status == 404 { return false }
        try check(reply, "looking for \(path) in \(id.prefix(12))")
        return true
    }

    public func startContainer(_ id: String) async throws(ContainerEngineError) {
        try check(try await request(.POST, "/containers/\(id)/start"), "starting container \(id.prefix(12))", accept: [304])
    }

    public func inspectContainer(_ id: String) async throws(ContainerEngineError) -> ContainerStatus {
        let reply = try await request(.GET, "/containers/\(id)/json")
        try check(reply, "inspecting container \(id.prefix(12))")
        let json = reply.json as? [String: Any] ?? [:]
        let state = json["State"] as? [String: Any] ?? [:]
        // Podman reports an empty status for a container without a health check.
        var health = ((state["Health"] as? [String: Any])?["Status"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        if health == "starting", state["Running"] as? Bool == true, await isPodman() {
            health = try await podmanHealth(id, config: json["Config"] as? [String: Any]) ?? health
        }
        let network = json["NetworkSettings"] as? [String: Any] ?? [:]
        var ports: [(container: String, host: String)] = []
        for (container, value) in (network["Ports"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            for binding in value as? [[String: Any]] ?? [] {
                if let hostPort = binding["HostPort"] as? String, !ports.contains(where: { $0.container == container }) {
                    ports.append((container, hostPort))
                }
            }
        }
        return ContainerStatus(
            running: state["Running"] as? Bool ?? false, exitCode: Int32(truncatingIfNeeded: state["ExitCode"] as? Int ?? 0), health: health,
            ports: ports)
    }

    /// Podman schedules health checks with systemd timers; where there is no systemd (a container, a CI
    /// machine) none ever runs and a service stays `starting` for good. So for Podman Gantry runs the check
    /// itself (libpod's `healthcheck` endpoint) whenever it asks about a starting container and the check's
    /// interval has passed since the last run. Podman applies the retries and the start period.
    private func podmanHealth(_ id: String, config: [String: Any]?) async throws(ContainerEngineError) -> String? {
        let nanoseconds = (config?["Healthcheck"] as? [String: Any])?["Interval"] as? Int ?? 0
        let interval = nanoseconds > 0 ? Double(nanoseconds) / 1e9 : 30
        let now = Date().timeIntervalSince1970
        let due = healthRuns.withLock { runs in
            let last = runs[id] ?? now
            if runs[id] == nil { runs[id] = now }
            guard now - last >= interval else { return false }
            runs[id] = now
            return true
        }
        guard due else { return nil }
        let reply = try await request(.GET, "/libpod/containers/\(id)/healthcheck")
        try check(reply, "running the health check of \(id.prefix(12))")
        return (reply.json as? [String: Any])?["Status"] as? String
    }

    public func logs(_ id: String) async throws(ContainerEngineError) -> String {
        let reply = try await request(.GET, "/containers/\(id)/logs?stdout=1&stderr=1&tail=200")
        try check(reply, "reading logs of \(id.prefix(12))")
        var text: [UInt8] = []
        var demux = StreamDemultiplexer()
        demux.feed(reply.body) { _, bytes in text += bytes }
        return String(decoding: text, as: UTF8.self)
    }

    public func startAttached(_ id: String, onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) async throws(ContainerEngineError) -> Int32 {
        // Attached before it starts, the stream has all the output and ends when the container exits;
        // wait then gives its code. (Following the logs of a container that had just exited never ended
        // in about one of 30 tries under Podman 4.3.) Podman prepares the container for the attach, so
        // a bad entrypoint is the attach's error there, the start's in Docker.
        try await stream(.POST, "/containers/\(id)/attach?stream=1&stdout=1&stderr=1", "starting container \(id.prefix(12))", json: nil, cancel: nil, onOutput: onOutput) {
            () async throws(ContainerEngineError) in try await self.startContainer(id)
        }
        let reply = try await request(.POST, "/containers/\(id)/wait", timeout: nil)
        try check(reply, "waiting for container \(id.prefix(12))")
        return Int32((reply.json as? [String: Any])?["StatusCode"] as? Int ?? -1)
    }

    public func execCreate(_ id: String, _ spec: ExecSpec) async throws(ContainerEngineError) -> String {
        var body: [String: Any] = ["Cmd": spec.command, "Env": spec.env, "AttachStdout": true, "AttachStderr": true, "Tty": false]
        if let directory = spec.workingDirectory { body["WorkingDir"] = directory }
        if let user = spec.user { body["User"] = user }
        let created = try await request(.POST, "/containers/\(id)/exec", json: body)
        try check(created, "starting a process in container \(id.prefix(12))")
        guard let execID = (created.json as? [String: Any])?["Id"] as? String else { throw ContainerEngineError("the engine returned no exec id") }
        return execID
    }

    public func execStart(_ execID: String, cancel: ExecCancellation, onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) async throws(ContainerEngineError) {
        try await stream(.POST, "/exec/\(execID)/start", "running process \(execID.prefix(12))", json: ["Detach": false, "Tty": false], cancel: cancel, onOutput: onOutput)
    }

    public func execInspect(_ execID: String) async throws(ContainerEngineError) -> (running: Bool, exitCode: Int32) {
        let inspected = try await request(.GET, "/exec/\(execID)/json")
        try check(inspected, "reading the state of process \(execID.prefix(12))")
        let json = inspected.json as? [String: Any] ?? [:]
        // Before the engine has started the process, Running is false and ExitCode null: still running.
        guard let code = json["ExitCode"] as? Int else { return (true, -1) }
        return (json["Running"] as? Bool ?? false, Int32(truncatingIfNeeded: code))
    }

    /// A request whose answer is a multiplexed output stream, read until the engine closes it; a refusal
    /// is an error saying `what` failed. `whenStreaming` runs once the engine has answered with the
    /// stream's head (an attach is then in place); its error abandons the stream.
    private func stream(
        _ method: HTTPMethod, _ path: String, _ what: String, json: Any?, cancel: ExecCancellation?,
        onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void,
        whenStreaming: (@Sendable () async throws(ContainerEngineError) -> Void)? = nil
    ) async throws(ContainerEngineError) {
        let demux = Mutex(StreamDemultiplexer())
        let body = json.flatMap { try? JSONSerialization.data(withJSONObject: $0) }.map { [UInt8]($0) }
        let request = try makeRequest(method, path, body: body, contentType: "application/json")
        _ = try await read(request, what, cancel: cancel, whenStreaming: whenStreaming) { bytes in
            demux.withLock { $0.feed(bytes, onOutput) }
        }
    }

    /// Sends `request` and passes each part of a successful answer's body to `onBytes` as it arrives,
    /// in a task that `cancel` stops; an error status is thrown with the engine's message (`what`
    /// failed). Returns the status, or nil when the read was cancelled.
    private func read(
        _ request: HTTPClientRequest, _ what: String, cancel: ExecCancellation?,
        whenStreaming: (@Sendable () async throws(ContainerEngineError) -> Void)? = nil,
        onBytes: @escaping @Sendable ([UInt8]) -> Void
    ) async throws(ContainerEngineError) -> Int? {
        let work = Task { [client] () async throws -> Int in
            let response = try await client.execute(request, deadline: .distantFuture)
            let status = Int(response.status.code)
            guard status < 300 else {
                let body = try await response.body.collect(upTo: 1 << 20)
                try self.check(Reply(status: status, body: Array(body.readableBytesView)), what)
                return status
            }
            if let whenStreaming { try await whenStreaming() }
            for try await buffer in response.body { onBytes(Array(buffer.readableBytesView)) }
            return status
        }
        cancel?.onCancel { work.cancel() }
        do {
            return try await work.value
        } catch let error as ContainerEngineError {
            throw error
        } catch {
            if work.isCancelled { return nil }
            if let error = error as? HTTPClientError, error == .cancelled { return nil }
            throw unreachable(error)
        }
    }

    public func killContainer(_ id: String, signal: String) async throws(ContainerEngineError) {
        let reply = try await request(.POST, "/containers/\(id)/kill?signal=\(signal)")
        // Docker answers 409 for a container that is not running, Podman 500 with "container state improper".
        if reply.status == 500, (reply.json as? [String: Any])?["cause"] as? String == "container state improper" { return }
        try check(reply, "signalling container \(id.prefix(12))", accept: [404, 409])
    }

    /// Whether the engine is Podman, asking it once if no `ping` did.
    private func isPodman() async -> Bool {
        if podman.load(ordering: .relaxed) == 0 { _ = try? await ping() }
        return podman.load(ordering: .relaxed) == 2
    }

    public func removeContainer(_ id: String) async throws(ContainerEngineError) {
        // Podman's force-remove stops a running container with SIGTERM and waits 10 s before SIGKILL
        // (Docker's kills at once): a `sleep` as process 1 ignores SIGTERM, so kill it first.
        if await isPodman() { try await killContainer(id, signal: "KILL") }
        try check(try await request(.DELETE, "/containers/\(id)?force=1&v=1"), "removing container \(id.prefix(12))", accept: [404])
    }

    public func listContainers(label: String) async throws(ContainerEngineError) -> [ContainerSummary] {
        let reply = try await request(.GET, "/containers/json?all=1&filters=\(Self.filters(label: label))")
        try check(reply, "listing containers")
        return (reply.json as? [[String: Any]] ?? []).map {
            ContainerSummary(
                id: $0["Id"] as? String ?? "", names: $0["Names"] as? [String] ?? [],
                labels: $0["Labels"] as? [String: String] ?? [:], state: $0["State"] as? String ?? "")
        }
    }

    public func createNetwork(_ name: String, labels: [String: String]) async throws(ContainerEngineError) -> String {
        let reply = try await request(.POST, "/networks/create", json: ["Name": name, "Labels": labels, "CheckDuplicate": true])
        try check(reply, "creating network \(name)")
        guard let id = (reply.json as? [String: Any])?["Id"] as? String else { throw ContainerEngineError("creating network \(name): no id") }
        return id
    }

    public func removeNetwork(_ id: String) async throws(ContainerEngineError) {
        try check(try await request(.DELETE, "/networks/\(id)"), "removing network \(id.prefix(12))", accept: [404])
    }

    public func listNetworks(label: String) async throws(ContainerEngineError) -> [(id: String, name: String, labels: [String: String])] {
        let reply = try await request(.GET, "/networks?filters=\(Self.filters(label: label))")
        try check(reply, "listing networks")
        return (reply.json as? [[String: Any]] ?? []).map {
            ($0["Id"] as? String ?? "", $0["Name"] as? String ?? "", $0["Labels"] as? [String: String] ?? [:])
        }
    }

    public func removeImage(_ reference: String) async throws(ContainerEngineError) {
        try check(try await request(.DELETE, "/images/\(Self.escape(reference))?force=1"), "removing image \(reference)", accept: [404, 409])
    }
}

/// Docker's multiplexed stream: frames of an 8-byte header (stream, 0, 0, 0, big-endian length) and
/// the payload.
struct StreamDemultiplexer {
    private var pending: [UInt8] = []

    mutating func feed(_ bytes: [UInt8], _ onOutput: (OutputStreamKind, [UInt8]) -> Void) {
        pending += bytes
        var offset = 0
        while pending.count - offset >= 8 {
            let kind: OutputStreamKind = pending[offset] == 2 ? .stderr : .stdout
            let length = Int(pending[offset + 4]) << 24 | Int(pending[offset + 5]) << 16 | Int(pending[offset + 6]) << 8 | Int(pending[offset + 7])
            guard pending.count - offset - 8 >= length else { break }
            onOutput(kind, Array(pending[(offset + 8)..<(offset + 8 + length)]))
            offset += 8 + length
        }
        pending.removeFirst(offset)
    }
}

/// `docker build`'s answer: one JSON object per line (`stream`, `error`).
final class JSONLines: Sendable {
    private let state = Mutex<(pending: [UInt8], error: String?, raw: [UInt8])>(([], nil, []))

    var errorMessage: String? { state.withLock { $0.error } }
    var raw: String { state.withLock { String(decoding: $0.raw.prefix(2000), as: UTF8.self) } }

    func feed(_ bytes: [UInt8], onLine: (String) -> Void) {
        let objects: [[String: Any]] = state.withLock { state in
            state.pending += bytes
            if state.raw.count < 2000 { state.raw += bytes.prefix(2000) }
            var out: [[String: Any]] = []
            while let newline = state.pending.firstIndex(of: 10) {
                let line = Array(state.pending[..<newline])
                state.pending.removeFirst(newline + 1)
                if let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] {
                    if let error = object["error"] as? String { state.error = error }
                    out.append(object)
                }
            }
            return out
        }
        for object in objects {
            guard let text = object["stream"] as? String else { continue }
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) { onLine(String(line)) }
        }
    }

    func finish(onLine: (String) -> Void) { feed([10], onLine: onLine) }
}
