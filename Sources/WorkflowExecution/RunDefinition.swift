public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning

/// What `RunStateMachine` decides on: the run's workflows and jobs with everything their job-level
/// decisions need (the job's `if`, `needs`, strategy, concurrency groups), as values. Built once from
/// the plan; a job whose matrix is known only at run time has no rows yet (`template` instead).
public struct RunDefinition: Sendable, Codable {
    /// A concurrency group once evaluated.
    public struct Group: Sendable, Equatable, Codable {
        public var name: String
        public var cancelInProgress: Bool
        /// `queue: max`: pending entries wait in order instead of replacing each other.
        public var queueMax: Bool

        public init(name: String, cancelInProgress: Bool = false, queueMax: Bool = false) {
            self.name = name
            self.cancelInProgress = cancelInProgress
            self.queueMax = queueMax
        }
    }

    public struct WorkflowEntry: Sendable, Codable {
        public var file: String
        /// The name the plan gives it (its `name:` or file).
        public var name: String
        /// `github`, `inputs` and `vars`: what job-level expressions see besides `needs`, `matrix`
        /// and `strategy`.
        public var contexts: ExpressionObject
        /// The workflow's concurrency group, when it has a non-empty one.
        public var group: Group?

        public init(file: String, name: String, contexts: ExpressionObject, group: Group? = nil) {
            self.file = file
            self.name = name
            self.contexts = contexts
            self.group = group
        }

        private enum CodingKeys: String, CodingKey { case file, name, contexts, group }

