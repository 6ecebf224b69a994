public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Running a list of steps and one step: `if`, env, shells, timeouts, outcomes.
extension JobRunner {
    /// The contexts a step's expressions see.
    func stepEvaluation(frame: Frame, state: JobState, steps: [(String, ExpressionValue)], failed: Bool, action: StepAction? = nil) -> EvaluationContext {
        let env = Self.merge([state.env, frame.env])
        // `github.action` is the step's name; inside a composite `action_repository` and `action_ref`
        // are the composite action's.
        var overrides = frame.overrides
        if let action {
            var github = overrides.first { $0.0 == "github" }?.1 ?? githubValue
            if case .object(let object) = github {
                var pairs = object.pairs.map { ($0.key, $0.value) }.filter { !["action", "action_repository", "action_ref"].contains($0.0) }
                pairs += [("action", .string(action.name))]
                if frame.actionPath != nil { pairs += [("action_repository", .string(frame.actionRepository)), ("action_ref", .string(frame.actionRef))] }
                github = .object(pairs)
            }
            overrides.removeAll { $0.0 == "github" }
            overrides.append(("github", github))
        }
        let contexts = base(extra: overrides + [
            ("env", .object(env.map { ($0.0, .string($0.1)) })), ("steps", .object(steps)),
            ("job", .object([("status", .string(isCancelled ? "cancelled" : failed ? "failure" : "success"))] + (containers?.contextValues ?? []))),
            ("runner", runnerValue),
        ])
        let cancelledNow = isCancelled
        return EvaluationContext(
            contexts: contexts,
            hashFiles: { [self] patterns in try self.hashFiles(patterns, env: env) },
            status: { function, _ in
                switch function {
                case .always: return true
                case .success: return !failed && !cancelledNow
                case .failure: return failed && !cancelledNow
                case .cancelled: return cancelledNow
                }
            })
    }

    /// Runs a list of steps (the job's, or a composite action's) with `if`, `continue-on-error` and
    /// timeouts; returns their `steps` context and whether one of them failed. A job's list may hold
    /// background steps, control steps and `parallel` groups (see JobRunner+Background).
    func runSteps(_ list: [Step], frame: Frame, state: JobState) -> (steps: [(String, ExpressionValue)], failed: Bool) {
        func say(_ text: String) { state.say(text) }
        // Inside a composite, the status functions see the action's own steps only (the runner's
        // `github.action_status`): a cleanup action called with `if: always()` runs its steps.
        var failed = false
        var steps: [(String, ExpressionValue)] = []
        let positions = Self.positions(list)
        let names = Self.contextNames(positions.map(\.step))
        var flat = 0
        for (index, group) in list.enumerated() {
            if let deadline = frame.deadline, HostProcess.now() >= deadline {
                // The calling step's timeout expired: the rest of the composite does not run.
                failed = true
                break
            }
            if let control = group.control {
                flat += 1
                let evaluation = stepEvaluation(frame: frame, state: state, steps: steps, failed: state.failed)
                runControl(group, control, evaluation: evaluation, state: state, steps: &steps)
                continue
            }
            var launched: [BackgroundStep] = []
            for step in group.flattened {
                let position = flat
                flat += 1
                var name = stepName(step, index: index)
                let failedSoFar = frame.isJob ? state.failed : failed
                var action = StepAction(name: names[position], repository: frame.actionRepository, ref: frame.actionRef)
                if let uses = step.uses?.value, let remote = Self.remoteAction(uses) { (action.repository, action.ref) = remote }
                // `$/PATH` names this repository at the run's commit (actions/runner #4457).
                if step.uses?.value.hasPrefix("$/") == true { (action.repository, action.ref) = (context.event.git.repository ?? "", context.event.git.sha ?? "") }
                let evaluation = stepEvaluation(frame: frame, state: state, steps: steps, failed: failedSoFar, action: action)
                if let raw = step.name?.value, let evaluated = try? evaluate(raw, evaluation).stringValue { name = evaluated }
                let shouldRun: Bool
                do {
                    shouldRun = try IfCondition(step.condition?.value, options: ContextAvailability.stepIf)
                        .evaluate(in: evaluation, options: ContextAvailability.stepIf)
                } catch {
                    say("error: step '\(name)': if: \(error)")
                    failed = true
                    if frame.isJob { state.failed = true }
                    record(step, outcome: .failure, conclusion: .failure, outputs: [], into: &steps)
                    continue
                }
                guard shouldRun else {
                    say("skipped: \(name)")
                    record(step, outcome: .skipped, conclusion: .skipped, outputs: [], into: &steps)
                    continue
                }
                var innerFrame = frame
                innerFrame.path = frame.path + "/" + positions[position].key
                if step.background && frame.isJob {
                    // The step's copy of the state takes its `GITHUB_ACTION` with it.
                    state.action = action
                    launchBackground(
                        step, name: name, evaluation: evaluation, frame: innerFrame, state: state,
                        continueOnError: evaluateBool(step.continueOnError, evaluation) ?? false)
                    if let entry = background.all.last { launched.append(entry) }
                    continue
                }
                if frame.isJob { state.output.event(.stepStarted(job: instance.id, step: state.masker.mask(name))) }
                let stepStart = HostProcess.now()
                // Would this step still run if the job were cancelled now? (always(), cancelled())
                let survivesCancel = (try? IfCondition(step.condition?.value, options: ContextAvailability.stepIf)
                    .evaluate(in: Self.cancelledView(evaluation), options: ContextAvailability.stepIf)) ?? false
                state.action = action
                var result = runStep(step, name: name, evaluation: evaluation, frame: innerFrame, state: state, survivesCancel: survivesCancel)
                state.summary += result.summary
                for (key, value) in result.env {
                    state.env.removeAll { $0.0 == key }
                    state.env.append((key, value))
                }
                let continueOnError = evaluateBool(step.continueOnError, evaluation) ?? false
                if result.outcome == .failure && continueOnError { result.conclusion = .success }
                if result.conclusion == .failure {
                    failed = true
                    if frame.isJob { state.failed = true }
                }
                if frame.isJob {
                    let seconds = HostProcess.now() - stepStart
                    state.output.event(.stepFinished(job: instance.id, step: state.masker.mask(name), outcome: result.outcome, conclusion: result.conclusion, seconds: seconds))
                }
                record(step, outcome: result.outcome, conclusion: result.conclusion, outputs: result.outputs, into: &steps)
                if frame.isJob { state.stepsContext = steps }
                if result.timedOutJob {
                    // The job's time is up: it is cancelled; later steps run only if their `if` says so,
                    // without the job's limit.
                    say("error: the job exceeded its timeout of \(formatDuration(state.timeout ?? 0))")
                    state.timedOut = true
                    cancel()
                }
            }
            if group.parallel != nil { waitForGroup(launched, state: state, steps: &steps) }
        }
        if frame.isJob {
            finishBackgroundSteps(state: state, steps: &steps)
            failed = failed || state.failed
        }
        return (steps, failed)
    }

