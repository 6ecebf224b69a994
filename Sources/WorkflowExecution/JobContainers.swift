public import WorkflowModel
import Dispatch
import Synchronization
import WorkflowExpressions
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// The containers of one job instance: its services and its job container, created before the first step
/// and removed when the job ends, whatever the job's end.
///
/// `@unchecked Sendable`: `jobContainer` and `containerPath` are written only while the job sets up,
/// on the job's thread, before any step (or its output threads) reads them; everything that changes
/// later is behind a `Mutex`.
public final class JobContainers: @unchecked Sendable {
    let engine: any ContainerEngine
    /// `host`, or the job's own network's name.
    let network: String
    /// Every container and network this job created, removed by `teardown`.
    private let created = Mutex<(containers: [String], networks: [String])>(([], []))
    /// Set once during setup, then only read.
    var jobContainer: String?
    /// `PATH` inside the job container (its image's).
    var containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// Programs looked up in the job container's `PATH`, and whether they were found.
    private let programs = Mutex<[String: Bool]>([:])

    /// Whether the job container has `program` on its image's `PATH` (for the default shell's bash-or-sh
    /// choice): a stat per folder through the engine, no process started; remembered per job.
    func hasProgram(_ program: String) -> Bool {
        if let known = programs.withLock({ $0[program] }) { return known }
        guard let id = jobContainer else { return false }
        var found = false
        for directory in containerPath.split(separator: ":") where directory.hasPrefix("/") {
            if (try? engine.pathExists(id, directory + "/" + program)) == true {
                found = true
                break
            }
        }
        programs.withLock { $0[program] = found }
        return found
    }
    /// `job.services.<id>`: container id and ports (container port → host port).
    var services: [(id: String, container: String, ports: [(String, String)])] = []

    /// The run this job belongs to: what it creates is tracked there too, for a stop at once.
    let resources: RunResources

    init(engine: any ContainerEngine, network: String, resources: RunResources) {
        self.engine = engine
        self.network = network
        self.resources = resources
    }

    func track(container id: String) {
        created.withLock { $0.containers.append(id) }
        resources.created(container: id, on: engine)
    }

    func track(network id: String) {
        created.withLock { $0.networks.append(id) }
        resources.created(network: id, on: engine)
    }

    /// Removes everything the job created; returns the messages of what could not be removed.
    func teardown() -> [String] {
        let (containers, networks) = created.withLock { state in
            defer { state = ([], []) }
            return state
        }
        var problems: [String] = []
        for id in containers.reversed() {
            do { try engine.removeContainer(id) } catch { problems.append(error.message) }
        }
        for id in networks {
            do { try engine.removeNetwork(id) } catch { problems.append(error.message) }
        }
        resources.removed(containers: containers, networks: networks)
        return problems
    }

    /// The `job` context's `container` and `services`.
    var contextValues: [(String, ExpressionValue)] {
        var values: [(String, ExpressionValue)] = []
        if let jobContainer {
            values.append(("container", .object([("id", .string(jobContainer)), ("network", .string(network))])))
        }
        if !services.isEmpty {
            values.append(("services", .object(services.map { service in
                (service.id, .object([
                    ("id", .string(service.container)), ("network", .string(network)),
                    ("ports", .object(service.ports.map { ($0.0, .string($0.1)) })),
                ]))
            })))
        }
        return values
    }
}

/// Labels on everything Gantry creates, so `gantry docker prune` finds what a killed run left.
public enum ContainerLabels {
    public static let run = "dev.gantry.run"
    public static let pid = "dev.gantry.pid"
    public static let job = "dev.gantry.job"
}

extension JobRunner {
    /// Whether this job needs a container engine: a job container, services, or `runs-on` mapped to
    /// `docker://`.
    var needsContainers: Bool {
        instance.backend.hasPrefix("docker://") || job.services.contains { !($0.container.image?.value ?? "").isEmpty } || job.servicesExpression != nil
    }

    /// The `-P label=docker://IMAGE` image of a job without `container:`.
    var mappedImage: String? {
        job.container == nil && instance.backend.hasPrefix("docker://") ? String(instance.backend.dropFirst("docker://".count)) : nil
    }

