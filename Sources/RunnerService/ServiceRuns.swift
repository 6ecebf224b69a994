public import WorkflowExecution

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
        case finished(RunID, success: Bool, seconds: Double)
        case failed(String)
    }

    let store: any ServiceStore
    let launcher: any RunLauncher
    let settings: Settings
    public let slots: NodeSlots
    private let report: @Sendable (Happening) -> Void
    private var drivers: [RunID: RunDriver] = [:]
    private var tasks: [RunID: Task<Void, Never>] = [:]
    private var sweeper: Task<Void, Never>?
    public private(set) var draining = false

    public init(store: any ServiceStore, launcher: any RunLauncher, settings: Settings, report: @escaping @Sendable (Happening) -> Void) {
        self.store = store
        self.launcher = launcher
        self.settings = settings
        self.report = report
        slots = NodeSlots(capacity: settings.capacity)
    }

    /// Continues every run the store holds unfinished, and starts the lease sweep.
    public func start() async throws {
        for stored in try await store.storedRuns(limit: Int.max, unfinishedOnly: true).reversed() {
            do {
                let prepared = try await launcher.prepare(stored.record, run: stored.id)
                drive(prepared, start: .resume, since: stored.created)
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
    }

    /// Plans and stores the runs an intake triggers; the ids of its runs (those of the first delivery
    /// when this one was seen before). Returns only once the runs are stored.
    public func intake(_ intake: Intake) async throws -> (runs: [RunID], duplicate: Bool) {
        if let delivery = intake.delivery, let known = try await store.delivery(delivery) { return (known, true) }
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
            drive(prepared, start: .accepted(actions), since: now)
        }
        return (planned.map(\.1.definition.run), false)
    }

    /// Cancels a run as GitHub's cancel button does; false when it is not running here.
    public func cancel(_ run: RunID) -> Bool {
        guard let driver = drivers[run] else { return false }
        driver.cancel()
        return true
    }

    /// Starts no new job; running ones get `timeout` seconds, then the cancellation ladder. True when
    /// nothing had to be cancelled.
    public func drain(timeout: Double) async -> Bool {
        draining = true
        sweeper?.cancel()
        var clean = true
        await withTaskGroup(of: Bool.self) { group in
            for driver in drivers.values { group.addTask { await driver.drain(timeout: timeout) } }
            for await ok in group where !ok { clean = false }
        }
        for task in tasks.values { await task.value }
        return clean
    }

    private func drive(_ prepared: PreparedRun, start: RunDriver.Start, since: Double) {
        let id = prepared.definition.run
        let driver = RunDriver(
            definition: prepared.definition, workflows: prepared.workflows, contexts: prepared.contexts, store: store,
            capacity: settings.capacity, output: prepared.output, request: prepared.request, worker: settings.worker, lease: settings.lease,
            slots: slots, start: start)
        drivers[id] = driver
        tasks[id] = Task { [weak self] in
            let summary = await driver.run()
            await self?.ended(id, summary, since: since)
        }
    }

    private func ended(_ id: RunID, _ summary: RunSummary, since: Double) {
        drivers[id] = nil
        tasks[id] = nil
        // A drained run is not finished: it continues after the restart.
        guard !draining else { return }
        report(.finished(id, success: summary.success, seconds: HostProcess.wallClock() - since))
    }

    /// Concludes lapsed claims as lost runners and hands the actions to the runs' drivers.
    private func sweep() async {
        guard let lapsed = try? await store.expireLeases(now: HostProcess.wallClock()) else { return }
        for (run, actions) in lapsed { await drivers[run]?.carryOut(actions) }
    }
}
