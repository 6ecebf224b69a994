internal import Logging
internal import PostgresNIO
public import WorkflowExecution
import WorkflowPlanning
import Synchronization

/// The `RunStore` of several `gantry serve` nodes sharing one PostgreSQL database.
///
/// The same model as SQLite's: a run is its definition plus the log of every event its machine was fed,
/// and each event is appended in the transaction that changes the queue it implies. What differs is
/// that other processes write too:
/// - A run's events are appended under a lock on its row (`SELECT … FOR UPDATE`), so its log has one
///   order whichever node applies them; a node's cached machine is brought up to date from the events
///   after the sequence number it last saw.
/// - A claim locks the run, then takes the queued instance with `FOR UPDATE SKIP LOCKED` and records
///   the lease in the same transaction: a job is claimed by one node, ever.
/// - Every commit that changes a run sends `NOTIFY gantry, '<run>'`; each node listens, and wakes that
///   run's drivers and its own intake of runs (`LISTEN/NOTIFY`, with a slow poll behind it).
/// - Each node's claims name it: a node that starts again lapses only its own earlier claims.
public actor PostgresRunStore: RunStore {
    /// A run as the service lists it.
    public struct StoredRun: Sendable, Equatable {
        public var id: RunID
        public var record: String
        public var created: Double
        public var finished: Double?
        public var success: Bool?
    }

    /// A node as the registry knows it.
    public typealias Node = RunnerStatus

    let client: PostgresClient
    let logger: Logger
    /// This node's name: its events and claims carry it.
    let node: String
    private let clientTask: Task<Void, Never>
    private var listenerTask: Task<Void, Never>?
    /// The machines of unfinished runs, each with the sequence number of the last event it has seen.
    private var machines: [RunID: (machine: RunStateMachine, seq: Int)] = [:]
    private let listeners = WakeUps()
    private let runListeners = Mutex<[RunID: WakeUps]>([:])
    /// Whether the last attempt to reach the server worked (for `/ready`).
    private let reachable = Atomic<Bool>(true)

    /// Connects, brings the schema up to date (or refuses an older build), and lapses the claims this
    /// node's earlier process held. Throws one line when the database cannot be used.
    public static func open(_ location: PostgresLocation, node: String) async throws -> PostgresRunStore {
        let store = PostgresRunStore(location: location, node: node)
        do {
            // A server that is not there is told in seconds; a migration waiting for another node's may take longer.
            // One connection of its own first: a server that refuses is told at once (the pool would
            // retry it for a minute). A busy machine may take a while to answer: 30 s.
            let logger = store.logger
            try await store.timed("connect", seconds: 30) {
                let connection = try await PostgresConnection.connect(configuration: location.connectionConfiguration(), id: 0, logger: logger)
                try await connection.close()
            }
            try await store.timed("open the database", seconds: 30) { try await store.client.query("SELECT 1", logger: store.logger) }
            try await store.timed("migrate the schema", seconds: 60) {
                try await PostgresSchema.migrate(store.client, logger: store.logger)
                // Claims this node's earlier process held: nobody renews them any more.
                try await store.client.query("UPDATE gantry_queue SET lease_ends = 0 WHERE worker = \(node)", logger: store.logger)
            }
        } catch let error as RunStoreError {
            await store.close()
            guard error.unavailable else { throw error }
            throw RunStoreError("cannot reach PostgreSQL at \(location): \(error)", unavailable: true)
        }
        await store.listen()
        return store
    }

    private init(location: PostgresLocation, node: String) {
        let logger = Logger(label: "gantry.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.node = node
        clientTask = Task { await client.run() }
    }

    /// Stops listening and closes the connections.
    public func close() {
        listenerTask?.cancel()
        clientTask.cancel()
    }

    /// True when the server answers now (within two seconds).
    public func ping() async -> Bool {
        let ok = (try? await timed("answer", seconds: 2) { try await self.client.query("SELECT 1", logger: self.logger) }) != nil
        reachable.store(ok, ordering: .relaxed)
        return ok
    }

    // MARK: The service's side

    /// Stores new runs and the delivery that brought them in one transaction: each `.start`'s actions,
    /// or nil (nothing written) when any node saw the delivery before.
    public func accept(_ runs: [(RunDefinition, record: String)], delivery: String?, now: Double) async throws -> [[RunStateMachine.Action]]? {
        let (node, logger) = (self.node, self.logger)
        let started: [(RunStateMachine, [RunStateMachine.Action])]? = try await transaction("store runs") { connection in
            if let delivery {
                let inserted = try await connection.values(
                    """
                    INSERT INTO gantry_delivery (id, runs, received) VALUES (\(delivery), \(CodableJSON.encode(runs.map(\.0.run))), \(now))
                    ON CONFLICT (id) DO NOTHING RETURNING 1
                    """, Int.self, logger: logger)
                if inserted.isEmpty { return nil }
            }
            var started: [(RunStateMachine, [RunStateMachine.Action])] = []
            for (definition, record) in runs {
                try await connection.run(
                    """
                    INSERT INTO gantry_run (id, created, definition, record)
                    VALUES (\(definition.run.value), \(now), \(CodableJSON.encode(definition)), \(record))
                    """, logger: logger)
                var machine = RunStateMachine(definition)
                let actions = machine.handle(.start)
                try await Self.append(connection, definition.run, .start, actions, machine: machine, seq: 0, node: node, now: now, logger: logger)
                started.append((machine, actions))
            }
            return started
        }
        guard let started else { return nil }
        for (machine, _) in started { keep((machine, 1)) }
        listeners.signal()
        return started.map(\.1)
    }

    /// The runs a delivery made, when any node saw it before.
    public func delivery(_ id: String) async throws -> [RunID]? {
        try await rows("read a delivery", "SELECT runs FROM gantry_delivery WHERE id = \(id)", as: String.self).first
            .map { try CodableJSON.decode([RunID].self, from: $0) }
    }

    /// The next value of a named counter, starting at 1, the same sequence on every node.
    public func next(_ counter: String) async throws -> Int {
        try await rows(
            "count",
            """
            INSERT INTO gantry_counter (name, value) VALUES (\(counter), 1)
            ON CONFLICT (name) DO UPDATE SET value = gantry_counter.value + 1 RETURNING value
            """, as: Int.self
        ).first ?? 1
    }

    /// Runs newest first.
    public func runs(limit: Int, unfinishedOnly: Bool) async throws -> [StoredRun] {
        let filter = unfinishedOnly ? "WHERE finished IS NULL" : ""
        return try await rows(
            "list runs",
            "SELECT id, record, created, finished, success FROM gantry_run \(unescaped: filter) ORDER BY ord DESC LIMIT \(min(limit, 1_000_000))",
            as: (String, String, Double, Double?, Bool?).self
        ).map { StoredRun(id: RunID($0.0), record: $0.1, created: $0.2, finished: $0.3, success: $0.4) }
    }

    public func run(_ id: RunID) async throws -> StoredRun? {
        try await rows(
            "read a run", "SELECT id, record, created, finished, success FROM gantry_run WHERE id = \(id.value)",
            as: (String, String, Double, Double?, Bool?).self
        ).first.map { StoredRun(id: RunID($0.0), record: $0.1, created: $0.2, finished: $0.3, success: $0.4) }
    }

    /// Every queued instance no node holds, oldest first.
    public func queuedJobs() async throws -> [(instance: InstanceID, runsOn: [String], since: Double)] {
        try await rows(
            "read the queue", "SELECT instance, runs_on, since FROM gantry_queue WHERE worker IS NULL ORDER BY position",
            as: (String, String, Double).self
        ).map { (try CodableJSON.decode(InstanceID.self, from: $0.0), try CodableJSON.decode([String].self, from: $0.1), $0.2) }
    }

    /// Records a node's heartbeat.
    /// Whether the server answered the last time it was asked.
    public nonisolated var isReachable: Bool { reachable.load(ordering: .relaxed) }

    // MARK: RunStore

    public func create(_ definition: RunDefinition) async throws -> [RunStateMachine.Action] {
        try await accept([(definition, record: "{}")], delivery: nil, now: HostProcess.wallClock())?.first ?? []
    }

    public func apply(_ run: RunID, _ event: RunStateMachine.Event) async throws -> [RunStateMachine.Action] {
        let (node, logger, cached) = (self.node, self.logger, machines[run])
        let (actions, machine) = try await transaction("apply an event") { connection in
            var (machine, seq) = try await Self.locked(connection, run, cached: cached, logger: logger)
            let actions = machine.handle(event)
            try await Self.append(connection, run, event, actions, machine: machine, seq: seq, node: node, now: HostProcess.wallClock(), logger: logger)
            return (actions, (machine, seq + 1))
        }
        keep(machine)
        return actions
    }

    public func claim(worker: WorkerIdentity, run: RunID?, now: Double, lease: Double) async throws -> JobClaim? {
        let candidates = try await rows(
            "read the queue",
            run.map { "SELECT instance, run, runs_on FROM gantry_queue WHERE worker IS NULL AND run = \($0.value) ORDER BY position LIMIT 500" }
                ?? "SELECT instance, run, runs_on FROM gantry_queue WHERE worker IS NULL ORDER BY position LIMIT 500",
            as: (String, String, String).self)
        for (text, runText, runsOnText) in candidates {
            guard worker.accepts(try CodableJSON.decode([String].self, from: runsOnText)) else { continue }
            let instance = try CodableJSON.decode(InstanceID.self, from: text)
            let (node, logger, cached) = (self.node, self.logger, machines[instance.run])
            let claimed: (JobClaim, (RunStateMachine, Int))? = try await transaction("claim a job") { connection in
                // The run first (every writer of a run's queue holds it), then the instance, skipped when
                // another claim holds it or took it since it was read.
                var (machine, seq) = try await Self.locked(connection, RunID(runText), cached: cached, logger: logger)
                let needs = try await connection.values("SELECT needs FROM gantry_queue WHERE instance = \(text) AND worker IS NULL FOR UPDATE SKIP LOCKED", String.self, logger: logger).first
                guard let needs else { return nil }
                let token = try await connection.values("SELECT nextval('gantry_claim_token')", Int.self, logger: logger).first ?? 0
                try await connection.run(
                    """
                    UPDATE gantry_queue SET worker = \(worker.name), token = \(token), lease_ends = \(now + lease), claimed = \(now)
                    WHERE instance = \(text)
                    """, logger: logger)
                let actions = machine.handle(.claimed(instance))
                try await Self.append(connection, instance.run, .claimed(instance), actions, machine: machine, seq: seq, node: node, now: now, logger: logger)
                let claim = JobClaim(
                    instance: instance, needs: try CodableJSON.decode([NeedResult].self, from: needs), worker: worker.name, token: token,
                    leaseEnds: now + lease)
                return (claim, (machine, seq + 1))
            }
            if let (claim, machine) = claimed {
                keep(machine)
                return claim
            }
        }
        return nil
    }

    /// True while the claim is this node's: a lease that lapsed but that no node concluded as lost
    /// (the database was away longer than the lease) is still the owner's, and renewing it keeps it.
    /// Concluding deletes the claim only while it is lapsed, so whichever commits first wins.
    public func renew(_ claim: JobClaim, now: Double, lease: Double) async throws -> Bool {
        try await rows(
            "renew a lease",
            """
            UPDATE gantry_queue SET lease_ends = \(now + lease)
            WHERE instance = \(CodableJSON.encode(claim.instance)) AND token = \(claim.token) RETURNING token
            """, as: Int.self
        ).count == 1
    }

    public func complete(_ claim: JobClaim, _ outcome: JobOutcome) async throws -> [RunStateMachine.Action] {
        let (node, logger, cached) = (self.node, self.logger, machines[claim.instance.run])
        let done: ([RunStateMachine.Action], (RunStateMachine, Int))? = try await transaction("store a job's result") { connection in
            var (machine, seq) = try await Self.locked(connection, claim.instance.run, cached: cached, logger: logger)
            let held = try await connection.values("SELECT token FROM gantry_queue WHERE instance = \(CodableJSON.encode(claim.instance)) FOR UPDATE", Int.self, logger: logger).first
            // A claim that lapsed was concluded as lost: its late outcome changes nothing.
            guard held == claim.token else { return nil }
            let event = RunStateMachine.Event.jobFinished(claim.instance, outcome)
            let actions = machine.handle(event)
            try await Self.append(connection, claim.instance.run, event, actions, machine: machine, seq: seq, node: node, now: HostProcess.wallClock(), logger: logger)
            return (actions, (machine, seq + 1))
        }
        guard let (actions, machine) = done else { return [] }
        keep(machine)
        return actions
    }

    public func expireLeases(now: Double) async throws -> [(RunID, [RunStateMachine.Action])] {
        let lapsed = try await rows(
            "read the leases",
            "SELECT instance, token FROM gantry_queue WHERE worker IS NOT NULL AND lease_ends < \(now) ORDER BY token",
            as: (String, Int).self)
        var out: [(RunID, [RunStateMachine.Action])] = []
        for (text, token) in lapsed {
            let id = try CodableJSON.decode(InstanceID.self, from: text)
            let (node, logger, cached) = (self.node, self.logger, machines[id.run])
            let done: ([RunStateMachine.Action], (RunStateMachine, Int))? = try await transaction("conclude a lost job") { connection in
                var (machine, seq) = try await Self.locked(connection, id.run, cached: cached, logger: logger)
                // Only one node concludes it: the one whose delete finds the lapsed claim.
                let gone = try await connection.values("DELETE FROM gantry_queue WHERE instance = \(text) AND token = \(token) AND lease_ends < \(now) RETURNING token", Int.self, logger: logger)
                guard !gone.isEmpty else { return nil }
                let actions = machine.handle(.leaseLost(id))
                try await Self.append(connection, id.run, .leaseLost(id), actions, machine: machine, seq: seq, node: node, now: now, logger: logger)
                return (actions, (machine, seq + 1))
            }
            if let (actions, machine) = done {
                keep(machine)
                out.append((id.run, actions))
            }
        }
        return out
    }

    public func machine(_ run: RunID) async throws -> RunStateMachine? {
        let seq = try await rows("read a run", "SELECT seq FROM gantry_run WHERE id = \(run.value)", as: Int.self).first
        guard let seq else { return nil }
        let (logger, cached) = (self.logger, machines[run])
        if let cached, cached.seq == seq { return cached.machine }
        let current = try await transaction("read a run") { connection in
            try await Self.current(connection, run, seq: seq, cached: cached, logger: logger)
        }
        if let current { keep(current) }
        return current?.machine
    }

    public nonisolated func wakeUps() -> AsyncStream<Void> { listeners.stream(now: true) }

    public nonisolated func wakeUps(for run: RunID) -> AsyncStream<Void> {
        // Subscribed under the lock: `signalAll` drops entries without listeners.
        runListeners.withLock { listeners in
            let made = listeners[run] ?? WakeUps()
            listeners[run] = made
            return made.stream(now: true)
        }
    }
}

// MARK: Inside

extension PostgresRunStore {
    /// Locks a run's row for this transaction and brings its machine up to date.
    static func locked(
        _ connection: PostgresConnection, _ run: RunID, cached: (machine: RunStateMachine, seq: Int)?, logger: Logger
    ) async throws -> (RunStateMachine, Int) {
        let seq = try await connection.values("SELECT seq FROM gantry_run WHERE id = \(run.value) FOR UPDATE", Int.self, logger: logger).first
        guard let seq, let current = try await current(connection, run, seq: seq, cached: cached, logger: logger) else {
            throw RunStoreError("no run \(run)")
        }
        return current
    }

    /// The run's machine at `seq`: the cached one fed the events after it, or the definition fed them all.
    fileprivate static func current(
        _ connection: PostgresConnection, _ run: RunID, seq: Int, cached: (machine: RunStateMachine, seq: Int)?, logger: Logger
    ) async throws -> (machine: RunStateMachine, seq: Int)? {
        var (machine, from): (RunStateMachine, Int)
        if let cached, cached.seq <= seq {
            (machine, from) = cached
        } else {
            let definition = try await connection.values("SELECT definition FROM gantry_run WHERE id = \(run.value)", String.self, logger: logger).first
            guard let definition else { return nil }
            (machine, from) = (RunStateMachine(try CodableJSON.decode(RunDefinition.self, from: definition)), 0)
        }
        if from < seq {
            let events = try await connection.values("SELECT event FROM gantry_event WHERE run = \(run.value) AND seq > \(from) AND seq <= \(seq) ORDER BY seq", String.self, logger: logger)
            for text in events { _ = machine.handle(try CodableJSON.decode(RunStateMachine.Event.self, from: text)) }
        }
        return (machine, seq)
    }

    /// Caches an unfinished run's machine (a finished one is read again when asked for).
    /// The machine this node last read of `run`, with its `seq`.
    func cachedMachine(_ run: RunID) -> (machine: RunStateMachine, seq: Int)? { machines[run] }

    func keep(_ current: (machine: RunStateMachine, seq: Int)) {
        // Never back: another call may have seen a later event meanwhile.
        if let cached = machines[current.machine.definition.run], cached.seq > current.seq { return }
        machines[current.machine.definition.run] = current.machine.isFinished ? nil : current
    }

    /// Appends the event after `seq` and makes the queue what its actions say; every node hears of it.
    static func append(
        _ connection: PostgresConnection, _ run: RunID, _ event: RunStateMachine.Event, _ actions: [RunStateMachine.Action],
        machine: RunStateMachine, seq: Int, node: String, now: Double, logger: Logger
    ) async throws {
        try await connection.run(
            "INSERT INTO gantry_event (run, seq, event, at, node) VALUES (\(run.value), \(seq + 1), \(CodableJSON.encode(event)), \(now), \(node))",
            logger: logger)
        try await connection.run("UPDATE gantry_run SET seq = \(seq + 1) WHERE id = \(run.value)", logger: logger)
        for action in actions {
            switch action {
            case .enqueue(let id, let needs):
                let runsOn = CodableJSON.encode(machine.row(of: id)?.instance.runsOn ?? [])
                try await connection.run(
                    """
                    INSERT INTO gantry_queue (instance, run, position, runs_on, needs, since)
                    VALUES (\(CodableJSON.encode(id)), \(run.value), nextval('gantry_queue_position'), \(runsOn), \(CodableJSON.encode(needs)), \(now))
                    ON CONFLICT (instance) DO UPDATE SET position = EXCLUDED.position, runs_on = EXCLUDED.runs_on, needs = EXCLUDED.needs,
                        since = EXCLUDED.since, worker = NULL, token = NULL, lease_ends = NULL, claimed = NULL
                    """, logger: logger)
            case .withdraw(let id):
                try await connection.run("DELETE FROM gantry_queue WHERE instance = \(CodableJSON.encode(id)) AND worker IS NULL", logger: logger)
            case .finished(let success):
                try await connection.run("UPDATE gantry_run SET finished = \(now), success = \(success) WHERE id = \(run.value)", logger: logger)
                try await connection.run("DELETE FROM gantry_queue WHERE run = \(run.value)", logger: logger)
            default: break
            }
        }
        if case .jobFinished(let id, _) = event {
            try await connection.run("DELETE FROM gantry_queue WHERE instance = \(CodableJSON.encode(id))", logger: logger)
        }
        // Delivered at commit, to every listening node (this one too).
        try await connection.run("SELECT pg_notify('gantry', \(run.value))", logger: logger)
    }

    /// Listens on `gantry` on a connection of its own, for as long as the store is open: each payload
    /// names a run that changed. After a reconnection every listener is woken (what changed meanwhile
    /// was not heard); every 5 s the node looks anyway.
    fileprivate func listen() {
        let client = self.client
        let logger = self.logger
        listenerTask = Task { [weak self] in
            let poll = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    self?.signalAll()
                }
            }
            defer { poll.cancel() }
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: "gantry") { notifications in
                            self?.reachable.store(true, ordering: .relaxed)
                            self?.signalAll()
                            for try await notification in notifications { self?.heard(RunID(notification.payload)) }
                        }
                    }
                } catch {
                    self?.reachable.store(false, ordering: .relaxed)
                    logger.debug("listen: \(error)")
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    nonisolated fileprivate func heard(_ run: RunID) {
        runListeners.withLock { $0[run] }?.signal()
        listeners.signal()
    }

    nonisolated fileprivate func signalAll() {
        for listeners in runListeners.withLock({ listeners in
            // Listeners whose streams all ended go.
            listeners = listeners.filter { $0.value.count > 0 }
            return Array(listeners.values)
        }) {
            listeners.signal()
        }
        listeners.signal()
    }

    // MARK: Queries

    func transaction<T: Sendable>(_ doing: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let (client, logger) = (self.client, self.logger)
        // Always the full deadline: a transaction may wait for another node's lock on the run, and
        // one abandoned early could still commit.
        return try await timed(doing, seconds: 10) {
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    func rows<Row: Sendable>(_ doing: String, _ query: PostgresQuery, as type: Row.Type) async throws -> [Row] where Row: PostgresDecodable {
        try await timed(doing) {
            let sequence = try await self.client.query(query, logger: self.logger)
            var out: [Row] = []
            for try await value in sequence.decode(Row.self) { out.append(value) }
            return out
        }
    }

    func rows<each Column: PostgresDecodable & Sendable>(_ doing: String, _ query: PostgresQuery, as type: (repeat each Column).Type) async throws -> [(repeat each Column)] {
        try await timed(doing) {
            var out: [(repeat each Column)] = []
            let sequence = try await self.client.query(query, logger: self.logger)
            for try await row in sequence { out.append(try row.decode((repeat each Column).self)) }
            return out
        }
    }

    func execute(_ doing: String, _ query: PostgresQuery) async throws {
        try await timed(doing) {
            let sequence = try await self.client.query(query, logger: self.logger)
            for try await _ in sequence {}
        }
    }

    /// Runs `body`, failing as unavailable after `seconds` (a pool waiting for a server that is gone
    /// would otherwise hold the caller).
    fileprivate func timed<T: Sendable>(_ doing: String, seconds: Double? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        // A server known to be gone is not waited for long.
        let seconds = seconds ?? (reachable.load(ordering: .relaxed) ? 10 : 2)
        do {
            // The body runs in a task of its own, and the caller stops waiting for it at the deadline
            // even if it never ends (a pool waiting for a server that is gone may not heed a cancel).
            let work = Task { try await body() }
            let value: T = try await withCheckedThrowingContinuation { continuation in
                let once = Once(continuation)
                let timer = Task {
                    try? await Task.sleep(for: .seconds(seconds))
                    guard !Task.isCancelled else { return }
                    work.cancel()
                    once.resume(.failure(RunStoreError("PostgreSQL did not answer within \(Int(seconds)) s (\(doing))", unavailable: true)))
                }
                Task {
                    let result = await work.result
                    timer.cancel()
                    once.resume(result)
                }
            }
            reachable.store(true, ordering: .relaxed)
            return value
        } catch {
            let wrapped = PostgresErrors.wrap(error, doing)
            if wrapped.unavailable { reachable.store(false, ordering: .relaxed) }
            throw wrapped
        }
    }
}

/// A continuation resumed by whichever answer comes first.
private final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(_ result: Result<T, any Error>) {
        continuation.withLock { held in
            defer { held = nil }
            return held
        }?.resume(with: result)
    }
}

extension PostgresConnection {
    /// Runs a statement and reads its whole answer, so that the connection's next statement never
    /// waits behind rows nobody read.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        let sequence = try await self.query(query, logger: logger)
        for try await _ in sequence {}
    }

    /// The first column of every row of `query`'s answer.
    func values<T: PostgresDecodable>(_ query: PostgresQuery, _ type: T.Type, logger: Logger) async throws -> [T] {
        let sequence = try await self.query(query, logger: logger)
        var out: [T] = []
        for try await value in sequence.decode(T.self) { out.append(value) }
        return out
    }
}
