public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a job instance produced.
public struct JobOutcome: Sendable {
    public var result: JobResult
    /// `jobs.<id>.outputs`, evaluated at the end of the job.
    public var outputs: [(String, String)]
    /// The step summaries, masked, in step order.
    public var summary: String
}

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
    let needs: [(String, JobResult, [(String, String)])]
    let output: any RunOutput
    /// The running step's handle: cancelling the job interrupts that step only; steps that run after it
    /// (`always()`) get a fresh handle.
    private let current = Mutex<(handle: HostProcess.Handle, survivesCancel: Bool)?>(nil)
    private let cancelled = Atomic<Bool>(false)
    /// Process groups of this job's steps, killed when the job ends.
    private let groups = Mutex<[Int32]>([])

    public init(
        workflow: Workflow, job: Job, instance: JobInstance, context: RunContext,
        needs: [(String, JobResult, [(String, String)])], output: any RunOutput
    ) {
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
    }

    private var isCancelled: Bool { cancelled.load(ordering: .sequentiallyConsistent) }

    // MARK: Contexts

    private var matrixValue: ExpressionValue {
        .object(instance.matrix.map { ($0.key, (try? JSONText.parse($0.json)) ?? .string($0.json)) })
    }

    private var needsValue: ExpressionValue {
        .object(needs.map { id, result, outputs in
            (id, .object([("result", .string(result.rawValue)), ("outputs", .object(outputs.map { ($0.0, .string($0.1)) }))]))
        })
    }

    private func base(extra: [(String, ExpressionValue)]) -> ExpressionObject {
        ExpressionObject([
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
            ("needs", needsValue),
        ] + extra)
    }

    private var githubValue: ExpressionValue {
        guard case .object(let github) = context.event.githubContext(workflowName: workflow.name?.value ?? workflow.file) else { return .null }
        return .object(github.pairs.map { ($0.key, $0.key == "workspace" ? .string(workspace) : $0.value) }
            + [("job", .string(job.id.value)), ("action", .string("__run")), ("token", .string(""))])
    }

    private var directoryName: String {
        String(instance.id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    var workspace: String { context.root + "/work/" + directoryName }
    var temp: String { context.root + "/temp/" + directoryName }

    // MARK: Running

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

        var steps: [(String, ExpressionValue)] = []
        var prependPath = PrependPath()
        var jobFailed = false
        var summary = ""
        var jobTimedOut = false
        let started = HostProcess.now()
        let jobTimeout = minutes(job.timeoutMinutes, default: 360, context: EvaluationContext(contexts: base(extra: []))).map { $0 * 60 }

        for (index, step) in job.steps.enumerated() {
            var name = stepName(step, index: index)
            let envValue = ExpressionValue.object(env.map { ($0.0, .string($0.1)) })
            let statusContext = base(extra: [
                ("env", envValue), ("steps", .object(steps)),
                ("job", .object([("status", .string(isCancelled ? "cancelled" : jobFailed ? "failure" : "success"))])),
                ("runner", runnerValue),
            ])
            let failedSoFar = jobFailed
            let cancelledNow = isCancelled
            let evaluation = EvaluationContext(
                contexts: statusContext,
                hashFiles: nil,
                status: { function, _ in
                    switch function {
                    case .always: return true
                    case .success: return !failedSoFar && !cancelledNow
                    case .failure: return failedSoFar && !cancelledNow
                    case .cancelled: return cancelledNow
                    }
                })
            if let raw = step.name?.value, let evaluated = try? evaluate(raw, evaluation).stringValue { name = evaluated }
            let shouldRun: Bool
            do {
                shouldRun = try IfCondition(step.condition?.value, options: ContextAvailability.stepIf)
                    .evaluate(in: evaluation, options: ContextAvailability.stepIf)
            } catch {
                say("error: step '\(name)': if: \(error)")
                jobFailed = true
                record(step, outcome: .failure, conclusion: .failure, outputs: [], into: &steps)
                continue
            }
            guard shouldRun else {
                say("skipped: \(name)")
                record(step, outcome: .skipped, conclusion: .skipped, outputs: [], into: &steps)
                continue
            }
            output.event(.stepStarted(job: instance.id, step: masker.mask(name)))
            let stepStart = HostProcess.now()
            // Would this step still run if the job were cancelled now? (always(), cancelled())
            let survivesCancel = (try? IfCondition(step.condition?.value, options: ContextAvailability.stepIf)
                .evaluate(in: Self.cancelledView(evaluation), options: ContextAvailability.stepIf)) ?? false
            let remaining = jobTimedOut ? nil : jobTimeout.map { $0 - (HostProcess.now() - started) }
            var result = runStep(
                step, name: name, env: env, evaluation: evaluation, prependPath: &prependPath, masker: &masker,
                remaining: remaining, survivesCancel: survivesCancel)
            summary += result.summary
            for (key, value) in result.env {
                env.removeAll { $0.0 == key }
                env.append((key, value))
            }
            let continueOnError = evaluateBool(step.continueOnError, evaluation) ?? false
            if result.outcome == .failure && continueOnError { result.conclusion = .success }
            if result.conclusion == .failure { jobFailed = true }
            let seconds = HostProcess.now() - stepStart
            output.event(.stepFinished(job: instance.id, step: masker.mask(name), outcome: result.outcome, conclusion: result.conclusion, seconds: seconds))
            record(step, outcome: result.outcome, conclusion: result.conclusion, outputs: result.outputs, into: &steps)
            if result.timedOutJob {
                // The job's time is up: it is cancelled; later steps run only if their `if` says so,
                // without the job's limit.
                say("error: the job exceeded its timeout of \(formatDuration(jobTimeout ?? 0))")
                jobTimedOut = true
                cancel()
            }
        }

        // Job outputs, evaluated at the end with the final steps context.
        let finalContext = base(extra: [
            ("env", .object(env.map { ($0.0, .string($0.1)) })), ("steps", .object(steps)), ("runner", runnerValue),
            ("job", .object([("status", .string(jobFailed ? "failure" : "success"))])),
        ])
        var outputs: [(String, String)] = []
        for entry in job.outputs {
            let raw = entry.value.scalarText ?? ""
            let value = (try? ExpressionTemplate.parse(raw).evaluate(in: EvaluationContext(contexts: finalContext), options: ContextAvailability.jobOutputs))?.stringValue ?? ""
            // GitHub leaves out empty outputs and redacts those that contain a secret.
            if masker.mask(value) != value {
                say("warning: output '\(entry.key.value)' holds a secret and is left out")
            } else if !value.isEmpty {
                outputs.append((entry.key.value, value))
            }
        }
        let result: JobResult = isCancelled ? .cancelled : jobFailed ? .failure : .success
        // Orphans of the job's steps are killed now; its temp folder (scripts held expanded secrets) goes.
        for group in groups.withLock({ $0 }) { HostProcess.terminateGroup(group) }
        removeTree(temp)
        return JobOutcome(result: result, outputs: outputs, summary: summary)
    }

    private var unsupportedReason: String? {
        if let uses = job.uses { return "calling reusable workflows ('\(uses.value)') is not supported by gantry run yet" }
        if instance.container != nil || !job.services.isEmpty {
            return "job '\(job.id.value)' needs Docker (container or services), which gantry run does not drive yet"
        }
        if instance.matrixAtRunTime { return "a matrix computed at run time is not supported by gantry run yet" }
        if instance.backend.hasPrefix("docker://") { return "runs-on is mapped to \(instance.backend); the Docker backend is not available yet" }
        return nil
    }

    private var runnerValue: ExpressionValue {
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
    }

    private func runStep(
        _ step: Step, name: String, env jobEnv: [(String, String)], evaluation: EvaluationContext,
        prependPath: inout PrependPath, masker: inout SecretMasker, remaining: Double?, survivesCancel: Bool
    ) -> StepResult {
        func say(_ text: String) { output.line(instance.id, masker.mask(text)) }
        let cancelledAtStart = isCancelled
        var failed = StepResult(outcome: .failure, conclusion: .failure, outputs: [], env: [], summary: "", timedOutJob: false)
        if let uses = step.uses {
            say("error: actions are not supported by gantry run yet: '\(uses.value)'")
            return failed
        }
        guard let run = step.run else { return failed }
        // Step env on top of the job's, evaluated with the job's env visible.
        var env = jobEnv
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
            let script = try evaluate(run.value, stepContext).stringValue
            let shellName = step.shell?.value ?? job.defaults?.shell.map { try? evaluate($0.value, stepContext).stringValue } ?? workflow.defaults?.shell?.value
            var directory = workspace
            if let wd = step.workingDirectory?.value ?? job.defaults?.workingDirectory?.value ?? workflow.defaults?.workingDirectory?.value {
                let resolved = try evaluate(wd, stepContext).stringValue
                directory = resolved.hasPrefix("/") ? resolved : workspace + "/" + resolved
            }
            let files = [("GITHUB_ENV", "set_env"), ("GITHUB_OUTPUT", "set_output"), ("GITHUB_PATH", "add_path"), ("GITHUB_STATE", "save_state"), ("GITHUB_STEP_SUMMARY", "step_summary")]
            var fileEnv: [(String, String)] = []
            // One set of files per job, emptied before each step (the runner makes new ones per step;
            // truncating is the same to a step and spares five file creations per step).
            for (variable, prefix) in files {
                let path = temp + "/\(prefix)"
                writeFile(path, "")
                fileEnv.append((variable, path))
            }
            let invocationPath = temp + "/script"
            let stepPath = prependPath.path(original: env.last { $0.0 == "PATH" }?.1 ?? Self.hostPath(context))
            let invocation = try ShellInvocation.resolve(shellName, scriptPath: invocationPath + "{ext}") { program in
                Self.onPath(program, path: stepPath)
            }
            let scriptPath = invocationPath + invocation.fileExtension
            writeFile(scriptPath, invocation.prologue + script + invocation.epilogue)
            let arguments = invocation.arguments.map { $0.replacing(invocationPath + "{ext}", with: scriptPath) }

            // Later layers win: the host's environment, GitHub's variables, the workflow/job/step env,
            // the file-command paths.
            var processEnv = Self.merge([context.hostEnvironment, standardEnvironment(), env, fileEnv])
            let originalPath = processEnv.last { $0.0 == "PATH" }?.1 ?? ""
            processEnv.removeAll { $0.0 == "PATH" }
            processEnv.append(("PATH", prependPath.path(original: originalPath)))

            let stepTimeout = minutes(step.timeoutMinutes, default: nil, context: stepContext)
            var timeout = stepTimeout.map { $0 * 60 }
            var jobLimitApplies = false
            if let remaining, remaining < (timeout ?? .infinity) {
                timeout = max(remaining, 0.001)
                jobLimitApplies = true
            }
            var process = HostProcess(arguments: arguments, environment: processEnv, workingDirectory: directory, timeout: timeout)
            process.interruptGrace = 7.5
            let lines = LineSink(masker: masker, verbose: context.verbose, instance: instance.id, output: output)
            let handle = HostProcess.Handle()
            current.withLock { $0 = (handle, survivesCancel) }
            // Cancelled between this step's `if` and now: interrupt it unless its `if` still holds.
            if !cancelledAtStart && isCancelled && !survivesCancel { handle.cancel() }
            let result = try process.run(handle: handle) { _, line in lines.handle(line) }
            current.withLock { $0 = nil }
            masker = lines.finalMasker
            // Background processes live on until the job ends, as on GitHub's runner.
            groups.withLock { $0.append(result.processGroup) }
            unlink(scriptPath)

            var outputs = lines.legacyOutputs.map { ($0.0, ExpressionValue.string($0.1)) }
            var newEnv: [(String, String)] = []
            var outcome: JobResult = result.succeeded ? .success : result.cancelled ? .cancelled : .failure
            if outcome != .success { lines.unfoldAfterFailure() }
            if result.timedOut {
                if !jobLimitApplies { say("error: the step timed out") }
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
            for directory in FileCommands.pathEntries(readFile(fileEnv[2].1)) { prependPath.add(directory) }
            let summaryText = readFile(fileEnv[4].1)
            let summary = summaryText.isEmpty ? "" : masker.mask(summaryText) + (summaryText.hasSuffix("\n") ? "" : "\n")
            return StepResult(
                outcome: outcome, conclusion: outcome, outputs: outputs, env: newEnv, summary: summary,
                timedOutJob: result.timedOut && jobLimitApplies)
        } catch let error as ExpressionError {
            say("error: step '\(name)': \(error)")
        } catch let error as ShellInvocation.Failure {
            say("error: \(error.message)")
        } catch let error as HostProcess.Failure {
            say("error: \(error.message)")
        } catch {
            say("error: \(error)")
        }
        failed.outcome = .failure
        return failed
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

    private func record(_ step: Step, outcome: JobResult, conclusion: JobResult, outputs: [(String, ExpressionValue)], into steps: inout [(String, ExpressionValue)]) {
        guard let id = step.id?.value else { return }
        steps.append((id, .object([
            ("outputs", .object(outputs)), ("outcome", .string(outcome.rawValue)), ("conclusion", .string(conclusion.rawValue)),
        ])))
    }

    private func stepName(_ step: Step, index: Int) -> String {
        if let name = step.name?.value { return name }
        if let uses = step.uses?.value { return uses }
        if let run = step.run?.value { return "Run " + (run.split(separator: "\n").first.map(String.init) ?? "") }
        return "step \(index + 1)"
    }

    @discardableResult
    private func evaluateEnvironment(
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

    private func evaluate(_ text: String, _ context: EvaluationContext) throws(ExpressionError) -> ExpressionValue {
        guard ExpressionTemplate.containsExpression(text) else { return .string(text) }
        let template: ExpressionTemplate
        do {
            template = try ExpressionTemplate.parse(text)
        } catch {
            throw ExpressionError(.parsing, error.message, position: error.offset, expression: text)
        }
        return try template.evaluate(in: context, options: .permissive)
    }

    private func evaluateBool(_ value: Located<BoolOrExpression>?, _ context: EvaluationContext) -> Bool? {
        switch value?.value {
        case .value(let b)?: return b
        case .expression(let e)?: return (try? evaluate(e, context))?.isTruthy
        case nil: return nil
        }
    }

    private func minutes(_ value: Located<NumberOrExpression>?, default: Double?, context: EvaluationContext? = nil) -> Double? {
        switch value?.value {
        case .value(let n)?: return n
        case .expression(let e)?:
            guard let context, let v = try? evaluate(e, context) else { return `default` }
            let n = v.numberValue
            return n.isNaN ? `default` : n
        case nil: return `default`
        }
    }

    private func minutes(_ value: Located<NumberOrExpression>?, default: Double?) -> Double? {
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

/// Removes a folder and everything below it.
func removeTree(_ path: String) {
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var info = stat()
            if lstat(child, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        closedir(dir)
    }
    rmdir(path)
}

func readFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func formatDuration(_ seconds: Double) -> String {
    seconds < 1 ? "\(Int(seconds * 1000)) ms" : seconds < 60 ? String(Int(seconds * 10) / 10) + "." + String(Int(seconds * 10) % 10) + " s" : "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
}
