import WorkflowExpressions
import WorkflowPlanning
public import WorkflowModel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What running actions needs from outside the executor: reading `action.yml`, filling a workspace from
/// the repository, and where remote actions are kept.
public struct ActionSupport: Sendable {
    /// Parses an action's metadata file (bytes, path for messages): the metadata, or the problems as
    /// `file:line:col: message` lines.
    public var parseMetadata: @Sendable ([UInt8], String) -> Result<ActionMetadata, MetadataError>
    /// Copies the repository into a folder for `actions/checkout`; returns a sentence saying what was
    /// copied, or throws a one-line reason.
    public var checkout: @Sendable (String) throws(CheckoutError) -> String
    /// Where `owner/repo@ref` is looked for: `<actionDirectory>/owner/repo@ref`.
    public var actionDirectory: String

    public init(
        parseMetadata: @escaping @Sendable ([UInt8], String) -> Result<ActionMetadata, MetadataError>,
        checkout: @escaping @Sendable (String) throws(CheckoutError) -> String,
        actionDirectory: String
    ) {
        self.parseMetadata = parseMetadata
        self.checkout = checkout
        self.actionDirectory = actionDirectory
    }

    public struct MetadataError: Error, Sendable {
        public var lines: [String]
        public init(lines: [String]) { self.lines = lines }
    }

    public struct CheckoutError: Error, Sendable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }
}

/// An action a step names, found.
enum ResolvedAction {
    /// An action Gantry does itself, offline.
    case builtin(BuiltinAction)
    /// An action with its folder and metadata; `remote` for `owner/repo@ref`.
    case folder(path: String, metadata: ActionMetadata, remote: Bool)
    /// `docker://IMAGE`.
    case image(String)
}

/// A post step waiting for the job's end: an action's `post` script, or the save of actions/cache.
struct PostStep {
    var name: String
    /// The action step's position (its saved state, and one post per step).
    var stateKey: String
    /// `post-if`; nil is `always()`.
    var condition: String?
    var action: Action

    enum Action {
        case node(ActionMetadata.Node, actionPath: String, inputs: [(String, String)], env: [(String, String)])
        case cacheSave(JobRunner.CacheSave)
        case docker(ActionMetadata.Docker, actionPath: String, inputs: [(String, String)], env: [(String, String)])
    }
}

extension JobRunner {
    /// GitHub's limit on composite actions inside composite actions.
    static let compositeDepthLimit = 10

    /// Finds the action `uses` names, or says in one line why it cannot.
    func resolveAction(_ uses: String) -> Result<ResolvedAction, StepFailure> {
        if uses.hasPrefix("docker://") {
            guard uses.count > "docker://".count else { return .failure(StepFailure("'\(uses)' names no image")) }
            return .success(.image(uses))
        }
        if uses.hasPrefix("$/") {
            return resolveSelfAction(uses)
        }
        if uses.hasPrefix("./") || uses.hasPrefix("../") {
            let path = Self.normalize(workspace + "/" + uses)
            return loadAction(at: path, name: uses, remote: false, missing: "'\(uses)' has no action.yml or action.yaml in the workspace (\(path)); local actions are read from the workspace: check out the repository first with actions/checkout")
        }
        guard let at = uses.lastIndex(of: "@") else {
            return .failure(StepFailure("'\(uses)' is not an action reference: expected ./PATH, OWNER/REPO@REF or docker://IMAGE"))
        }
        let name = String(uses[..<at])
        let ref = String(uses[uses.index(after: at)...])
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts.contains(where: \.isEmpty), !ref.isEmpty, !parts.contains(".."), !ref.contains("/..") else {
            return .failure(StepFailure("'\(uses)' is not an action reference: expected ./PATH, OWNER/REPO@REF or docker://IMAGE"))
        }
        if parts[0].lowercased() == "actions", let builtin = BuiltinAction(rawValue: parts.dropFirst().joined(separator: "/").lowercased()) {
            return .success(.builtin(builtin))
        }
        guard let support = context.actions else {
            return .failure(StepFailure("action '\(uses)' cannot be found: no action directory is configured"))
        }
        let repository = support.actionDirectory + "/" + parts[0] + "/" + parts[1] + "@" + ref
        let path = ([repository] + parts.dropFirst(2)).joined(separator: "/")
        var info = stat()
        guard stat(repository, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            return .failure(StepFailure(
                "action '\(uses)' is not in the action directory: gantry runs offline and looks for it in \(repository); "
                    + "provide it with `git clone --depth 1 --branch \(ref) https://github.com/\(parts[0])/\(parts[1]) \(repository)` or point --action-dir elsewhere"))
        }
        return loadAction(at: path, name: uses, remote: true, missing: "action '\(uses)' has no action.yml or action.yaml in \(path)")
    }