    /// Each step that runs a script or an action (control steps included) with its position key: its
    /// index in the list, and `index.member` inside a `parallel` group (saved state and posts use it).
    static func positions(_ list: [Step]) -> [(key: String, step: Step)] {
        list.enumerated().flatMap { index, step in
            guard let members = step.parallel else { return [(key: "\(index)", step: step)] }
            return members.enumerated().map { (key: "\(index).\($0.offset)", step: $0.element) }
        }
    }

    var runnerValue: ExpressionValue {
        .object([
            ("os", .string("Linux")), ("arch", .string(Self.architecture)), ("name", .string(context.runnerName)),
            ("temp", .string(temp)), ("tool_cache", .string(context.root + "/tool-cache")),
            ("environment", .string("self-hosted")), ("debug", .string(context.verbose ? "1" : "")),
        ])
    }

    static var architecture: String {
        #if arch(arm64)
        return "ARM64"
        #else
        return "X64"
        #endif
    }

    // MARK: One step

    struct StepResult {
        var outcome: JobResult
        var conclusion: JobResult
        var outputs: [(String, ExpressionValue)]
        var env: [(String, String)]
        var summary: String
        var timedOutJob: Bool
        /// What the step saved with `GITHUB_STATE` (an action's pre and main, for its post).
        var state: [(String, String)] = []

        static let failed = StepResult(outcome: .failure, conclusion: .failure, outputs: [], env: [], summary: "", timedOutJob: false)
    }

