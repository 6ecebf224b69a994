public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning
import ContentCache
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Everything a run shares between its jobs.
public struct RunContext: Sendable {
    public var event: PlanEvent
    /// The directory holding each job's workspace and temp folders.
    public var root: String
    /// The environment `gantry` was started with (host steps inherit it, as on a self-hosted runner).
    public var hostEnvironment: [(String, String)]
    public var secrets: [(String, String)]
    public var vars: [(String, String)]
    /// Variables from `--env`, `--env-file` and `.env`: in every step's environment and the `env` context,
    /// below the workflow's own `env`.
    public var env: [(String, String)]
    /// Show `::debug::` lines.
    public var verbose: Bool
    /// The `inputs` context; set per workflow from its plan by `forWorkflow(_:)`.
    public var inputs: ExpressionValue = .object([])
    /// Reading actions and checking out the repository; without it, steps that use actions fail.
    public var actions: ActionSupport?
    /// Concurrency groups shared with other `gantry run`s; without it, `concurrency:` is ignored.
    public var concurrency: ConcurrencyStore?
    /// The content cache's root (actions/cache); nil when caching is off.
    public var cacheRoot: String?
    /// The cache's size limit in bytes for eviction (default 10 GB).
    public var cacheLimit: Int64 = 10 << 30
    /// `actions/checkout` copies the HEAD commit's tree instead of the working tree (`--checkout head`).
    public var checkoutCommitted = false
    /// The container engine for job containers, services and Docker actions; nil when none is configured.
    public var containerEngine: (any ContainerEngine)?
    /// `host` (every container on the host's network; services on 127.0.0.1) or `bridge` (a network per
    /// job, services reachable by their ids, as on GitHub).
    public var containerNetwork = "host"
    /// Names this run in the labels of what it creates (`gantry docker prune` finds leftovers by them).
    public var runID = ""

    public init(event: PlanEvent, root: String, hostEnvironment: [(String, String)], secrets: [(String, String)] = [], vars: [(String, String)] = [], env: [(String, String)] = [], verbose: Bool = false) {
        self.event = event
        self.root = root
        self.hostEnvironment = hostEnvironment
        self.secrets = secrets
        self.vars = vars
        self.env = env
        self.verbose = verbose
    }

    /// This context for one planned workflow: its resolved inputs (defaults applied) in `inputs` and,
    /// as strings, in `github.event.inputs`.
    public func forWorkflow(_ planned: PlannedWorkflow) -> RunContext {
        guard let inputs = planned.inputs else { return self }
        var copy = self
        copy.inputs = .object(inputs.map { ($0.name, $0.expressionValue) })
        if event.name == "workflow_dispatch", let payload = event.payload(withInputs: .object(inputs.map { ($0.name, .string($0.value)) })) {
            copy.event.payload = payload
        }
        return copy
    }
}

/// Where a job's output goes: lines already masked, prefixed by the caller's renderer.
public protocol RunOutput: Sendable {
    func line(_ instance: String, _ text: String)
    /// A line for the console only or the run's log only (the lines of a folded `::group::`).
    func line(_ instance: String, _ text: String, to destination: OutputDestination)
    /// A step or job started or finished.
    func event(_ event: RunEvent)
}

/// Where a line goes when it is not meant for both the console and the log.
public enum OutputDestination: Sendable {
    case console, log
}

extension RunOutput {
    /// Outputs without a log print console lines and drop log-only lines.
    public func line(_ instance: String, _ text: String, to destination: OutputDestination) {
        if destination == .console { line(instance, text) }
    }

    /// Text outputs print the event's line.
    public func event(_ event: RunEvent) {
        if let text = event.text { line(event.job, text) }
    }
}

