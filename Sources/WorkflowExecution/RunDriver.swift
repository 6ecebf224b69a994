public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning
import Synchronization

/// How a run ended.
public struct RunSummary: Sendable {
    public struct Job: Sendable, Equatable {
        /// The workflow file, the instance's display name, its result and seconds (0: it never ran).
        public var file: String
        public var id: String
        public var result: JobResult
        public var seconds: Double
    }

    public struct Summary: Sendable, Equatable {
        public var job: String
        public var text: String
    }

    /// Each instance in plan order.
    public var jobs: [Job]
    public var success: Bool
    /// The step summaries of every job, in completion order.
    public var summaries: [Summary]
    /// True when this driver saw the run end (it carried out `.finished`, or found it ended when it
    /// resumed it); false when another node's driver did, or the run stopped with a drain.
    public var decided = false
}

/// Drives one run: events go to the `RunStore` (which applies them to the run's `RunStateMachine`),
/// and the driver carries out the actions that come back — it reports jobs, joins and leaves
/// concurrency groups, cancels jobs — while its worker claims queued instances up to its capacity and
/// runs each on a thread of its own. Nothing here decides: the machine does.
public actor RunDriver {
    private let store: any RunStore
    private let definition: RunDefinition
    private let workflows: [String: Workflow]
    /// Per planned workflow: the node's services and the run's values (inputs, vars, secrets).
    private let contexts: [RunContext]
    private let output: any RunOutput
    private let worker: WorkerIdentity
    private let capacity: Int
    /// Seconds a claim holds before it must be renewed.
    private let lease: Double
    /// Where each job's ticket and outcome are written as JSON (`--ticket-dir`), if anywhere.
    private let ticketDirectory: String?
    /// What the run was planned with: a matrix known only at run time is expanded with it.
    private let request: PlanRequest?
    /// The node's slots, when several runs share its capacity (`gantry serve`).
    private let slots: NodeSlots?
    /// Other nodes share the store (a node of `gantry serve --store postgres://…`).
    private let shared: Bool
    /// How the run gets into the store.
    public enum Start: Sendable {
        /// The driver stores it (`RunStore.create`).
        case create
        /// The caller stored it already, and these are the actions its `.start` returned.
        case accepted([RunStateMachine.Action])
        /// It is in the store from an earlier process, which this one continues (`.resumed`).
        case resume
        /// Another node drives it too (a shared store): this driver takes the jobs it can, carries out
        /// what its own events return, and learns the rest from the store's wake-ups. The actions are
        /// those of an event this node applied before it drove the run (a lapsed claim it concluded as
        /// lost): carried out first, even when that event ended the run.
        case join([RunStateMachine.Action])
    }

    private let start: Start

    private var machine: RunStateMachine
    private var reported = Set<InstanceID>()
    private var started: [InstanceID: Double] = [:]
    private var seconds: [InstanceID: Double] = [:]
    private var summaries: [RunSummary.Summary] = []
    private var runners: [InstanceID: (runner: JobRunner, claim: JobClaim)] = [:]
    private var holds: [RunStateMachine.GroupScope: GroupHold] = [:]
    private var filling = false
    private var refill = false
    private var success: Bool?
    private var waiter: CheckedContinuation<Void, Never>?
    /// Draining: no job is claimed any more; `idle` waiters resume when the last running one ends.
    private var draining = false
    private var idle: [CheckedContinuation<Void, Never>] = []
    /// Outcomes of ended jobs still being written to the store: a drain waits for them too.
    private var completing = 0
    /// Actions being carried out: a run another node ended is not ended here meanwhile.
    private var performing = 0
    private var decided = false

    public init(
        definition: RunDefinition, workflows: [Workflow], contexts: [RunContext], store: any RunStore, capacity: Int,
        output: any RunOutput, request: PlanRequest? = nil, worker: WorkerIdentity = WorkerIdentity(name: "local"), lease: Double = 60,
        ticketDirectory: String? = nil, slots: NodeSlots? = nil, start: Start = .create, shared: Bool = false
    ) {
        self.slots = slots
        self.shared = shared
        self.start = start
        self.request = request
        self.ticketDirectory = ticketDirectory
        if let ticketDirectory { Files.makeDirectory(ticketDirectory) }
        self.definition = definition
        self.workflows = Dictionary(workflows.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
        self.contexts = contexts
        self.store = store
        self.capacity = max(1, capacity)
        self.output = output
        self.worker = worker
        self.lease = lease
        machine = RunStateMachine(definition)
    }

    /// Runs every job to its end.
    public func run() async -> RunSummary {
        do {
            switch start {
            case .create: try await perform(store.create(definition))
            case .accepted(let actions): await perform(actions)
            case .resume:
                if let stored = try await store.machine(definition.run) { machine = stored }
                // A run that ended while nobody drove it (its last job concluded as lost) is done.
                if let succeeded = machine.succeeded {
                    success = succeeded
                    decided = true
                } else {
                    try await perform(store.apply(definition.run, .resumed))
                }
            case .join(let actions):
                if let stored = try await store.machine(definition.run) { machine = stored }
                if !actions.isEmpty { await perform(actions) }
                if success == nil, let succeeded = machine.succeeded { success = succeeded }
            }
        } catch {
            output.line("gantry", "error: the run could not be stored: \(error)")
            success = false
        }
        let wakeUps = store.wakeUps(for: definition.run)
        let joined: Bool
        if case .join = start { joined = true } else { joined = false }
        let listener = Task { [weak self] in
            for await _ in wakeUps {
                if joined || self?.shared == true { await self?.caughtUp() }
                await self?.fillSlots()
            }
        }
        let freed = slots?.freed()
        let slotListener = Task { [weak self] in
            guard let freed else { return }
            for await _ in freed { await self?.fillSlots() }
        }
        let renewer = Task { [weak self, lease] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(lease / 3))
                await self?.renewLeases()
            }
        }
        if success == nil { await withCheckedContinuation { waiter = $0 } }
        listener.cancel()
        slotListener.cancel()
        renewer.cancel()
        var jobs: [RunSummary.Job] = []
        for id in machine.order {
            jobs.append(RunSummary.Job(
                file: definition.workflows[id.job.workflow].file, id: name(id), result: machine.result(of: id) ?? .cancelled,
                seconds: seconds[id] ?? 0))
        }
        return RunSummary(jobs: jobs, success: success ?? false, summaries: summaries, decided: decided)
    }

    /// Other nodes change the run too: its end, and a cancel of a job running here, are read from
    /// the store's machine.
    private func caughtUp() async {
        guard success == nil, let snapshot = try? await store.machine(definition.run) else { return }
        machine = snapshot
        for (id, held) in runners where snapshot.isCancelAsked(id) { held.runner.cancel() }
        // Groups this node holds that another node's event released (a job of its run finished there).
        for scope in holds.keys where !snapshot.wantsGroup(scope) { leave(scope) }
        guard performing == 0, let succeeded = snapshot.succeeded else { return }
        success = succeeded
        for scope in holds.keys { leave(scope) }
        waiter?.resume()
        waiter = nil
    }

    /// Stops taking jobs and waits for the running ones to end, at most `timeout` seconds; then cancels
    /// those still running (the runner's SIGINT → SIGTERM → SIGKILL ladder, `always()` steps still run)
    /// and waits for them too. Jobs not started stay queued in the store for another worker (or this one
    /// after a restart); `run()` then returns with them unfinished. True when nothing had to be cancelled.
    public func drain(timeout: Double) async -> Bool {
        draining = true
        var cancelled = false
        // A claim in flight (`filling`) still starts its job: a claimed job is never dropped.
        if !runners.isEmpty || filling || completing > 0 {
            let deadline = Task { [weak self] in
                try? await Task.sleep(for: .seconds(timeout))
                if !Task.isCancelled { await self?.cancelRunning() }
            }
            while !runners.isEmpty || filling || completing > 0 { await withCheckedContinuation { idle.append($0) } }
            deadline.cancel()
            cancelled = drainCancelled
        }
        // The run stops here: what did not start stays queued.
        if success == nil {
            success = false
            waiter?.resume()
            waiter = nil
        }
        return !cancelled
    }

    private var drainCancelled = false

    /// True once `drain` was called.
    public var isDraining: Bool { draining }

    private func cancelRunning() {
        guard !runners.isEmpty else { return }
        drainCancelled = true
        for held in runners.values { held.runner.cancel() }
    }

    /// Carries out actions the store returned to someone else (the service's lease sweep).
    public func carryOut(_ actions: [RunStateMachine.Action]) async { await perform(actions) }

    /// Ctrl-C: running jobs are cancelled (their `always()` steps still run), the others decide by
    /// their `if` with `cancelled()` true.
    public nonisolated func cancel() {
        Task { await self.send(.cancelRun) }
    }

    private func send(_ event: RunStateMachine.Event) async {
        performing += 1
        defer { performing -= 1 }
        do {
            try await perform(store.apply(definition.run, event))
        } catch {
            output.line("gantry", "error: the run's state could not be updated: \(error)")
        }
    }

    /// The instance's display name: its plan id, after its workflow's name when a run has several.
    private func name(_ id: InstanceID) -> String {
        let instance = machine.row(of: id)?.instance.id ?? id.job.id
        return definition.workflows.count > 1 ? "\(definition.workflows[id.job.workflow].name) / \(instance)" : instance
    }

    private func perform(_ actions: [RunStateMachine.Action]) async {
        performing += 1
        defer { performing -= 1 }
        if let snapshot = try? await store.machine(definition.run) { machine = snapshot }
        for action in actions {
            switch action {
            case .began(let id):
                guard started[id] == nil else { break }
                started[id] = HostProcess.now()
                output.event(.jobStarted(job: name(id)))
            case .note(let id, let text): output.line(id.map(name) ?? "gantry", text)
            case .cancel(let id): runners[id]?.runner.cancel()
            case .expand(let key, let needs): expand(key, needs: needs)
            case .enterGroup(let scope, let group): enter(scope, group)
            case .leaveGroup(let scope): leave(scope)
            case .finished(let ok):
                success = ok
                decided = true
                for scope in holds.keys { leave(scope) }
                waiter?.resume()
                waiter = nil
            case .conclude(let id, let result):
                // A call ends when its workflow's jobs have: its time is theirs.
                if let began = started[id], seconds[id] == nil, machine.job(id.job)?.call != nil { seconds[id] = HostProcess.now() - began }
                report(id, result)
            case .enqueue, .withdraw: break  // the store keeps the queue
            }
        }
        await fillSlots()
    }

    /// Reports an instance's result, once.
    private func report(_ id: InstanceID, _ result: JobResult) {
        guard reported.insert(id).inserted else { return }
        output.event(.jobFinished(job: name(id), result: result, seconds: seconds[id] ?? 0))
    }

    /// A job whose matrix is known only now: the planner expands it with `needs`, and its rows join
    /// the run (or the job fails with GitHub's message).
    private func expand(_ key: JobKey, needs: [NeedResult]) {
        let entry = definition.workflows[key.workflow]
        let file = machine.order.first { $0.job == key }.flatMap { machine.row(of: $0)?.instance.workflowFile } ?? entry.file
        guard let request, let workflow = workflows[file], let job = workflow.job(key.id) else {
            Task { await self.send(.expansionFailed(key, "error: the matrix of job '\(key.id)' cannot be computed here")) }
            return
        }
        let event: RunStateMachine.Event
        switch Planner.rowsAtRunTime(of: job, in: workflow, request: request, contexts: JobDecisions.contexts(machine.contexts(for: key), needs: needs)) {
        case .success(let instances):
            // The rows of the job, and for a matrix of calls the jobs each row's call brings.
            let own = instances.filter { $0.callPath == key.callPath && $0.job.lowercased() == key.id.lowercased() }
            let called = instances.filter { $0.callPath.count > key.callPath.count }
            let jobs = RunDefinition.entries(
                run: definition.run, workflow: key.workflow, file: entry.file, instances: called, workflows: Array(workflows.values), contexts: entry.contexts)
            event = .instancesAdded(key, own.map { RunDefinition.Row($0, of: job, contexts: entry.contexts) }, jobs: jobs)
        case .failure(let failure):
            event = .expansionFailed(key, "error: " + failure.message)
        }
        Task { await self.send(event) }
    }

    // MARK: The worker

    /// Claims queued instances while this worker has free capacity.
    private func fillSlots() async {
        guard !filling else {
            refill = true
            return
        }
        filling = true
        repeat {
            refill = false
            while runners.count < capacity, success == nil, !draining {
                if let slots, !(await slots.take()) { break }
                guard let claim = try? await store.claim(worker: worker, run: definition.run, now: HostProcess.wallClock(), lease: lease) else {
                    await slots?.untake()
                    break
                }
                if let snapshot = try? await store.machine(definition.run) { machine = snapshot }
                start(claim)
            }
        } while refill
        filling = false
        wakeIdle()
    }

    /// Resumes `drain()` when no job runs and none is being claimed.
    private func wakeIdle() {
        guard runners.isEmpty, !filling, completing == 0 else { return }
        for waiter in idle { waiter.resume() }
        idle = []
    }

    private func start(_ claim: JobClaim) {
        let id = claim.instance
        let w = id.job.workflow
        guard let instance = machine.row(of: id)?.instance, let workflow = workflows[instance.workflowFile ?? definition.workflows[w].file],
            let job = workflow.job(instance.job)
        else {
            Task { await self.ended(claim, JobOutcome(result: .failure)) }
            return
        }
        let display = name(id)
        // Its start is told before any of its steps: a claim can overtake the `.began` it follows
        // (the store wakes workers before the actions that enqueued the job are carried out).
        if started[id] == nil {
            started[id] = HostProcess.now()
            output.event(.jobStarted(job: display))
        }
        // The job runs from its ticket, as it would on another node: the ticket's values, this node's
        // services and secrets.
        // A job of a called workflow sees the call's inputs and the secrets the calls pass down.
        var base = contexts[w]
        if let parent = machine.parent(of: id.job) {
            base.inputs = machine.contexts(for: id.job)["inputs"] ?? .object([])
            base.secrets = secrets(passedTo: parent)
            base.callerCacheMode = cacheMode(givenBy: parent)
        }
        let ticket = JobTicket(claim: claim, displayName: display, workflowFile: workflow.file, job: instance, context: base)
        let context = RunContext(ticket: ticket, node: NodeServices(base))
        let runner = JobRunner(
            workflow: workflow, job: job, instance: instance, context: context, needs: ticket.needs,
            output: Renamed(name: display, output: output), folderKey: display)
        runners[id] = (runner, claim)
        let record = ticketDirectory.map { $0 + "/" + runner.directoryName }
        if let record { Files.write(record + ".ticket.json", CodableJSON.encode(ticket)) }
        startThread {
            let outcome = runner.run()
            if let record { Files.write(record + ".outcome.json", CodableJSON.encode(outcome)) }
            Task { await self.ended(claim, outcome) }
        }
    }

    /// The `cache-mode` a call gives its workflow's jobs: the calling job's, else its workflow's, else
    /// what the call above it gives.
    private func cacheMode(givenBy call: InstanceID) -> String? {
        let file = machine.row(of: call)?.instance.workflowFile ?? definition.workflows[call.job.workflow].file
        let caller = workflows[file]
        return caller?.job(call.job.id)?.cacheMode?.value ?? caller?.cacheMode?.value
            ?? machine.parent(of: call.job).flatMap { cacheMode(givenBy: $0) }
    }

    /// The secrets a call passes to its workflow: all of its own with `secrets: inherit`, those its
    /// `secrets:` mapping names (evaluated with the caller's contexts), else none.
    private func secrets(passedTo call: InstanceID) -> [(String, String)] {
        let outer = machine.parent(of: call.job).map { secrets(passedTo: $0) } ?? contexts[call.job.workflow].secrets
        let file = machine.row(of: call)?.instance.workflowFile ?? definition.workflows[call.job.workflow].file
        guard let job = workflows[file]?.job(call.job.id) else { return [] }
        switch job.secrets {
        case .inherit?: return outer
        case .mapping(let entries)?:
            let contexts = JobDecisions.contexts(machine.contexts(for: call.job), row: machine.row(of: call), needs: machine.needs(of: call.job))
            let evaluation = EvaluationContext(contexts: ExpressionObject(
                contexts.pairs.map { ($0.key, $0.value) } + [("secrets", .object(outer.map { ($0.0, .string($0.1)) }))]))
            return entries.map { entry in
                (entry.key.value, (try? JobDecisions.evaluate(entry.value.scalarText ?? "", evaluation))?.stringValue ?? "")
            }
        case nil: return []
        }
    }

    private func ended(_ claim: JobClaim, _ outcome: JobOutcome) async {
        let id = claim.instance
        runners[id] = nil
        await slots?.give()
        completing += 1
        defer {
            completing -= 1
            wakeIdle()
        }
        seconds[id] = HostProcess.now() - (started[id] ?? HostProcess.now())
        if !outcome.summary.isEmpty { summaries.append(RunSummary.Summary(job: name(id), text: outcome.summary)) }
        // Reported before what its end decides (dependents skipped, fail-fast), as it happened.
        report(id, outcome.result)
        performing += 1
        defer { performing -= 1 }
        // A store whose server is away (PostgreSQL restarting) is asked again until it answers: the
        // result is kept, and the lease renewed meanwhile, so the job is not taken for lost.
        var waited = 0.0
        while true {
            do {
                try await perform(store.complete(claim, outcome))
            } catch let error as RunStoreError where error.unavailable && waited < max(lease * 10, 600) {
                if waited == 0 { output.line("gantry", "the result of \(name(id)) waits for the run store: \(error)") }
                try? await Task.sleep(for: .seconds(1))
                waited += 1
                _ = try? await store.renew(claim, now: HostProcess.wallClock(), lease: lease)
                continue
            } catch {
                output.line("gantry", "error: the result of \(name(id)) could not be stored: \(error)")
            }
            break
        }
    }

    private func renewLeases() async {
        for (id, held) in runners {
            // Only a lease the store says is gone stops the job; a store that cannot be reached now
            // (PostgreSQL restarting) is asked again at the next renewal.
            let kept: Bool
            do {
                kept = try await store.renew(held.claim, now: HostProcess.wallClock(), lease: lease)
            } catch {
                continue
            }
            if !kept { runners[id]?.runner.cancel() }
        }
    }

    // MARK: Concurrency groups

    private func enter(_ scope: RunStateMachine.GroupScope, _ group: RunDefinition.Group) {
        guard let store = contexts.first?.concurrency else {
            // Without a state folder groups are not shared: every turn comes at once.
            Task { await self.send(.groupTurn(scope, .running)) }
            return
        }
        let hold = GroupHold()
        holds[scope] = hold
        let pendingLine: (String, String)
        switch scope {
        case .workflow(let w):
            pendingLine = ("gantry", "\(definition.workflows[w].name) waits: concurrency group '\(group.name)' has a run in progress")
        case .job(let id): pendingLine = (name(id), "waiting: concurrency group '\(group.name)' has a job in progress")
        }
        let output = self.output
        startThread {
            let turn: ConcurrencyStore.Ticket.Turn
            let ticket: ConcurrencyStore.Ticket?
            do throws(ConcurrencyStore.Unavailable) {
                let entered = try store.enter(group: group.name, cancelInProgress: group.cancelInProgress, queueMax: group.queueMax)
                ticket = entered
                turn = entered.wait(pending: { output.line(pendingLine.0, pendingLine.1) }, stop: { hold.isStopped })
            } catch {
                ticket = nil
                turn = .unavailable(error.message)
            }
            Task { await self.turned(scope, hold, ticket, turn) }
        }
    }

    private func turned(_ scope: RunStateMachine.GroupScope, _ hold: GroupHold, _ ticket: ConcurrencyStore.Ticket?, _ turn: ConcurrencyStore.Ticket.Turn) async {
        let machineTurn: RunStateMachine.GroupTurn
        switch turn {
        case .running: machineTurn = .running
        case .replaced: machineTurn = .replaced
        case .interrupted: machineTurn = .interrupted
        case .unavailable(let reason): machineTurn = .unavailable(reason)
        }
        if turn == .running, let ticket {
            if hold.isStopped || holds[scope] !== hold {
                ticket.release()  // left while it waited
            } else {
                hold.hold(ticket) { Task { await self.send(.groupCancelRequested(scope)) } }
            }
        }
        await send(.groupTurn(scope, machineTurn))
    }

    private func leave(_ scope: RunStateMachine.GroupScope) {
        guard let hold = holds.removeValue(forKey: scope) else { return }
        hold.release()
    }

    /// Prints a job's lines under its display name.
    private struct Renamed: RunOutput {
        let name: String
        let output: any RunOutput
        func line(_ instance: String, _ text: String) { output.line(name, text) }
        func line(_ instance: String, _ text: String, to destination: OutputDestination) { output.line(name, text, to: destination) }
        func event(_ event: RunEvent) { output.event(event.renamed(name)) }
    }
}

