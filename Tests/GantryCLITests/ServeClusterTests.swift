import Foundation
import Testing
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Several `gantry serve` processes on one real PostgreSQL server (`--store postgres://…`) and one
/// shared folder: deliveries to any node, each job run once by one node, results, outputs, artifacts
/// and logs across nodes, a node killed with SIGKILL, PostgreSQL stopped under load, and a schedule
/// that fires once for the whole cluster.
@Suite(.serialized, .ownThread, .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ServeClusterTests {
    /// `build` on any node writes an output and an artifact; `test`, maybe on another node, reads both.
    static let workflow = """
        on: push
        jobs:
          build:
            runs-on: self-hosted
            outputs:
              node: ${{ steps.mark.outputs.node }}
            steps:
              - id: mark
                run: |
                  echo "node=$GANTRY_TEST_NODE" >> "$GITHUB_OUTPUT"
                  echo "build $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS"
                  mkdir -p out && echo "made by $GANTRY_TEST_NODE for $GITHUB_RUN_ID" > out/made.txt
              - uses: actions/upload-artifact@v4
                with:
                  name: made
                  path: out/made.txt
          test:
            needs: build
            runs-on: self-hosted
            steps:
              - uses: actions/download-artifact@v4
                with:
                  name: made
              - run: |
                  grep -q "for $GITHUB_RUN_ID" made.txt
                  echo "test $GITHUB_RUN_ID $GANTRY_TEST_NODE after ${{ needs.build.outputs.node }} read $(cat made.txt)" >> "$GANTRY_TEST_MARKS"
        """

    /// A cluster: the database, the repository, the shared folder and the marks file the jobs write.
    final class Cluster {
        let server: PostgresServer
        let fixture: ServeFixture
        var shared: String { fixture.root.path + "/shared" }
        var marks: String { fixture.root.path + "/marks" }

        init(workflow: String) throws {
            server = try PostgresServer()
            fixture = try ServeFixture(workflow: workflow)
            #expect(FileManager.default.createFile(atPath: marks, contents: nil))
        }

        /// Node `name`: its own data folder, the shared store and folder.
        /// Node `name`: its own data folder, the shared store and folder; leases of `lease` seconds.
        func node(_ name: String, _ extra: [String] = [], lease: Int = 2, environment: [String: String] = [:]) throws -> ServeProcess {
            var arguments = fixture.arguments(extra)
            arguments[arguments.firstIndex(of: "--data")! + 1] = fixture.root.path + "/data-" + name
            return try ServeProcess(
                arguments + ["--shared-dir", shared, "--lease", "\(lease)"],
                environment: [
                    "GANTRY_SERVE_STORE": server.url, "GANTRY_SERVE_NAME": name, "GANTRY_TEST_NODE": name, "GANTRY_TEST_MARKS": marks,
                ].merging(environment) { $1 })
        }

        func token() throws -> String {
            let made = try runCommand(RunCommandTests.gantry, ["serve", "token", "create", "tests", "--data", shared])
            guard made.status == 0 else { throw ServeError(made.stderr) }
            return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var markLines: [String] {
            ((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// Waits until `count` mark lines start with `prefix`, at most `timeout` seconds.
        func waitForMarks(_ prefix: String, count: Int = 1, timeout: Double = 30) {
            let deadline = Date().addingTimeInterval(timeout)
            while markLines.filter({ $0.hasPrefix(prefix) }).count < count, Date() < deadline { usleep(50_000) }
        }

        /// A step's script that marks the job, then waits for the test's release file (at most 30 s);
        /// indented for a `run: |` block nested as the cluster tests' workflows nest it.
        static func heldStep(_ mark: String) -> String {
            """
            echo "\(mark) $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS"
                      for i in $(seq 300); do [ -f "$GANTRY_TEST_MARKS.release" ] && exit 0; sleep 0.1; done
                      exit 1
            """
        }

        /// Waits until `count` runs have finished, as the database says.
        func waitForFinishedRuns(_ count: Int, timeout: Double = 300) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if Int(try server.sql("SELECT count(*) FROM gantry_run WHERE finished IS NOT NULL")) ?? 0 >= count { return }
                usleep(200_000)
            }
            throw ServeError(
                "\(try server.sql("SELECT count(*) FROM gantry_run WHERE finished IS NOT NULL")) of \(count) runs finished; unfinished: "
                    + (try server.sql("SELECT string_agg(id || ' seq ' || seq, ', ') FROM gantry_run WHERE finished IS NULL"))
                    + "; queue: " + (try server.sql("SELECT string_agg(instance || ' ' || COALESCE(worker, '-') || ' ' || COALESCE(lease_ends::text, '-'), ', ') FROM gantry_queue"))
                    + "; events: " + (try server.sql("SELECT string_agg(run || ':' || seq || ' ' || node || ' ' || left(event, 60), E'\\n' ORDER BY run, seq) FROM gantry_event WHERE run IN (SELECT id FROM gantry_run WHERE finished IS NULL)")))
        }
    }

    @Test func threeNodesRunThreeHundredDeliveriesEachJobOnceAcrossNodes() throws {
        let cluster = try Cluster(workflow: Self.workflow)
        let nodes = try ["a", "b", "c"].map { try cluster.node($0, ["--capacity", "3"]) }
        let token = try cluster.token()
        let push = cluster.fixture.push()
        var runs: [String] = []
        for i in 0..<300 {
            let answer = try nodes[i % 3].deliver("push", push, delivery: "d-\(i)", secret: cluster.fixture.secret)
            #expect(answer.status == 202)
            let ids = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["runs"] as? [String] ?? []
            runs += ids
        }
        // The same delivery at another node is the same run.
        let again = try nodes[2].deliver("push", push, delivery: "d-0", secret: cluster.fixture.secret)
        #expect((again.status, again.body) == (202, #"{"runs":["\#(runs[0])"],"duplicate":true}"#))
        #expect(Set(runs).count == 300)
        try cluster.waitForFinishedRuns(300)
        #expect(try cluster.server.sql("SELECT count(*) FROM gantry_run WHERE success") == "300")
        // Each of the 600 jobs was claimed once, in the database and in the jobs' own marks.
        #expect(try cluster.server.sql(#"SELECT count(*), count(DISTINCT event) FROM gantry_event WHERE event LIKE '{"claimed"%'"#) == "600|600")
        let lines = cluster.markLines
        #expect(lines.count == 600)
        let builds = lines.filter { $0.hasPrefix("build ") }.map { $0.split(separator: " ") }
        let tests = lines.filter { $0.hasPrefix("test ") }.map { $0.split(separator: " ") }
        #expect(Set(builds.map { String($0[1]) }) == Set(runs))
        #expect(Set(tests.map { String($0[1]) }) == Set(runs))
        // Every node ran jobs; outputs and artifacts crossed nodes (test read what build made elsewhere).
        #expect(Set(builds.map { String($0[2]) }) == ["a", "b", "c"])
        let crossed = tests.filter { $0[2] != $0[4] }
        #expect(!crossed.isEmpty)
        for test in tests { #expect(test[4] == test[8], "the output and the artifact name the same node: \(test)") }
        // A run's log, read at a node that ran none of its jobs.
        let sample = try #require(tests.first { $0[2] == $0[4] })
        let names = ["a", "b", "c"]
        let elsewhere = nodes[names.firstIndex { $0 != String(sample[2]) }!]
        let log = try elsewhere.request("GET", "/api/v1/runs/\(sample[1])/log", headers: ["Authorization": "Bearer \(token)"])
        #expect(log.status == 200)
        #expect(log.body.contains("Run actions/download-artifact@v4") || log.body.contains("download-artifact"))
        // Every node is listed, online.
        let runners = try nodes[0].request("GET", "/api/v1/runners", headers: ["Authorization": "Bearer \(token)"])
        let listed = (try JSONSerialization.jsonObject(with: Data(runners.body.utf8)) as? [String: Any])?["runners"] as? [[String: Any]] ?? []
        #expect(listed.map { $0["name"] as? String } == ["a", "b", "c"])
        #expect(listed.allSatisfy { $0["online"] as? Bool == true && $0["capacity"] as? Int == 3 })
        for node in nodes { #expect(node.stop() == 0) }
    }

    /// A job that waits for a file, on the node labelled `victim` only.
    static let holding = """
        on: push
        jobs:
          hold:
            runs-on: [self-hosted, victim]
            steps:
              - run: |
                  echo "hold $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS"
                  while [ ! -f "$GANTRY_TEST_MARKS.release" ]; do sleep 0.1; done
          free:
            runs-on: self-hosted
            steps:
              - run: echo "free $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS"
        """

    @Test func aKilledNodesJobIsConcludedAsLostAndItsQueuedWorkWaitsForItsReturn() throws {
        let cluster = try Cluster(workflow: Self.holding)
        let a = try cluster.node("a", ["--capacity", "2", "--labels", "self-hosted,linux"])
        var victim = try cluster.node("v", ["--capacity", "1", "--labels", "self-hosted,victim"])
        let token = try cluster.token()
        for i in 0..<3 {
            #expect(try a.deliver("push", cluster.fixture.push(), delivery: "k-\(i)", secret: cluster.fixture.secret).status == 202)
        }
        // The victim holds one `hold`; the others wait in the queue for its label.
        cluster.waitForMarks("hold ", timeout: 60)
        let held = try #require(cluster.markLines.first { $0.hasPrefix("hold ") }?.split(separator: " ")[1]).description
        kill(victim.process.processIdentifier, SIGKILL)
        _ = victim.waitForExit()
        // a concludes it as lost when its 2 s lease lapses; the run fails, its `free` job ran.
        let lost = try a.finishedRun(held, token: token, timeout: 60)
        #expect(lost["status"] as? String == "failure")
        let jobs = lost["jobs"] as? [[String: Any]] ?? []
        #expect(jobs.first { $0["id"] as? String == "hold" }?["status"] as? String == "failure")
        #expect(jobs.first { $0["id"] as? String == "free" }?["status"] as? String == "success")
        // The node that concluded it wrote GitHub's message into the run's log, in the shared folder.
        let runLog = (try? String(contentsOfFile: cluster.shared + "/runs/\(held)/log.txt", encoding: .utf8)) ?? ""
        #expect(runLog.contains("[hold] error: the runner lost communication with the server (its lease expired); the job's remaining steps did not run"))
        #expect(try cluster.server.sql("SELECT count(*) FROM gantry_queue WHERE worker IS NULL") == "2")
        // The victim comes back: the two queued `hold` jobs run on it, nothing was lost.
        #expect(FileManager.default.createFile(atPath: cluster.marks + ".release", contents: nil))
        victim = try cluster.node("v", ["--capacity", "1", "--labels", "self-hosted,victim"])
        try cluster.waitForFinishedRuns(3, timeout: 60)
        #expect(try cluster.server.sql("SELECT count(*) FROM gantry_run WHERE success") == "2")
        #expect(cluster.markLines.filter { $0.hasPrefix("hold ") }.count == 3)
        #expect(cluster.markLines.filter { $0.hasPrefix("free ") }.count == 3)
        #expect(a.stop() == 0)
        #expect(victim.stop() == 0)
    }

    /// Three jobs in a chain, each a second long: a node killed mid-run holds some of them.
    static let chain = """
        on: push
        jobs:
          one:
            runs-on: self-hosted
            steps:
              - run: echo "one $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS" && sleep 1
          two:
            needs: one
            runs-on: self-hosted
            steps:
              - run: echo "two $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS" && sleep 1
          three:
            needs: two
            runs-on: self-hosted
            steps:
              - run: echo "three $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS" && sleep 1
        """

    /// Nodes killed with SIGKILL one after another while they hold jobs, then the whole cluster killed
    /// and started again: every run ends, the jobs the dead held are concluded as lost (and only
    /// those), every job still queued runs, and no job runs twice.
    @Test func nodesKilledAgainAndAgainAndTheWholeClusterRestartedLoseNothingQueued() throws {
        let cluster = try Cluster(workflow: Self.chain)
        let names = ["a", "b", "c"]
        var nodes = try names.map { try cluster.node($0, ["--capacity", "2"]) }
        let token = try cluster.token()
        for i in 0..<30 {
            #expect(try nodes[i % 3].deliver("push", cluster.fixture.push(), delivery: "r-\(i)", secret: cluster.fixture.secret).status == 202)
        }
        /// Waits until `name` holds a claimed job (true), or 30 s pass.
        func holding(_ name: String) throws -> Bool {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if try cluster.server.sql("SELECT count(*) FROM gantry_queue WHERE worker = '\(name)'") != "0" { return true }
                usleep(20_000)
            }
            return false
        }
        var kills = 0
        var delivered = 30
        for round in 0..<3 {
            let victim = round % 3
            // Work for the victim to hold, delivered to it: in a full CI run the first 30 runs were all
            // done by the second round, and the victim had nothing to hold when it was killed.
            for j in 0..<3 {
                #expect(try nodes[victim].deliver("push", cluster.fixture.push(), delivery: "k-\(round)-\(j)", secret: cluster.fixture.secret).status == 202)
            }
            delivered += 3
            guard try holding(names[victim]) else { continue }
            kill(nodes[victim].process.processIdentifier, SIGKILL)
            nodes[victim].waitForExit()
            kills += 1
            usleep(500_000)
            nodes[victim] = try cluster.node(names[victim], ["--capacity", "2"])
        }
        #expect(kills == 3, "each victim held a job when it was killed")
        // The whole cluster, while jobs are claimed and others queued: 12 more runs make sure of it,
        // however far the others got.
        for i in 0..<12 {
            #expect(try nodes[i % 3].deliver("push", cluster.fixture.push(), delivery: "more-\(i)", secret: cluster.fixture.secret).status == 202)
        }
        delivered += 12
        var (queuedBefore, claimedBefore) = (0, 0)
        let loaded = Date().addingTimeInterval(10)
        repeat {
            queuedBefore = Int(try cluster.server.sql("SELECT count(*) FROM gantry_queue WHERE worker IS NULL")) ?? 0
            claimedBefore = Int(try cluster.server.sql("SELECT count(*) FROM gantry_queue WHERE worker IS NOT NULL")) ?? 0
        } while (queuedBefore == 0 || claimedBefore == 0) && Date() < loaded
        for node in nodes { kill(node.process.processIdentifier, SIGKILL) }
        for node in nodes { node.waitForExit() }
        let afterKill = try cluster.server.sql("SELECT count(*) FROM gantry_run WHERE finished IS NULL")
        nodes = try names.map { try cluster.node($0, ["--capacity", "2"]) }
        try cluster.waitForFinishedRuns(delivered, timeout: 180)
        // No job was claimed twice, and none ran twice.
        let claims = try cluster.server.sql(#"SELECT count(*) || '|' || count(DISTINCT event) FROM gantry_event WHERE event LIKE '{"claimed"%'"#)
        #expect(claims.split(separator: "|").first == claims.split(separator: "|").last)
        let ran = cluster.markLines.map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
        #expect(ran.count == Set(ran).count, "a job ran twice: \(ran)")
        // Every run ended: a run either succeeded with its three jobs, or failed because a job of it
        // was held by a killed node, which the log says; a failed job's dependents were skipped.
        var lostJobs = 0
        for i in 1...delivered {
            let run = try nodes[i % 3].finishedRun("\(i)", token: token)
            let jobs = Dictionary(uniqueKeysWithValues: (run["jobs"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0["status"] as? String ?? "") })
            let log = (try? String(contentsOfFile: cluster.shared + "/runs/\(i)/log.txt", encoding: .utf8)) ?? ""
            let lost = jobs.filter { job, _ in log.contains("[\(job)] error: the runner lost communication with the server") }.map(\.key)
            lostJobs += lost.count
            if run["status"] as? String == "success" {
                #expect(jobs == ["one": "success", "two": "success", "three": "success"])
                #expect(["one", "two", "three"].allSatisfy { ran.contains("\($0) \(i)") })
                #expect(lost.isEmpty)
            } else {
                #expect(lost.count == 1, "run \(i) failed without one lost job: \(jobs)\n\(log)")
                for job in lost { #expect(jobs[job] == "failure") }
            }
        }
        #expect(lostJobs >= kills + 1, "each kill lost the job the node held")
        #expect(queuedBefore > 0 && claimedBefore > 0 && afterKill != "0", "the whole cluster went down with work queued and claimed")
        for node in nodes { #expect(node.stop() == 0) }
    }

    /// Run 2 waits for a concurrency group's turn on node v, which dies: nothing of run 2 is queued or
    /// claimed, so no lease lapses and no node joins it for work. Once v's heartbeat is older than
    /// 10 s, node a takes the run over, waits for the turn itself and runs the job.
    @Test func aRunWaitingForAGroupOnADeadNodeIsTakenOverByAnother() throws {
        let cluster = try Cluster(workflow: """
            on: push
            jobs:
              one:
                runs-on: [self-hosted, a]
                concurrency: only-one
                steps:
                  - run: |
                      \(Cluster.heldStep("one"))
            """)
        let a = try cluster.node("a", ["--capacity", "2", "--labels", "self-hosted,a"])
        let v = try cluster.node("v", ["--capacity", "2", "--labels", "self-hosted,v"])
        let token = try cluster.token()
        #expect(try a.deliver("push", cluster.fixture.push(), delivery: "o-1", secret: cluster.fixture.secret).status == 202)
        cluster.waitForMarks("one 1 ")
        // v takes run 2's delivery, enters the group behind run 1, and dies waiting for its turn.
        #expect(try v.deliver("push", cluster.fixture.push(), delivery: "o-2", secret: cluster.fixture.secret).status == 202)
        usleep(500_000)
        #expect(try cluster.server.sql("SELECT count(*) FROM gantry_queue WHERE run = '2'") == "0")
        kill(v.process.processIdentifier, SIGKILL)
        v.waitForExit()
        #expect(FileManager.default.createFile(atPath: cluster.marks + ".release", contents: nil))
        #expect(try a.finishedRun("1", token: token, timeout: 60)["status"] as? String == "success")
        #expect(try a.finishedRun("2", token: token, timeout: 60)["status"] as? String == "success")
        #expect(cluster.markLines == ["one 1 a", "one 2 a"])
        // The takeover is an event of a's in run 2's log.
        #expect(try cluster.server.sql(#"SELECT string_agg(node, ',' ORDER BY seq) FROM gantry_event WHERE run = '2' AND event LIKE '{"resumed"%'"#) == "a")
        #expect(a.log.contains { $0.contains(#""message":"run taken over from a node that stopped""#) && $0.contains(#""run":"2""#) })
        #expect(a.stop() == 0)
    }

    @Test func postgresStoppedUnderLoadAnswers503AndNothingAcceptedIsLost() throws {
        let cluster = try Cluster(workflow: Self.chain)
        // The outage outlasts the 2 s leases: a job that ends meanwhile keeps its result, renews its
        // lapsed lease when the store is back, and nobody concludes it as lost.
        let a = try cluster.node("a", ["--capacity", "2"], lease: 2)
        let b = try cluster.node("b", ["--capacity", "2"], lease: 2)
        let token = try cluster.token()
        for i in 0..<10 {
            #expect(try [a, b][i % 2].deliver("push", cluster.fixture.push(), delivery: "s-\(i)", secret: cluster.fixture.secret).status == 202)
        }
        // Stopped while a node holds a job.
        let deadline = Date().addingTimeInterval(10)
        var held = "0"
        while held == "0", Date() < deadline { held = try cluster.server.sql("SELECT count(*) FROM gantry_queue WHERE worker IS NOT NULL") }
        #expect(held != "0")
        try cluster.server.stop()
        let refused = try a.deliver("push", cluster.fixture.push(), delivery: "s-down", secret: cluster.fixture.secret)
        #expect(refused.status == 503)
        #expect(refused.body.hasPrefix(#"{"error":"the run store is unavailable; deliver again later"#))
        let ready = try b.request("GET", "/ready")
        #expect((ready.status, ready.body) == (503, #"{"status":"unavailable","reason":"PostgreSQL does not answer"}"#))
        #expect(try b.request("GET", "/api/v1/runs", headers: ["Authorization": "Bearer \(token)"]).status == 503)
        sleep(4)
        try cluster.server.start()
        // The forge delivers again; everything accepted before finishes.
        var answer = ServeAnswer(status: 0, body: "")
        let redelivered = Date().addingTimeInterval(30)
        repeat {
            answer = try a.deliver("push", cluster.fixture.push(), delivery: "s-down", secret: cluster.fixture.secret)
            if answer.status != 202 { usleep(200_000) }
        } while answer.status != 202 && Date() < redelivered
        #expect(answer.status == 202)
        #expect(try b.request("GET", "/ready").status == 200)
        try cluster.waitForFinishedRuns(11, timeout: 120)
        let failed = try cluster.server.sql(
            "SELECT string_agg(run || ':' || seq || ' ' || node || ' ' || at || ' ' || left(event, 90), E'\\n' ORDER BY run, seq) FROM gantry_event WHERE run IN (SELECT id FROM gantry_run WHERE NOT success)")
        #expect(try cluster.server.sql("SELECT count(*) FROM gantry_run WHERE success") == "11", "failed runs' events:\n\(failed)")
        #expect(cluster.markLines.filter { $0.hasPrefix("three ") }.count == 11)
        #expect(a.stop() == 0)
        #expect(b.stop() == 0)
    }

    /// A job's group is entered by the node that made the job ready (here a, which took the delivery)
    /// and released when the job finishes, wherever it ran (here on b, by its labels): the next run's
    /// job gets the group while the first run still runs its second job.
    @Test func aConcurrencyGroupIsReleasedWhenAnotherNodeFinishesItsJob() throws {
        let cluster = try Cluster(workflow: """
            on: push
            jobs:
              one:
                runs-on: [self-hosted, b]
                concurrency: only-one
                steps:
                  - run: echo "one $GITHUB_RUN_ID $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS"
              two:
                needs: one
                runs-on: [self-hosted, a]
                steps:
                  - run: |
                      \(Cluster.heldStep("two"))
            """)
        let a = try cluster.node("a", ["--capacity", "2", "--labels", "self-hosted,a"])
        let b = try cluster.node("b", ["--capacity", "2", "--labels", "self-hosted,b"])
        let token = try cluster.token()
        #expect(try a.deliver("push", cluster.fixture.push(), delivery: "g-1", secret: cluster.fixture.secret).status == 202)
        cluster.waitForMarks("two ")
        // Run 1 holds its second job; run 2's first job takes the group b's end of run 1's released.
        #expect(try a.deliver("push", cluster.fixture.push(), delivery: "g-2", secret: cluster.fixture.secret).status == 202)
        cluster.waitForMarks("one ", count: 2, timeout: 20)
        #expect(cluster.markLines.filter { $0.hasPrefix("one ") }.count == 2, "run 2 waited for a group nobody holds: \(cluster.markLines)")
        #expect(FileManager.default.createFile(atPath: cluster.marks + ".release", contents: nil))
        for id in ["1", "2"] { #expect(try a.finishedRun(id, token: token, timeout: 60)["status"] as? String == "success") }
        #expect(cluster.markLines.filter { $0.hasPrefix("one ") }.allSatisfy { $0.hasSuffix(" b") })
        #expect(a.stop() == 0)
        #expect(b.stop() == 0)
    }

    /// actions/cache saved by a job on node a is restored by the next job on node b: the packs are in
    /// the shared folder, the index in PostgreSQL (no `index.sqlite`), and `gantry cache ls --store`
    /// lists the entry from outside the nodes.
    @Test func theCacheOneNodeSavesIsRestoredOnAnother() throws {
        let cluster = try Cluster(workflow: """
            on: push
            jobs:
              save:
                runs-on: [self-hosted, a]
                steps:
                  - uses: actions/cache@v4
                    with:
                      path: deps
                      key: deps-${{ github.sha }}
                  - run: mkdir -p deps && echo "built on $GANTRY_TEST_NODE in $GITHUB_RUN_ID" > deps/lib.txt
              restore:
                needs: save
                runs-on: [self-hosted, b]
                steps:
                  - id: c
                    uses: actions/cache@v4
                    with:
                      path: deps
                      key: deps-${{ github.sha }}
                  - run: echo "restore $RUNNER_NAME ${{ runner.name }} hit=${{ steps.c.outputs.cache-hit }} $(cat deps/lib.txt)" >> "$GANTRY_TEST_MARKS"
            """)
        let a = try cluster.node("a", ["--capacity", "1", "--labels", "self-hosted,a"])
        let b = try cluster.node("b", ["--capacity", "1", "--labels", "self-hosted,b"])
        let token = try cluster.token()
        #expect(try a.deliver("push", cluster.fixture.push(), delivery: "c-1", secret: cluster.fixture.secret).status == 202)
        #expect(try b.finishedRun("1", token: token, timeout: 60)["status"] as? String == "success")
        #expect(cluster.markLines == ["restore b b hit=true built on a in 1"])
        #expect(!FileManager.default.fileExists(atPath: cluster.shared + "/cache/index.sqlite"))
        let listed = try runCommand(
            RunCommandTests.gantry, ["cache", "ls", "--cache-dir", cluster.shared + "/cache", "--store", cluster.server.url, "--format", "json"])
        #expect(listed.status == 0)
        let entries = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(entries.count == 1)
        #expect((entries.first?["key"] as? String)?.hasPrefix("deps-") == true)
        #expect(entries.first?["files"] as? Int == 1)
        #expect(a.stop() == 0)
        #expect(b.stop() == 0)
    }

    /// Cancel-in-progress, a cancel through the API and a re-run, each at a node other than the one
    /// running the job: run 1 (accepted at a, its job on b) is cancelled by run 2's arrival at a; run 2
    /// is cancelled through b's API; run 1 is re-run through c's API and succeeds on b as attempt 2.
    @Test func cancelInProgressCancelsAndReRunsCrossNodes() throws {
        let cluster = try Cluster(workflow: """
            on: push
            concurrency:
              group: deploy
              cancel-in-progress: true
            jobs:
              slow:
                runs-on: [self-hosted, b]
                steps:
                  - run: |
                      echo "slow $GITHUB_RUN_ID $GITHUB_RUN_ATTEMPT $GANTRY_TEST_NODE" >> "$GANTRY_TEST_MARKS"
                      [ "$GITHUB_RUN_ATTEMPT" = 2 ] && exit 0
                      sleep 60
            """)
        let a = try cluster.node("a", ["--capacity", "2", "--labels", "self-hosted,a"])
        let b = try cluster.node("b", ["--capacity", "2", "--labels", "self-hosted,b"])
        let c = try cluster.node("c", ["--capacity", "2", "--labels", "self-hosted,c"])
        let token = try cluster.token()
        let auth = ["Authorization": "Bearer \(token)"]
        #expect(try a.deliver("push", cluster.fixture.push(), delivery: "x-1", secret: cluster.fixture.secret).status == 202)
        cluster.waitForMarks("slow 1 ")
        #expect(try a.deliver("push", cluster.fixture.push(), delivery: "x-2", secret: cluster.fixture.secret).status == 202)
        // As on one node: the run fails, its job is cancelled, and the log says why.
        let first = try c.finishedRun("1", token: token, timeout: 60)
        #expect(first["status"] as? String == "failure")
        #expect(((first["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["cancelled"])
        let log = (try? String(contentsOfFile: cluster.shared + "/runs/1/log.txt", encoding: .utf8)) ?? ""
        #expect(log.contains("[gantry] cancelling .github/workflows/ci.yml: a newer run of concurrency group 'deploy' has cancel-in-progress"), "\(log)")
        cluster.waitForMarks("slow 2 ")
        #expect(try b.request("POST", "/api/v1/runs/2/cancel", headers: auth).status == 202)
        let second = try a.finishedRun("2", token: token, timeout: 60)
        #expect(((second["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["cancelled"])
        let again = try c.request("POST", "/api/v1/runs/1/rerun", headers: auth)
        #expect((again.status, again.body) == (201, #"{"runs":["3"]}"#))
        let rerun = try a.finishedRun("3", token: token, timeout: 60)
        #expect(rerun["status"] as? String == "success")
        #expect(rerun["attempt"] as? Int == 2)
        #expect(cluster.markLines == ["slow 1 1 b", "slow 2 1 b", "slow 1 2 b"])
        for node in [a, b, c] { #expect(node.stop() == 0) }
    }

    @Test func aScheduleFiresOnceAcrossThreeNodes() throws {
        let cluster = try Cluster(workflow: """
            on:
              schedule:
                - cron: '* * * * *'
            jobs:
              tick:
                runs-on: self-hosted
                steps:
                  - run: echo "tick $GITHUB_RUN_ID $GANTRY_TEST_NODE $GITHUB_RUN_NUMBER" >> "$GANTRY_TEST_MARKS"
            """)
        // Ten seconds before 2026, 30 times as fast: a minute every two seconds; one anchor, so the
        // nodes tick together as nodes on real clocks do.
        let clock = ["GANTRY_SERVE_SCHEDULE_CLOCK": "\(ServeIntakeTests.newYear - 10)x30@\(Date().timeIntervalSince1970 + 1)"]
        let nodes = try ["a", "b", "c"].map { try cluster.node($0, environment: clock) }
        try cluster.waitForFinishedRuns(3, timeout: 60)
        for node in nodes { #expect(node.stop() == 0) }
        // One run per minute, whichever node's clock ticked first.
        let minutes = try cluster.server.sql("SELECT count(*), count(DISTINCT id) FROM gantry_delivery WHERE id LIKE 'schedule/%'")
        let runs = try cluster.server.sql("SELECT count(*) FROM gantry_run")
        #expect(minutes.split(separator: "|").first.map(String.init) == runs)
        #expect(minutes.split(separator: "|").map(String.init).allSatisfy { $0 == runs })
        #expect(cluster.markLines.count == Int(runs))
        // Run numbers count up by one, as on GitHub: the nodes that are not first wait before they
        // tick, find the minute taken, and take no number.
        let numbers = cluster.markLines.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.sorted()
        #expect(numbers == Array(1...max(1, numbers.count)), "\(cluster.markLines)")
    }
}