/// Runs the `run:` steps of one job instance on the host with GitHub's semantics: `if` with status
/// functions, env layering, shells and defaults, file and workflow commands, masking, outputs,
/// `continue-on-error` and timeouts.
public final class JobRunner: Sendable {
    let workflow: Workflow
    let job: Job
    let instance: JobInstance
    let context: RunContext
    let needs: [NeedResult]
    let output: any RunOutput
    /// Names the job's folders and containers: its instance id, qualified by its workflow when a run
    /// has several (two workflows may both have a `build` job).
    let folderKey: String
    /// The running step's handle: cancelling the job interrupts that step only; steps that run after it
    /// (`always()`) get a fresh handle.
    let current = Mutex<(handle: HostProcess.Handle, survivesCancel: Bool)?>(nil)
    private let cancelled = Atomic<Bool>(false)
    /// Process groups of this job's steps, killed when the job ends.
    let groups = Mutex<[Int32]>([])
    /// The content cache, opened by the first cache step.
    let cacheStoreHolder = Mutex<CacheStore?>(nil)
    /// Engine calls to abandon when the job is cancelled (a Docker action's image build).
    let abortables = Mutex<[ExecCancellation]>([])
    /// The job's service and job containers, when it has any (set before the first step).
    let containersHolder = Mutex<JobContainers?>(nil)
    var containers: JobContainers? { containersHolder.withLock { $0 } }

    public init(
        workflow: Workflow, job: Job, instance: JobInstance, context: RunContext,
        needs: [NeedResult], output: any RunOutput, folderKey: String? = nil
    ) {
        self.folderKey = folderKey ?? instance.id
        self.workflow = workflow
        self.job = job
        self.instance = instance
        self.context = context
        self.needs = needs
        self.output = output
    }

    /// Stops the job: the running step gets GitHub's SIGINT/SIGTERM/SIGKILL sequence and only steps
    /// whose `if` still holds (`always()`) run after it.
    public func cancel() {
        cancelled.store(true, ordering: .sequentiallyConsistent)
        // The running step's `if`, re-evaluated with cancelled() true, decides: an always() step goes on.
        current.withLock { step in
            if let step, !step.survivesCancel { step.handle.cancel() }
        }
        for abortable in abortables.withLock({ $0 }) { abortable.cancel() }
    }