/// One place in a concurrency group, while it is waited for and while it is held: `release` stops the
/// wait, or leaves the group and stops watching for cancel-in-progress.
final class GroupHold: Sendable {
    private struct State {
        var stopped = false
        var ticket: ConcurrencyStore.Ticket?
        var monitor: CancelMonitor?
    }

    private let state = Mutex(State())

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// The wait ended with the group's turn: hold it, and call `cancel` once if a newer entry with
    /// cancel-in-progress asks it to stop.
    func hold(_ ticket: ConcurrencyStore.Ticket, cancel: @escaping @Sendable () -> Void) {
        let monitor = CancelMonitor(ticket: ticket, cancel: cancel)
        state.withLock {
            $0.ticket = ticket
            $0.monitor = monitor
        }
    }

    func release() {
        let (ticket, monitor) = state.withLock { state in
            state.stopped = true
            defer {
                state.ticket = nil
                state.monitor = nil
            }
            return (state.ticket, state.monitor)
        }
        monitor?.stop()
        ticket?.release()
    }
}

/// Watches a running concurrency entry on a thread of its own (the entry lives in a file other
/// processes change) and calls `cancel` once if a newer entry with cancel-in-progress asks it to stop.
final class CancelMonitor: Sendable {
    private let finished = Atomic<Bool>(false)