        /// The contexts are stored as their JSON text (a run store keeps definitions).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decode(String.self, forKey: .file)
            name = try c.decode(String.self, forKey: .name)
            group = try c.decodeIfPresent(Group.self, forKey: .group)
            let text = try c.decode(String.self, forKey: .contexts)
            guard case .object(let object)? = try? JSONText.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: .contexts, in: c, debugDescription: "contexts are not a JSON object")
            }
            contexts = object
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(file, forKey: .file)
            try c.encode(name, forKey: .name)
            try c.encodeIfPresent(group, forKey: .group)
            try c.encode(JSONText.compact(.object(contexts)), forKey: .contexts)
        }
    }

    /// One entry of a job's `needs:`, as spelled there and as the job it names.
    public struct Need: Sendable, Equatable, Codable {
        public var name: String
        public var job: JobKey

        public init(name: String, job: JobKey) {
            self.name = name
            self.job = job
        }
    }

    /// How one job's matrix behaves.
    public struct Strategy: Sendable, Equatable, Codable {
        public var failFast: Bool
        public var maxParallel: Int?

        public init(failFast: Bool = true, maxParallel: Int? = nil) {
            self.failFast = failFast
            self.maxParallel = maxParallel
        }
    }

    /// A job's `concurrency:` as written: the group may use `needs`, so it is evaluated when the
    /// instance is ready.
    public struct JobGroup: Sendable, Equatable, Codable {
        public var name: String
        public var cancelInProgress: String?
        public var queueMax: Bool

        public init(name: String, cancelInProgress: String? = nil, queueMax: Bool = false) {
            self.name = name
            self.cancelInProgress = cancelInProgress
            self.queueMax = queueMax
        }
    }

    /// One matrix row of a job (the job itself without a matrix).
    public struct Row: Sendable, Codable {
        public var index: Int
        public var instance: JobInstance
        public var continueOnError: Bool
        public var group: JobGroup?

        public init(index: Int, instance: JobInstance, continueOnError: Bool = false, group: JobGroup? = nil) {
            self.index = index
            self.instance = instance
            self.continueOnError = continueOnError
            self.group = group
        }

        /// The row of a planned instance of `job`: its `continue-on-error` evaluated with the workflow's
        /// `contexts` and its matrix, its concurrency group as written.
        public init(_ instance: JobInstance, of job: Job?, contexts: ExpressionObject) {
            self.init(index: instance.strategyIndex, instance: instance)
            continueOnError = JobDecisions.truthy(instance.continueOnError, EvaluationContext(contexts: JobDecisions.contexts(contexts, row: self))) == true
            if let concurrency = job?.concurrency {
                group = JobGroup(
                    name: instance.concurrencyGroup ?? concurrency.group.value, cancelInProgress: instance.cancelInProgress,
                    queueMax: concurrency.queue?.value == "max")
            }
        }

        /// `matrix` and `strategy` of this row.
        public var contexts: [(String, ExpressionValue)] {
            [
                ("matrix", .object(instance.matrix.map { ($0.key, (try? JSONText.parse($0.json)) ?? .string($0.json)) })),
                ("strategy", .object([
                    ("job-index", .number(Double(instance.strategyIndex))), ("job-total", .number(Double(instance.strategyTotal))),
                ])),
            ]
        }
    }

    /// What a job that calls a reusable workflow passes to it and takes back.
    public struct Call: Sendable, Equatable, Codable {
        /// One input the called workflow declares (`on.workflow_call.inputs`).
        public struct Input: Sendable, Equatable, Codable {
            public var name: String
            /// `string`, `boolean` or `number`.
            public var type: String
            public var required: Bool
            /// The default as written (it may hold an expression).
            public var defaultValue: String?

            public init(name: String, type: String = "string", required: Bool = false, defaultValue: String? = nil) {
                self.name = name
                self.type = type
                self.required = required
                self.defaultValue = defaultValue
            }
        }

        /// The `uses:` as written, for messages.
        public var uses: String
        /// `with:` as written.
        public var with: [NamedValue]
        public var inputs: [Input]
        /// `on.workflow_call.outputs.<name>.value` as written.
        public var outputs: [NamedValue]

        public init(uses: String, with: [NamedValue] = [], inputs: [Input] = [], outputs: [NamedValue] = []) {
            self.uses = uses
            self.with = with
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    public struct JobEntry: Sendable, Codable {
        public var key: JobKey
        /// For a job of a called workflow: the calling instance (its jobs start when the call does, and
        /// the call ends when they all have).
        public var parent: InstanceID?
        /// For a job that calls a reusable workflow: what it passes and takes back.
        public var call: Call?
        public var needs: [Need]
        /// The raw `if:`.
        public var condition: String?
        public var strategy: Strategy
        /// The rows, or nil while the matrix is not known (`template` is then the planned instance).
        public var rows: [Row]?
        public var template: Row?

        public init(
            key: JobKey, parent: InstanceID? = nil, call: Call? = nil, needs: [Need] = [], condition: String? = nil, strategy: Strategy = Strategy(),
            rows: [Row]?, template: Row? = nil
        ) {
            self.key = key
            self.parent = parent
            self.call = call
            self.needs = needs
            self.condition = condition
            self.strategy = strategy
            self.rows = rows
            self.template = template
        }
    }

    /// A job instance of an earlier attempt whose success a re-run of failed jobs keeps: it is not run
    /// again, and its outputs reach the jobs that need it.
    public struct Reused: Sendable, Equatable, Codable {
        public var job: JobKey
        public var row: Int
        public var outcome: JobOutcome
        /// The attempt it ran in.
        public var attempt: Int

        public init(job: JobKey, row: Int, outcome: JobOutcome, attempt: Int) {
            self.job = job
            self.row = row
            self.outcome = outcome
            self.attempt = attempt
        }
    }

    public var run: RunID
    public var workflows: [WorkflowEntry]
    /// In plan order (every job after all it needs).
    public var jobs: [JobEntry]
    /// What a re-run of failed jobs keeps of the attempt before (nil: everything runs).
    public var reused: [Reused]?

    public init(run: RunID, workflows: [WorkflowEntry], jobs: [JobEntry]) {
        self.run = run
        self.workflows = workflows
        self.jobs = jobs
    }

    /// The definition of a planned run. `contexts[i]` holds `github`, `inputs` and `vars` of the
    /// plan's i-th workflow; job-level settings (`fail-fast`, `max-parallel`, `continue-on-error`) are
    /// evaluated with them and each row's `matrix` and `strategy`.
    public init(run: RunID, plan: Plan, workflows: [Workflow], contexts: [ExpressionObject]) {
        self.run = run
        self.workflows = []
        self.jobs = []
        for (w, planned) in plan.workflows.enumerated() {
            let workflow = workflows.first { $0.file == planned.file }
            let base = contexts[w]
            var group: Group?
            if let concurrency = workflow?.concurrency, let name = planned.concurrencyGroup, !name.isEmpty {
                group = Group(
                    name: name, cancelInProgress: JobDecisions.truthy(planned.cancelInProgress, EvaluationContext(contexts: base)) ?? false,
                    queueMax: concurrency.queue?.value == "max")
            }
            self.workflows.append(WorkflowEntry(file: planned.file, name: planned.name, contexts: base, group: group))
            // The jobs of a call whose matrix is known only at run time are added with its rows.
            let lateCalls = planned.instances.filter { $0.matrixAtRunTime && $0.calledFile != nil }.map { $0.callPath + [$0.job + "#0"] }
            let instances = planned.instances.filter { instance in !lateCalls.contains { instance.callPath.starts(with: $0) } }
            self.jobs += Self.entries(run: run, workflow: w, file: planned.file, instances: instances, workflows: workflows, contexts: base)
        }
    }

    /// The job entries of planned instances of workflow `w` (rows grouped by job, a job of a called
    /// workflow by its call path too, jobs in the order their first row comes).
    public static func entries(
        run: RunID, workflow w: Int, file plannedFile: String, instances: [JobInstance], workflows: [Workflow], contexts base: ExpressionObject
    ) -> [JobEntry] {
        var out: [JobEntry] = []
        var order: [String] = []
        var rows: [String: [Row]] = [:]
        func file(_ instance: JobInstance) -> String { instance.workflowFile ?? plannedFile }
        func groupKey(_ instance: JobInstance) -> String { (instance.callPath + [instance.job.lowercased()]).joined(separator: "\n") }
        for instance in instances {
            let id = groupKey(instance)
            if rows[id] == nil { order.append(id) }
            let job = workflows.first { $0.file == file(instance) }?.job(instance.job)
            rows[id, default: []].append(Row(instance, of: job, contexts: base))
        }
        for id in order {
            guard let first = rows[id]?.first else { continue }
            let instance = first.instance
            let owner = workflows.first { $0.file == file(instance) }
            let job = owner?.job(instance.job)
            let evaluation = EvaluationContext(contexts: JobDecisions.contexts(base, row: first))
            let maxParallel = instance.maxParallel.flatMap { JobDecisions.value($0, evaluation) }.map(\.numberValue)
                .flatMap { $0.isNaN ? nil : Int($0) }
            let strategy = Strategy(failFast: JobDecisions.truthy(instance.failFast, evaluation) ?? true, maxParallel: maxParallel)
            let needs = (job?.needs ?? []).map { need in
                Need(name: need.value, job: JobKey(workflow: w, callPath: instance.callPath, id: owner?.job(need.value)?.id.value ?? need.value))
            }
            let key = JobKey(workflow: w, callPath: instance.callPath, id: job?.id.value ?? instance.job)
            var parent: InstanceID?
            if let last = instance.callPath.last, let hash = last.lastIndex(of: "#") {
                parent = InstanceID(
                    run: run, job: JobKey(workflow: w, callPath: Array(instance.callPath.dropLast()), id: String(last[..<hash])),
                    row: Int(last[last.index(after: hash)...]) ?? 0)
            }
            var call: Call?
            if let job, let uses = job.uses {
                let callee = workflows.first { $0.file == instance.calledFile }?.trigger("workflow_call")
                call = Call(
                    uses: uses.value, with: job.with.map { NamedValue($0.key.value, $0.value.scalarText ?? "") },
                    inputs: (callee?.inputs ?? []).map { input in
                        Call.Input(
                            name: input.id.value, type: input.type?.value.rawValue ?? "string", required: input.required,
                            defaultValue: input.defaultValue?.scalarText)
                    },
                    outputs: (callee?.outputs ?? []).map { NamedValue($0.id.value, $0.value.value) })
            }
            let atRunTime = instance.matrixAtRunTime
            out.append(JobEntry(
                key: key, parent: parent, call: call, needs: needs, condition: job?.condition?.value ?? instance.condition, strategy: strategy,
                rows: atRunTime ? nil : rows[id], template: atRunTime ? first : nil))
        }
        return out
    }
}
