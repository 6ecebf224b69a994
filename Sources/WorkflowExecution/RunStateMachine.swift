import WorkflowExpressions

/// The result of a job instance, as `needs.<id>.result` reports it.
public enum JobResult: String, Sendable, Equatable, Codable {
    case success, failure, cancelled, skipped
}

/// Decides a run: which job instances become ready and when (a true DAG: an instance is ready as soon
/// as every job it needs has finished), what their `if` says, the workflow's and the job's concurrency
/// groups, `strategy.max-parallel`, fail-fast, cancellation, rows added when a matrix becomes known,
/// and lost runners. A value with no I/O: a `RunStore` feeds it events in one transaction each and the
/// driver carries out the actions it returns, as NIO's state machines do. How many jobs run at once is
/// not its business: that is each worker's capacity.
public struct RunStateMachine: Sendable {
    /// A concurrency group's holder: a workflow of the run, or one job instance.
    public enum GroupScope: Hashable, Sendable, Codable {
        case workflow(Int)
        case job(InstanceID)
    }

    /// How a wait for a concurrency group ended.
    public enum GroupTurn: Sendable, Equatable, Codable {
        case running
        /// A newer pending entry took this one's place.
        case replaced
        /// The wait was stopped (`leaveGroup` while pending).
        case interrupted
        /// The group could not be used.
        case unavailable(String)
    }

    public enum Event: Sendable, Codable {
        case start
        /// A job that was `unexpanded` has its rows (its matrix is now known).
        /// (A matrix of calls brings the jobs of each row's call, `jobs`.)
        case instancesAdded(JobKey, [RunDefinition.Row], jobs: [RunDefinition.JobEntry] = [])
        /// A job's matrix could not be computed: the job fails with this line.
        case expansionFailed(JobKey, String)
        /// A worker took an enqueued instance.
        case claimed(InstanceID)
        case jobFinished(InstanceID, JobOutcome)
        case groupTurn(GroupScope, GroupTurn)
        /// A newer entry of the group has cancel-in-progress: the holder is cancelled.
        case groupCancelRequested(GroupScope)
        /// Ctrl-C, or a cancel through the API: running jobs are cancelled, ready ones decide by their `if`.
        case cancelRun
        /// The lease of a running instance lapsed: its runner is gone.
        case leaseLost(InstanceID)
        /// The run continues in a new process (a service restarted): what the old process was asked to
        /// do and never answered is asked again — groups waited for or held are entered anew, matrices
        /// being computed are computed again.
        case resumed
    }

    public enum Action: Sendable, Equatable {
        /// The instance's `if` held: it is under way (it may still wait for groups or a runner).
        case began(InstanceID)
        /// Put the instance in the queue for a worker, with what it receives from its needs.
        case enqueue(InstanceID, needs: [NeedResult])
        /// Take an instance out of the queue again (it was not claimed yet; the machine decides anew).
        case withdraw(InstanceID)
        /// Stop a claimed instance: its running step gets the cancellation sequence.
        case cancel(InstanceID)
        /// The instance ended without running (its `if`, fail-fast, a group, cancellation, a lost
        /// runner); the result is in `result(of:)`.
        case conclude(InstanceID, JobResult)
        /// Compute the matrix of a job whose needs have finished, and answer with `instancesAdded` or
        /// `expansionFailed`.
        case expand(JobKey, needs: [NeedResult])
        /// Join a group and answer with `groupTurn` (and `groupCancelRequested` while holding it).
        case enterGroup(GroupScope, RunDefinition.Group)
        /// Leave a group: release it, or stop waiting (answered with `groupTurn(.interrupted)`).
        case leaveGroup(GroupScope)
        /// A line to show under the instance (nil: under the run).
        case note(InstanceID?, String)
        case finished(success: Bool)
    }

    public enum Phase: Sendable, Equatable {
        /// Waiting for what it needs.
        case blocked
        /// A job whose matrix is not known yet; `expanding` once `.expand` was asked.
        case unexpanded, expanding
        case awaitingWorkflowGroup, awaitingJobGroup
        /// Its groups let it run: waiting for `max-parallel`.
        case ready
        case enqueued, running
        /// A job that calls a reusable workflow: its workflow's jobs are under way.
        case calling
        case done(JobResult)
    }

    private enum GroupState: Sendable, Equatable {
        case idle, entering, held, refused(GroupTurn), released
    }

