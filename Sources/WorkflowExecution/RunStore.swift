import Synchronization
import WorkflowPlanning

/// Where runs live while they execute: each run's `RunStateMachine` and the queue of job instances it
/// made ready. Every change is one transaction: the machine handles the event, the queue takes the
/// instances it enqueued and loses those it withdrew, and the actions come back to the caller, so a
/// store that persists (SQLite for `gantry serve`, PostgreSQL for several nodes) never holds a machine
/// and a queue that disagree. `gantry run` uses `InMemoryRunStore`.
public protocol RunStore: Sendable {
    /// Stores a new run and applies its first event (`.start`).
    func create(_ definition: RunDefinition) async throws -> [RunStateMachine.Action]

    /// Applies one event to a run's machine.
    func apply(_ run: RunID, _ event: RunStateMachine.Event) async throws -> [RunStateMachine.Action]

    /// The first queued instance this worker can take (every `runs-on` label among its labels,
    /// case-insensitively; a worker with no labels takes any), of `run` when given, marked claimed
    /// under a lease that ends `lease` seconds after `now` unless renewed.
    func claim(worker: WorkerIdentity, run: RunID?, now: Double, lease: Double) async throws -> JobClaim?

    /// Extends a claim's lease; false when it already lapsed (the job was concluded as lost).
    func renew(_ claim: JobClaim, now: Double, lease: Double) async throws -> Bool

    /// A claimed job finished: its outcome goes to the machine and its claim ends.
    func complete(_ claim: JobClaim, _ outcome: JobOutcome) async throws -> [RunStateMachine.Action]

    /// Concludes every claim whose lease ended before `now` as a lost runner; the actions per run.
    func expireLeases(now: Double) async throws -> [(RunID, [RunStateMachine.Action])]

    /// A snapshot of a run's machine.
    func machine(_ run: RunID) async throws -> RunStateMachine?

    /// Signals each time the queue gains an instance (every call makes a new stream).
    func wakeUps() -> AsyncStream<Void>

    /// Signals when `run` may have changed: its queue gained an instance, or (in a store several
    /// processes share) another process applied one of its events. By default every wake-up.
    func wakeUps(for run: RunID) -> AsyncStream<Void>
}

extension RunStore {
    public func wakeUps(for run: RunID) -> AsyncStream<Void> { wakeUps() }

    /// The first queued instance of any run this worker can take.
    public func claim(worker: WorkerIdentity, now: Double, lease: Double) async throws -> JobClaim? {
        try await claim(worker: worker, run: nil, now: now, lease: lease)
    }
}

/// Who asks for work: a name (unique among a store's workers) and the labels it serves.
public struct WorkerIdentity: Sendable, Hashable, Codable {
    public var name: String
    /// nil: any job (`gantry run` runs every job here, mapping `runs-on` with `-P`).
    public var labels: [String]?

    public init(name: String, labels: [String]? = nil) {
        self.name = name
        self.labels = labels
    }

    /// GitHub's rule: a job runs where every one of its `runs-on` labels is present, ignoring case.
    public func accepts(_ runsOn: [String]) -> Bool {
        guard let labels else { return true }
        let own = Set(labels.map { $0.lowercased() })
        return runsOn.allSatisfy { own.contains($0.lowercased()) }
    }
}

/// A node of a store several nodes share, as its registry and `/api/v1/runners` show it.
public struct RunnerStatus: Sendable, Equatable {
    public var name: String
    public var labels: [String]?
    public var capacity: Int
    public var busy: Int
    public var draining: Bool
    public var started: Double
    /// Its last heartbeat.
    public var seen: Double

    public init(name: String, labels: [String]?, capacity: Int, busy: Int, draining: Bool, started: Double, seen: Double) {
        self.name = name
        self.labels = labels
        self.capacity = capacity
        self.busy = busy
        self.draining = draining
        self.started = started
        self.seen = seen
    }
}

/// A job a worker took: the instance, what it receives from its needs, and the lease it holds.
public struct JobClaim: Sendable, Equatable, Codable {
    public var instance: InstanceID
    public var needs: [NeedResult]
    public var worker: String
    /// Distinguishes two claims of one instance (a lapsed one and a later one).
    public var token: Int
    public var leaseEnds: Double