    /// `$/PATH`: an action of this repository at the run's commit (GitHub's 2026 form, actions/runner
    /// #4457), needing no checkout: read from a copy of the repository (what actions/checkout would
    /// write) that the first such step of the job makes in the job's temp folder.
    private func resolveSelfAction(_ uses: String) -> Result<ResolvedAction, StepFailure> {
        let path = uses.dropFirst(2).drop { $0 == "/" }
        guard !path.isEmpty, !path.split(separator: "/").contains("..") else {
            return .failure(StepFailure("'\(uses)' names no action of this repository: expected $/PATH, such as $/.github/actions/setup"))
        }
        guard let support = context.actions else { return .failure(StepFailure("actions cannot be read: no action support is configured")) }
        let copy = selfRepository.withLock { made -> Result<String, StepFailure> in
            if let made { return made }
            let directory = temp + "/self-repository"
            let result: Result<String, StepFailure>
            do throws(ActionSupport.CheckoutError) {
                Files.makeDirectory(directory)
                _ = try support.checkout(directory)
                result = .success(directory)
            } catch {
                result = .failure(StepFailure("'\(uses)': this repository could not be read at the run's commit: \(error.message)"))
            }
            made = result
            return result
        }
        return copy.flatMap { root in
            loadAction(
                at: root + "/" + path, name: uses, remote: false,
                missing: "'\(uses)' has no action.yml or action.yaml at \(path) in this repository at the run's commit")
        }
    }