    var containerName: String {
        "gantry-" + Self.safeName(context.runID) + "-" + Self.safeName(directoryName)
    }

    var containerLabels: [String: String] {
        [ContainerLabels.run: context.runID, ContainerLabels.pid: String(getpid()), ContainerLabels.job: instance.id]
    }

    /// Starts the job's services and its container, and waits for the services' health checks. On
    /// failure it says why and returns false; what it created is removed by `teardown` either way.
    func startContainers(_ containers: JobContainers, state: JobState) -> Bool {
        func say(_ text: String) { state.say(text) }
        let engine = containers.engine
        let contexts = base(extra: [("env", .object(state.env.map { ($0.0, .string($0.1)) }))])
        func text(_ value: Located<String>?) throws(ExpressionError) -> String? {
            guard let value else { return nil }
            return try evaluate(value.value, EvaluationContext(contexts: contexts)).stringValue
        }
        func environment(_ env: Environment?) throws(ExpressionError) -> [String] {
            guard case .mapping(let entries)? = env else { return [] }
            return try JobDecisions.strings(of: entries, EvaluationContext(contexts: contexts)).map { $0.0 + "=" + $0.1 }
        }
        do {
            _ = try engine.ping()
        } catch {
            say("error: job '\(job.id.value)' needs a container engine: \(error.message)")
            return false
        }
        if job.servicesExpression != nil {
            say("error: `services:` given as one expression is not supported by gantry run; write each service out")
            return false
        }
        let bridge = containers.network != "host"
        if bridge {
            do {
                let id = try engine.createNetwork(containers.network, labels: containerLabels)
                containers.track(network: id)
            } catch {
                say("error: \(error.message)")
                return false
            }
        }
        var healthChecked: [(id: String, container: String)] = []
        var lastServiceStart: Double?
        do {
            // Services first, as the runner starts them before the job container.
            for service in job.services {
                let image = try text(service.container.image) ?? ""
                if image.isEmpty { continue }  // GitHub's rule: an empty image means no service
                var spec = ContainerSpec(name: containerName + "-" + Self.safeName(service.id.value), image: image)
                spec.env = try environment(service.container.env)
                spec.networkMode = bridge ? containers.network : "host"
                spec.networkAliases = bridge ? [service.id.value] : []
                if let command = try text(service.container.command) { spec.command = try ShellInvocation.splitWords(command) }
                if let entrypoint = try text(service.container.entrypoint) { spec.entrypoint = [entrypoint] }
                for volume in service.container.volumes { spec.binds.append(try text(volume) ?? "") }
                let ports = try servicePorts(service.container.ports, contexts: contexts)
                if bridge { spec.portBindings = Self.bindings(ports) }
                if let options = try text(service.container.options) { try ContainerOptions.apply(options, to: &spec) }
                spec.labels.merge(containerLabels) { _, new in new }
                let id = try create(spec, containers)
                try engine.startContainer(id)
                lastServiceStart = HostProcess.now()
                // One inspect: the ports the engine published (bridge) and whether the image has a health check.
                let status = try engine.inspectContainer(id)
                say("service \(service.id.value): started \(image) (\(id.prefix(12)))")
                // On the host network nothing is remapped: the service listens on its own port.
                var published: [(String, String)] = ports.map { (String($0.container), String($0.container)) }
                for port in ports where !bridge && !port.host.isEmpty && port.host != String(port.container) {
                    say("warning: service \(service.id.value): port \(port.host):\(port.container) is not remapped on the host network; it listens on \(port.container) (use --network bridge to publish it as \(port.host))")
                }
                if bridge { published = status.ports.map { (String($0.container.prefix { $0 != "/" }), $0.host) } }
                containers.services.append((service.id.value, id, published))
                if spec.health != nil && spec.health?.test != ["NONE"] || status.health != nil {
                    healthChecked.append((service.id.value, id))
                }
            }
            // The image is evaluated now (it may come from `needs` or the matrix); an empty one runs the
            // job on the host.
            let evaluatedImage = try job.container.map { container -> String in try text(container.image) ?? "" }
            if let image = evaluatedImage.map({ $0.isEmpty ? nil : $0 }) ?? mappedImage {
                var spec = ContainerSpec(name: containerName, image: image)
                if let container = job.container {
                    spec.env = try environment(container.env)
                    for volume in container.volumes { spec.binds.append(try text(volume) ?? "") }
                    if let options = try text(container.options) { try ContainerOptions.apply(options, to: &spec) }
                    if !container.ports.isEmpty && bridge {
                        spec.portBindings = Self.bindings(try servicePorts(container.ports, contexts: contexts))
                    }
                }
                spec.labels.merge(containerLabels) { _, new in new }
                // Another user (`--user`) must reach the run's folders: the run directory, made private,
                // becomes traversable (still not listable); the scripts in it keep their random path.
                if spec.user != nil { chmod(context.root, 0o711) }
                spec.entrypoint = ["tail"]
                spec.command = ["-f", "/dev/null"]
                spec.networkMode = bridge ? containers.network : "host"
                // On the host network, service names resolve to the host (where the services listen).
                if !bridge { spec.extraHosts += containers.services.map { $0.id + ":127.0.0.1" } }
                // The run's folders (workspace, temp, tool cache) and the action folder, at the same paths.
                spec.binds.append(context.root + ":" + context.root)
                if let actions = context.actions?.actionDirectory, access(actions, F_OK) == 0 { spec.binds.append(actions + ":" + actions + ":ro") }
                let id = try create(spec, containers)
                // The image's env (for PATH) is read while the container starts, on another connection.
                let imageEnvironment = Mutex<Result<[String]?, ContainerEngineError>?>(nil)
                let asked = DispatchSemaphore(value: 0)
                startThread {
                    let result = Result { () throws(ContainerEngineError) in try engine.imageEnvironment(image) }
                    imageEnvironment.withLock { $0 = result }
                    asked.signal()
                }
                try engine.startContainer(id)
                asked.wait()
                let imageEnv = try imageEnvironment.withLock { $0! }.get() ?? []
                containers.jobContainer = id
                // The steps' PATH: the container's env (`-e PATH=…`) over the image's.
                if let path = (imageEnv + spec.env).last(where: { $0.hasPrefix("PATH=") }) { containers.containerPath = String(path.dropFirst(5)) }
                say("container: started \(image) (\(id.prefix(12)))")
            }
        } catch let error as ContainerEngineError {
            say("error: \(error.message)")
            return false
        } catch let error as ContainerOptions.Failure {
            say("error: \(error.message)")
            return false
        } catch let error as ShellInvocation.Failure {
            say("error: \(error.message.replacing("shell", with: "command"))")
            return false
        } catch {
            say("error: \(error)")
            return false
        }
        return waitForHealth(healthChecked, engine: engine, state: state, say: say)
            && checkServicesRunning(containers, unchecked: Set(containers.services.map(\.container)).subtracting(healthChecked.map(\.container)), since: lastServiceStart, say: say)
    }