    var isCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) }

    // MARK: Contexts

    private var matrixValue: ExpressionValue {
        .object(instance.matrix.map { ($0.key, (try? JSONText.parse($0.json)) ?? .string($0.json)) })
    }

    /// The job's contexts; `extra` adds contexts and replaces same-named ones (a composite's `inputs`).
    func base(extra: [(String, ExpressionValue)]) -> ExpressionObject {
        ExpressionObject(extra + [
            ("github", githubValue),
            ("inputs", context.inputs),
            ("vars", .object(context.vars.map { ($0.0, .string($0.1)) })),
            ("secrets", .object(context.secrets.map { ($0.0, .string($0.1)) } + [("GITHUB_TOKEN", .string(""))])),
            ("matrix", matrixValue),
            ("strategy", .object([
                ("fail-fast", .bool(instance.failFast != "false")),
                ("max-parallel", .number(Double(instance.maxParallel.flatMap { Int($0) } ?? instance.strategyTotal))),
                ("job-index", .number(Double(instance.strategyIndex))), ("job-total", .number(Double(instance.strategyTotal))),
            ])),
            ("needs", JobDecisions.needsContext(needs)),
        ])
    }

    var githubValue: ExpressionValue {
        guard case .object(let github) = context.event.githubContext(workflowName: workflow.name?.value ?? workflow.file) else { return .null }
        return .object(github.pairs.map { ($0.key, $0.key == "workspace" ? .string(workspace) : $0.value) }
            + [("job", .string(job.id.value)), ("action", .string("__run")), ("token", .string(""))])
    }

    var directoryName: String {
        String(folderKey.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    var workspace: String { context.root + "/work/" + directoryName }
    var temp: String { context.root + "/temp/" + directoryName }

    // MARK: Running

    /// What a job's steps share while they run: the env (with `GITHUB_ENV` additions), `PATH` additions,
    /// the masker, the summaries, the job's status and time, the post steps waiting to run.
    final class JobState {
        var env: [(String, String)]
        var prependPath = PrependPath()
        var masker: SecretMasker
        var summary = ""
        var failed = false
        var timedOut = false
        let started: Double
        let timeout: Double?
        /// Post steps of actions that ran, in the order they were registered (they run in reverse).
        var posts: [PostStep] = []
        /// The last step deadline whose expiry was reported (a composite does not report it twice).
        var reportedDeadline: Double?
        /// `STATE_*` values saved by each action step's pre and main, keyed by the step's position.
        var savedState: [String: [(String, String)]] = [:]

        init(env: [(String, String)], masker: SecretMasker, started: Double, timeout: Double?) {
            self.env = env
            self.masker = masker
            self.started = started
            self.timeout = timeout
        }

        /// Seconds left before the job's timeout, nil when it has none (or it already expired).
        var remaining: Double? {
            timedOut ? nil : timeout.map { $0 - (HostProcess.now() - started) }
        }
    }

    /// Where a list of steps runs: the job itself, or a composite action called by a step.
    struct Frame {
        /// Contexts that replace the job's (`inputs`, `github` with `action_path` in a composite).
        var overrides: [(String, ExpressionValue)] = []
        /// The calling step's `env`, between the job's env and each inner step's.
        var env: [(String, String)] = []
        /// Top-level steps emit step events; a composite's inner steps do not.
        var isJob = true
        /// A key for this step list's position (saved state and posts of nested actions).
        var path = ""
        /// How deep in composite actions (GitHub allows 10 levels).
        var depth = 0
        /// The action's folder, for `GITHUB_ACTION_PATH`.
        var actionPath: String?
        /// When the calling step's `timeout-minutes` runs out (absolute, `HostProcess.now()` clock).
        var deadline: Double?
    }

    /// Runs the job to its end (its `if` was already found true).
    public func run() -> JobOutcome {
        var masker = SecretMasker()
        for (_, value) in context.secrets { masker.add(value) }
        func say(_ text: String) { output.line(instance.id, masker.mask(text)) }

        if let reason = unsupportedReason {
            say("error: \(reason)")
            return JobOutcome(result: .failure, outputs: [], summary: "")
        }
        makeDirectory(workspace)
        makeDirectory(temp)

        // Job env: the run's `--env` values, workflow env, then job env; each value evaluated once.
        var env = Self.merge([context.env])
        evaluateEnvironment(workflow.env, base(extra: [("env", .object(env.map { ($0.0, .string($0.1)) }))]), into: &env, masker: masker, say: say)
        evaluateEnvironment(job.env, base(extra: [("env", .object(env.map { ($0.0, .string($0.1)) }))]), into: &env, masker: masker, say: say)

        let jobTimeout = minutes(job.timeoutMinutes, default: 360, context: EvaluationContext(contexts: base(extra: []))).map { $0 * 60 }
        let state = JobState(env: env, masker: masker, started: HostProcess.now(), timeout: jobTimeout)

        // Containers: services, then the job container; removed when the job ends, however it ends.
        var containersReady = true
        if needsContainers {
            if let engine = context.containerEngine {
                let containers = JobContainers(engine: engine, network: context.containerNetwork == "bridge" ? containerName : "host")
                containersHolder.withLock { $0 = containers }
                containersReady = startContainers(containers, state: state)
            } else {
                say("error: job '\(job.id.value)' needs a container engine, and none is configured")
                containersReady = false
            }
        }

        // Set up: every remote action is found before any step runs (as GitHub downloads them), and
        // their `pre` steps run.
        var steps: [(String, ExpressionValue)] = []
        if !containersReady {
            state.failed = true
        } else if resolveRemoteActions(state) {
            runPreSteps(state)
            steps = runSteps(job.steps, frame: Frame(), state: state).steps
            runPostSteps(state)
        } else {
            state.failed = true
        }

        // Job outputs, evaluated at the end with the final steps context.
        let finalContext = base(extra: [
            ("env", .object(state.env.map { ($0.0, .string($0.1)) })), ("steps", .object(steps)), ("runner", runnerValue),
            ("job", .object([("status", .string(state.failed ? "failure" : "success"))] + (containers?.contextValues ?? []))),
        ])
        var outputs: [NamedValue] = []
        masker = state.masker
        for entry in job.outputs {
            let raw = entry.value.scalarText ?? ""
            let value = (try? ExpressionTemplate.parse(raw).evaluate(in: EvaluationContext(contexts: finalContext), options: ContextAvailability.jobOutputs))?.stringValue ?? ""
            // GitHub leaves out empty outputs and redacts those that contain a secret.
            if masker.mask(value) != value {
                say("warning: output '\(entry.key.value)' holds a secret and is left out")
            } else if !value.isEmpty {
                outputs.append(NamedValue(entry.key.value, value))
            }
        }
        let result: JobResult = isCancelled ? .cancelled : state.failed ? .failure : .success
        // Orphans of the job's steps are killed now; its temp folder (scripts held expanded secrets) goes.
        for group in groups.withLock({ $0 }) { HostProcess.terminateGroup(group) }
        if let containers {
            for problem in containers.teardown() { say("warning: cleaning up: \(problem)") }
        }
        removeTree(temp)
        return JobOutcome(result: result, outputs: outputs, summary: state.summary)
    }

    /// The contexts a step's expressions see.
    func stepEvaluation(frame: Frame, state: JobState, steps: [(String, ExpressionValue)], failed: Bool) -> EvaluationContext {
        let env = Self.merge([state.env, frame.env])
        let contexts = base(extra: frame.overrides + [
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
    /// timeouts; returns their `steps` context and whether one of them failed.
    func runSteps(_ list: [Step], frame: Frame, state: JobState) -> (steps: [(String, ExpressionValue)], failed: Bool) {
        func say(_ text: String) { output.line(instance.id, state.masker.mask(text)) }
        // Inside a composite, the status functions see the action's own steps only (the runner's
        // `github.action_status`): a cleanup action called with `if: always()` runs its steps.
        var failed = false
        var steps: [(String, ExpressionValue)] = []
        for (index, step) in list.enumerated() {
            if let deadline = frame.deadline, HostProcess.now() >= deadline {
                // The calling step's timeout expired: the rest of the composite does not run.
                failed = true
                break
            }
            var name = stepName(step, index: index)
            let failedSoFar = frame.isJob ? state.failed : failed
            let evaluation = stepEvaluation(frame: frame, state: state, steps: steps, failed: failedSoFar)
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
            if frame.isJob { output.event(.stepStarted(job: instance.id, step: state.masker.mask(name))) }
            let stepStart = HostProcess.now()
            // Would this step still run if the job were cancelled now? (always(), cancelled())
            let survivesCancel = (try? IfCondition(step.condition?.value, options: ContextAvailability.stepIf)
                .evaluate(in: Self.cancelledView(evaluation), options: ContextAvailability.stepIf)) ?? false
            var innerFrame = frame
            innerFrame.path = frame.path + "/\(index)"
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
                output.event(.stepFinished(job: instance.id, step: state.masker.mask(name), outcome: result.outcome, conclusion: result.conclusion, seconds: seconds))
            }
            record(step, outcome: result.outcome, conclusion: result.conclusion, outputs: result.outputs, into: &steps)
            if result.timedOutJob {
                // The job's time is up: it is cancelled; later steps run only if their `if` says so,
                // without the job's limit.
                say("error: the job exceeded its timeout of \(formatDuration(state.timeout ?? 0))")
                state.timedOut = true
                cancel()
            }
        }
        return (steps, failed)
    }

    private var unsupportedReason: String? {
        if let uses = job.uses { return "calling reusable workflows ('\(uses.value)') is not supported by gantry run yet" }
        if instance.matrixAtRunTime { return "a matrix computed at run time is not supported by gantry run yet" }
        return nil
    }

    var runnerValue: ExpressionValue {
        .object([
            ("os", .string("Linux")), ("arch", .string(Self.architecture)), ("name", .string("gantry")),
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
        func say(_ text: String) { output.line(instance.id, state.masker.mask(text)) }
        // Step env on top of the job's (and a composite caller's), evaluated with that env visible.
        var env = Self.merge([state.env, frame.env])
        var stepContext = evaluation
        do {
            if case .mapping(let entries)? = step.env {
                for entry in entries {
                    let value = try evaluate(entry.value.scalarText ?? "", stepContext).stringValue
                    env.removeAll { $0.0 == entry.key.value }
                    env.append((entry.key.value, value))
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
            let invocationPath = temp + "/script"
            let stepPath = state.prependPath.path(original: env.last { $0.0 == "PATH" }?.1 ?? Self.hostPath(context))
            let inContainer = containers?.jobContainer != nil ? containers : nil
            let invocation = try ShellInvocation.resolve(shellName, scriptPath: invocationPath + "{ext}") { program in
                inContainer.map { $0.hasProgram(program) } ?? Self.onPath(program, path: stepPath)
            }
            let scriptPath = invocationPath + invocation.fileExtension
            writeFile(scriptPath, invocation.prologue + script + invocation.epilogue)
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
        func say(_ text: String) { output.line(instance.id, state.masker.mask(text)) }
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
            let path = temp + "/\(prefix)"
            writeFile(path, "")
            // A container may run as another user (`--user`): it must still write the files.
            if container != nil || action != nil { chmod(path, 0o666) }
            fileEnv.append((variable, path))
        }
        // Later layers win: the host's environment, GitHub's variables, the workflow/job/step env,
        // the file-command paths.
        // In a container the host's environment stays out; `PATH` starts from the image's.
        let baseEnvironment = action != nil ? [] : container.map { [("PATH", $0.0.containerPath)] } ?? context.hostEnvironment
        var processEnv = Self.merge([baseEnvironment, standardEnvironment(), env, fileEnv])
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
        let lines = LineSink(masker: state.masker, verbose: context.verbose, instance: instance.id, output: output)
        let handle = HostProcess.Handle()
        current.withLock { $0 = (handle, survivesCancel) }
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
            current.withLock { $0 = nil }
            say("error: \(error.message)")
            return .failed
        }
        current.withLock { $0 = nil }
        state.masker = lines.finalMasker
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
        } else if let signal = result.signal {
            say("error: process was killed by signal \(signal)")
        }
        // Each file is processed on its own, as the runner does: one bad file spoils only itself.
        do {
            for (key, value) in try FileCommands.keyValuePairs(readFile(fileEnv[1].1)) {
                outputs.removeAll { $0.0 == key }
                outputs.append((key, .string(value)))
            }
        } catch {
            say("error: unable to process file command 'output': \(error)")
            outcome = .failure
        }
        do {
            newEnv = try FileCommands.environment(readFile(fileEnv[0].1))
        } catch {
            say("error: unable to process file command 'env': \(error)")
            outcome = .failure
        }
        var saved = lines.legacyState
        do {
            saved = Self.merge([saved, try FileCommands.keyValuePairs(readFile(fileEnv[3].1)).map { ($0.name, $0.value) }])
        } catch {
            say("error: unable to process file command 'state': \(error)")
            outcome = .failure
        }
        for directory in FileCommands.pathEntries(readFile(fileEnv[2].1)) { state.prependPath.add(directory) }
        let summaryText = readFile(fileEnv[4].1)
        let summary = summaryText.isEmpty ? "" : state.masker.mask(summaryText) + (summaryText.hasSuffix("\n") ? "" : "\n")
        return StepResult(
            outcome: outcome, conclusion: outcome, outputs: outputs, env: newEnv, summary: summary,
            timedOutJob: result.timedOut && jobLimitApplies, state: saved)
    }

    private func standardEnvironment() -> [(String, String)] {
        let git = context.event.git
        return [
            ("CI", "true"), ("GITHUB_ACTIONS", "true"), ("GITHUB_WORKSPACE", workspace),
            ("GITHUB_EVENT_NAME", context.event.name), ("GITHUB_REF", context.event.ref ?? ""),
            ("GITHUB_REF_NAME", context.event.refName ?? ""), ("GITHUB_SHA", git.sha ?? ""),
            ("GITHUB_REPOSITORY", git.repository ?? ""), ("GITHUB_ACTOR", git.actor ?? ""),
            ("GITHUB_WORKFLOW", workflow.name?.value ?? workflow.file), ("GITHUB_JOB", job.id.value),
            ("GITHUB_RUN_ID", "1"), ("GITHUB_RUN_NUMBER", "1"), ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_SERVER_URL", "https://github.com"), ("GITHUB_API_URL", "https://api.github.com"),
            ("GITHUB_HEAD_REF", context.event.headRef ?? ""), ("GITHUB_BASE_REF", context.event.baseRef ?? ""),
            ("RUNNER_OS", "Linux"), ("RUNNER_ARCH", Self.architecture), ("RUNNER_NAME", "gantry"),
            ("RUNNER_TEMP", temp), ("RUNNER_TOOL_CACHE", context.root + "/tool-cache"),
        ]
    }

    // MARK: Helpers

    /// The same contexts with the status functions answering as for a cancelled job.
    static func cancelledView(_ context: EvaluationContext) -> EvaluationContext {
        var view = context
        view.status = { function, _ in function == .always || function == .cancelled }
        return view
    }

    func record(_ step: Step, outcome: JobResult, conclusion: JobResult, outputs: [(String, ExpressionValue)], into steps: inout [(String, ExpressionValue)]) {
        guard let id = step.id?.value else { return }
        steps.append((id, .object([
            ("outputs", .object(outputs)), ("outcome", .string(outcome.rawValue)), ("conclusion", .string(conclusion.rawValue)),
        ])))
    }

    func stepName(_ step: Step, index: Int) -> String {
        if let name = step.name?.value { return name }
        if let uses = step.uses?.value { return uses }
        if let run = step.run?.value { return "Run " + (run.split(separator: "\n").first.map(String.init) ?? "") }
        return "step \(index + 1)"
    }

    @discardableResult
    func evaluateEnvironment(
        _ environment: Environment?, _ contexts: ExpressionObject, into env: inout [(String, String)],
        masker: SecretMasker, say: (String) -> Void
    ) -> Bool {
        guard case .mapping(let entries)? = environment else { return true }
        for entry in entries {
            do {
                let value = try evaluate(entry.value.scalarText ?? "", EvaluationContext(contexts: contexts)).stringValue
                env.removeAll { $0.0 == entry.key.value }
                env.append((entry.key.value, value))
            } catch {
                say("error: env '\(entry.key.value)': \(error)")
                return false
            }
        }
        return true
    }

    func evaluate(_ text: String, _ context: EvaluationContext) throws(ExpressionError) -> ExpressionValue {
        guard ExpressionTemplate.containsExpression(text) else { return .string(text) }
        let template: ExpressionTemplate
        do {
            template = try ExpressionTemplate.parse(text)
        } catch {
            throw ExpressionError(.parsing, error.message, position: error.offset, expression: text)
        }
        return try template.evaluate(in: context, options: .permissive)
    }

    func evaluateBool(_ value: Located<BoolOrExpression>?, _ context: EvaluationContext) -> Bool? {
        switch value?.value {
        case .value(let b)?: return b
        case .expression(let e)?: return (try? evaluate(e, context))?.isTruthy
        case nil: return nil
        }
    }

    func minutes(_ value: Located<NumberOrExpression>?, default: Double?, context: EvaluationContext? = nil) -> Double? {
        switch value?.value {
        case .value(let n)?: return n
        case .expression(let e)?:
            guard let context, let v = try? evaluate(e, context) else { return `default` }
            let n = v.numberValue
            return n.isNaN ? `default` : n
        case nil: return `default`
        }
    }

    func minutes(_ value: Located<NumberOrExpression>?, default: Double?) -> Double? {
        minutes(value, default: `default`, context: nil).map { $0 * 60 }
    }

    /// Name/value layers merged: a later layer's value wins; a name keeps its first position.
    public static func merge(_ layers: [[(String, String)]]) -> [(String, String)] {
        var index: [String: Int] = [:]
        var out: [(String, String)] = []
        for layer in layers {
            for (key, value) in layer {
                if let i = index[key] {
                    out[i].1 = value
                } else {
                    index[key] = out.count
                    out.append((key, value))
                }
            }
        }
        return out
    }

    static func hostPath(_ context: RunContext) -> String {
        context.hostEnvironment.last { $0.0 == "PATH" }?.1 ?? "/usr/local/bin:/usr/bin:/bin"
    }

    static func onPath(_ program: String, path: String) -> Bool {
        path.split(separator: ":").contains { access(String($0) + "/" + program, X_OK) == 0 }
    }
}

/// Turns a step's output lines into console lines and workflow-command effects.
final class LineSink: @unchecked Sendable {
    private let lock = Mutex<State>(State())
    private let verbose: Bool
    private let instance: String
    private let output: any RunOutput

    struct State {
        var reader = WorkflowCommandReader()
        var masker: SecretMasker
        var outputs: [(String, String)] = []
        var savedState: [(String, String)] = []
        /// Inside `::group::` … `::endgroup::` (groups do not nest: a new group ends the open one).
        var inGroup = false
        /// The step's last lines hidden in folded groups (at most `LineSink.foldedLimit`), shown if
        /// the step fails, and how many there were in all.
        var folded: [String] = []
        var foldedCount = 0

        init(masker: SecretMasker = SecretMasker()) { self.masker = masker }
    }

    init(masker: SecretMasker, verbose: Bool, instance: String, output: any RunOutput) {
        lock.withLock { $0.masker = masker }
        self.verbose = verbose
        self.instance = instance
        self.output = output
    }

    var finalMasker: SecretMasker { lock.withLock { $0.masker } }
    var legacyOutputs: [(String, String)] { lock.withLock { $0.outputs } }
    var legacyState: [(String, String)] { lock.withLock { $0.savedState } }

    static let foldedLimit = 1000

    /// Prints the lines folded away in groups, for a step that did not succeed.
    func unfoldAfterFailure() {
        let (folded, count) = lock.withLock { ($0.folded, $0.foldedCount) }
        guard !folded.isEmpty else { return }
        let which = count > folded.count ? "the last \(folded.count) of \(count) lines (all are in the run's log)" : "output"
        output.line(instance, "▾ \(which) folded in groups, shown because the step did not succeed:", to: .console)
        for text in folded { output.line(instance, text, to: .console) }
    }

    func handle(_ line: String) {
        var hidden = false
        let text: String? = lock.withLock { state in
            switch state.reader.read(line) {
            case .output(let text):
                let masked = state.masker.mask(text)
                // Groups fold unless --verbose: their lines go to the log only.
                if state.inGroup && !verbose {
                    if state.folded.count == Self.foldedLimit { state.folded.removeFirst(Self.foldedLimit / 2) }
                    state.folded.append(masked)
                    state.foldedCount += 1
                    hidden = true
                }
                return masked
            case .stopped, .resumed: return nil
            case .command(let command):
                switch command.name {
                case "add-mask":
                    state.masker.add(command.data)
                    return nil
                case "debug": return verbose ? "debug: " + state.masker.mask(command.data) : nil
                case "notice", "warning", "error":
                    var location = ""
                    if let file = command[property: "file"] {
                        location = file
                        if let l = command[property: "line"] { location += ":" + l + (command[property: "col"].map { ":" + $0 } ?? "") }
                        location += ": "
                    }
                    let title = command[property: "title"].map { $0 + ": " } ?? ""
                    return state.masker.mask("\(location)\(command.name): \(title)\(command.data)")
                case "group":
                    state.inGroup = true
                    return "▸ " + state.masker.mask(command.data)
                case "endgroup":
                    state.inGroup = false
                    return nil
                case "echo": return nil
                case "set-output":
                    if let name = command[property: "name"] {
                        state.outputs.removeAll { $0.0 == name }
                        state.outputs.append((name, command.data))
                    }
                    return "warning: the `set-output` command is deprecated; write to $GITHUB_OUTPUT instead"
                case "save-state":
                    // Still honoured (actions built with @actions/core before 1.10 use it), with a warning.
                    if let name = command[property: "name"] {
                        state.savedState.removeAll { $0.0 == name }
                        state.savedState.append((name, command.data))
                    }
                    return "warning: the `save-state` command is deprecated; write to $GITHUB_STATE instead"
                case "set-env", "add-path":
                    return "error: the `\(command.name)` command is disabled; write to $GITHUB_\(command.name == "set-env" ? "ENV" : "PATH") instead"
                default: return nil
                }
            }
        }
        guard let text else { return }
        if hidden { output.line(instance, text, to: .log) } else { output.line(instance, text) }
    }
}

func makeDirectory(_ path: String) {
    var partial = ""
    for part in path.split(separator: "/") {
        partial += "/" + part
        mkdir(partial, 0o755)
    }
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}

/// Removes a folder and everything below it; a symbolic link is removed itself, never followed.
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
        unlink(path)
        return
    }
    for name in directoryEntries(path) { removeTree(path + "/" + name) }
    rmdir(path)
}

func readFile(_ path: String) -> String {
    String(decoding: readBytes(path), as: UTF8.self)
}

/// A file's bytes; empty when it cannot be read.
func readBytes(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

func formatDuration(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int(seconds * 1000)) ms" : seconds < 60 ? String(Int(seconds * 10) / 10) + "." + String(Int(seconds * 10) % 10) + " s" : "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
}
