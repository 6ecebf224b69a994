public import WorkflowExpressions
public import WorkflowModel
public import WorkflowPlanning
import Dispatch
import Synchronization

/// How a run ended.
public struct RunSummary: Sendable {
    /// Each instance in plan order: workflow file, instance id, result, seconds.
    public var jobs: [(file: String, id: String, result: JobResult, seconds: Double)]
    public var success: Bool
    /// The step summaries of every job, in completion order.
    public var summaries: [(id: String, text: String)]
}

/// Runs a plan: the `RunStateMachine` decides, jobs run on other threads, results flow back along
/// `needs`. Job `if` is evaluated when a job becomes ready, with `needs` and the status functions.
public final class RunExecutor: @unchecked Sendable {
    private let plan: Plan
    private let workflows: [String: Workflow]
    /// The run's context for each planned workflow (its own inputs).
    private let contexts: [RunContext]
    private let output: any RunOutput
    private let queue = DispatchQueue(label: "gantry.run")
    private var machine: RunStateMachine
    private var key: [String: (workflow: Int, instance: JobInstance)] = [:]
    private var runners: [String: JobRunner] = [:]
    private var outcomes: [String: JobOutcome] = [:]
    private var seconds: [String: Double] = [:]
    private var summaries: [(id: String, text: String)] = []
    /// Instances in the order they finished (matrix outputs merge in that order).
    private var completion: [String] = []
    private var continueOnError = Set<String>()
    /// Global instance ids of each job, keyed by "workflow index/lowercased job id".
    private var rowsByJob: [String: [String]] = [:]
    /// Each job's `needs`, keyed the same way (walking ancestors without copying `Job` values).
    private var needsByJob: [String: [String]] = [:]
    private var runCancelled = false
    /// Every instance's global id in plan order, and those whose result has been reported.
    private var globals: [String] = []
    private var reported = Set<String>()
    private let done = DispatchSemaphore(value: 0)
    private var success = false
    /// Ctrl-C seen (read off the queue by jobs waiting for a concurrency group).
    private let interrupted = Atomic<Bool>(false)
    /// Workflow-level concurrency: one gate per planned workflow that has a group.
    private var gates: [Int: WorkflowGate] = [:]
    /// Workflows cancelled by a newer run of their concurrency group (cancel-in-progress).
    private var cancelledWorkflows = Set<Int>()
    /// Jobs whose concurrency group let them run, waiting for a slot (`.resume` or `.cancel` signals).
    private var resumeSignals: [String: DispatchSemaphore] = [:]

    public init(plan: Plan, workflows: [Workflow], context: RunContext, maxJobs: Int, output: any RunOutput) {
        self.plan = plan
        self.workflows = Dictionary(workflows.map { ($0.file, $0) }, uniquingKeysWith: { a, _ in a })
        let contexts = plan.workflows.map { context.forWorkflow($0) }
        self.contexts = contexts
        self.output = output
        var instances: [JobInstance] = []
        var strategies: [String: RunStateMachine.Strategy] = [:]
        var continueOnError = Set<String>()
        for (w, planned) in plan.workflows.enumerated() {
            for instance in planned.instances {
                let global = "\(w)/\(instance.id)"
                key[global] = (w, instance)
                globals.append(global)
                rowsByJob["\(w)/\(instance.job.lowercased())", default: []].append(global)
                var copy = instance
                copy.id = global
                copy.job = "\(w)/\(instance.job)"
                copy.needs = instance.needs.map { "\(w)/\($0)" }
                instances.append(copy)
                // Job-level settings may be expressions of github, inputs, vars, matrix and strategy.
                let contexts = Self.planTimeContexts(instance, context: contexts[w], workflow: workflows.first { $0.file == planned.file })
                let failFast = Self.truthy(instance.failFast, contexts) ?? true
                let maxParallel = instance.maxParallel.flatMap { Self.value($0, contexts) }.map(\.numberValue).flatMap { $0.isNaN ? nil : Int($0) }
                strategies[copy.job] = RunStateMachine.Strategy(failFast: failFast, maxParallel: maxParallel)
                if Self.truthy(instance.continueOnError, contexts) == true { continueOnError.insert(global) }
            }
        }
        machine = RunStateMachine(instances: instances, maxJobs: maxJobs, strategies: strategies, continueOnError: continueOnError)
        self.continueOnError = continueOnError
        for (w, planned) in plan.workflows.enumerated() {
            guard let workflow = self.workflows[planned.file] else { continue }
            for job in workflow.jobs { needsByJob["\(w)/\(job.id.value.lowercased())"] = job.needs.map(\.value) }
            if let store = context.concurrency, let concurrency = workflow.concurrency, let group = planned.concurrencyGroup, !group.isEmpty {
                let contexts = EvaluationContext(contexts: ExpressionObject([
                    ("github", contexts[w].event.githubContext(workflowName: workflow.name?.value ?? workflow.file)),
                    ("inputs", contexts[w].inputs), ("vars", .object(contexts[w].vars.map { ($0.0, .string($0.1)) })),
                ]))
                gates[w] = WorkflowGate(
                    store: store, group: group, cancelInProgress: Self.truthy(planned.cancelInProgress, contexts) ?? false,
                    queueMax: concurrency.queue?.value == "max")
            }
        }
    }