    private func loadAction(at path: String, name: String, remote: Bool, missing: String) -> Result<ResolvedAction, StepFailure> {
        guard let support = context.actions else { return .failure(StepFailure("actions cannot be read: no action support is configured")) }
        for file in ["action.yml", "action.yaml"] {
            let fd = open(path + "/" + file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            close(fd)
            let bytes = Array(Files.read(path + "/" + file).utf8)
            switch support.parseMetadata(bytes, path + "/" + file) {
            case .success(let metadata): return .success(.folder(path: path, metadata: metadata, remote: remote))
            case .failure(let error):
                return .failure(StepFailure("action '\(name)' has invalid metadata:\n" + error.lines.joined(separator: "\n")))
            }
        }
        // The runner's fallback: a folder with only a Dockerfile is a Docker action (inputs from `with:`,
        // `args` and `entryPoint` among them).
        for file in ["Dockerfile", "dockerfile"] where Files.exists(path + "/" + file) {
            return .success(.folder(path: path, metadata: ActionMetadata(file: path + "/" + file, runs: .docker(.init(image: file))), remote: remote))
        }
        return .failure(StepFailure(missing))
    }

    /// Set up job: every `owner/repo@ref` step of the job must be there before anything runs.
    func resolveRemoteActions(_ state: JobState) -> Bool {
        var ok = true
        var seen = Set<String>()
        for step in job.flattenedSteps {
            guard let uses = step.uses?.value, !uses.hasPrefix("./"), !uses.hasPrefix("../"), !uses.hasPrefix("docker://"),
                !uses.contains("${{"), seen.insert(uses).inserted
            else { continue }
            if case .failure(let failure) = resolveAction(uses) {
                // A missing action is said in full once per run; later jobs point back to it.
                if context.resources.firstReport(of: failure.message) {
                    report(failure, state: state)
                } else {
                    state.say("error: action '\(uses)' cannot be used (said above)")
                }
                ok = false
            }
        }
        return ok
    }

    /// Prints why an action cannot run: `error: ` and the message, one console line per line.
    private func report(_ failure: StepFailure, state: JobState) {
        for line in ("error: " + failure.message).split(separator: "\n") { state.say(String(line)) }
    }

    /// The `pre` scripts of the job's node actions and the `pre-entrypoint`s of its Docker actions, in step
    /// order, each when its `pre-if` holds (default `always()`). Local actions have none (the workspace is empty when the job is set up).
    func runPreSteps(_ state: JobState) {
        for (position, step) in Self.positions(job.steps) {
            guard let uses = step.uses?.value, !uses.hasPrefix("./"), !uses.hasPrefix("../"),
                case .success(.folder(let path, let metadata, _)) = resolveAction(uses)
            else { continue }
            // A node action's `pre`, or a Docker action's `pre-entrypoint`.
            let preIf: String?
            switch metadata.runs {
            case .node(let node) where node.pre != nil: preIf = node.preIf
            case .docker(let docker) where docker.preEntrypoint != nil: preIf = docker.preIf
            default: continue
            }
            let evaluation = stepEvaluation(frame: Frame(), state: state, steps: [], failed: state.failed)
            let name = "Pre " + (step.name?.value ?? uses)
            guard condition(preIf, evaluation, name: name, state: state) else { continue }
            guard let inputs = actionInputs(step, metadata: metadata, evaluation: evaluation, state: state) else {
                state.failed = true
                continue
            }
            // Would the pre script go on if the job were cancelled now? (pre-if defaults to always())
            let survivesCancel = preIf.map { condition($0, Self.cancelledView(evaluation), name: name, state: state) } ?? true
            let stateKey = "/" + position
            let env = Self.merge([state.env])
            let result = timedPhase(name, state: state) {
                switch metadata.runs {
                case .node(let node):
                    return runNode(node.pre ?? "", node: node, actionPath: path, inputs: inputs, env: env, stateKey: stateKey, state: state, survivesCancel: survivesCancel)
                case .docker(let docker):
                    return runDocker(
                        docker, actionPath: path, inputs: inputs, entrypoint: docker.preEntrypoint, env: env, evaluation: evaluation,
                        deadline: nil, state: state, survivesCancel: survivesCancel)
                case .composite:
                    return .failed
                }
            }
            // A node action's post step is due once the pre step ran, even if the main step is then skipped.
            if case .node(let node) = metadata.runs {
                registerPost(name: step.name?.value ?? uses, actionPath: path, node: node, inputs: inputs, env: env, stateKey: stateKey, state: state)
            }
            if result.conclusion == .failure { state.failed = true }
        }
    }

    /// Queues an action's post script (once per action step) for the end of the job.
    func registerPost(
        name: String, actionPath: String, node: ActionMetadata.Node, inputs: [(String, String)], env: [(String, String)],
        stateKey: String, state: JobState
    ) {
        guard node.post != nil, !state.posts.contains(where: { $0.stateKey == stateKey }) else { return }
        state.posts.append(PostStep(
            name: "Post " + name, stateKey: stateKey, condition: node.postIf,
            action: .node(node, actionPath: actionPath, inputs: inputs, env: Self.ownEnv(env, state: state))))
    }

    /// The part of a step's env that is its own (its `env:` and a composite caller's), not the job's.
    static func ownEnv(_ env: [(String, String)], state: JobState) -> [(String, String)] {
        let jobEnv = Dictionary(state.env, uniquingKeysWith: { $1 })
        return env.filter { jobEnv[$0.0] != $0.1 }
    }

    /// The post scripts registered by the actions that ran, last first, each when its `post-if` holds
    /// (default `always()`).
    func runPostSteps(_ state: JobState) {
        for post in state.posts.reversed() {
            // As on the runner: `post-if` sees the job's steps so far and the action's inputs, and the
            // post script the job's env as it is now (what later steps wrote to GITHUB_ENV) under the
            // action step's own `env`.
            var frame = Frame()
            switch post.action {
            case .node(_, _, let inputs, _), .docker(_, _, let inputs, _): frame.overrides = [("inputs", .object(inputs.map { ($0.0, .string($0.1)) }))]
            case .cacheSave: break
            }
            let evaluation = stepEvaluation(frame: frame, state: state, steps: state.stepsContext, failed: state.failed)
            guard condition(post.condition, evaluation, name: post.name, state: state) else { continue }
            let result = timedPhase(post.name, state: state) {
                switch post.action {
                case .node(let node, let actionPath, let inputs, let stepEnv):
                    return runNode(
                        node.post ?? "", node: node, actionPath: actionPath, inputs: inputs, env: Self.merge([state.env, stepEnv]), stateKey: post.stateKey,
                        state: state, survivesCancel: true)
                case .cacheSave(let save):
                    return runCacheSave(save, state: state)
                case .docker(let docker, let actionPath, let inputs, let stepEnv):
                    return runDocker(
                        docker, actionPath: actionPath, inputs: inputs, entrypoint: docker.postEntrypoint, env: Self.merge([state.env, stepEnv]),
                        evaluation: evaluation, deadline: nil, state: state, survivesCancel: true)
                }
            }
            if result.conclusion == .failure { state.failed = true }
        }
    }

    /// A pre or post script as a step of its own: step events around it.
    private func timedPhase(_ name: String, state: JobState, _ body: () -> StepResult) -> StepResult {
        state.output.event(.stepStarted(job: instance.id, step: state.masker.mask(name)))
        let started = HostProcess.now()
        let result = body()
        state.summary += result.summary
        for (key, value) in result.env {
            state.env.removeAll { $0.0 == key }
            state.env.append((key, value))
        }
        state.output.event(.stepFinished(job: instance.id, step: state.masker.mask(name), outcome: result.outcome, conclusion: result.conclusion, seconds: HostProcess.now() - started))
        return result
    }

    /// `pre-if`/`post-if`: an expression (status functions allowed) defaulting to `always()`.
    private func condition(_ text: String?, _ evaluation: EvaluationContext, name: String, state: JobState) -> Bool {
        guard let text else { return true }
        do {
            return try IfCondition(text, options: ContextAvailability.stepIf).evaluate(in: evaluation, options: ContextAvailability.stepIf)
        } catch {
            state.say("error: \(name): \(error)")
            return false
        }
    }

    // MARK: Running an action step

    func runAction(
        _ uses: String, step: Step, name: String, env: [(String, String)], evaluation: EvaluationContext, frame: Frame,
        state: JobState, survivesCancel: Bool
    ) -> StepResult {
        func say(_ text: String) { state.say(text) }
        let resolved: ResolvedAction
        switch resolveAction(uses) {
        case .success(let action): resolved = action
        case .failure(let failure):
            report(failure, state: state)
            return .failed
        }
        switch resolved {
        case .builtin(let builtin):
            var with: [String: String] = [:]
            do {
                for (key, value) in try JobDecisions.strings(of: step.with, evaluation) { with[key.lowercased()] = value }
            } catch {
                say("error: actions/\(builtin.rawValue): with: \(error)")
                return .failed
            }
            switch builtin {
            case .checkout: return runCheckout(with, state: state)
            case .cache, .cacheRestore:
                return runCacheRestore(with, name: name, env: env, stateKey: frame.path, state: state, registerSave: builtin == .cache)
            case .cacheSave:
                return runCacheSave(CacheSave(key: with["key"] ?? "", paths: Self.cachePaths(with["path"]), env: env, exactHit: false), state: state)
            case .uploadArtifact: return runUploadArtifact(with, env: env, state: state)
            case .downloadArtifact: return runDownloadArtifact(with, env: env, state: state)
            }
        case .image(let image):
            // `with: args` (split as a shell would) and `with: entrypoint`; every `with` is an INPUT_ too.
            var inputs: [(String, String)] = []
            do {
                inputs = try JobDecisions.strings(of: step.with, evaluation)
                let args = try ShellInvocation.splitWords(inputs.last { $0.0 == "args" }?.1 ?? "")
                let docker = ActionMetadata.Docker(image: image, args: args)
                return runDocker(
                    docker, actionPath: nil, inputs: inputs, entrypoint: inputs.last { $0.0 == "entrypoint" }?.1, env: env,
                    evaluation: evaluation, deadline: frame.deadline, state: state, survivesCancel: survivesCancel)
            } catch let error as ShellInvocation.Failure {
                say("error: \(uses): with.args: \(error.message.replacing("shell", with: "args"))")
            } catch {
                say("error: \(uses): with: \(error)")
            }
            return .failed
        case .folder(let path, let metadata, let remote):
            guard let inputs = actionInputs(step, metadata: metadata, evaluation: evaluation, state: state) else { return .failed }
            switch metadata.runs {
            case .docker(let docker):
                // A remote action's pre-entrypoint already ran when the job was set up (a local action has
                // none: it is read after checkout, as on GitHub).
                let result = runDocker(
                    docker, actionPath: path, inputs: inputs, entrypoint: docker.entrypoint, env: env, evaluation: evaluation,
                    deadline: frame.deadline, state: state, survivesCancel: survivesCancel)
                if docker.postEntrypoint != nil {
                    state.posts.append(PostStep(
                        name: "Post " + name, stateKey: frame.path, condition: docker.postIf,
                        action: .docker(docker, actionPath: path, inputs: inputs, env: Self.ownEnv(env, state: state))))
                }
                return result
            case .node(let node):
                let stateKey = frame.path
                // A remote action's pre already ran and saved its state; a local one has no pre.
                _ = remote
                var result = runNode(
                    node.main, node: node, actionPath: path, inputs: inputs, env: env, stateKey: stateKey, deadline: frame.deadline,
                    state: state, survivesCancel: survivesCancel)
                registerPost(name: name, actionPath: path, node: node, inputs: inputs, env: env, stateKey: stateKey, state: state)
                result.state = []
                return result
            case .composite(let steps):
                return runComposite(steps, metadata: metadata, path: path, inputs: inputs, env: env, frame: frame, state: state, name: name)
            }
        }
    }

    /// A node action's script on the host's `node`, with `INPUT_*`, `STATE_*` and `GITHUB_ACTION_PATH`.
    func runNode(
        _ script: String, node: ActionMetadata.Node, actionPath: String, inputs: [(String, String)], env: [(String, String)],
        stateKey: String, deadline: Double? = nil, state: JobState, survivesCancel: Bool
    ) -> StepResult {
        let path = state.prependPath.path(original: env.last { $0.0 == "PATH" }?.1 ?? Self.hostPath(context))
        guard Self.onPath("node", path: path) else {
            state.say("error: the action runs on \(node.using); gantry runs JavaScript actions with the host's `node`, which is not on PATH (install Node.js)")
            return .failed
        }
        let inputEnv = inputs.map { ("INPUT_" + $0.0.replacing(" ", with: "_").uppercased(), $0.1) }
        let savedState = (state.savedState[stateKey] ?? []).map { ("STATE_" + $0.0, $0.1) }
        let actionEnv = [("GITHUB_ACTION_PATH", actionPath)]
        var result = execute(
            ["node", actionPath + "/" + script], env: Self.merge([env, inputEnv, savedState, actionEnv]), directory: workspace,
            deadline: deadline, state: state, survivesCancel: survivesCancel)
        if !result.state.isEmpty { state.savedState[stateKey] = Self.merge([state.savedState[stateKey] ?? [], result.state]) }
        result.state = []
        return result
    }

    /// A composite action: its steps in a frame of their own (`inputs`, `steps`, `github.action_path`),
    /// then its outputs from their `value` expressions.
    private func runComposite(
        _ steps: [Step], metadata: ActionMetadata, path: String, inputs: [(String, String)], env: [(String, String)],
        frame: Frame, state: JobState, name: String
    ) -> StepResult {
        guard frame.depth < Self.compositeDepthLimit else {
            state.say("error: '\(name)': composite actions are nested more than \(Self.compositeDepthLimit) levels deep")
            return .failed
        }
        var github = githubValue
        if case .object(let object) = github {
            github = .object(object.pairs.map { ($0.key, $0.key == "action_path" ? .string(path) : $0.value) } + [("action_path", .string(path))])
        }
        let inputsValue = ExpressionValue.object(inputs.map { ($0.0, .string($0.1)) })
        var inner = Frame()
        inner.overrides = [("inputs", inputsValue), ("github", github)]
        // The calling step's env reaches the inner steps; GITHUB_ENV written inside reaches the job.
        inner.env = Self.ownEnv(env, state: state)
        inner.isJob = false
        inner.path = frame.path
        inner.depth = frame.depth + 1
        inner.actionPath = path
        inner.deadline = frame.deadline
        (inner.actionRepository, inner.actionRef) = (state.action.repository, state.action.ref)
        var (innerSteps, failed) = runSteps(steps, frame: inner, state: state)
        if let deadline = frame.deadline, HostProcess.now() >= deadline {
            if state.reportedDeadline != deadline { state.say("error: the step timed out") }
            state.reportedDeadline = deadline
            failed = true
        }
        let evaluation = stepEvaluation(frame: inner, state: state, steps: innerSteps, failed: failed)
        var outputs: [(String, ExpressionValue)] = []
        for output in metadata.outputs {
            guard let raw = output.value?.value else { continue }
            do {
                outputs.append((output.id.value, .string(try evaluate(raw, evaluation).stringValue)))
            } catch {
                state.say("error: output '\(output.id.value)' of '\(name)': \(error)")
            }
        }
        // A background composite stopped by a `cancel` step is cancelled, as one the job's cancellation stops.
        let outcome: JobResult = failed ? .failure : isCancelled || state.slot.isStopped ? .cancelled : .success
        return StepResult(outcome: outcome, conclusion: outcome, outputs: outputs, env: [], summary: "", timedOutJob: false)
    }

    /// The action's inputs: `with` values (evaluated) over the metadata's defaults; unknown names warned
    /// about as GitHub does. Nil after an error in an expression.
    func actionInputs(_ step: Step, metadata: ActionMetadata, evaluation: EvaluationContext, state: JobState) -> [(String, String)]? {
        func say(_ text: String) { state.say(text) }
        var given: [(String, String)] = []
        do {
            if let expression = step.withExpression?.value {
                if case .object(let object) = try evaluate(expression, evaluation) {
                    given = object.pairs.map { ($0.key, $0.value.stringValue) }
                }
            } else {
                given = try JobDecisions.strings(of: step.with, evaluation)
            }
        } catch {
            say("error: step '\(step.uses?.value ?? "")': with: \(error)")
            return nil
        }
        let known = Set(metadata.inputs.map { $0.id.value.lowercased() })
        let unknown = given.map(\.0).filter { !known.contains($0.lowercased()) }
        if !unknown.isEmpty {
            say("warning: unexpected input(s) \(unknown.map { "'\($0)'" }.joined(separator: ", ")), valid inputs are [\(metadata.inputs.map { "'\($0.id.value)'" }.joined(separator: ", "))]")
        }
        var inputs: [(String, String)] = []
        // As on the runner, inputs it does not declare are passed too (after the warning).
        for name in unknown { if let value = given.last(where: { $0.0 == name }) { inputs.append((name, value.1)) } }
        for input in metadata.inputs {
            if let value = given.last(where: { $0.0.lowercased() == input.id.value.lowercased() }) {
                inputs.append((input.id.value, value.1))
                if let message = input.deprecationMessage { say("warning: input '\(input.id.value)' is deprecated: \(message)") }
            } else if let defaultValue = input.defaultValue {
                do {
                    inputs.append((input.id.value, try evaluate(defaultValue, evaluation).stringValue))
                } catch {
                    say("error: default of input '\(input.id.value)': \(error)")
                    return nil
                }
            }
        }
        return inputs + given.filter { !known.contains($0.0.lowercased()) }
    }

    // MARK: actions/checkout

    /// Fills the workspace (or `path:` inside it) from the local repository.
    private func runCheckout(_ with: [String: String], state: JobState) -> StepResult {
        func say(_ text: String) { state.say(text) }
        if let repository = with["repository"], !repository.isEmpty,
            repository.lowercased() != (context.event.git.repository ?? "").lowercased()
        {
            say("error: actions/checkout: gantry checks out only the repository it runs in, not '\(repository)' (that needs the network)")
            return .failed
        }
        if let ref = with["ref"], !ref.isEmpty {
            say("warning: actions/checkout: 'ref: \(ref)' is ignored; gantry checks out the local \(context.checkoutCommitted ? "HEAD commit" : "working tree")")
        }
        // Relative to the workspace, or absolute inside it (as path.resolve does in actions/checkout).
        let relative = with["path"] ?? ""
        let target = Self.normalize(relative.hasPrefix("/") ? relative : workspace + "/" + relative)
        guard target == workspace || target.hasPrefix(workspace + "/") else {
            say("error: actions/checkout: path '\(relative)' is outside the workspace \(workspace)")
            return .failed
        }
        guard let support = context.actions else {
            say("error: actions/checkout: no repository is available to check out")
            return .failed
        }
        // A symbolic link on the way (made by an earlier step) would lead the copy, or the cleaning,
        // elsewhere: the folders above the target are checked first, the target after cleaning (which
        // removes a link there, not what it points to).
        func symlinkOnTheWay(_ components: ArraySlice<Substring>) -> String? {
            var partial = workspace
            for part in components {
                partial += "/" + part
                var info = stat()
                if lstat(partial, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK { return partial }
            }
            return nil
        }
        let components = target.dropFirst(workspace.count).split(separator: "/")[...]
        var link = symlinkOnTheWay(components.dropLast())
        if link == nil {
            // `clean: true` (the default) starts from an empty folder.
            if (with["clean"] ?? "true").lowercased() != "false" { Files.removeTree(target) }
            link = symlinkOnTheWay(components)
        }
        if let link {
            say("error: actions/checkout: '\(link)' is a symbolic link; gantry does not check out through it")
            return .failed
        }
        Files.makeDirectory(target)
        do {
            say(try support.checkout(target))
        } catch {
            say("error: actions/checkout: \(error.message)")
            return .failed
        }
        let outputs: [(String, ExpressionValue)] = [
            ("ref", .string(context.event.ref ?? "")), ("commit", .string(context.event.git.sha ?? "")),
        ]
        return StepResult(outcome: .success, conclusion: .success, outputs: outputs, env: [], summary: "", timedOutJob: false)
    }

    /// `a/./b/../c` → `a/c`, without touching the file system.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// The actions Gantry runs itself (`actions/<name>@any-version`).
enum BuiltinAction: String {
    case checkout
    case uploadArtifact = "upload-artifact"
    case downloadArtifact = "download-artifact"
    case cache
    case cacheRestore = "cache/restore"
    case cacheSave = "cache/save"
}

/// Why a step could not start, in one line.
struct StepFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