    /// Creates a container from an image the engine has (the engine answers 404 for one it has not).
    func create(_ spec: ContainerSpec, _ containers: JobContainers) throws(ContainerEngineError) -> String {
        let id: String
        do {
            id = try containers.engine.createContainer(spec)
        } catch where error.status == 404 {
            throw ContainerEngineError("image '\(spec.image)' is not in the engine at \(containers.engine.address), and gantry does not pull images: `docker pull \(spec.image)`, or build it, then run again")
        }
        containers.track(container: id)
        return id
    }

    /// Port bindings for a bridge network: `5432/tcp` → host port ("" for any).
    static func bindings(_ ports: [(container: Int, host: String, proto: String)]) -> [(container: String, host: String)] {
        ports.map { ("\($0.container)/\($0.proto)", $0.host) }
    }

    /// Waits while each health-checked service is `starting`, with the official runner's exponential
    /// back-off (capped at 32 s, from 0.25 s rather than its 2 s so a quick service costs little).
    private func waitForHealth(_ services: [(id: String, container: String)], engine: any ContainerEngine, state: JobState, say: (String) -> Void) -> Bool {
        for service in services {
            var delay = 0.25
            while true {
                let status: ContainerStatus
                do {
                    status = try engine.inspectContainer(service.container)
                } catch {
                    say("error: \(error.message)")
                    return false
                }
                let health = status.health ?? (status.running ? "healthy" : "exited")
                if health == "healthy" && status.running {
                    say("service \(service.id): healthy")
                    break
                }
                if health != "starting" || !status.running {
                    let why = status.running ? "is \(health)" : "exited with code \(status.exitCode)"
                    say("error: service '\(service.id)' \(why); its last output:")
                    let logs = (try? engine.logs(service.container)) ?? ""
                    for line in logs.split(separator: "\n", omittingEmptySubsequences: false).suffix(50) where !line.isEmpty {
                        say("  " + line)
                    }
                    return false
                }
                if isCancelled { return false }
                if let remaining = state.remaining, remaining <= 0 {
                    say("error: the job exceeded its timeout of \(formatDuration(state.timeout ?? 0)) while service '\(service.id)' was starting")
                    state.timedOut = true
                    return false
                }
                // Slept in slices so cancellation is noticed within 0.1 s.
                let until = HostProcess.now() + min(delay, state.remaining ?? delay)
                while HostProcess.now() < until && !isCancelled { usleep(100_000) }
                delay = min(delay * 2, 32)
            }
        }
        return true
    }

