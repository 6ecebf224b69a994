import ContentCache
import Dispatch
import Synchronization
import WorkflowExpressions
import WorkflowModel
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// A step that runs in a container of its own: a Docker action's image with its entrypoint and args.
struct ActionContainer {
    var image: String
    var entrypoint: String?
    var args: [String]
}

extension JobRunner {
    /// The engine for a Docker action step, starting nothing: the job's, else one from the run context.
    func actionEngine(_ say: (String) -> Void) -> (any ContainerEngine)? {
        guard let engine = containers?.engine ?? context.containerEngine else {
            say("error: Docker actions need a container engine, and none is configured")
            return nil
        }
        do {
            _ = try engine.ping()
        } catch {
            say("error: Docker actions need a container engine: \(error.message)")
            return nil
        }
        return engine
    }

    /// The image a Docker action runs: `docker://IMAGE` as it is; a Dockerfile in the action's folder built
    /// through the engine and tagged by the folder's content, so an unchanged action is built once.
    func dockerActionImage(_ image: String, actionPath: String?, engine: any ContainerEngine, deadline: Double?, state: JobState, survivesCancel: Bool) -> String? {
        func say(_ text: String) { state.say(text) }
        if image.hasPrefix("docker://") { return String(image.dropFirst("docker://".count)) }
        guard let actionPath else {
            say("error: a Docker action's image must be docker://IMAGE or a Dockerfile in its folder")
            return nil
        }
        let context: [UInt8]
        do {
            context = try TarWriter.archive(directory: actionPath)
        } catch {
            say("error: reading the action's folder \(actionPath): \(error.message)")
            return nil
        }
        var hasher = ContentDigest.Hasher()
        hasher.update(context)
        hasher.update(Array(image.utf8))
        let digest = ContentDigest.hex(hasher.finalize())
        let tag = "gantry-action:" + digest.prefix(16)
        do {
            if try engine.imageEnvironment(tag) != nil { return tag }
            say("building \(image) of \(actionPath) as \(tag)")
            let masker = state.masker
            let output = state.output
            // The build stops with the step: cancellation (unless the step survives it) and its time limit.
            let stop = ExecCancellation()
            if !survivesCancel {
                abortables.withLock { $0.append(stop) }
                state.slot.track(stop)
            }
            defer {
                abortables.withLock { $0.removeAll { $0 === stop } }
                state.slot.untrack(stop)
            }
            if let limit = [deadline.map { $0 - HostProcess.now() }, state.remaining].compactMap({ $0 }).min() {
                DispatchQueue.global().asyncAfter(deadline: .now() + max(0, min(limit, 86_400))) { stop.cancel() }
            }
            if isCancelled && !survivesCancel { stop.cancel() }
            try engine.buildImage(context: context, dockerfile: image, tag: tag, labels: ["dev.gantry.action": actionPath], cancel: stop) { line in
                output.line(self.instance.id, masker.mask("  " + line), to: .log)
            }
            return tag
        } catch {
            // A base image the engine does not have: name it and the pull that provides it, rather than
            // the engine's registry error (gantry never pulls).
            let dockerfile = Files.read(actionPath + "/" + image)
            for base in Self.baseImages(dockerfile) where (try? engine.imageEnvironment(base)) == nil {
                say("error: the Dockerfile of \(actionPath) starts FROM '\(base)', which is not in the engine: gantry never pulls; provide it with `docker pull \(base)`")
                return nil
            }
            say("error: \(error.message)")
            return nil
        }
    }