    static func planTimeContexts(_ instance: JobInstance, context: RunContext, workflow: Workflow?) -> EvaluationContext {
        let matrix = ExpressionValue.object(instance.matrix.map { ($0.key, (try? JSONText.parse($0.json)) ?? .string($0.json)) })
        return EvaluationContext(contexts: ExpressionObject([
            ("github", context.event.githubContext(workflowName: workflow?.name?.value ?? instance.job)),
            ("inputs", context.inputs), ("vars", .object(context.vars.map { ($0.0, .string($0.1)) })),
            ("matrix", matrix),
            ("strategy", .object([("job-index", .number(Double(instance.strategyIndex))), ("job-total", .number(Double(instance.strategyTotal)))])),
            ("needs", .object([])),
        ]))
    }

    static func value(_ text: String, _ context: EvaluationContext) -> ExpressionValue? {
        guard ExpressionTemplate.containsExpression(text) else {
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            let n = ExpressionNumber.parse(text)
            return n.isNaN ? .string(text) : .number(n)
        }
        return try? ExpressionTemplate.parse(text).evaluate(in: context)
    }

    static func truthy(_ text: String?, _ context: EvaluationContext) -> Bool? {
        guard let text, let value = value(text, context) else { return nil }
        if case .string(let s) = value { return s == "true" }
        return value.isTruthy
    }

    /// Runs every job to its end; blocks the calling thread.
    public func run() -> RunSummary {
        queue.async { self.perform(self.machine.start()) }
        done.wait()
        return queue.sync {
            var jobs: [(file: String, id: String, result: JobResult, seconds: Double)] = []
            for (w, planned) in plan.workflows.enumerated() {
                for instance in planned.instances {
                    let global = "\(w)/\(instance.id)"
                    jobs.append((planned.file, displayName(global), machine.results[global] ?? .cancelled, seconds[global] ?? 0))
                }
            }
            return RunSummary(jobs: jobs, success: success, summaries: summaries)
        }
    }

    /// Ctrl-C: running jobs are cancelled (their `always()` steps still run), nothing new starts.
    public func cancel() {
        interrupted.store(true, ordering: .sequentiallyConsistent)
        queue.async {
            self.runCancelled = true
            for runner in self.runners.values { runner.cancel() }
            self.perform(self.machine.cancelAll())
        }
    }

    private func displayName(_ global: String) -> String {
        guard let entry = key[global] else { return global }
        return plan.workflows.count > 1 ? "\(plan.workflows[entry.workflow].name) / \(entry.instance.id)" : entry.instance.id
    }

    // Runs on `queue`.
    private func perform(_ actions: [RunStateMachine.Action]) {
        // Every job that has a result now and had none before is reported once, in plan order: jobs
        // that ran, jobs decided by their `if`, and rows fail-fast or Ctrl-C settled before they started.
        for global in globals where !reported.contains(global) {
            guard let result = machine.results[global] else { continue }
            reported.insert(global)
            output.event(.jobFinished(job: displayName(global), result: result, seconds: seconds[global] ?? 0))
        }
        for action in actions {
            switch action {
            case .start(let id): start(id)
            case .cancel(let id):
                runners[id]?.cancel()
                resumeSignals[id]?.signal()
            case .resume(let id): resumeSignals[id]?.signal()
            case .finished(let ok):
                success = ok && !runCancelled && cancelledWorkflows.isEmpty
                for gate in gates.values { gate.release() }
                done.signal()
            }
        }
        // A workflow leaves its concurrency group when its last job has settled.
        for (w, gate) in gates where !gate.isReleased {
            let prefix = "\(w)/"
            if globals.allSatisfy({ !$0.hasPrefix(prefix) || machine.results[$0] != nil }) { gate.release() }
        }
    }