    func runStep(
        _ step: Step, name: String, evaluation: EvaluationContext, frame: Frame, state: JobState, survivesCancel: Bool
    ) -> StepResult {
        func say(_ text: String) { state.say(text) }
        // Step env on top of the job's (and a composite caller's), evaluated with that env visible.
        var env = Self.merge([state.env, frame.env])
        var stepContext = evaluation
        do {
            if case .mapping(let entries)? = step.env {
                for (key, value) in try JobDecisions.strings(of: entries, stepContext) {
                    env.removeAll { $0.0 == key }
                    env.append((key, value))
                }
            }
            stepContext.contexts = ExpressionObject(evaluation.contexts.pairs.map { ($0.key, $0.key == "env" ? .object(env.map { ($0.0, .string($0.1)) }) : $0.value) })
            // The step's own limit, within the limit of the composite step it is part of.
            var deadline = frame.deadline
            if let minutes = minutes(step.timeoutMinutes, default: nil, context: stepContext) {
                deadline = min(deadline ?? .infinity, HostProcess.now() + minutes * 60)
            }
            if let uses = step.uses {
                var actionFrame = frame
                actionFrame.deadline = deadline
                return runAction(uses.value, step: step, name: name, env: env, evaluation: stepContext, frame: actionFrame, state: state, survivesCancel: survivesCancel)
            }
            guard let run = step.run else { return .failed }
            let script = try evaluate(run.value, stepContext).stringValue
            // Defaults apply to the job's own steps; a composite's `run` steps name their shell.
            let shellName = step.shell?.value ?? (frame.isJob ? job.defaults?.shell.map { try? evaluate($0.value, stepContext).stringValue } ?? workflow.defaults?.shell?.value : nil)
            var directory = workspace
            let defaultDirectory = frame.isJob ? job.defaults?.workingDirectory?.value ?? workflow.defaults?.workingDirectory?.value : nil
            if let wd = step.workingDirectory?.value ?? defaultDirectory {
                let resolved = try evaluate(wd, stepContext).stringValue
                directory = resolved.hasPrefix("/") ? resolved : workspace + "/" + resolved
            }
            let invocationPath = state.scratch + "/script"
            let stepPath = state.prependPath.path(original: env.last { $0.0 == "PATH" }?.1 ?? Self.hostPath(context))
            let inContainer = containers?.jobContainer != nil ? containers : nil
            let invocation = try ShellInvocation.resolve(shellName, scriptPath: invocationPath + "{ext}") { program in
                inContainer.map { $0.hasProgram(program) } ?? Self.onPath(program, path: stepPath)
            }
            let scriptPath = invocationPath + invocation.fileExtension
            Files.write(scriptPath, invocation.prologue + script + invocation.epilogue)
            defer { unlink(scriptPath) }
            let arguments = invocation.arguments.map { $0.replacing(invocationPath + "{ext}", with: scriptPath) }
            if let actionPath = frame.actionPath { env = Self.merge([env, [("GITHUB_ACTION_PATH", actionPath)]]) }
            return execute(arguments, env: env, directory: directory, deadline: deadline, state: state, survivesCancel: survivesCancel, place: .job)
        } catch let error as ExpressionError {
            say("error: step '\(name)': \(error)")
        } catch let error as ShellInvocation.Failure {
            say("error: \(error.message)")
        } catch {
            say("error: \(error)")
        }
        return .failed
    }