    init(ticket: ConcurrencyStore.Ticket, cancel: @escaping @Sendable () -> Void) {
        startThread { [self] in
            while !self.isStopped {
                if ticket.cancelRequested {
                    cancel()
                    return
                }
                sleepSeconds(ticket.store.pollInterval)
            }
        }
    }

    func stop() { finished.store(true, ordering: .sequentiallyConsistent) }

    var isStopped: Bool { finished.load(ordering: .sequentiallyConsistent) }
}

extension RunContext {
    /// `github`, `inputs` and `vars` of one workflow: what its job-level expressions see.
    public func jobContexts(workflowName: String) -> ExpressionObject {
        ExpressionObject([
            ("github", event.githubContext(workflowName: workflowName)),
            ("inputs", inputs), ("vars", .object(vars.map { ($0.0, .string($0.1)) })),
        ])
    }
}

extension RunDefinition {
    /// The definition of a planned run whose i-th workflow runs with `runContexts[i]`.
    public init(run: RunID, plan: Plan, workflows: [Workflow], runContexts: [RunContext]) {
        let contexts = zip(plan.workflows, runContexts).map { planned, context in
            let workflow = workflows.first { $0.file == planned.file }
            return context.jobContexts(workflowName: workflow.map { $0.name?.value ?? $0.file } ?? planned.file)
        }
        self.init(run: run, plan: plan, workflows: workflows, contexts: contexts)
    }
}