    /// cancel-in-progress from a newer run of a workflow's group: its jobs are cancelled as by Ctrl-C.
    // Runs on `queue`.
    private func cancelWorkflow(_ w: Int, group: String) {
        guard cancelledWorkflows.insert(w).inserted else { return }
        output.line("gantry", "cancelling \(plan.workflows[w].name): a newer run of concurrency group '\(group)' has cancel-in-progress")
        for (global, runner) in runners where key[global]?.workflow == w { runner.cancel() }
    }

    // Runs on `queue`.
    private func start(_ global: String) {
        guard let (w, instance) = key[global], let workflow = workflows[plan.workflows[w].file],
            let job = workflow.job(instance.job)
        else {
            perform(machine.finished(global, .failure))
            return
        }
        let name = displayName(global)
        let context = contexts[w]
        // needs.<id>: result and outputs of each job it needs, merged over matrix rows in the order
        // they finished; a failure under continue-on-error counts as success, as on GitHub.
        func summary(of jobID: String, outputs wanted: Bool = true) -> (JobResult, [(String, String)]) {
            let rows = rowsByJob["\(w)/\(jobID.lowercased())"] ?? []
            let results = rows.compactMap { row -> JobResult? in
                guard let r = machine.results[row] else { return nil }
                return r == .failure && continueOnError.contains(row) ? .success : r
            }
            let result: JobResult =
                results.contains(.failure) ? .failure
                : results.contains(.cancelled) ? .cancelled
                : !results.isEmpty && results.allSatisfy({ $0 == .skipped }) ? .skipped : .success
            var outputs: [(String, String)] = []
            let rowSet = Set(rows)
            for row in completion where wanted && rowSet.contains(row) {
                for (k, v) in outcomes[row]?.outputs ?? [] where !v.isEmpty {
                    outputs.removeAll { $0.0 == k }
                    outputs.append((k, v))
                }
            }
            return (result, outputs)
        }
        let needs: [(String, JobResult, [(String, String)])] = job.needs.map { need in
            let (result, outputs) = summary(of: need.value)
            return (need.value, result, outputs)
        }
        // Status functions look at every ancestor, not only the direct needs.
        var ancestors: [String] = []
        var seen = Set<String>()
        var queueIDs = job.needs.map(\.value)
        while let next = queueIDs.popLast() {
            guard seen.insert(next.lowercased()).inserted else { continue }
            ancestors.append(next)
            queueIDs += needsByJob["\(w)/\(next.lowercased())"] ?? []
        }
        let ancestorResults = ancestors.map { ($0, summary(of: $0, outputs: false).0) }
        // The job's `if`: success() unless a status function says otherwise.
        let cancelled = runCancelled || cancelledWorkflows.contains(w)
        let needsValue = ExpressionValue.object(needs.map { id, result, outputs in
            (id, .object([("result", .string(result.rawValue)), ("outputs", .object(outputs.map { ($0.0, .string($0.1)) }))]))
        })
        let evaluation = EvaluationContext(
            contexts: ExpressionObject([
                ("github", context.event.githubContext(workflowName: workflow.name?.value ?? workflow.file)),
                ("inputs", context.inputs), ("vars", .object(context.vars.map { ($0.0, .string($0.1)) })),
                ("needs", needsValue),
            ]),
            status: { function, ids in
                let relevant = ids.isEmpty ? ancestorResults : ancestorResults.filter { n in ids.contains { $0.lowercased() == n.0.lowercased() } }
                switch function {
                case .always: return true
                case .cancelled: return cancelled
                case .success: return !cancelled && relevant.allSatisfy { $0.1 == .success }
                case .failure: return !cancelled && relevant.contains { $0.1 == .failure }
                }
            })
        let runs: Bool
        do {
            runs = try IfCondition(job.condition?.value, options: ContextAvailability.jobIf).evaluate(in: evaluation, options: ContextAvailability.jobIf)
        } catch {
            output.line(name, "error: if: \(error)")
            perform(machine.finished(global, .failure))
            return
        }
        guard runs else {
            if cancelled {
                perform(machine.finished(global, .cancelled))
            } else {
                output.line(name, "skipped (if: \(job.condition?.value ?? "success()"))")
                perform(machine.finished(global, .skipped))
            }
            return
        }
        let runner = JobRunner(
            workflow: workflow, job: job, instance: instance, context: context, needs: needs, output: Renamed(name: name, output: output),
            folderKey: name)
        runners[global] = runner
        // A job whose `if` held after the run was cancelled (always(), cancelled()) runs its steps
        // normally: it is not itself cancelled.
        let started = HostProcess.now()
        output.event(.jobStarted(job: name))
        let gate = gates[w]
        let jobGroup = context.concurrency.flatMap { store in
            job.concurrency.flatMap { Self.jobGroup($0, instance: instance, store: store, evaluation: evaluation, context: context, workflow: workflow) }
        }
        startThread {
            let outcome = self.runWithConcurrency(runner, global: global, name: name, workflow: w, gate: gate, jobGroup: jobGroup)
            self.queue.async {
                self.runners[global] = nil
                self.outcomes[global] = outcome
                self.completion.append(global)
                self.seconds[global] = HostProcess.now() - started
                if !outcome.summary.isEmpty { self.summaries.append((name, outcome.summary)) }
                self.perform(self.machine.finished(global, outcome.result))
            }
        }
    }