    /// A service that already exited (a port taken, a bad command) fails the job before its first
    /// step, with its output. Services without a health check are watched until `settle` seconds have
    /// passed since the last service started, so one that dies at once is seen whatever the engine's
    /// speed (the job waits only for what is left of that time).
    private func checkServicesRunning(
        _ containers: JobContainers, unchecked: Set<String>, since started: Double?, settle: Double = 0.25, say: (String) -> Void
    ) -> Bool {
        if let started, !unchecked.isEmpty {
            while HostProcess.now() < started + settle && !isCancelled {
                let exited = unchecked.contains { id in (try? containers.engine.inspectContainer(id))?.running == false }
                if exited { break }
                usleep(25_000)
            }
        }
        for service in containers.services {
            guard let status = try? containers.engine.inspectContainer(service.container), !status.running else { continue }
            say("error: service '\(service.id)' exited with code \(status.exitCode) before the first step; its last output:")
            for line in ((try? containers.engine.logs(service.container)) ?? "").split(separator: "\n").suffix(50) { say("  " + line) }
            return false
        }
        return true
    }

    /// `ports:` entries as written: `8080:80`, `80`, `6379/tcp`, `127.0.0.1:8080:80`, numbers.
    private func servicePorts(_ nodes: [ValueNode], contexts: ExpressionObject) throws -> [(container: Int, host: String, proto: String)] {
        var ports: [(container: Int, host: String, proto: String)] = []
        for node in nodes {
            let raw = node.scalarText ?? ""
            let written = try evaluate(raw, EvaluationContext(contexts: contexts)).stringValue
            var text = Substring(written)
            var proto = "tcp"
            if let slash = text.firstIndex(of: "/") {
                proto = String(text[text.index(after: slash)...])
                text = text[..<slash]
            }
            let parts = text.split(separator: ":")
            guard let last = parts.last, let container = Int(last), (1...65535).contains(container),
                  parts.count <= 3, parts.count < 2 || Int(parts[parts.count - 2]) != nil
            else {
                throw ContainerEngineError("ports: '\(written)' is not a port mapping (e.g. 5432:5432, 6379/tcp)")
            }
            ports.append((container, parts.count >= 2 ? String(parts[parts.count - 2]) : "", proto))
        }
        return ports
    }

    /// Docker's name characters only: ASCII letters and digits, `_`, `.` and `-`.
    static func safeName(_ text: String) -> String {
        String(text.unicodeScalars.map { c -> Character in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_" || c == ".") ? Character(c) : "_"
        })
    }

    // MARK: Steps in the job container