    public init(instance: InstanceID, needs: [NeedResult], worker: String, token: Int, leaseEnds: Double) {
        self.instance = instance
        self.needs = needs
        self.worker = worker
        self.token = token
        self.leaseEnds = leaseEnds
    }
}

/// Why a store refused a call.
public struct RunStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    /// The store's server cannot be reached (it may come back): callers answer 503, not 500.
    public var unavailable: Bool

    public init(_ description: String, unavailable: Bool = false) {
        self.description = description
        self.unavailable = unavailable
    }
}

/// The store of one process: runs and their queue in memory, for `gantry run` (nothing survives the
/// process, and nothing needs to: the run ends with it).
public actor InMemoryRunStore: RunStore {
    private struct Queued {
        var instance: InstanceID
        var needs: [NeedResult]
        var runsOn: [String]
    }

    private var machines: [RunID: RunStateMachine] = [:]
    private var queue: [Queued] = []
    private var claims: [InstanceID: JobClaim] = [:]
    private var tokens = 0
    private let listeners = WakeUps()
    /// Mirrors `queue.isEmpty` for `wakeUps()`, which is not isolated.
    private let hasQueued = Atomic<Bool>(false)

    public init() {}

    public func create(_ definition: RunDefinition) throws -> [RunStateMachine.Action] {
        guard machines[definition.run] == nil else { throw RunStoreError("run \(definition.run) exists already") }
        machines[definition.run] = RunStateMachine(definition)
        return try apply(definition.run, .start)
    }

    public func apply(_ run: RunID, _ event: RunStateMachine.Event) throws -> [RunStateMachine.Action] {
        guard var machine = machines[run] else { throw RunStoreError("no run \(run)") }
        let actions = machine.handle(event)
        machines[run] = machine
        var added = false
        for action in actions {
            switch action {
            case .enqueue(let id, let needs):
                queue.append(Queued(instance: id, needs: needs, runsOn: machine.row(of: id)?.instance.runsOn ?? []))
                added = true
            case .withdraw(let id): queue.removeAll { $0.instance == id }
            default: break
            }
        }
        hasQueued.store(!queue.isEmpty, ordering: .sequentiallyConsistent)
        if added { listeners.signal() }
        return actions
    }

    public func claim(worker: WorkerIdentity, run: RunID?, now: Double, lease: Double) throws -> JobClaim? {
        guard let index = queue.firstIndex(where: { (run == nil || $0.instance.run == run) && worker.accepts($0.runsOn) }) else { return nil }
        let entry = queue.remove(at: index)
        hasQueued.store(!queue.isEmpty, ordering: .sequentiallyConsistent)
        tokens += 1
        let claim = JobClaim(instance: entry.instance, needs: entry.needs, worker: worker.name, token: tokens, leaseEnds: now + lease)
        claims[entry.instance] = claim
        _ = try apply(entry.instance.run, .claimed(entry.instance))
        return claim
    }

    public func renew(_ claim: JobClaim, now: Double, lease: Double) -> Bool {
        guard var held = claims[claim.instance], held.token == claim.token else { return false }
        held.leaseEnds = now + lease
        claims[claim.instance] = held
        return true
    }

    public func complete(_ claim: JobClaim, _ outcome: JobOutcome) throws -> [RunStateMachine.Action] {
        // A claim that lapsed was concluded as lost: its late outcome changes nothing.
        guard claims[claim.instance]?.token == claim.token else { return [] }
        claims[claim.instance] = nil
        return try apply(claim.instance.run, .jobFinished(claim.instance, outcome))
    }

    public func expireLeases(now: Double) throws -> [(RunID, [RunStateMachine.Action])] {
        var out: [(RunID, [RunStateMachine.Action])] = []
        for (id, claim) in claims.sorted(by: { $0.value.token < $1.value.token }) where claim.leaseEnds < now {
            claims[id] = nil
            out.append((id.run, try apply(id.run, .leaseLost(id))))
        }
        return out
    }

    public func machine(_ run: RunID) -> RunStateMachine? { machines[run] }

    /// How many instances wait in the queue.
    public var queued: Int { queue.count }

    /// How many wake-up streams are listening.
    public nonisolated var listenerCount: Int { listeners.count }

    public nonisolated func wakeUps() -> AsyncStream<Void> {
        // Whatever is queued already is news to a new listener.
        listeners.stream(now: hasQueued.load(ordering: .sequentiallyConsistent))
    }
}
