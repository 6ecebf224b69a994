public import WebhookReading
public import WorkflowExecution
import Synchronization

/// The runs of one node: each driven by its own `RunDriver` (the scheduler `gantry run` uses) over the
/// node's store, all sharing the node's slots and labels. Intake stores runs before it answers;
/// start-up continues every unfinished run; a lease sweep concludes lapsed claims as lost runners;
/// draining stops new jobs and gives running ones a deadline.
public actor ServiceRuns {
    public struct Settings: Sendable {
        public var worker: WorkerIdentity
        public var capacity: Int
        /// Seconds a claim holds before it must be renewed.
        public var lease: Double

        public init(worker: WorkerIdentity, capacity: Int, lease: Double = 60) {
            self.worker = worker
            self.capacity = capacity
            self.lease = lease
        }
    }

    /// Something the node did, for its log and metrics.
    public enum Happening: Sendable {
        case accepted(RunID, ServiceRunRecord)
        case resumed(RunID)
        /// A run only dead nodes drove, continued here.
        case adopted(RunID)
        case finished(RunID, success: Bool, seconds: Double)
        case failed(String)
        /// A job's turn came (its `if` held): it waits for its groups and a runner.
        case jobQueued(RunID, ServiceRunRecord, job: String)
        /// A queued job's first step started, `waited` seconds after its turn came.
        case jobRunning(RunID, ServiceRunRecord, job: String, waited: Double)
        /// A job ended: `seconds` after its turn came, `ran` after its first step (nil for one that never
        /// ran a step: skipped, cancelled while queued, lost, a call); `queued`: its turn had come (not
        /// for one skipped or kept from an earlier attempt).
        case jobFinished(RunID, ServiceRunRecord, job: String, result: JobResult, seconds: Double, ran: Double?, queued: Bool)
    }

    let store: any ServiceStore
    let launcher: any RunLauncher
    let settings: Settings
    public let slots: NodeSlots
    private let report: @Sendable (Happening) -> Void
    private var drivers: [RunID: RunDriver] = [:]
    private var tasks: [RunID: Task<Void, Never>] = [:]
    private var sweeper: Task<Void, Never>?
    private var intakeOfOthers: Task<Void, Never>?
    /// Runs being prepared to join (a shared store's runs other nodes accepted).
    private var joining = Set<RunID>()
    /// What events this node applied to runs it did not drive returned, until a driver carries it out.
    private var carried: [RunID: [RunStateMachine.Action]] = [:]
    private let started = HostProcess.wallClock()
    private var lastBeat = 0.0
    /// When a call to the shared store last failed (-infinity: never).
    private var lastOutage = -Double.infinity
    public private(set) var draining = false

    public init(store: any ServiceStore, launcher: any RunLauncher, settings: Settings, report: @escaping @Sendable (Happening) -> Void) {
        self.store = store
        self.launcher = launcher
        self.settings = settings
        self.report = report
        slots = NodeSlots(capacity: settings.capacity)
    }

    /// Continues every run the store holds unfinished, and starts the lease sweep. With a shared store
    /// only the first node up continues them all (the others' runs go on with their nodes); every node
    /// joins the runs with work for its labels, now and whenever the store says a run changed.
    public func start() async throws {
        let alone = try await store.heartbeat(status(), alone: Self.heartbeatWindow)
        lastBeat = HostProcess.wallClock()
        for stored in try await alone ? store.storedRuns(limit: Int.max, unfinishedOnly: true).reversed() : [] {
            do {
                let prepared = try await launcher.prepare(stored.record, run: stored.id)
                drive(prepared, record: stored.record, start: .resume, since: stored.created)
                report(.resumed(stored.id))
            } catch {
                report(.failed("run \(stored.id) cannot continue: \(error)"))
            }
        }
        sweeper = Task { [weak self, lease = settings.lease] in
            while !Task.isCancelled {
                await self?.sweep()
                try? await Task.sleep(for: .seconds(max(0.05, min(1, lease / 4))))
            }
        }
        await sweep()
        if store.isShared {
            let wakeUps = store.wakeUps()
            let freed = slots.freed()
            intakeOfOthers = Task { [weak self] in
                await withTaskGroup(of: Void.self) { group in
                    // News from the store, and a slot of this node's freed: either may mean work.
                    group.addTask { for await _ in wakeUps { await self?.joinRunsWithWork() } }
                    group.addTask { for await _ in freed { await self?.joinRunsWithWork() } }
                }
            }
        }
    }

    /// Seconds within which another node's heartbeat counts as alive.
    static let heartbeatWindow = 10.0
    /// Seconds beyond a lease that a shared store's nodes wait after an outage before concluding
    /// leases as lost: a stored result is retried every second, each try waiting up to 10 s.
    static let outageGrace = 15.0

    /// This node as the registry shows it.
    private func status() async -> RunnerStatus {
        RunnerStatus(
            name: settings.worker.name, labels: settings.worker.labels, capacity: settings.capacity, busy: await slots.busy,
            draining: draining, started: started, seen: HostProcess.wallClock())
    }

    /// Joins each run of a shared store with work queued for this node that no driver of its carries.
    private func joinRunsWithWork() async {
        // A node with no free slot would only prepare runs that other nodes then claim.
        guard !draining, await slots.busy < settings.capacity, let runs = try? await store.runsWithWork(for: settings.worker) else { return }
        for run in runs where drivers[run] == nil && !joining.contains(run) { await join(run) }
    }

    /// Seconds this node lets pass before it fires a minute's schedules: none alone; on a shared
    /// store 5 s for each online node whose name sorts before this one's, so that the first fires and
    /// the others find the minute delivered (a node that died is skipped once its heartbeat is old).
    func tickDelay() async -> Double {
        guard store.isShared, let nodes = try? await store.runners() else { return 0 }
        let now = HostProcess.wallClock()
        let ahead = nodes.filter { $0.name < settings.worker.name && !$0.draining && now - $0.seen < Self.heartbeatWindow }
        return Double(ahead.count) * 5
    }

    /// Drives a run another node accepted: prepared from its record, started from the store's machine.
    /// `actions` are what an event this node applied returned (a lost job's note and conclusion): the
    /// driver carries them out first, even when that event ended the run.
    private func join(_ run: RunID, carrying actions: [RunStateMachine.Action] = []) async {
        if !actions.isEmpty { carried[run, default: []] += actions }
        if let driver = drivers[run] {
            if let actions = carried.removeValue(forKey: run) { await driver.carryOut(actions) }
            return
        }
        // A join under way takes what was carried here too.
        guard joining.insert(run).inserted else { return }
        defer { joining.remove(run) }
        do {
            guard let stored = try await store.storedRun(run), stored.finished == nil || carried[run] != nil else { return }
            let prepared = try await launcher.prepare(stored.record, run: run)
            guard !draining else { return }
            drive(prepared, record: stored.record, start: .join(carried.removeValue(forKey: run) ?? []), since: stored.created)
        } catch {
            carried[run] = nil
            report(.failed("run \(run) cannot be joined: \(error)"))
        }
    }

    /// Plans and stores the runs an intake triggers; the ids of its runs (those of the first delivery
    /// when this one was seen before). Returns only once the runs are stored.
    public func intake(_ intake: Intake) async throws -> (runs: [RunID], duplicate: Bool) {
        if let delivery = intake.delivery, let known = try await store.delivery(delivery) { return (known, true) }
        // A draining node runs nothing new: the forge is told to deliver again later.
        guard !draining else { throw LaunchFailure(status: 503, "the service is shutting down; deliver again later") }
        let store = self.store
        let planned = try await launcher.plan(intake) { "\(try await store.next("run"))" }
        let now = HostProcess.wallClock()
        guard let started = try await store.accept(
            planned.map { ($0.1.definition, record: CodableJSON.encode($0.0)) }, delivery: intake.delivery, now: now)
        else {
            // The same delivery arrived twice at once: the first one's runs.
            return (try await store.delivery(intake.delivery ?? "") ?? [], true)
        }
        for ((record, prepared), actions) in zip(planned, started) {
            report(.accepted(prepared.definition.run, record))
            drive(prepared, record: record, start: .accepted(actions), since: now)
        }
        return (planned.map(\.1.definition.run), false)
    }

    /// Runs a finished run again as its next attempt (GitHub's "Re-run all jobs"), or with
    /// `failedOnly` only the jobs that did not succeed and those that need them ("Re-run failed jobs":
    /// the rest keep their results and outputs). The new attempt is a run of its own, with the first
    /// attempt's `github.run_id` and number; its id.
    public func rerun(_ id: RunID, failedOnly: Bool) async throws -> RunID {
        guard let stored = try await store.storedRun(id) else { throw LaunchFailure(status: 404, "no run \(id)") }
        guard !draining else { throw LaunchFailure(status: 503, "the service is shutting down") }
        guard stored.finished != nil, drivers[id] == nil else { throw LaunchFailure(status: 409, "run \(id) is still in progress") }
        guard !failedOnly || stored.success != true else { throw LaunchFailure(status: 409, "run \(id) has no failed jobs") }
        var record = stored.record
        let first = record.firstRun ?? id
        // As on GitHub, one attempt of a run at a time.
        if let going = try await store.storedRuns(limit: 1000, unfinishedOnly: true).first(where: { $0.id == first || $0.record.firstRun == first }) {
            throw LaunchFailure(status: 409, "attempt \(going.record.attempt ?? 1) of run \(first) (run \(going.id)) is still in progress")
        }
        // Attempts count per first run, whichever attempt is re-run (as GitHub counts them).
        let attempt = try await store.next("attempt:\(first.value)") + 1
        record.attempt = attempt
        record.firstRun = first
        let rerun = RunID("\(try await store.next("run"))")
        var prepared = try await launcher.prepare(record, run: rerun)
        if failedOnly, let machine = try await store.machine(id) {
            prepared.definition.reused = Self.kept(machine, attempt: stored.record.attempt ?? 1)
        }
        let now = HostProcess.wallClock()
        guard let started = try await store.accept([(prepared.definition, record: CodableJSON.encode(record))], delivery: nil, now: now),
            let actions = started.first
        else { throw LaunchFailure(status: 500, "the re-run of \(id) could not be stored") }
        report(.accepted(rerun, record))
        drive(prepared, record: record, start: .accepted(actions), since: now)
        return rerun
    }

    /// What a re-run of failed jobs keeps of a finished attempt: every instance that succeeded, unless a
    /// job it needs runs again (or the call it belongs to does, because of its needs). Calls themselves
    /// run again, and their jobs decide; a call that succeeded counts as kept for the jobs that need
    /// it. Instances come in plan order, each after what it needs.
    static func kept(_ machine: RunStateMachine, attempt: Int) -> [RunDefinition.Reused] {
        var again = Set<JobKey>()
        var wholly = Set<JobKey>()
        var kept: [RunDefinition.Reused] = []
        for instance in machine.order {
            let entry = machine.job(instance.job)
            if entry?.needs.contains(where: { again.contains($0.job) }) == true || entry?.parent.map({ wholly.contains($0.job) }) == true {
                wholly.insert(instance.job)
                again.insert(instance.job)
                continue
            }
            guard machine.result(of: instance) == .success, let outcome = machine.outcome(of: instance) else {
                again.insert(instance.job)
                continue
            }
            if entry?.call != nil { continue }
            let earlier = machine.definition.reused?.first { $0.job == instance.job && $0.row == instance.row }
            kept.append(.init(job: instance.job, row: instance.row, outcome: outcome, attempt: earlier?.attempt ?? attempt))
        }
        return kept
    }

    /// True while a driver of this node carries the run on (not once it ended or the node drains).
    public func isDriving(_ run: RunID) -> Bool { !draining && drivers[run] != nil }

    /// Cancels a run as GitHub's cancel button does; false when it is not running (with a shared
    /// store: on any node, which this one joins to cancel it).
    public func cancel(_ run: RunID) async -> Bool {
        if drivers[run] == nil, store.isShared { await join(run) }
        guard let driver = drivers[run] else { return false }
        driver.cancel()
        return true
    }

    /// Starts no new job; running ones get `timeout` seconds, then the cancellation ladder. True when
    /// nothing had to be cancelled.
    public func drain(timeout: Double) async -> Bool {
        draining = true
        sweeper?.cancel()
        intakeOfOthers?.cancel()
        var clean = true
        await withTaskGroup(of: Bool.self) { group in
            for driver in drivers.values { group.addTask { await driver.drain(timeout: timeout) } }
            for await ok in group where !ok { clean = false }
        }
        // The registry shows it draining (then gone quiet).
        _ = try? await store.heartbeat(status(), alone: Self.heartbeatWindow)
        for task in tasks.values { await task.value }
        return clean
    }

    private func drive(_ prepared: PreparedRun, record: ServiceRunRecord, start: RunDriver.Start, since: Double) {
        let id = prepared.definition.run
        // A join (a store's notification) came first: that driver carries out what the intake was told.
        if let existing = drivers[id] {
            switch start {
            case .accepted(let actions), .join(let actions): if !actions.isEmpty { Task { await existing.carryOut(actions) } }
            case .create, .resume: break
            }
            return
        }
        let output = ObservedOutput(output: prepared.output) { [report] change in
            switch change {
            case .queued(let job): report(.jobQueued(id, record, job: job))
            case .running(let job, let waited): report(.jobRunning(id, record, job: job, waited: waited))
            case .finished(let job, let result, let seconds, let ran, let queued):
                report(.jobFinished(id, record, job: job, result: result, seconds: seconds, ran: ran, queued: queued))
            }
        }
        let driver = RunDriver(
            definition: prepared.definition, workflows: prepared.workflows, contexts: prepared.contexts, store: store,
            capacity: settings.capacity, output: output, request: prepared.request, worker: settings.worker, lease: settings.lease,
            slots: slots, start: start, shared: store.isShared)
        drivers[id] = driver
        tasks[id] = Task { [weak self] in
            let summary = await driver.run()
            await self?.ended(id, summary, since: since)
        }
    }

    private func ended(_ id: RunID, _ summary: RunSummary, since: Double) {
        drivers[id] = nil
        tasks[id] = nil
        // A drained run is not finished: it continues after the restart. A run another node ended is
        // that node's to report.
        guard !draining, summary.decided else { return }
        report(.finished(id, success: summary.success, seconds: HostProcess.wallClock() - since))
    }

    /// Concludes lapsed claims as lost runners and hands the actions to the runs' drivers.
    private func sweep() async {
        if store.isShared, HostProcess.wallClock() - lastBeat >= 2 {
            lastBeat = HostProcess.wallClock()
            do {
                _ = try await store.heartbeat(status(), alone: Self.heartbeatWindow)
            } catch {
                lastOutage = HostProcess.wallClock()
            }
            // Runs only dead nodes drove (a group's turn or a matrix they were waiting for) go on here;
            // not soon after the store was away, when live nodes' heartbeats are old too.
            if !draining, HostProcess.wallClock() - lastOutage >= Self.heartbeatWindow + 4 {
                for (run, actions) in (try? await store.adoptOrphans(window: Self.heartbeatWindow, now: HostProcess.wallClock())) ?? [] {
                    report(.adopted(run))
                    await join(run, carrying: actions)
                }
            }
        }
        // After the shared store was away, its nodes get one lease, and the time a store call may
        // wait and be tried again (15 s), to renew what they held and store the results of jobs that
        // ended meanwhile, before anything is concluded as lost.
        guard HostProcess.wallClock() - lastOutage >= settings.lease + Self.outageGrace else { return }
        let lapsed: [(RunID, [RunStateMachine.Action])]
        do {
            lapsed = try await store.expireLeases(now: HostProcess.wallClock())
        } catch {
            if store.isShared { lastOutage = HostProcess.wallClock() }
            return
        }
        for (run, actions) in lapsed {
            // Another node's job: this node carries out what its loss decides, in a driver of its own
            // even when the loss ended the run (its log gets GitHub's line).
            if drivers[run] == nil, store.isShared {
                await join(run, carrying: actions)
            } else {
                await drivers[run]?.carryOut(actions)
            }
        }
    }
}