    public let definition: RunDefinition
    /// Every instance, in plan order (rows added later take their job's place).
    public private(set) var order: [InstanceID] = []
    private var phases: [InstanceID: Phase] = [:]
    private var rows: [InstanceID: RunDefinition.Row] = [:]
    private var jobIndex: [JobKey: Int] = [:]
    var outcomes: [InstanceID: JobOutcome] = [:]
    /// Each job's instances in plan order, its finished ones in completion order, and the jobs it
    /// needs directly or not.
    private var rowsOf: [JobKey: [InstanceID]] = [:]
    private var finishedOf: [JobKey: [InstanceID]] = [:]
    private var ancestorsOf: [JobKey: [RunDefinition.Need]]
    /// The run's jobs: the definition's, and those a matrix of calls added.
    private var jobs: [RunDefinition.JobEntry]
    private var completion: [InstanceID] = []
    private var workflowGroups: [Int: GroupState] = [:]
    /// Job groups entered (waiting or held), and each instance's evaluated group.
    private var jobGroups: [InstanceID: RunDefinition.Group] = [:]
    /// Instances asked to stop while waiting for their job group.
    private var stopping = Set<InstanceID>()
    private var runCancelled = false
    private var cancelledWorkflows = Set<Int>()
    private var reportedFinish = false
    /// The `inputs` of each call under way, and the calls asked to stop.
    var callInputs: [InstanceID: ExpressionValue] = [:]
    var cancelledCalls = Set<InstanceID>()
    /// Running instances already told to stop.
    private var cancelAsked = Set<InstanceID>()
    /// The jobs of each call's workflow.
    var calledJobs: [InstanceID: [JobKey]] = [:]

    public init(_ definition: RunDefinition) {
        self.definition = definition
        ancestorsOf = Self.ancestorLists(definition.jobs)
        jobs = definition.jobs
        for (i, job) in definition.jobs.enumerated() {
            jobIndex[job.key] = i
            if let parent = job.parent { calledJobs[parent, default: []].append(job.key) }
            if let jobRows = job.rows {
                for row in jobRows { add(row, of: job.key, phase: .blocked) }
            } else if let template = job.template {
                add(template, of: job.key, phase: .unexpanded)
            }
        }
        for (w, workflow) in definition.workflows.enumerated() where workflow.group != nil { workflowGroups[w] = .idle }
    }

    private mutating func add(_ row: RunDefinition.Row, of job: JobKey, phase: Phase, at position: Int? = nil) {
        let id = InstanceID(run: definition.run, job: job, row: row.index)
        if let position { order.insert(id, at: position) } else { order.append(id) }
        phases[id] = phase
        rows[id] = row
        rowsOf[job, default: []].append(id)
    }

    /// Marks an instance done and files it under its job, in completion order.
    private mutating func settle(_ id: InstanceID, _ result: JobResult) {
        phases[id] = .done(result)
        completion.append(id)
        finishedOf[id.job, default: []].append(id)
    }

    // MARK: Reading

    public func phase(of id: InstanceID) -> Phase? { phases[id] }

    public func result(of id: InstanceID) -> JobResult? {
        if case .done(let result)? = phases[id] { return result }
        return nil
    }

    public func row(of id: InstanceID) -> RunDefinition.Row? { rows[id] }

    public func outcome(of id: InstanceID) -> JobOutcome? { outcomes[id] }

    /// Whether the machine still wants a group held or waited for: false once it asked to leave it
    /// (`.leaveGroup`). A process that holds a group but did not apply the event that asked (another
    /// node of a shared store) learns it here.
    public func wantsGroup(_ scope: GroupScope) -> Bool {
        switch scope {
        case .workflow(let w):
            return workflowGroups[w] == .held || (workflowGroups[w] == .entering && !runCancelled)
        case .job(let id):
            return jobGroups[id] != nil && !stopping.contains(id)
        }
    }

    /// True once the running instance was told to stop (`.cancel`): a process that runs it but did not
    /// apply the event that asked (another node of a shared store) learns it here.
    public func isCancelAsked(_ id: InstanceID) -> Bool { cancelAsked.contains(id) }

    /// Keeps the outcome of an instance the machine itself concluded (a call).
    mutating func record(_ id: InstanceID, _ outcome: JobOutcome) { outcomes[id] = outcome }

    public func job(_ key: JobKey) -> RunDefinition.JobEntry? { jobIndex[key].map { jobs[$0] } }

    /// Instances in the order they finished (a matrix's outputs merge in that order).
    public var finishedOrder: [InstanceID] { completion }

    public var isFinished: Bool { reportedFinish }