    /// Runs one step's program in the job container, with the host runner's semantics: the step's time
    /// limit and cancellation send SIGINT, then SIGTERM 7.5 s later, then SIGKILL, to the step's whole
    /// process tree (each exec is its own session, so its pid is its group). The step ends when its
    /// program ends, even if a background child keeps its output open.
    func runInContainer(
        _ containers: JobContainers, container: String, arguments: [String], env: [(String, String)], directory: String,
        timeout: Double?, handle: HostProcess.Handle, onLine: @escaping @Sendable (HostProcess.Stream, String) -> Void
    ) throws(HostProcess.Failure) -> HostProcess.Result {
        let engine = containers.engine
        // `sh` records the step's pid (in the container's /tmp, which any user may write), then becomes the
        // step's program.
        let pidFile = "/tmp/.gantry-step-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".pid"
        let wrapped = ["sh", "-c", "echo $$ > \(pidFile) 2>/dev/null; exec \"$@\"", "sh"] + arguments
        let exec: String
        do {
            exec = try engine.execCreate(container, ExecSpec(command: wrapped, env: env.map { $0.0 + "=" + $0.1 }, workingDirectory: directory))
        } catch {
            throw HostProcess.Failure(message: error.message)
        }
        let cancelStream = ExecCancellation()
        let stream = BackgroundStream(handle: handle, onLine: onLine) { output in
            try engine.execStart(exec, cancel: cancelStream, onOutput: output)
        }
        func signal(_ name: String) {
            // One delivery: to the step's process group when it leads one, else to its process (a second
            // SIGINT would run a step's trap twice). Shells disagree on `--`: dash needs it before `-PID`,
            // busybox rejects it (and still signals the rest), so the harmless signal 0 finds the form.
            let command = """
                p=$(cat \(pidFile) 2>/dev/null) || exit 0
                if kill -s 0 -- -$p 2>/dev/null; then kill -s \(name) -- -$p
                elif kill -s 0 -$p 2>/dev/null; then kill -s \(name) -$p
                else kill -s \(name) $p; fi 2>/dev/null; true
                """
            if let id = try? engine.execCreate(container, ExecSpec(command: ["sh", "-c", command])) {
                try? engine.execStart(id, cancel: ExecCancellation()) { _, _ in }
            }
        }
        var exitCode: Int32?
        let (stage, timedOut) = Self.supervise(
            timeout: timeout, handle: handle, done: stream.done,
            exited: {
                // The program may have ended while a background child holds its output open.
                guard let state = try? engine.execInspect(exec), !state.running else { return false }
                exitCode = state.exitCode
                return true
            },
            signal: signal, abandon: { cancelStream.cancel() })
        if stage > 0 { signal("KILL") }
        // The stream's last lines (an ::add-mask:: among them) are handled before the step's result is.
        let drainUntil = HostProcess.now() + 1
        while !stream.done.value && HostProcess.now() < drainUntil { _ = handle.wake.wait(timeout: .now() + .milliseconds(20)) }
        if let message = stream.error { throw HostProcess.Failure(message: message) }
        // The engine records the exit code a moment after the output ends.
        let codeUntil = HostProcess.now() + 2
        while exitCode == nil, let state = try? engine.execInspect(exec) {
            if !state.running { exitCode = state.exitCode } else if HostProcess.now() > codeUntil { break } else { usleep(5_000) }
        }
        let code = exitCode ?? -1
        // A shell reports a signal's death as 128+n; Docker passes that on.
        return HostProcess.Result(
            exitCode: code >= 0 ? code : nil, signal: nil, timedOut: timedOut,
            cancelled: handle.cancelled.load(ordering: .sequentiallyConsistent), processGroup: 0)
    }
}