    /// The images a Dockerfile's `FROM` lines name (stages named before are not images).
    static func baseImages(_ dockerfile: String) -> [String] {
        var stages = Set<String>()
        var images: [String] = []
        for line in dockerfile.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.first?.uppercased() == "FROM" else { continue }
            let rest = words.dropFirst().filter { !$0.hasPrefix("--") }
            guard let image = rest.first else { continue }
            if !stages.contains(image.lowercased()), image.lowercased() != "scratch", !image.contains("$") { images.append(image) }
            if rest.count >= 3, rest[rest.startIndex + 1].uppercased() == "AS" { stages.insert(rest[rest.startIndex + 2].lowercased()) }
        }
        return images
    }

    /// Runs a Docker action's container: `INPUT_*`, the step's env and GitHub's variables; the
    /// workspace at `/github/workspace` (its working directory) and the run's folders at their own paths
    /// (the file-command files among them).
    func runActionContainer(
        _ action: ActionContainer, engine: any ContainerEngine, env: [(String, String)], timeout: Double?, handle: HostProcess.Handle,
        onLine: @escaping @Sendable (HostProcess.Stream, String) -> Void
    ) throws(HostProcess.Failure) -> HostProcess.Result {
        let network = containers?.network ?? "host"
        var spec = ContainerSpec(name: containerName + "-step-" + String(UInt32.random(in: 0...UInt32.max), radix: 16), image: action.image)
        spec.entrypoint = action.entrypoint.map { [$0] }
        spec.command = action.args
        spec.env = env.filter { $0.0 != "PATH" }.map { $0.0 + "=" + $0.1 }
        spec.labels = containerLabels
        spec.binds = [context.root + ":" + context.root, workspace + ":/github/workspace"]
        spec.workingDirectory = "/github/workspace"
        spec.networkMode = network
        if network == "host", let services = containers?.services { spec.extraHosts = services.map { $0.id + ":127.0.0.1" } }
        spec.attachOutput = true
        // A tracker of its own: tearing it down removes this container only, never the job's.
        let tracker = JobContainers(engine: engine, network: network, resources: context.resources)
        let id: String
        do throws(ContainerEngineError) {
            id = try create(spec, tracker)
        } catch {
            _ = tracker.teardown()
            throw HostProcess.Failure(message: error.message)
        }
        defer { _ = tracker.teardown() }
        let code = Mutex<Int32?>(nil)
        let stream = BackgroundStream(handle: handle, onLine: onLine) { output in
            let exit = try engine.startAttached(id, onOutput: output)
            code.withLock { $0 = exit }
        }
        let (_, timedOut) = Self.supervise(
            timeout: timeout, handle: handle, done: stream.done, exited: { false },
            signal: { try? engine.killContainer(id, signal: $0) }, abandon: {})
        if !stream.done.value {
            // Killed; the wait returns once the engine has reaped it.
            _ = handle.wake.wait(timeout: .now() + .seconds(5))
        }
        if let message = stream.error { throw HostProcess.Failure(message: message) }
        return HostProcess.Result(
            exitCode: code.withLock { $0 }, signal: nil, timedOut: timedOut,
            cancelled: handle.cancelled.load(ordering: .sequentiallyConsistent), processGroup: 0)
    }

    /// A Docker action step (`uses: docker://IMAGE`, or an action with `runs.using: docker`): its image,
    /// args and entrypoint evaluated with the step's `inputs`, run through `execute` so file commands,
    /// masking and time limits work as for any step.
    func runDocker(
        _ docker: ActionMetadata.Docker, actionPath: String?, inputs: [(String, String)], entrypoint: String?, env: [(String, String)],
        evaluation: EvaluationContext, deadline: Double?, state: JobState, survivesCancel: Bool
    ) -> StepResult {
        func say(_ text: String) { state.say(text) }
        guard let engine = actionEngine(say),
            let image = dockerActionImage(docker.image, actionPath: actionPath, engine: engine, deadline: deadline, state: state, survivesCancel: survivesCancel)
        else {
            return .failed
        }
        // Cancelled while the image was being built: the action does not start.
        if isCancelled && !survivesCancel {
            return StepResult(outcome: .cancelled, conclusion: .cancelled, outputs: [], env: [], summary: "", timedOutJob: false)
        }
        var withInputs = evaluation
        withInputs.contexts = ExpressionObject(evaluation.contexts.pairs.filter { $0.key != "inputs" } + [("inputs", .object(inputs.map { ($0.0, .string($0.1)) }))])
        var args: [String] = []
        var actionEnv: [(String, String)] = []
        // The runner's ContainerActionHandler: without `runs.args` the `args` input is the argument
        // string, and without `runs.entrypoint` the `entryPoint` input the entrypoint.
        func input(_ name: String) -> String? { inputs.last { $0.0.lowercased() == name.lowercased() }?.1 }
        var entrypoint = entrypoint
        // (Pre and post stages always pass their own entrypoint: a nil one is the main stage.)
        if entrypoint == nil, docker.entrypoint == nil, let given = input("entryPoint"), !given.isEmpty { entrypoint = given }
        do {
            for arg in docker.args { args.append(try evaluate(arg, withInputs).stringValue) }
            if docker.args.isEmpty, let given = input("args") { args = try ShellInvocation.splitWords(given) }
            for (name, value) in docker.env { actionEnv.append((name, try evaluate(value, withInputs).stringValue)) }
        } catch let error as ShellInvocation.Failure {
            say("error: with.args: \(error.message.replacing("shell", with: "args"))")
            return .failed
        } catch {
            say("error: \(error)")
            return .failed
        }
        let inputEnv = inputs.map { ("INPUT_" + $0.0.replacing(" ", with: "_").uppercased(), $0.1) }
        var stepEnv = Self.merge([env, actionEnv, inputEnv])
        if let actionPath { stepEnv.append(("GITHUB_ACTION_PATH", actionPath)) }
        let action = ActionContainer(image: image, entrypoint: entrypoint, args: args)
        return execute([], env: stepEnv, directory: workspace, deadline: deadline, state: state, survivesCancel: survivesCancel, place: .action(action, engine))
    }
}

