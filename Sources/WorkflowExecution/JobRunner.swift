public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning
import ContentCache
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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
    /// The running foreground step: cancelling the job interrupts that step only; steps that run after
    /// it (`always()`) get a fresh handle.
    let foreground = StepSlot()
    /// The job's background steps, in the order they were launched, and the slots they share.
    let background = BackgroundSteps()
    private let cancelled = Atomic<Bool>(false)
    /// Process groups of this job's steps, killed when the job ends.
    let groups = Mutex<[Int32]>([])
    /// The content cache, opened by the first cache step.
    let cacheStoreHolder = Mutex<CacheStore?>(nil)
    /// Engine calls to abandon when the job is cancelled (a Docker action's image build).
    let abortables = Mutex<[ExecCancellation]>([])
    /// The job's service and job containers, when it has any (set before the first step).
    let containersHolder = Mutex<JobContainers?>(nil)
    /// The copy of the repository at the run's commit that `uses: $/PATH` actions are read from, made
    /// by the first of them (nil until then).
    let selfRepository = Mutex<Result<String, StepFailure>?>(nil)
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
        foreground.interrupt(evenIfItSurvivesCancel: false)
        // Background steps follow the job's cancellation, whatever their `if` (the runner links their
        // tokens to the job's); those still waiting for a slot never start.
        background.cancelAll()
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
        /// Directories this state added to `PATH`, in order (what a background step hands back).
        var pathAdditions: [String] = []
        /// The job's masks, shared with its background steps' states.
        let masks: MaskRegistry
        /// The job's annotations, shared with its background steps' states.
        let annotations: AnnotationLog
        /// What the masks are now; setting it adds masks (none is ever taken away).
        var masker: SecretMasker {
            get { masks.snapshot }
            set { masks.absorb(newValue) }
        }
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
        /// The running step's `GITHUB_ACTION`, and the repository and ref of the action it belongs to
        /// (`GITHUB_ACTION_REPOSITORY`, `GITHUB_ACTION_REF`; empty for `run` steps and local actions).
        var action = StepAction(name: "__run")
        /// The job's `steps` context so far (what post steps and their `post-if` see).
        var stepsContext: [(String, ExpressionValue)] = []
        /// Where the running step's process goes: the job's foreground slot, or a background step's.
        let slot: StepSlot
        /// The folder for the step's file-command files and script (a background step has its own).
        let scratch: String
        /// Where the step's lines go (a background step's are labelled with its name), under `instance`.
        let output: any RunOutput
        let instance: String

        init(
            env: [(String, String)], masker: SecretMasker, started: Double, timeout: Double?,
            slot: StepSlot, scratch: String, output: any RunOutput, instance: String, masks: MaskRegistry? = nil,
            annotations: AnnotationLog = AnnotationLog()
        ) {
            self.env = env
            self.masks = masks ?? MaskRegistry(masker)
            self.annotations = annotations
            self.started = started
            self.timeout = timeout
            self.slot = slot
            self.scratch = scratch
            self.output = output
            self.instance = instance
        }

        /// Prints a line of the job, masked.
        func say(_ text: String) { output.line(instance, masks.mask(text)) }

        /// The state a background step starts from: this one's env, `PATH`, masker and saved state, with
        /// its own slot, folder and labelled output. What it changes comes back when it is waited for.
        func backgroundCopy(slot: StepSlot, scratch: String, label: String) -> JobState {
            let copy = JobState(
                env: env, masker: SecretMasker(), started: started, timeout: timeout, slot: slot, scratch: scratch,
                output: LabelledOutput(base: output, label: label), instance: instance, masks: masks, annotations: annotations)
            copy.prependPath = prependPath
            copy.failed = failed
            copy.timedOut = timedOut
            copy.savedState = savedState
            copy.stepsContext = stepsContext
            copy.action = action
            copy.posts = posts
            return copy
        }

        /// Takes in what a background step's state changed: `PATH` additions, saved state and the post
        /// steps of the actions it ran. (Env, outputs and summary come back in its `StepResult`; masks are
        /// shared as they are added.)
        /// The posts go where the step started among the job's (`postsAt`), as they were registered then.
        func absorb(_ finished: JobState, postsAt index: Int) {
            for directory in finished.pathAdditions { addPath(directory) }
            if finished.timedOut { timedOut = true }
            savedState.merge(finished.savedState) { $1 }
            let new = finished.posts.filter { post in !posts.contains { $0.stateKey == post.stateKey } }
            posts.insert(contentsOf: new, at: min(index, posts.count))
        }

        func addPath(_ directory: String) {
            prependPath.add(directory)
            pathAdditions.append(directory)
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
        /// Inside a composite: the repository and ref of the composite action (`github.action_repository`).
        var actionRepository = ""
        var actionRef = ""
    }

    /// A step's name for `GITHUB_ACTION` and the action it runs.
    struct StepAction: Equatable {
        var name: String
        var repository = ""
        var ref = ""
    }

    /// Runs the job to its end (its `if` was already found true).
    public func run() -> JobOutcome {
        var masker = SecretMasker()
        for (_, value) in context.secrets { masker.add(value) }
        func say(_ text: String) { output.line(instance.id, masker.mask(text)) }

        Files.makeDirectory(workspace)
        Files.makeDirectory(temp)

        // Job env: the run's `--env` values, workflow env, then job env; each value evaluated once.
        var env = Self.merge([context.env])
        evaluateEnvironment(workflow.env, base(extra: [("env", .object(env.map { ($0.0, .string($0.1)) }))]), into: &env, masker: masker, say: say)
        evaluateEnvironment(job.env, base(extra: [("env", .object(env.map { ($0.0, .string($0.1)) }))]), into: &env, masker: masker, say: say)

        let jobTimeout = minutes(job.timeoutMinutes, default: 360, context: EvaluationContext(contexts: base(extra: []))).map { $0 * 60 }
        let recorder = StepRecorder(output)
        let state = JobState(
            env: env, masker: masker, started: HostProcess.now(), timeout: jobTimeout, slot: foreground, scratch: temp, output: recorder,
            instance: instance.id)

        // Containers: services, then the job container; removed when the job ends, however it ends.
        var containersReady = true
        if needsContainers {
            if let engine = context.containerEngine {
                let containers = JobContainers(engine: engine, network: context.containerNetwork == "bridge" ? containerName : "host", resources: context.resources)
                containersHolder.withLock { $0 = containers }
                containersReady = startContainers(containers, state: state)
                // The job container's image (or --user) may run as another user than gantry: the
                // bind-mounted workspace and temp folder must be writable for it, as the runner's
                // _work folders are for its containers.
                if containers.jobContainer != nil {
                    chmod(workspace, 0o777)
                    chmod(temp, 0o777)
                }
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
        for group in groups.withLock({ $0 }) { context.resources.terminate(group: group) }
        if let containers {
            for problem in containers.teardown() { say("warning: cleaning up: \(problem)") }
        }
        Files.removeTree(temp)
        return JobOutcome(
            result: result, outputs: outputs, summary: state.summary, annotations: state.annotations.annotations, steps: recorder.steps)
    }
}