extension JobRunner {
    /// Watches a step running in a container until `done`: the step's time limit and `handle`'s
    /// cancellation send SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that (GitHub's
    /// sequence). `exited` is polled (50 ms, growing to 1 s) for a program that ended while its output
    /// stays open; the stream is then abandoned. Returns the last stage reached (0 none, 1 INT, 2 TERM,
    /// 3 KILL) and whether the time limit ran out.
    static func supervise(
        timeout: Double?, handle: HostProcess.Handle, done: Flag, exited: () -> Bool, signal: (String) -> Void,
        abandon: () -> Void
    ) -> (stage: Int, timedOut: Bool) {
        var ladder = CancellationLadder(start: HostProcess.now(), timeout: timeout)
        var poll = 0.05
        while !done.value {
            let deadline = min(HostProcess.now() + poll, ladder.deadline ?? .infinity)
            let wait = min(max(0, deadline - HostProcess.now()), 86_400)
            _ = handle.wake.wait(timeout: .now() + .nanoseconds(Int(wait * 1e9)))
            if done.value { break }
            if exited() {
                // What is already on its way is read, up to a second (the stream ends by itself as soon
                // as it has; an engine may report the exit before the last output frame, and Podman
                // under load took longer than the 50 ms once given here, losing a step's last line);
                // then a stream a background child still holds open is given up.
                let until = HostProcess.now() + 1
                while !done.value && HostProcess.now() < until { _ = handle.wake.wait(timeout: .now() + .milliseconds(20)) }
                if !done.value { abandon() }
                break
            }
            poll = min(poll * 2, 1)
            guard let sent = ladder.climb(now: HostProcess.now(), cancelRequested: handle.cancelled.load(ordering: .sequentiallyConsistent)) else { continue }
            signal(CancellationLadder.name(sent))
            if ladder.rung == .killed {
                // Nothing outlives SIGKILL; the stream is given up a moment later.
                _ = handle.wake.wait(timeout: .now() + .seconds(2))
                abandon()
                break
            }
        }
        return (ladder.rung.rawValue, ladder.timedOut)
    }
}

/// Output read on a thread of its own: `body` is given a sink for the bytes of both streams, which are
/// passed on as lines; when it returns, `done` is set and the step's handle is woken.
final class BackgroundStream: Sendable {
    let done = Flag()
    private let failure = Mutex<String?>(nil)
    var error: String? { failure.withLock { $0 } }

    init(
        handle: HostProcess.Handle, onLine: @escaping @Sendable (HostProcess.Stream, String) -> Void,
        _ body: @escaping @Sendable (@escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) throws -> Void
    ) {
        let splitter = Mutex(LineSplitter())
        startThread { [self] in
            do {
                try body { kind, bytes in
                    let stream: HostProcess.Stream = kind == .stderr ? .stderr : .stdout
                    for line in splitter.withLock({ $0.feed(bytes, stream) }) { onLine(stream, line) }
                }
            } catch let error as ContainerEngineError {
                failure.withLock { $0 = error.message }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            for (stream, line) in splitter.withLock({ $0.finish() }) { onLine(stream, line) }
            done.set()
            handle.wake.signal()
        }
    }
}

/// A flag one thread sets and others read.
final class Flag: Sendable {
    private let atomic = Atomic<Bool>(false)
    var value: Bool { atomic.load(ordering: .sequentiallyConsistent) }
    func set() { atomic.store(true, ordering: .sequentiallyConsistent) }
}

/// Bytes of two streams into lines (without newline or carriage return).
struct LineSplitter {
    private var buffers: [[UInt8]] = [[], []]

    mutating func feed(_ bytes: [UInt8], _ stream: HostProcess.Stream) -> [String] {
        let i = stream == .stdout ? 0 : 1
        buffers[i] += bytes
        var lines: [String] = []
        var start = 0
        while let newline = buffers[i][start...].firstIndex(of: 0x0A) {
            var end = newline
            if end > start && buffers[i][end - 1] == 0x0D { end -= 1 }
            lines.append(String(decoding: buffers[i][start..<end], as: UTF8.self))
            start = newline + 1
        }
        buffers[i].removeFirst(start)
        return lines
    }

    mutating func finish() -> [(HostProcess.Stream, String)] {
        defer { buffers = [[], []] }
        return [(HostProcess.Stream.stdout, buffers[0]), (.stderr, buffers[1])].compactMap { stream, bytes in
            bytes.isEmpty ? nil : (stream, String(decoding: bytes, as: UTF8.self))
        }
    }
}