    /// How the run ended, once it has.
    public private(set) var succeeded: Bool?

    // MARK: Events

    public mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .start: break
        case .instancesAdded(let key, let added, let jobs): expanded(key, added, jobs: jobs, &actions)
        case .expansionFailed(let key, let message):
            for id in order where id.job == key && phases[id] == .expanding {
                conclude(id, .failure, note: message, &actions)
            }
        case .claimed(let id):
            if phases[id] == .enqueued { phases[id] = .running }
        case .jobFinished(let id, let outcome):
            guard let phase = phases[id], phase == .running || phase == .enqueued else { return schedule() }
            outcomes[id] = outcome
            finish(id, outcome.result, &actions)
        case .groupTurn(let scope, let turn): groupTurn(scope, turn, &actions)
        case .groupCancelRequested(let scope):
            switch scope {
            case .workflow(let w): cancelWorkflow(w, &actions)
            case .job(let id):
                guard let group = jobGroups[id], phases[id] == .running || phases[id] == .enqueued else { break }
                actions.append(.note(id, "cancelling: a newer job of concurrency group '\(group.name)' has cancel-in-progress"))
                stop(id, &actions)
            }
        case .cancelRun:
            runCancelled = true
            for id in order { stop(id, &actions) }
            for (w, state) in workflowGroups where state == .entering { actions.append(.leaveGroup(.workflow(w))) }
        case .leaseLost(let id):
            guard phases[id] == .running else { break }
            outcomes[id] = JobOutcome(result: .failure)
            actions.append(.note(id, "error: the runner lost communication with the server (its lease expired); the job's remaining steps did not run"))
            finish(id, .failure, &actions)
            actions.append(.conclude(id, .failure))
        case .resumed: resume(&actions)
        }
        return actions + schedule()
    }

    /// The actions a new process must carry out again after a restart.
    private mutating func resume(_ actions: inout [Action]) {
        for (w, state) in workflowGroups.sorted(by: { $0.key < $1.key }) where state == .entering || state == .held {
            guard let group = definition.workflows[w].group else { continue }
            // A group the old process held is held by nobody now: it is waited for again.
            workflowGroups[w] = .entering
            actions.append(.enterGroup(.workflow(w), group))
        }
        for id in order {
            switch phases[id] {
            case .awaitingJobGroup?:
                if let group = jobGroups[id] { actions.append(.enterGroup(.job(id), group)) }
            case .expanding?:
                actions.append(.expand(id.job, needs: needs(of: id.job)))
            default: break
            }
        }
    }

    /// A running or enqueued instance is asked to stop; one waiting for its groups stops waiting.
    private mutating func stop(_ id: InstanceID, _ actions: inout [Action]) {
        switch phases[id] {
        case .running?:
            // Asked once, however many reasons there are (Ctrl-C, its call, fail-fast).
            if cancelAsked.insert(id).inserted { actions.append(.cancel(id)) }
        case .calling?:
            // A call stops its workflow's jobs; those not started yet decide with cancelled() true.
            cancelledCalls.insert(id)
            for child in children(of: id) { stop(child, &actions) }
        case .enqueued?:
            // Not claimed yet: back to deciding, with the run (or workflow) now cancelled.
            actions.append(.withdraw(id))
            leaveJobGroup(id, &actions)
            phases[id] = .blocked
        case .awaitingJobGroup?:
            if stopping.insert(id).inserted { actions.append(.leaveGroup(.job(id))) }
        case .ready?:
            conclude(id, .cancelled, note: nil, &actions)
        default: break
        }
    }

    /// Releases the job group an instance holds (or waits for), once.
    private mutating func leaveJobGroup(_ id: InstanceID, _ actions: inout [Action]) {
        guard jobGroups.removeValue(forKey: id) != nil else { return }
        actions.append(.leaveGroup(.job(id)))
    }

    private mutating func cancelWorkflow(_ w: Int, _ actions: inout [Action]) {
        guard cancelledWorkflows.insert(w).inserted else { return }
        let workflow = definition.workflows[w]
        actions.append(.note(nil, "cancelling \(workflow.name): a newer run of concurrency group '\(workflow.group?.name ?? "")' has cancel-in-progress"))
        for id in order where id.job.workflow == w { stop(id, &actions) }
    }

    mutating func finish(_ id: InstanceID, _ result: JobResult, _ actions: inout [Action]) {
        settle(id, result)
        leaveJobGroup(id, &actions)
        defer { if let parent = job(id.job)?.parent { endCallIfDone(parent, &actions) } }
        guard result == .failure, rows[id]?.continueOnError != true, job(id.job)?.strategy.failFast ?? true else { return }
        // fail-fast: the rest of this job's matrix is cancelled.
        for other in order where other != id && other.job == id.job {
            switch phases[other] {
            case .blocked?, .unexpanded?, .ready?: conclude(other, .cancelled, note: nil, &actions)
            case .awaitingWorkflowGroup?:
                let group = definition.workflows[other.job.workflow].group?.name ?? ""
                conclude(other, .cancelled, note: "cancelled while waiting for concurrency group '\(group)'", &actions)
            case .enqueued?:
                actions.append(.withdraw(other))
                conclude(other, .cancelled, note: nil, &actions)
            case .running?, .awaitingJobGroup?, .calling?: stop(other, &actions)
            default: break
            }
        }
    }

    mutating func conclude(_ id: InstanceID, _ result: JobResult, note: String?, _ actions: inout [Action]) {
        if let note { actions.append(.note(id, note)) }
        if phases[id] != .awaitingJobGroup { leaveJobGroup(id, &actions) }
        jobGroups[id] = nil
        settle(id, result)
        actions.append(.conclude(id, result))
        if let parent = job(id.job)?.parent { endCallIfDone(parent, &actions) }
    }

    private mutating func expanded(_ key: JobKey, _ added: [RunDefinition.Row], jobs newJobs: [RunDefinition.JobEntry], _ actions: inout [Action]) {
        guard let placeholder = order.firstIndex(where: { $0.job == key && phases[$0] == .expanding }) else { return }
        let id = order[placeholder]
        guard !added.isEmpty else {
            // As at plan time: a matrix whose `exclude` (or `--matrix`) leaves no row does not run.
            conclude(id, .skipped, note: "warning: the matrix of job '\(key.id)' has no rows left; the job does not run", &actions)
            return
        }
        order.remove(at: placeholder)
        rowsOf[key]?.removeAll { $0 == id }
        phases[id] = nil
        rows[id] = nil
        for (offset, row) in added.enumerated() {
            add(row, of: key, phase: .blocked, at: placeholder + offset)
        }
        // The jobs of the calls a matrix of calls makes, right after its rows.
        var position = placeholder + added.count
        for entry in newJobs where jobIndex[entry.key] == nil {
            jobIndex[entry.key] = jobs.count
            jobs.append(entry)
            if let parent = entry.parent { calledJobs[parent, default: []].append(entry.key) }
            for row in entry.rows ?? [] {
                add(row, of: entry.key, phase: .blocked, at: position)
                position += 1
            }
            if entry.rows == nil, let template = entry.template {
                add(template, of: entry.key, phase: .unexpanded, at: position)
                position += 1
            }
        }
        if !newJobs.isEmpty { ancestorsOf = Self.ancestorLists(jobs) }
        for row in added {
            // The job's `if` held before the expansion: the rows go on to their groups (a call's
            // rows once their inputs check out).
            let rowID = InstanceID(run: definition.run, job: key, row: row.index)
            if keep(rowID, &actions) { continue }
            if let call = job(key)?.call {
                switch callInputs(call, for: rowID) {
                case .success(let inputs): callInputs[rowID] = inputs
                case .failure(let failure):
                    conclude(rowID, .failure, note: "error: " + failure.message, &actions)
                    continue
                }
            }
            admit(rowID, &actions)
        }
    }

    private mutating func groupTurn(_ scope: GroupScope, _ turn: GroupTurn, _ actions: inout [Action]) {
        switch scope {
        case .workflow(let w):
            guard workflowGroups[w] == .entering else {
                if turn == .running { actions.append(.leaveGroup(scope)) }  // nobody waits any more
                return
            }
            workflowGroups[w] = turn == .running ? .held : .refused(turn)
            for id in order where id.job.workflow == w && phases[id] == .awaitingWorkflowGroup {
                afterWorkflowGroup(id, &actions)
            }
        case .job(let id):
            guard phases[id] == .awaitingJobGroup, let group = jobGroups[id] else {
                if turn == .running { actions.append(.leaveGroup(scope)) }
                return
            }
            let interrupted = stopping.remove(id) != nil
            if turn == .running && !interrupted {
                phases[id] = .ready
                return
            }
            if turn == .running {  // asked to stop just as its turn came: it holds the group, and leaves it
                phases[id] = .ready
                conclude(id, .cancelled, note: nil, &actions)
                return
            }
            jobGroups[id] = nil
            refused(id, turn, group: group.name, what: "job", &actions)
        }
    }

    /// An instance whose group turn did not come.
    private mutating func refused(_ id: InstanceID, _ turn: GroupTurn, group: String, what: String, _ actions: inout [Action]) {
        switch turn {
        case .running: conclude(id, .cancelled, note: nil, &actions)
        case .replaced:
            conclude(id, .cancelled, note: "cancelled: a newer \(what) of concurrency group '\(group)' took this \(what)'s place", &actions)
        case .interrupted:
            conclude(id, .cancelled, note: "cancelled\(runCancelled ? " (Ctrl-C)" : "") while waiting for concurrency group '\(group)'", &actions)
        case .unavailable(let reason):
            conclude(id, .failure, note: "error: concurrency group '\(group)' cannot be used: \(reason) (GANTRY_STATE_DIR names the folder)", &actions)
        }
    }

    // MARK: Deciding

    func rowsFinished(of key: JobKey) -> [JobDecisions.FinishedRow] {
        (finishedOf[key] ?? []).compactMap { id in
            guard let result = result(of: id) else { return nil }
            return JobDecisions.FinishedRow(result: result, continueOnError: rows[id]?.continueOnError ?? false, outputs: outcomes[id]?.outputs ?? [])
        }
    }

    /// Whether every row of the job is done (a job outside the run does not block).
    private func isDone(_ key: JobKey) -> Bool {
        (rowsOf[key] ?? []).allSatisfy { result(of: $0) != nil }
    }

    /// `needs.<id>` of each direct need.
    public func needs(of key: JobKey) -> [NeedResult] {
        (job(key)?.needs ?? []).map { need in
            let finished = rowsFinished(of: need.job)
            return NeedResult(job: need.name, result: JobDecisions.result(of: finished), outputs: JobDecisions.outputs(of: finished))
        }
    }

    /// Every job this one needs, directly or not, with its result (what the status functions see).
    private func ancestors(of key: JobKey) -> [(job: String, result: JobResult)] {
        (ancestorsOf[key] ?? []).map { ($0.name, JobDecisions.result(of: rowsFinished(of: $0.job))) }
    }

    /// Every job each job needs, directly or not (the graph does not change while a run runs).
    private static func ancestorLists(_ jobs: [RunDefinition.JobEntry]) -> [JobKey: [RunDefinition.Need]] {
        var needs: [JobKey: [RunDefinition.Need]] = [:]
        for job in jobs { needs[job.key] = job.needs }
        var out: [JobKey: [RunDefinition.Need]] = [:]
        func walk(_ key: JobKey) -> [RunDefinition.Need] {
            if let known = out[key] { return known }
            out[key] = []  // a cycle (validate reports it) ends here
            var list: [RunDefinition.Need] = []
            var seen = Set<JobKey>()
            for need in needs[key] ?? [] {
                for item in [need] + walk(need.job) where seen.insert(item.job).inserted { list.append(item) }
            }
            out[key] = list
            return list
        }
        for job in jobs { _ = walk(job.key) }
        return out
    }

    private func isCancelled(_ id: InstanceID) -> Bool {
        runCancelled || cancelledWorkflows.contains(id.job.workflow) || callChain(of: id.job).contains { cancelledCalls.contains($0) }
    }

    /// Decides an instance whose needs have finished by its job's `if`.
    private mutating func decide(_ id: InstanceID, _ actions: inout [Action]) {
        guard let entry = job(id.job) else { return }
        if phases[id] != .unexpanded, keep(id, &actions) { return }
        let cancelled = isCancelled(id)
        let condition = JobDecisions.condition(
            entry.condition, contexts: contexts(for: id.job), needs: needs(of: id.job),
            ancestors: ancestors(of: id.job), cancelled: cancelled)
        switch condition {
        case .run:
            if phases[id] == .unexpanded {
                phases[id] = .expanding
                actions.append(.expand(id.job, needs: needs(of: id.job)))
            } else if let call = entry.call {
                switch callInputs(call, for: id) {
                case .success(let inputs):
                    callInputs[id] = inputs
                    admit(id, &actions)
                case .failure(let failure): conclude(id, .failure, note: "error: " + failure.message, &actions)
                }
            } else {
                admit(id, &actions)
            }
        case .skip(let line): conclude(id, .skipped, note: line, &actions)
        case .cancel: conclude(id, .cancelled, note: nil, &actions)
        case .fail(let line): conclude(id, .failure, note: line, &actions)
        }
    }

    /// The instance runs: it takes its workflow's group, then its own.
    private mutating func admit(_ id: InstanceID, _ actions: inout [Action]) {
        actions.append(.began(id))
        phases[id] = .awaitingWorkflowGroup
        let w = id.job.workflow
        if let group = definition.workflows[w].group, workflowGroups[w] == .idle {
            workflowGroups[w] = .entering
            actions.append(.enterGroup(.workflow(w), group))
            return
        }
        if workflowGroups[w] == .entering { return }
        afterWorkflowGroup(id, &actions)
    }

    private mutating func afterWorkflowGroup(_ id: InstanceID, _ actions: inout [Action]) {
        let w = id.job.workflow
        switch workflowGroups[w] {
        case .refused(let turn)?:
            refused(id, turn, group: definition.workflows[w].group?.name ?? "", what: "run", &actions)
            return
        case .released?:
            conclude(id, .cancelled, note: nil, &actions)
            return
        default: break
        }
        if cancelledWorkflows.contains(w) {
            conclude(id, .cancelled, note: nil, &actions)
            return
        }
        guard let row = rows[id], let raw = row.group else {
            phases[id] = .ready
            return
        }
        // The job's group, evaluated with github, inputs, vars, needs, matrix and strategy.
        let evaluation = EvaluationContext(contexts: JobDecisions.contexts(contexts(for: id.job), row: row, needs: needs(of: id.job)))
        let name = JobDecisions.value(raw.name, evaluation)?.stringValue ?? ""
        guard !name.isEmpty else {
            phases[id] = .ready
            return
        }
        if let workflowGroup = definition.workflows[w].group, workflowGroup.name.lowercased() == name.lowercased() {
            // The workflow holds the group the job waits for: GitHub cancels rather than wait forever.
            conclude(
                id, .cancelled,
                note: "cancelled: a deadlock for concurrency group '\(name)' was detected between the top level workflow and '\(id.job.id)'",
                &actions)
            return
        }
        let group = RunDefinition.Group(name: name, cancelInProgress: JobDecisions.truthy(raw.cancelInProgress, evaluation) ?? false, queueMax: raw.queueMax)
        jobGroups[id] = group
        phases[id] = .awaitingJobGroup
        actions.append(.enterGroup(.job(id), group))
    }

    private mutating func schedule() -> [Action] {
        var actions: [Action] = []
        // A decision can settle instances others wait for: decide until nothing changes.
        var changed = true
        while changed {
            changed = false
            for id in order where phases[id] == .blocked || phases[id] == .unexpanded {
                guard let entry = job(id.job), entry.needs.allSatisfy({ isDone($0.job) }) else { continue }
                if let parent = entry.parent {
                    // A job of a called workflow starts with its call; a call that never started takes it along.
                    if let result = result(of: parent) {
                        conclude(id, result == .skipped ? .skipped : .cancelled, note: nil, &actions)
                        changed = true
                    }
                    guard phases[parent] == .calling else { continue }
                }
                decide(id, &actions)
                changed = true
            }
            for id in order where phases[id] == .ready && job(id.job)?.call != nil {
                phases[id] = .calling
                endCallIfDone(id, &actions)
                changed = true
            }
        }
        var busy: [JobKey: Int] = [:]
        for id in order where phases[id] == .enqueued || phases[id] == .running { busy[id.job, default: 0] += 1 }
        for id in order where phases[id] == .ready {
            if let limit = job(id.job)?.strategy.maxParallel, limit > 0, busy[id.job, default: 0] >= limit { continue }
            busy[id.job, default: 0] += 1
            phases[id] = .enqueued
            actions.append(.enqueue(id, needs: needs(of: id.job)))
        }
        // A workflow leaves its concurrency group when its last instance has settled.
        for (w, state) in workflowGroups where state == .held || state == .entering {
            if order.allSatisfy({ $0.job.workflow != w || result(of: $0) != nil }) {
                workflowGroups[w] = .released
                actions.append(.leaveGroup(.workflow(w)))
            }
        }
        if !reportedFinish, order.allSatisfy({ result(of: $0) != nil }) {
            reportedFinish = true
            let failed = runCancelled || !cancelledWorkflows.isEmpty || order.contains { id in
                let result = result(of: id)
                return (result == .failure && rows[id]?.continueOnError != true) || result == .cancelled
            }
            succeeded = !failed
            actions.append(.finished(success: !failed))
        }
        return actions
    }
}
