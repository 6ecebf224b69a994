internal import Logging
internal import PostgresNIO
public import WorkflowExecution

/// What the nodes of a cluster know of each other: the registry of their heartbeats, the runs with
/// work for a node's labels, and the runs nobody alive drives any more.
extension PostgresRunStore {
    public func heartbeat(_ node: Node) async throws { _ = try await heartbeat(node, alone: 0) }

    /// Records this node's heartbeat and tells whether any other node's is more recent than `window`
    /// seconds, under a lock, so that of nodes starting together one finds itself alone.
    public func heartbeat(_ node: Node, alone window: Double) async throws -> Bool {
        let logger = self.logger
        return try await transaction("record a heartbeat") { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey + 1))", logger: logger)
            let others = try await connection.values(
                "SELECT count(*) FROM gantry_node WHERE name <> \(node.name) AND seen > \(node.seen - window)", Int.self, logger: logger
            ).first ?? 0
            try await connection.run(
                """
                INSERT INTO gantry_node (name, labels, capacity, busy, draining, started, seen)
                VALUES (\(node.name), \(CodableJSON.encode(node.labels)), \(node.capacity), \(node.busy), \(node.draining), \(node.started), \(node.seen))
                ON CONFLICT (name) DO UPDATE SET labels = EXCLUDED.labels, capacity = EXCLUDED.capacity, busy = EXCLUDED.busy,
                    draining = EXCLUDED.draining, started = EXCLUDED.started, seen = EXCLUDED.seen
                """, logger: logger)
            return others == 0
        }
    }

    /// Every node that ever registered, by name.
    public func nodes() async throws -> [Node] {
        try await rows(
            "read the nodes", "SELECT name, labels, capacity, busy, draining, started, seen FROM gantry_node ORDER BY name",
            as: (String, String, Int, Int, Bool, Double, Double).self
        ).map { Node(name: $0.0, labels: try CodableJSON.decode([String]?.self, from: $0.1), capacity: $0.2, busy: $0.3, draining: $0.4, started: $0.5, seen: $0.6) }
    }

    /// Each unfinished run with an instance queued that `worker` can take.
    public func runsWithWork(for worker: WorkerIdentity) async throws -> [RunID] {
        var seen = Set<RunID>()
        var out: [RunID] = []
        for (instance, runsOn, _) in try await queuedJobs() where worker.accepts(runsOn) && seen.insert(instance.run).inserted {
            out.append(instance.run)
        }
        return out
    }

    /// Runs that only dead node processes drove, continued by this node: unfinished, nothing of theirs
    /// queued or claimed (so no lease lapses and no node joins them for work), and no event of theirs
    /// written by a node process alive now (seen within `window` seconds and started before the event).
    /// Such a run waits for something a dead node was doing: a concurrency group's turn, a run-time
    /// matrix being computed. Each is taken over in a transaction that checks this again under the
    /// run's lock and applies `.resumed` as this node, so one node takes it, once; the actions are
    /// what the machine asks again (enter the groups, compute the matrices).
    public func adoptOrphans(window: Double, now: Double) async throws -> [(RunID, [RunStateMachine.Action])] {
        let orphaned = Self.orphaned(window: window, now: now)
        let candidates = try await rows(
            "find runs nobody drives",
            PostgresQuery(unsafeSQL: "SELECT r.id FROM gantry_run r WHERE r.finished IS NULL AND " + orphaned + " ORDER BY r.ord LIMIT 20"),
            as: String.self)
        var adopted: [(RunID, [RunStateMachine.Action])] = []
        for text in candidates {
            let run = RunID(text)
            let (node, logger, cached) = (self.node, self.logger, cachedMachine(run))
            let taken: ([RunStateMachine.Action], (RunStateMachine, Int))? = try await transaction("continue a run nobody drives") { connection in
                var (machine, seq) = try await Self.locked(connection, run, cached: cached, logger: logger)
                let still = try await connection.values(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM gantry_run r WHERE r.id = $1 AND r.finished IS NULL AND " + orphaned, binds: {
                        var binds = PostgresBindings()
                        binds.append(text)
                        return binds
                    }()), Int.self, logger: logger
                ).first ?? 0
                guard still == 1 else { return nil }
                let actions = machine.handle(.resumed)
                try await Self.append(connection, run, .resumed, actions, machine: machine, seq: seq, node: node, now: now, logger: logger)
                return (actions, (machine, seq + 1))
            }
            if let (actions, machine) = taken {
                keep(machine)
                adopted.append((run, actions))
            }
        }
        return adopted
    }

    /// The condition on `gantry_run r` that no live node process drives it.
    private static func orphaned(window: Double, now: Double) -> String {
        """
        NOT EXISTS (SELECT 1 FROM gantry_queue q WHERE q.run = r.id)
        AND NOT EXISTS (SELECT 1 FROM gantry_event e JOIN gantry_node n ON n.name = e.node
                        WHERE e.run = r.id AND n.seen >= \(now - window) AND e.at >= n.started)
        """
    }
}
