public import WorkflowExecution
internal import GRDB
import WorkflowPlanning

/// The `RunStore` of one `gantry serve` node: SQLite in WAL mode (GRDB) under the service's data folder.
///
/// A run is its definition plus the log of every event its machine was fed, in order; its machine is
/// that log replayed (the machine is a value with no I/O, so the same events give the same state). Each
/// event is appended in the same transaction that changes the queue it implies, so what a caller was
/// told is stored when the call returns, and a process killed at any point loses nothing it accepted.
/// When the store opens, the claims of the process before it are given a lapsed lease: the service's
/// lease sweep concludes those jobs as lost runners, as GitHub does.
public actor SQLiteRunStore: RunStore {
    /// A run as the service lists it.
    public struct StoredRun: Sendable, Equatable {
        public var id: RunID
        /// What the service stored with the run (its own JSON: repository, event, commit…).
        public var record: String
        public var created: Double
        public var finished: Double?
        public var success: Bool?
    }

    /// A queued (unclaimed) instance and the labels it asks for.
    public struct QueuedJob: Sendable, Equatable {
        public var instance: InstanceID
        public var runsOn: [String]
        public var since: Double
    }

    private let database: DatabaseQueue
    /// The machines of unfinished runs; a finished run's is replayed from its log when asked for.
    private var machines: [RunID: RunStateMachine] = [:]
    private let listeners = WakeUps()

    /// Opens (or creates) `path`, replays every run's events and lapses the claims of earlier processes.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
                    CREATE TABLE run (
                        id TEXT PRIMARY KEY, created REAL NOT NULL, definition TEXT NOT NULL, record TEXT NOT NULL,
                        finished REAL, success INTEGER);
                    CREATE TABLE event (run TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, at REAL NOT NULL,
                        PRIMARY KEY (run, seq)) WITHOUT ROWID;
                    CREATE TABLE queue (
                        instance TEXT PRIMARY KEY, run TEXT NOT NULL, position INTEGER NOT NULL, runs_on TEXT NOT NULL,
                        needs TEXT NOT NULL, since REAL NOT NULL, worker TEXT, token INTEGER, lease_ends REAL);
                    CREATE INDEX queue_order ON queue (worker, position);
                    CREATE TABLE delivery (id TEXT PRIMARY KEY, runs TEXT NOT NULL, received REAL NOT NULL) WITHOUT ROWID;
                    CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                    """)
            }
            try migrator.migrate(database)
            let (loaded, _) = try database.write { db -> ([RunID: RunStateMachine], Int) in
                var machines: [RunID: RunStateMachine] = [:]
                for id in try String.fetchAll(db, sql: "SELECT id FROM run WHERE finished IS NULL") {
                    machines[RunID(id)] = try Self.replay(db, RunID(id))
                }
                // Claims held by an earlier process: nobody renews them any more.
                try db.execute(sql: "UPDATE queue SET lease_ends = 0 WHERE worker IS NOT NULL")
                return (machines, db.changesCount)
            }
            machines = loaded
        } catch {
            throw RunStoreError("cannot open the run store \(path): \(error)")
        }
    }

    // MARK: The service's side

    /// Stores new runs (each one's definition, the service's record and `.start`) and the delivery that
    /// brought them, in one transaction: the actions of each `.start`, or nil (nothing written) when the
    /// delivery was seen before.
    public func accept(_ runs: [(RunDefinition, record: String)], delivery: String?, now: Double) throws -> [[RunStateMachine.Action]]? {
        for (definition, _) in runs where machines[definition.run] != nil { throw RunStoreError("run \(definition.run) exists already") }
        var started: [(RunStateMachine, [RunStateMachine.Action])] = []
        for (definition, _) in runs {
            var machine = RunStateMachine(definition)
            let actions = machine.handle(.start)
            started.append((machine, actions))
        }
        let fresh = try write { db -> Bool in
            if let delivery {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO delivery (id, runs, received) VALUES (?, ?, ?)",
                    arguments: [delivery, CodableJSON.encode(runs.map(\.0.run)), now])
                if db.changesCount == 0 { return false }
            }
            for ((definition, record), (machine, actions)) in zip(runs, started) {
                try db.execute(
                    sql: "INSERT INTO run (id, created, definition, record) VALUES (?, ?, ?, ?)",
                    arguments: [definition.run.value, now, CodableJSON.encode(definition), record])
                try Self.append(db, definition.run, .start, actions, machine: machine, now: now)
            }
            return true
        }
        guard fresh else { return nil }
        for (machine, actions) in started {
            machines[machine.definition.run] = machine.isFinished ? nil : machine
            notifyIfQueued(actions)
        }
        return started.map(\.1)
    }

    /// The runs a delivery made, when it was seen before.
    public func delivery(_ id: String) throws -> [RunID]? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT runs FROM delivery WHERE id = ?", arguments: [id])
                .map { try CodableJSON.decode([RunID].self, from: $0) }
        }
    }

    /// The next value of a named counter (run ids, run numbers per workflow), starting at 1.
    public func next(_ counter: String) throws -> Int {
        try write { db in
            try db.execute(
                sql: "INSERT INTO counter (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
                arguments: [counter])
            return try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = ?", arguments: [counter]) ?? 1
        }
    }

    /// Runs newest first.
    public func runs(limit: Int = 100, unfinishedOnly: Bool = false) throws -> [StoredRun] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, record, created, finished, success FROM run \(unfinishedOnly ? "WHERE finished IS NULL" : "") ORDER BY created DESC, rowid DESC LIMIT ?",
                arguments: [limit]
            ).map(Self.storedRun)
        }
    }

    public func run(_ id: RunID) throws -> StoredRun? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, record, created, finished, success FROM run WHERE id = ?", arguments: [id.value]).map(Self.storedRun)
        }
    }

    /// Every queued instance no worker holds, oldest first.
    public func queuedJobs() throws -> [QueuedJob] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT instance, runs_on, since FROM queue WHERE worker IS NULL ORDER BY position").map { row in
                QueuedJob(
                    instance: try CodableJSON.decode(InstanceID.self, from: row["instance"]),
                    runsOn: try CodableJSON.decode([String].self, from: row["runs_on"]), since: row["since"])
            }
        }
    }

    // MARK: RunStore

    public func create(_ definition: RunDefinition) throws -> [RunStateMachine.Action] {
        try accept([(definition, record: "{}")], delivery: nil, now: HostProcess.wallClock())?.first ?? []
    }

    public func apply(_ run: RunID, _ event: RunStateMachine.Event) throws -> [RunStateMachine.Action] {
        guard var machine = machines[run] else { throw RunStoreError("no run \(run)") }
        let actions = machine.handle(event)
        try write { db in try Self.append(db, run, event, actions, machine: machine, now: HostProcess.wallClock()) }
        machines[run] = machine.isFinished ? nil : machine
        notifyIfQueued(actions)
        return actions
    }

    public func claim(worker: WorkerIdentity, run: RunID?, now: Double, lease: Double) throws -> JobClaim? {
        // The oldest queued instance this worker's labels cover (labels are matched here, not in SQL:
        // GitHub compares them ignoring case, and a job has few).
        let candidates = try read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT instance, runs_on, needs FROM queue WHERE worker IS NULL \(run == nil ? "" : "AND run = ?") ORDER BY position",
                arguments: run.map { [$0.value] } ?? [])
        }
        for row in candidates {
            let runsOn = try CodableJSON.decode([String].self, from: row["runs_on"])
            guard worker.accepts(runsOn) else { continue }
            let instance = try CodableJSON.decode(InstanceID.self, from: row["instance"])
            let needs = try CodableJSON.decode([NeedResult].self, from: row["needs"])
            guard var machine = machines[instance.run] else { continue }
            let actions = machine.handle(.claimed(instance))
            let claim = try write { db -> JobClaim in
                try db.execute(
                    sql: "INSERT INTO counter (name, value) VALUES ('claim', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1")
                let token = try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'claim'") ?? 1
                try db.execute(
                    sql: "UPDATE queue SET worker = ?, token = ?, lease_ends = ? WHERE instance = ?",
                    arguments: [worker.name, token, now + lease, CodableJSON.encode(instance)])
                try Self.append(db, instance.run, .claimed(instance), actions, machine: machine, now: now)
                return JobClaim(instance: instance, needs: needs, worker: worker.name, token: token, leaseEnds: now + lease)
            }
            machines[instance.run] = machine
            return claim
        }
        return nil
    }

    public func renew(_ claim: JobClaim, now: Double, lease: Double) throws -> Bool {
        try write { db in
            try db.execute(
                sql: "UPDATE queue SET lease_ends = ? WHERE instance = ? AND token = ? AND lease_ends >= ?",
                arguments: [now + lease, CodableJSON.encode(claim.instance), claim.token, now])
            return db.changesCount == 1
        }
    }

    public func complete(_ claim: JobClaim, _ outcome: JobOutcome) throws -> [RunStateMachine.Action] {
        let held = try read { db in
            try Int.fetchOne(
                db, sql: "SELECT token FROM queue WHERE instance = ?", arguments: [CodableJSON.encode(claim.instance)])
        }
        // A claim that lapsed was concluded as lost: its late outcome changes nothing.
        guard held == claim.token else { return [] }
        return try apply(claim.instance.run, .jobFinished(claim.instance, outcome))
    }

    public func expireLeases(now: Double) throws -> [(RunID, [RunStateMachine.Action])] {
        let lapsed = try read { db in
            try String.fetchAll(db, sql: "SELECT instance FROM queue WHERE worker IS NOT NULL AND lease_ends < ? ORDER BY token", arguments: [now])
        }
        var out: [(RunID, [RunStateMachine.Action])] = []
        for text in lapsed {
            let id = try CodableJSON.decode(InstanceID.self, from: text)
            try write { db in try db.execute(sql: "DELETE FROM queue WHERE instance = ?", arguments: [text]) }
            out.append((id.run, try apply(id.run, .leaseLost(id))))
        }
        return out
    }

    public func machine(_ run: RunID) -> RunStateMachine? {
        if let machine = machines[run] { return machine }
        return try? database.read { db in try Self.replay(db, run) }
    }

    /// A new listener is woken at once: it looks at the queue, whatever it holds.
    public nonisolated func wakeUps() -> AsyncStream<Void> { listeners.stream(now: true) }

    // MARK: Inside

    /// A run's machine: its definition fed every event of its log, in order; nil for an unknown run.
    private static func replay(_ db: Database, _ run: RunID) throws -> RunStateMachine? {
        guard let definition = try String.fetchOne(db, sql: "SELECT definition FROM run WHERE id = ?", arguments: [run.value]) else { return nil }
        var machine = RunStateMachine(try CodableJSON.decode(RunDefinition.self, from: definition))
        for text in try String.fetchAll(db, sql: "SELECT event FROM event WHERE run = ? ORDER BY seq", arguments: [run.value]) {
            _ = machine.handle(try CodableJSON.decode(RunStateMachine.Event.self, from: text))
        }
        return machine
    }

    /// Appends an event and makes the queue what its actions say, marking the run finished when it is.
    private static func append(
        _ db: Database, _ run: RunID, _ event: RunStateMachine.Event, _ actions: [RunStateMachine.Action], machine: RunStateMachine, now: Double
    ) throws {
        let seq = (try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM event WHERE run = ?", arguments: [run.value]) ?? 0) + 1
        try db.execute(
            sql: "INSERT INTO event (run, seq, event, at) VALUES (?, ?, ?, ?)", arguments: [run.value, seq, CodableJSON.encode(event), now])
        for action in actions {
            switch action {
            case .enqueue(let id, let needs):
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO queue (instance, run, position, runs_on, needs, since)
                        VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM queue), ?, ?, ?)
                        """,
                    arguments: [
                        CodableJSON.encode(id), run.value, CodableJSON.encode(machine.row(of: id)?.instance.runsOn ?? []),
                        CodableJSON.encode(needs), now,
                    ])
            case .withdraw(let id):
                try db.execute(sql: "DELETE FROM queue WHERE instance = ? AND worker IS NULL", arguments: [CodableJSON.encode(id)])
            case .finished(let success):
                try db.execute(sql: "UPDATE run SET finished = ?, success = ? WHERE id = ?", arguments: [now, success, run.value])
                try db.execute(sql: "DELETE FROM queue WHERE run = ?", arguments: [run.value])
            default: break
            }
        }
        if case .jobFinished(let id, _) = event {
            try db.execute(sql: "DELETE FROM queue WHERE instance = ?", arguments: [CodableJSON.encode(id)])
        }
    }

    private static func storedRun(_ row: Row) -> StoredRun {
        StoredRun(
            id: RunID(row["id"]), record: row["record"], created: row["created"], finished: row["finished"],
            success: (row["success"] as Int?).map { $0 != 0 })
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let error as RunStoreError {
            throw error
        } catch {
            throw RunStoreError("the run store could not be written: \(error)")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch {
            throw RunStoreError("the run store could not be read: \(error)")
        }
    }

    private func notifyIfQueued(_ actions: [RunStateMachine.Action]) {
        guard actions.contains(where: { if case .enqueue = $0 { true } else { false } }) else { return }
        listeners.signal()
    }
}