    /// Runs one process as a step: the host's environment under GitHub's variables and `env`, the
    /// file-command files, `PATH` additions, the step's and the job's time limits, cancellation; then
    /// reads the file commands back.
    func execute(
        _ arguments: [String], env: [(String, String)], directory: String, deadline: Double?,
        state: JobState, survivesCancel: Bool, place: StepPlace = .host
    ) -> StepResult {
        func say(_ text: String) { state.say(text) }
        let cancelledAtStart = isCancelled
        // `run` steps go to the job container when there is one; node actions run on the host (the
        // workspace and temp folders are at the same paths in both).
        var container: (JobContainers, String)?
        var action: (ActionContainer, any ContainerEngine)?
        switch place {
        case .host: break
        case .job: container = containers.flatMap { c in c.jobContainer.map { (c, $0) } }
        case .action(let spec, let engine): action = (spec, engine)
        }
        let files = [("GITHUB_ENV", "set_env"), ("GITHUB_OUTPUT", "set_output"), ("GITHUB_PATH", "add_path"), ("GITHUB_STATE", "save_state"), ("GITHUB_STEP_SUMMARY", "step_summary")]
        var fileEnv: [(String, String)] = []
        // One set of files per job, emptied before each step (the runner makes new ones per step;
        // truncating is the same to a step and spares five file creations per step).
        for (variable, prefix) in files {
            let path = state.scratch + "/\(prefix)"
            Files.write(path, "")
            // A container may run as another user (`--user`): it must still write the files.
            if container != nil || action != nil { chmod(path, 0o666) }
            fileEnv.append((variable, path))
        }
        // Later layers win: the host's environment, GitHub's variables, the workflow/job/step env,
        // the file-command paths.
        // In a container the host's environment stays out; `PATH` starts from the image's.
        let baseEnvironment = action != nil ? [] : container.map { [("PATH", $0.0.containerPath)] } ?? context.hostEnvironment
        var processEnv = Self.merge([baseEnvironment, standardEnvironment(state.action), env, fileEnv])
        if action != nil { processEnv = Self.merge([processEnv, [("GITHUB_WORKSPACE", "/github/workspace")]]) }
        let originalPath = processEnv.last { $0.0 == "PATH" }?.1 ?? ""
        processEnv.removeAll { $0.0 == "PATH" }
        processEnv.append(("PATH", state.prependPath.path(original: originalPath)))

        var timeout = deadline.map { max($0 - HostProcess.now(), 0.001) }
        var jobLimitApplies = false
        if let remaining = state.remaining, remaining < (timeout ?? .infinity) {
            timeout = max(remaining, 0.001)
            jobLimitApplies = true
        }
        var process = HostProcess(arguments: arguments, environment: processEnv, workingDirectory: directory, timeout: timeout)
        process.interruptGrace = 7.5
        process.resources = context.resources
        // `set-env` and `add-path` work when ACTIONS_ALLOW_UNSECURE_COMMANDS is true in gantry's own
        // environment or in the step's env context (the job's and the step's `env`), as the runner reads it.
        let allowUnsecure = [context.hostEnvironment, env].contains { layer in
            layer.last { $0.0 == "ACTIONS_ALLOW_UNSECURE_COMMANDS" }?.1.lowercased() == "true"
        }
        let lines = LineSink(
            masks: state.masks, verbose: context.verbose, instance: instance.id, output: state.output, allowUnsecure: allowUnsecure,
            annotations: state.annotations)
        let handle = HostProcess.Handle()
        state.slot.enter(handle, survivesCancel: survivesCancel)
        // Cancelled between this step's `if` and now: interrupt it unless its `if` still holds.
        if !cancelledAtStart && isCancelled && !survivesCancel { handle.cancel() }
        let result: HostProcess.Result
        do {
            if let (spec, engine) = action {
                result = try runActionContainer(spec, engine: engine, env: processEnv, timeout: timeout, handle: handle) { _, line in lines.handle(line) }
            } else if let (containers, id) = container {
                result = try runInContainer(
                    containers, container: id, arguments: arguments, env: processEnv, directory: directory, timeout: timeout,
                    handle: handle) { _, line in lines.handle(line) }
            } else {
                result = try process.run(handle: handle) { _, line in lines.handle(line) }
            }
        } catch {
            state.slot.leave()
            say("error: \(error.message)")
            return .failed
        }
        state.slot.leave()
        // Background processes live on until the job ends, as on GitHub's runner.
        if container == nil && action == nil { groups.withLock { $0.append(result.processGroup) } }

        var outputs = lines.legacyOutputs.map { ($0.0, ExpressionValue.string($0.1)) }
        var newEnv: [(String, String)] = []
        var outcome: JobResult = result.succeeded ? .success : result.cancelled ? .cancelled : .failure
        if outcome != .success { lines.unfoldAfterFailure() }
        if result.timedOut {
            if !jobLimitApplies {
                say("error: the step timed out")
                state.reportedDeadline = deadline
            }
            outcome = jobLimitApplies ? .cancelled : .failure
        } else if let code = result.exitCode, code != 0 {
            say("error: process completed with exit code \(code)")
            // The runner's own annotation of a failed step, worded as GitHub shows it.
            state.annotations.add(Annotation(level: .error, message: "Process completed with exit code \(code)."), counted: 0)
        } else if let signal = result.signal {
            say("error: process was killed by signal \(signal)")
        }
        // Each file is processed on its own, as the runner does: one bad file spoils only itself.
        do {
            for (key, value) in try FileCommands.keyValuePairs(Files.read(fileEnv[1].1)) {
                outputs.removeAll { $0.0 == key }
                outputs.append((key, .string(value)))
            }
        } catch {
            say("error: unable to process file command 'output': \(error)")
            outcome = .failure
        }
        do {
            newEnv = try FileCommands.environment(Files.read(fileEnv[0].1))
        } catch {
            say("error: unable to process file command 'env': \(error)")
            outcome = .failure
        }
        var saved = lines.legacyState
        do {
            saved = Self.merge([saved, try FileCommands.keyValuePairs(Files.read(fileEnv[3].1)).map { ($0.name, $0.value) }])
        } catch {
            say("error: unable to process file command 'state': \(error)")
            outcome = .failure
        }
        let unsecure = lines.unsecure
        if unsecure.failed && outcome == .success { outcome = .failure }
        newEnv = Self.merge([unsecure.env, newEnv])
        for directory in unsecure.paths + FileCommands.pathEntries(Files.read(fileEnv[2].1)) { state.addPath(directory) }
        let summaryText = Files.read(fileEnv[4].1)
        let summary = summaryText.isEmpty ? "" : state.masker.mask(summaryText) + (summaryText.hasSuffix("\n") ? "" : "\n")
        return StepResult(
            outcome: outcome, conclusion: outcome, outputs: outputs, env: newEnv, summary: summary,
            timedOutJob: result.timedOut && jobLimitApplies, state: saved)
    }