    /// A job's concurrency entry: its group evaluated (github, inputs, vars, needs, strategy, matrix).
    private static func jobGroup(
        _ concurrency: Concurrency, instance: JobInstance, store: ConcurrencyStore, evaluation: EvaluationContext,
        context: RunContext, workflow: Workflow
    ) -> (store: ConcurrencyStore, group: String, cancelInProgress: Bool, queueMax: Bool)? {
        var contexts = planTimeContexts(instance, context: context, workflow: workflow).contexts.pairs.map { ($0.key, $0.value) }
        contexts.removeAll { $0.0 == "needs" }
        let full = EvaluationContext(contexts: ExpressionObject(contexts + [("needs", evaluation.contexts["needs"] ?? .object([]))]))
        let group = value(instance.concurrencyGroup ?? concurrency.group.value, full)?.stringValue ?? ""
        guard !group.isEmpty else { return nil }
        let cancelInProgress = truthy(instance.cancelInProgress, full) ?? false
        return (store, group, cancelInProgress, concurrency.queue?.value == "max")
    }

    /// Runs a job once its workflow's and its own concurrency groups let it: pending while another run
    /// holds the group, cancelled if a newer entry replaces it, and cancelled while running when a newer
    /// entry has cancel-in-progress.
    private func runWithConcurrency(
        _ runner: JobRunner, global: String, name: String, workflow w: Int, gate: WorkflowGate?,
        jobGroup: (store: ConcurrencyStore, group: String, cancelInProgress: Bool, queueMax: Bool)?
    ) -> JobOutcome {
        let cancelledOutcome = JobOutcome(result: .cancelled, outputs: [], summary: "")
        let output = self.output
        // While it waits for a group the job gives its slot back (as a pending job on GitHub holds no
        // runner); once its turn comes it waits for a slot again.
        var pending = false
        func startPending() {
            guard !pending else { return }
            pending = true
            queue.async { self.perform(self.machine.pending(global)) }
        }
        func takeSlot() -> Bool {
            guard pending else { return true }
            pending = false
            let signal = DispatchSemaphore(value: 0)
            queue.sync {
                resumeSignals[global] = signal
                perform(machine.groupAcquired(global))
            }
            signal.wait()
            queue.sync { resumeSignals[global] = nil }
            return !runner.isCancelled
        }
        let stop = { self.interrupted.load(ordering: .sequentiallyConsistent) || runner.isCancelled }
        /// What a job prints and becomes when its turn did not come.
        func notRunning(_ turn: ConcurrencyStore.Ticket.Turn, group: String, what: String) -> JobOutcome {
            switch turn {
            case .running: return cancelledOutcome
            case .replaced: output.line(name, "cancelled: a newer \(what) of concurrency group '\(group)' took this \(what)'s place")
            case .interrupted:
                let why = interrupted.load(ordering: .sequentiallyConsistent) ? " (Ctrl-C)" : ""
                output.line(name, "cancelled\(why) while waiting for concurrency group '\(group)'")
            case .unavailable(let reason):
                output.line(name, "error: concurrency group '\(group)' cannot be used: \(reason) (GANTRY_STATE_DIR names the folder)")
                return JobOutcome(result: .failure, outputs: [], summary: "")
            }
            return cancelledOutcome
        }
        if let gate {
            let turn = gate.acquire(
                pending: { first in
                    if first { self.output.line("gantry", "\(self.plan.workflows[w].name) waits: concurrency group '\(gate.group)' has a run in progress") }
                    startPending()
                },
                stop: stop,
                cancelRequested: { self.queue.async { self.cancelWorkflow(w, group: gate.group) } })
            if turn != .running { return notRunning(turn, group: gate.group, what: "run") }
            if queue.sync(execute: { cancelledWorkflows.contains(w) }) { return cancelledOutcome }
        }
        guard let jobGroup else { return takeSlot() ? runner.run() : cancelledOutcome }
        let group = jobGroup.group
        if let gate, gate.group.lowercased() == group.lowercased() {
            // The workflow holds the group the job waits for: GitHub cancels rather than wait forever.
            output.line(name, "cancelled: a deadlock for concurrency group '\(group)' was detected between the top level workflow and '\(runner.job.id.value)'")
            return cancelledOutcome
        }
        let ticket: ConcurrencyStore.Ticket
        do {
            ticket = try jobGroup.store.enter(group: group, cancelInProgress: jobGroup.cancelInProgress, queueMax: jobGroup.queueMax)
        } catch {
            return notRunning(.unavailable(error.message), group: group, what: "job")
        }
        let turn = ticket.wait(
            pending: {
                output.line(name, "waiting: concurrency group '\(group)' has a job in progress")
                startPending()
            },
            stop: stop)
        guard turn == .running else { return notRunning(turn, group: group, what: "job") }
        guard takeSlot() else {
            ticket.release()
            return cancelledOutcome
        }
        let monitor = CancelMonitor(ticket: ticket) {
            output.line(name, "cancelling: a newer job of concurrency group '\(group)' has cancel-in-progress")
            runner.cancel()
        }
        let outcome = runner.run()
        monitor.stop()
        ticket.release()
        return outcome
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

/// Watches a running concurrency entry on a thread of its own and calls `cancel` once if a newer entry
/// with cancel-in-progress asks it to stop.
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

/// A workflow's place in its concurrency group, taken by the first of its jobs to start and shared by
/// the others; left when its last job settles.
final class WorkflowGate: @unchecked Sendable {
    let group: String
    private let store: ConcurrencyStore
    private let cancelInProgress: Bool
    private let queueMax: Bool
    private enum State { case idle, waiting, running(ConcurrencyStore.Ticket), refused(ConcurrencyStore.Ticket.Turn), released }
    private let state = Mutex<State>(.idle)
    private let monitor = Mutex<CancelMonitor?>(nil)

    init(store: ConcurrencyStore, group: String, cancelInProgress: Bool, queueMax: Bool) {
        self.store = store
        self.group = group
        self.cancelInProgress = cancelInProgress
        self.queueMax = queueMax
    }

    var isReleased: Bool {
        state.withLock { if case .released = $0 { return true } else { return false } }
    }

    /// Waits for the workflow's turn (the first caller waits on the group, others on the first).
    /// `pending(first)` is called once when this job has to wait (`first` for the job that waits on the
    /// group itself).
    func acquire(pending: (Bool) -> Void, stop: () -> Bool, cancelRequested: @escaping @Sendable () -> Void) -> ConcurrencyStore.Ticket.Turn {
        let first = state.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .waiting
            return true
        }
        if first {
            let turn: ConcurrencyStore.Ticket.Turn
            var ticket: ConcurrencyStore.Ticket?
            do {
                ticket = try store.enter(group: group, cancelInProgress: cancelInProgress, queueMax: queueMax)
                turn = ticket!.wait(pending: { pending(true) }, stop: stop)
            } catch {
                turn = .unavailable(error.message)
            }
            state.withLock { state in
                guard case .waiting = state else { return }
                if turn == .running, let ticket { state = .running(ticket) } else { state = .refused(turn) }
            }
            if turn == .running, let ticket {
                let monitor = CancelMonitor(ticket: ticket, cancel: cancelRequested)
                self.monitor.withLock { $0 = monitor }
            }
            return turn
        }
        var told = false
        while true {
            switch state.withLock({ $0 }) {
            case .running: return .running
            case .refused(let turn): return turn
            case .released: return .replaced
            case .idle, .waiting:
                if !told {
                    told = true
                    pending(false)
                }
                if stop() { return .interrupted }
                sleepSeconds(0.02)
            }
        }
    }

    func release() {
        let ticket = state.withLock { state -> ConcurrencyStore.Ticket? in
            defer { state = .released }
            if case .running(let ticket) = state { return ticket }
            return nil
        }
        monitor.withLock { $0?.stop() }
        ticket?.release()
    }
}
