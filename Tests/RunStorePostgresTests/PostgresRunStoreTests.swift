import Foundation
import RunStorePostgres
import Testing
import WorkflowExecution
import WorkflowExpressions
import WorkflowPlanning
import _GantryTestSupport

/// Several stores on one real PostgreSQL server are several nodes: what one writes the others read, a
/// job is claimed once whichever node asks, a lapsed lease is concluded by one node, a delivery counts
/// once, and the schema is migrated once and refused when it is newer than the build.
@Suite(.serialized, .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct PostgresRunStoreTests {
    static func instance(_ id: String, runsOn: [String]) -> JobInstance {
        JobInstance(
            id: id, job: id, name: id, matrix: [], matrixAtRunTime: false, needs: [], runsOn: runsOn,
            backend: "host", container: nil, services: [], condition: nil, concurrencyGroup: nil,
            cancelInProgress: nil, timeoutMinutes: "360", continueOnError: nil, uses: nil, failFast: nil, maxParallel: nil)
    }

    /// Jobs by id with what they need and the labels they ask for.
    static func definition(_ jobs: [(String, [String], [String])], run: RunID) -> RunDefinition {
        let entries = jobs.map { id, needs, runsOn in
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: id), needs: needs.map { .init(name: $0, job: JobKey(workflow: 0, id: $0)) },
                rows: [RunDefinition.Row(index: 0, instance: instance(id, runsOn: runsOn))])
        }
        let contexts = ExpressionObject([("github", .object([("sha", .string("abc"))]))])
        return RunDefinition(run: run, workflows: [.init(file: "w.yml", name: "w", contexts: contexts)], jobs: entries)
    }

    static func key(_ id: String, run: RunID) -> InstanceID { InstanceID(run: run, job: JobKey(workflow: 0, id: id)) }

    static func location(_ server: PostgresServer) throws -> PostgresLocation { try PostgresLocation.parse(server.url).get() }

    @Test func urlsAreReadAndTheirPasswordsNeverShown() throws {
        let full = try PostgresLocation.parse("postgres://ci:s%40cret@db.internal:6543/gantry?sslmode=require").get()
        #expect(full == PostgresLocation(host: "db.internal", port: 6543, user: "ci", password: "s@cret", database: "gantry", sslMode: "require"))
        #expect(full.description == "postgres://ci@db.internal:6543/gantry")
        let short = try PostgresLocation.parse("postgresql://127.0.0.1").get()
        #expect(short == PostgresLocation(host: "127.0.0.1", port: 5432, user: "postgres", password: nil, database: "postgres", sslMode: "disable"))
        let cases: [(String, String)] = [
            ("mysql://x", "--store mysql://x: a PostgreSQL store is a URL postgres://user:password@host:port/database"),
            ("postgres://u:pw@h:99999/d", "--store postgres://u:***@h:99999/d: the port is not a number from 1 to 65535"),
            ("postgres://h/d?sslmode=verify-full", "--store postgres://h/d?sslmode=verify-full: sslmode is disable, prefer or require"),
            ("postgres://h/d?timeout=3", "--store postgres://h/d?timeout=3: unknown setting 'timeout' (sslmode is the only one)"),
        ]
        for (text, message) in cases {
            guard case .failure(let error) = PostgresLocation.parse(text) else {
                Issue.record("\(text) was read")
                continue
            }
            #expect(error.description == message)
        }
    }

    @Test func theSchemaIsMigratedOnceAndANewerOneIsRefused() async throws {
        let server = try PostgresServer()
        // Three nodes start together: one migrates, the others wait for its lock and find it done.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in ["a", "b", "c"] {
                group.addTask { await try PostgresRunStore.open(Self.location(server), node: name).close() }
            }
            try await group.waitForAll()
        }
        #expect(try server.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM gantry_schema") == "1,2")
        _ = try server.sql("INSERT INTO gantry_schema VALUES (3, 0)")
        do {
            _ = try await PostgresRunStore.open(Self.location(server), node: "old")
            Issue.record("an older node started")
        } catch let error as RunStoreError {
            #expect(error.description == "the database's schema is version 3 and this gantry knows versions up to 2: upgrade this node")
            #expect(!error.unavailable)
        }
    }

    @Test func aServerThatIsNotThereIsUnavailableInOneLine() async throws {
        let location = try PostgresLocation.parse("postgres://gantry@127.0.0.1:\(freeLoopbackPort())/postgres").get()
        do {
            _ = try await PostgresRunStore.open(location, node: "a")
            Issue.record("opened a store with no server")
        } catch let error as RunStoreError {
            #expect(error.unavailable)
            #expect(error.description.hasPrefix("cannot reach PostgreSQL at \(location): PostgreSQL could not connect: "))
            #expect(!error.description.contains("\n"))
        }
    }

    /// 3 nodes claim 100 runs × 3 jobs at once: each job goes to exactly one node, each event log has
    /// one order, and every node reads the finished runs.
    @Test func threeNodesClaimEveryJobExactlyOnce() async throws {
        let server = try PostgresServer()
        let nodes = try await [
            PostgresRunStore.open(Self.location(server), node: "a"), PostgresRunStore.open(Self.location(server), node: "b"),
            PostgresRunStore.open(Self.location(server), node: "c"),
        ]
        let runs = (1...100).map { RunID("r\($0)") }
        for (i, run) in runs.enumerated() {
            let started = try await nodes[i % 3].accept(
                [(Self.definition([("x", [], []), ("y", [], []), ("z", ["x", "y"], [])], run: run), record: "{}")], delivery: "d\(i)", now: 1)
            #expect(started?.first?.filter { if case .enqueue = $0 { true } else { false } }.count == 2)
        }
        let claimed = try await withThrowingTaskGroup(of: [(String, InstanceID)].self) { group in
            for (n, node) in nodes.enumerated() {
                group.addTask {
                    var mine: [(String, InstanceID)] = []
                    let worker = WorkerIdentity(name: ["a", "b", "c"][n])
                    var idle = 0
                    while idle < 3 {
                        guard let claim = try await node.claim(worker: worker, run: nil, now: 10, lease: 600) else {
                            idle += 1
                            try await Task.sleep(for: .milliseconds(50))
                            continue
                        }
                        idle = 0
                        mine.append((worker.name, claim.instance))
                        _ = try await node.complete(claim, JobOutcome(result: .success))
                    }
                    return mine
                }
            }
            var all: [(String, InstanceID)] = []
            for try await mine in group { all += mine }
            return all
        }
        #expect(claimed.count == 300)
        #expect(Set(claimed.map(\.1)).count == 300)
        // Every node did some of the work.
        #expect(Set(claimed.map(\.0)) == ["a", "b", "c"])
        #expect(try server.sql("SELECT count(*) FROM gantry_run WHERE finished IS NOT NULL AND success") == "100")
        #expect(try server.sql("SELECT count(*) FROM gantry_queue") == "0")
        // start, 3 claims, 3 results: 7 events a run, numbered without a gap.
        #expect(try server.sql("SELECT count(*) FROM (SELECT run FROM gantry_event GROUP BY run HAVING max(seq) = 7 AND count(*) = 7) r") == "100")
        for node in nodes {
            let machine = try #require(try await node.machine(runs[41]))
            #expect(machine.succeeded == true)
            #expect(machine.result(of: Self.key("z", run: runs[41])) == .success)
            await node.close()
        }
    }

    @Test func aLapsedLeaseIsConcludedByOneNodeAndItsLateResultIsIgnored() async throws {
        let server = try PostgresServer()
        let a = try await PostgresRunStore.open(Self.location(server), node: "a")
        let b = try await PostgresRunStore.open(Self.location(server), node: "b")
        let c = try await PostgresRunStore.open(Self.location(server), node: "c")
        let run = RunID("lost")
        _ = try await a.accept([(Self.definition([("x", [], []), ("after", ["x"], [])], run: run), record: "{}")], delivery: nil, now: 1)
        let claim = try #require(try await a.claim(worker: WorkerIdentity(name: "a"), run: run, now: 10, lease: 5))
        #expect(try await a.renew(claim, now: 12, lease: 5))
        // b and c sweep together after the lease ended: one of them concludes it.
        async let fromB = b.expireLeases(now: 30)
        async let fromC = c.expireLeases(now: 30)
        let lapsed = try await fromB + fromC
        #expect(lapsed.count == 1)
        #expect(lapsed.first?.1.contains(.conclude(claim.instance, .failure)) == true)
        #expect(try await a.renew(claim, now: 31, lease: 5) == false)
        #expect(try await a.complete(claim, JobOutcome(result: .success)) == [])
        let machine = try #require(try await a.machine(run))
        #expect(machine.result(of: claim.instance) == .failure)
        #expect(machine.result(of: Self.key("after", run: run)) == .skipped)
        #expect(machine.succeeded == false)
        #expect(try server.sql("SELECT string_agg(node, ',' ORDER BY seq) FROM gantry_event WHERE run = 'lost'").split(separator: ",").first == "a")
    }

    @Test func aNodeThatStartsAgainLapsesOnlyItsOwnClaims() async throws {
        let server = try PostgresServer()
        let a = try await PostgresRunStore.open(Self.location(server), node: "a")
        let run = RunID("two")
        _ = try await a.accept([(Self.definition([("x", [], []), ("y", [], [])], run: run), record: "{}")], delivery: nil, now: 1)
        let now = Date().timeIntervalSince1970
        _ = try #require(try await a.claim(worker: WorkerIdentity(name: "a"), run: run, now: now, lease: 600))
        _ = try #require(try await a.claim(worker: WorkerIdentity(name: "b"), run: run, now: now, lease: 600))
        await a.close()
        let again = try await PostgresRunStore.open(Self.location(server), node: "a")
        let lapsed = try await again.expireLeases(now: now + 1)
        #expect(lapsed.map(\.0) == [run])
        #expect(try server.sql("SELECT worker FROM gantry_queue") == "b")
    }

    @Test func aDeliveryCountsOnceAcrossNodesAndCountersAreShared() async throws {
        let server = try PostgresServer()
        let a = try await PostgresRunStore.open(Self.location(server), node: "a")
        let b = try await PostgresRunStore.open(Self.location(server), node: "b")
        async let first = a.accept([(Self.definition([("x", [], [])], run: RunID("fromA")), record: "{}")], delivery: "same", now: 1)
        async let second = b.accept([(Self.definition([("x", [], [])], run: RunID("fromB")), record: "{}")], delivery: "same", now: 1)
        let answers = try await [first, second]
        #expect(answers.filter { $0 == nil }.count == 1)
        let winner = try #require(try await b.delivery("same"))
        #expect(winner == [answers[0] == nil ? RunID("fromB") : RunID("fromA")])
        #expect(try await a.runs(limit: 10, unfinishedOnly: false).map(\.id) == winner)
        var values: [Int] = []
        for node in [a, b, a, b] { values.append(try await node.next("run")) }
        #expect(values == [1, 2, 3, 4])
    }

    @Test func anotherNodesEventWakesThisNodesListenersOfThatRun() async throws {
        let server = try PostgresServer()
        let a = try await PostgresRunStore.open(Self.location(server), node: "a")
        let b = try await PostgresRunStore.open(Self.location(server), node: "b")
        let run = RunID("heard")
        let other = RunID("other")
        _ = try await a.accept([(Self.definition([("x", [], []), ("y", ["x"], [])], run: run), record: "{}")], delivery: nil, now: 1)
        _ = try await a.accept([(Self.definition([("x", [], [])], run: other), record: "{}")], delivery: nil, now: 1)
        var wakeUps = b.wakeUps(for: run).makeAsyncIterator()
        _ = await wakeUps.next()  // a new listener is woken at once
        let machineBefore = try #require(try await b.machine(run))
        #expect(machineBefore.phase(of: Self.key("x", run: run)) == .enqueued)
        let claim = try #require(try await a.claim(worker: WorkerIdentity(name: "a"), run: run, now: 1, lease: 600))
        _ = try await a.complete(claim, JobOutcome(result: .success))
        _ = await wakeUps.next()
        // b's cached machine catches up with the events a appended.
        let machine = try #require(try await b.machine(run))
        #expect(machine.result(of: Self.key("x", run: run)) == .success)
        #expect(machine.phase(of: Self.key("y", run: run)) == .enqueued)
        #expect(try await b.queuedJobs().map(\.instance) == [Self.key("x", run: other), Self.key("y", run: run)])
    }

    @Test func theRegistryListsEveryNodeWithItsLastHeartbeat() async throws {
        let server = try PostgresServer()
        let a = try await PostgresRunStore.open(Self.location(server), node: "a")
        try await a.heartbeat(.init(name: "a", labels: ["self-hosted", "linux"], capacity: 2, busy: 1, draining: false, started: 5, seen: 10))
        try await a.heartbeat(.init(name: "b", labels: nil, capacity: 4, busy: 0, draining: true, started: 6, seen: 11))
        try await a.heartbeat(.init(name: "a", labels: ["self-hosted", "linux"], capacity: 2, busy: 0, draining: false, started: 5, seen: 12))
        #expect(try await a.nodes() == [
            .init(name: "a", labels: ["self-hosted", "linux"], capacity: 2, busy: 0, draining: false, started: 5, seen: 12),
            .init(name: "b", labels: nil, capacity: 4, busy: 0, draining: true, started: 6, seen: 11),
        ])
    }

    @Test func aStoppedServerIsUnavailableAndTheStoreWorksWhenItReturns() async throws {
        let server = try PostgresServer()
        let a = try await PostgresRunStore.open(Self.location(server), node: "a")
        _ = try await a.accept([(Self.definition([("x", [], [])], run: RunID("before")), record: "{}")], delivery: "d1", now: 1)
        try server.stop()
        do {
            _ = try await a.accept([(Self.definition([("x", [], [])], run: RunID("during")), record: "{}")], delivery: "d2", now: 2)
            Issue.record("accepted with no server")
        } catch let error as RunStoreError {
            #expect(error.unavailable)
        }
        #expect(await a.ping() == false)
        #expect(a.isReachable == false)
        try server.start()
        #expect(await a.ping())
        // Nothing was half written: d2 is new, d1 is still known.
        #expect(try await a.delivery("d2") == nil)
        #expect(try await a.delivery("d1") == [RunID("before")])
        _ = try #require(try await a.accept([(Self.definition([("x", [], [])], run: RunID("during")), record: "{}")], delivery: "d2", now: 3))
        #expect(try await a.runs(limit: 10, unfinishedOnly: true).map(\.id) == [RunID("during"), RunID("before")])
    }
}