/// A run's output that also tells the node when each job is queued, starts its first step and ends
/// (for commit statuses, metrics and the log), and passes everything on unchanged.
final class ObservedOutput: RunOutput {
    enum Change: Sendable {
        case queued(String)
        case running(String, waited: Double)
        /// `ran`: seconds from its first step to its end; nil for a job that ran no step. `queued`: its
        /// turn had come.
        case finished(String, JobResult, seconds: Double, ran: Double?, queued: Bool)
    }

    private struct Times {
        /// When each queued job's turn came, until its first step starts.
        var queued: [String: Double] = [:]
        /// When each running job's first step started.
        var running: [String: Double] = [:]
    }

    private let output: any RunOutput
    private let observe: @Sendable (Change) -> Void
    private let times = Mutex(Times())

    init(output: any RunOutput, observe: @escaping @Sendable (Change) -> Void) {
        self.output = output
        self.observe = observe
    }

    func line(_ instance: String, _ text: String) { output.line(instance, text) }

    func line(_ instance: String, _ text: String, to destination: OutputDestination) { output.line(instance, text, to: destination) }

    func event(_ event: RunEvent) {
        output.event(event)
        let now = HostProcess.wallClock()
        switch event {
        case .jobStarted(let job):
            times.withLock { $0.queued[job] = now }
            observe(.queued(job))
        case .stepStarted(let job, _):
            let since = times.withLock { times -> Double? in
                guard let since = times.queued.removeValue(forKey: job) else { return nil }
                times.running[job] = now
                return since
            }
            if let since { observe(.running(job, waited: now - since)) }
        case .jobFinished(let job, let result, let seconds):
            let (queued, began) = times.withLock { times in
                (times.queued.removeValue(forKey: job) != nil || times.running[job] != nil, times.running.removeValue(forKey: job))
            }
            observe(.finished(job, result, seconds: seconds, ran: began.map { now - $0 }, queued: queued))
        case .stepFinished: break
        }
    }
}