/// Where a step's program runs.
enum StepPlace {
    /// On the host, in the job's workspace.
    case host
    /// In the job container when the job has one, else on the host.
    case job
    /// In a container of its own.
    case action(ActionContainer, any ContainerEngine)
}

/// A ustar archive of a folder, for a Docker build context: regular files, folders and symbolic links,
/// in byte order, with modes; owner root, time zero (the same folder always gives the same bytes).
enum TarWriter {
    struct Failure: Error {
        var message: String
    }

    static func archive(directory: String) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        try add(directory, relative: "", into: &out)
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    private static func add(_ path: String, relative: String, into out: inout [UInt8]) throws(Failure) {
        for name in Files.directoryEntries(path).sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let full = path + "/" + name
            let entry = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { throw Failure(message: "cannot read \(full)") }
            let mode = Int(info.st_mode & 0o7777)
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try header(entry + "/", mode: mode, size: 0, type: "5", link: "", into: &out)
                try add(full, relative: entry, into: &out)
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: 4097)
                let n = readlink(full, &buffer, 4096)
                guard n >= 0 else { throw Failure(message: "cannot read link \(full)") }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                try header(entry, mode: mode, size: 0, type: "2", link: target, into: &out)
            case S_IFREG:
                let bytes = Files.readBytes(full)
                try header(entry, mode: mode, size: bytes.count, type: "0", link: "", into: &out)
                out += bytes
                out += [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
            default:
                continue
            }
        }
    }

    private static func header(_ name: String, mode: Int, size: Int, type: Character, link: String, into out: inout [UInt8]) throws(Failure) {
        var nameBytes = Array(name.utf8)
        var prefix: [UInt8] = []
        if nameBytes.count > 100 {
            // ustar splits a long name at a slash: up to 155 bytes of prefix, 100 of name.
            guard let slash = nameBytes.indices.last(where: { nameBytes[$0] == 0x2F && $0 <= 155 && nameBytes.count - $0 - 1 <= 100 }) else {
                throw Failure(message: "path too long for a build context: \(name)")
            }
            prefix = Array(nameBytes[..<slash])
            nameBytes = Array(nameBytes[(slash + 1)...])
        }
        guard link.utf8.count <= 100 else { throw Failure(message: "link target too long for a build context: \(name)") }
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (i, b) in bytes.enumerated() { block[offset + i] = b }
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let text = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - text.count)) + text).utf8) + [0]
        }
        put(nameBytes, at: 0)
        put(octal(mode, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)
        block[156] = UInt8(ascii: type.unicodeScalars.first!)
        put(Array(link.utf8), at: 157)
        put(Array("ustar\u{0}00".utf8), at: 257)
        put(prefix, at: 345)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(Array((String(repeating: "0", count: max(0, 6 - String(sum, radix: 8).count)) + String(sum, radix: 8)).utf8) + [0, 0x20], at: 148)
        out += block
    }
}