    private func standardEnvironment(_ action: StepAction) -> [(String, String)] {
        let git = context.event.git
        return [
            ("GITHUB_ACTION", action.name), ("GITHUB_ACTION_REPOSITORY", action.repository), ("GITHUB_ACTION_REF", action.ref),
            ("CI", "true"), ("GITHUB_ACTIONS", "true"), ("GITHUB_WORKSPACE", workspace),
            ("GITHUB_EVENT_NAME", context.event.name), ("GITHUB_REF", context.event.ref ?? ""),
            ("GITHUB_REF_NAME", context.event.refName ?? ""), ("GITHUB_SHA", git.sha ?? ""),
            ("GITHUB_REPOSITORY", git.repository ?? ""), ("GITHUB_ACTOR", git.actor ?? ""),
            ("GITHUB_WORKFLOW", workflow.name?.value ?? workflow.file), ("GITHUB_JOB", job.id.value),
            ("GITHUB_RUN_ID", context.event.runID), ("GITHUB_RUN_NUMBER", context.event.runNumber), ("GITHUB_RUN_ATTEMPT", context.event.runAttempt),
            ("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_API_URL", "https://api.github.com"),
            ("GITHUB_HEAD_REF", context.event.headRef ?? ""), ("GITHUB_BASE_REF", context.event.baseRef ?? ""),
            ("RUNNER_OS", "Linux"), ("RUNNER_ARCH", Self.architecture), ("RUNNER_NAME", context.runnerName),
            ("RUNNER_TEMP", temp), ("RUNNER_TOOL_CACHE", context.root + "/tool-cache"),
        ]
    }

    /// The runner's context names of a list of steps (`GITHUB_ACTION`, `github.action`): a step's
    /// `id`, else `__run` for a script and `__OWNER_REPO` for an action (`__self` for one in this
    /// repository), with `_2`, `_3`… for the second and later uses of a name (actions/runner's
    /// IdBuilder: characters other than letters, digits, `_` and `-` become `_`).
    static func contextNames(_ steps: [Step]) -> [String] {
        var used = Set(steps.compactMap { $0.id?.value.lowercased() })
        return steps.map { step in
            if let id = step.id?.value { return id }
            var base = "__run"
            if let uses = step.uses?.value {
                if uses.hasPrefix("./") || uses.hasPrefix("$/") || uses.hasPrefix("../") {
                    base = "__self"
                } else if uses.hasPrefix("docker://") {
                    base = "__" + sanitize(String(uses.dropFirst("docker://".count).prefix { $0 != ":" && $0 != "@" }))
                } else {
                    base = "__" + sanitize(uses.prefix { $0 != "@" }.split(separator: "/").prefix(2).joined(separator: "_"))
                }
            }
            var name = base
            var n = 1
            while used.contains(name.lowercased()) {
                n += 1
                name = base + "_\(n)"
            }
            used.insert(name.lowercased())
            return name
        }
    }

    private static func sanitize(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
    }

    /// `(OWNER/REPO, REF)` of an `OWNER/REPO[/PATH]@REF` action; nil for local and Docker ones.
    static func remoteAction(_ uses: String) -> (String, String)? {
        guard !uses.hasPrefix("./"), !uses.hasPrefix("$/"), !uses.hasPrefix("docker://"), let at = uses.lastIndex(of: "@") else { return nil }
        let parts = uses[..<at].split(separator: "/")
        guard parts.count >= 2 else { return nil }
        return (parts[0] + "/" + parts[1], String(uses[uses.index(after: at)...]))
    }
}
