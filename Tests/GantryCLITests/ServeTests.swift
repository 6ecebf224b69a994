import Foundation
import Testing
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `gantry serve` end to end: a real service process on 127.0.0.1, a real `git daemon`, signed
/// deliveries sent with curl.
@Suite(.serialized, .ownThread) struct ServeTests {
    static let workflow = """
        on: push
        jobs:
          build:
            runs-on: self-hosted
            outputs:
              v: ${{ steps.s.outputs.v }}
            steps:
              - uses: actions/checkout@v4
              - id: s
                run: |
                  echo "readme: $(cat README.md)"
                  echo "v=42" >> "$GITHUB_OUTPUT"
          test:
            needs: build
            runs-on: [self-hosted, Linux]
            steps:
              - run: echo "got ${{ needs.build.outputs.v }} on ${{ github.ref }} by ${{ github.actor }} with ${{ secrets.TOKEN }}"
          gpu:
            runs-on: [self-hosted, gpu]
            steps:
              - run: echo never here
        """

    @Test func aSignedPushRunsOnceAndBadDeliveriesAreRefusedWithNothingQueued() throws {
        let fixture = try ServeFixture(workflow: Self.workflow)
        let serve = try ServeProcess(fixture.arguments(["--capacity", "2"]))
        let token = try fixture.token()
        #expect(try serve.request("GET", "/health").body == #"{"status":"ok"}"#)
        #expect(try serve.request("GET", "/ready").body == #"{"status":"ready"}"#)

        // Refused: each with its status, a JSON error and nothing queued.
        let push = fixture.push()
        let unsigned = try serve.deliver("push", push, delivery: "bad-1", secret: nil)
        #expect((unsigned.status, unsigned.body) == (401, #"{"error":"the signature is missing or wrong"}"#))
        let forged = try serve.deliver("push", push, delivery: "bad-2", secret: "guess")
        #expect(forged.status == 401)
        let malformed = try serve.deliver("push", "{\"ref\": ", delivery: "bad-3", secret: fixture.secret)
        #expect(malformed.status == 400)
        #expect(malformed.body.hasPrefix(#"{"error":"the body is not JSON: "#))
        let form = try serve.deliver("push", push, delivery: "bad-4", secret: fixture.secret, contentType: "application/x-www-form-urlencoded")
        #expect((form.status, form.body) == (400, #"{"error":"the content type must be application/json (set it in the webhook's settings)"}"#))
        let stranger = try serve.deliver("push", push.replacingOccurrences(of: "octo/app", with: "octo/other"), delivery: "bad-5", secret: fixture.secret)
        #expect((stranger.status, stranger.body) == (404, #"{"error":"repository 'octo/other' is not configured here"}"#))
        let huge = fixture.root.path + "/huge.json"
        try Data(repeating: 32, count: 25 * 1024 * 1024 + 1).write(to: URL(fileURLWithPath: huge))
        let tooLarge = try serve.request(
            "POST", "/webhooks/github", headers: ["Content-Type": "application/json", "X-GitHub-Event": "push"], bodyFile: huge)
        #expect((tooLarge.status, tooLarge.body) == (413, #"{"error":"the body is larger than 26214400 bytes"}"#))
        let noEvent = try serve.request("POST", "/webhooks/github", headers: ["Content-Type": "application/json"], body: Data("{}".utf8))
        #expect(noEvent.status == 401)
        // Accepted without a run.
        let ping = try serve.deliver("ping", #"{"zen":"Keep it logically awesome.","hook_id":1}"#, delivery: "p-1", secret: fixture.secret)
        #expect((ping.status, ping.body) == (202, #"{"ignored":"ping"}"#))
        let deleted = try serve.deliver("push", fixture.push(ref: "refs/heads/gone", deleted: true), delivery: "del-1", secret: fixture.secret)
        #expect((deleted.status, deleted.body) == (202, #"{"ignored":"refs/heads/gone was deleted"}"#))
        let issue = try serve.deliver("issues", #"{"action":"opened"}"#, delivery: "i-1", secret: fixture.secret)
        #expect((issue.status, issue.body) == (202, #"{"ignored":"event 'issues' does not start runs"}"#))
        #expect(try serve.request("GET", "/api/v1/runs", headers: ["Authorization": "Bearer \(token)"]).body == #"{"runs":[]}"#)

        // The run: stored before the answer, redelivery gives the same run.
        let accepted = try serve.deliver("push", push, delivery: "good-1", secret: fixture.secret)
        #expect((accepted.status, accepted.body) == (202, #"{"runs":["1"],"duplicate":false}"#))
        let again = try serve.deliver("push", push, delivery: "good-1", secret: fixture.secret)
        #expect((again.status, again.body) == (202, #"{"runs":["1"],"duplicate":true}"#))

        // build and test finish; gpu waits for a runner with its labels and blocks nothing.
        let deadline = Date().addingTimeInterval(60)
        var jobs: [String: String] = [:]
        while Date() < deadline {
            let run = try JSONSerialization.jsonObject(
                with: Data(try serve.request("GET", "/api/v1/runs/1", headers: ["Authorization": "Bearer \(token)"]).body.utf8)) as? [String: Any]
            jobs = Dictionary(uniqueKeysWithValues: ((run?["jobs"] as? [[String: Any]]) ?? []).map { ($0["id"] as! String, $0["status"] as! String) })
            if jobs["test"] == "success" { break }
            usleep(50_000)
        }
        #expect(jobs == ["build": "success", "test": "success", "gpu": "queued"])
        // The queued job says what it waits for.
        let detail = try serve.request("GET", "/api/v1/runs/1", headers: ["Authorization": "Bearer \(token)"]).body
        #expect(detail.contains(#""id":"gpu","job":"gpu","status":"queued","runs_on":["self-hosted","gpu"],"waiting_for":"a runner with the labels [gpu, self-hosted] (this one has [self-hosted, linux, x64])""#))
        let log = try String(contentsOfFile: fixture.data + "/runs/1/log.txt", encoding: .utf8)
        #expect(log.contains("[build] readme: hello\n"))
        #expect(log.contains("[test] got 42 on refs/heads/main by mona with ***\n"))
        #expect(!log.contains("hunter2"))

        let metrics = try serve.request("GET", "/metrics").body
        #expect(metrics.contains(#"gantry_webhook_deliveries_total{result="accepted"} 1"#))
        #expect(metrics.contains(#"gantry_webhook_deliveries_total{result="duplicate"} 1"#))
        #expect(metrics.contains(#"gantry_webhook_deliveries_total{result="unauthorized"} 3"#))
        #expect(metrics.contains(#"gantry_webhook_deliveries_total{result="ignored"} 3"#))
        #expect(metrics.contains(#"gantry_queue_depth{labels="gpu,self-hosted"} 1.0"#))
        #expect(metrics.contains("gantry_runner_capacity 2.0"))
        #expect(!metrics.contains("hunter2"))

        let runners = try serve.request("GET", "/api/v1/runners", headers: ["Authorization": "Bearer \(token)"])
        #expect(runners.body.contains(#""labels":["self-hosted","linux","x64"],"capacity":2,"busy":0,"draining":false"#))
        #expect(try serve.request("GET", "/api/v1/runs").status == 401)
        #expect(try serve.request("GET", "/api/v1/runs", headers: ["Authorization": "Bearer nope"]).status == 401)
        // Cancel: the run waits only for gpu.
        let cancel = try serve.request("POST", "/api/v1/runs/1/cancel", headers: ["Authorization": "Bearer \(token)"])
        #expect((cancel.status, cancel.body) == (202, #"{"run":"1","cancelling":true}"#))
        let run = try serve.finishedRun("1", token: token)
        #expect(run["status"] as? String == "failure")
        #expect(((run["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["success", "success", "cancelled"])
        #expect(serve.stop() == 0)
        #expect(!serve.log.joined().contains("hunter2"))
    }

    static let slow = """
        on: push
        jobs:
          slow:
            runs-on: self-hosted
            steps:
              - run: echo started; sleep 30; echo never
              - if: always()
                run: echo post step
          after:
            needs: slow
            if: always()
            runs-on: self-hosted
            steps:
              - run: echo "after slow=${{ needs.slow.result }}"
          other:
            runs-on: self-hosted
            steps:
              - run: echo other ran
        """

    @Test func aServiceKilledMidRunLosesNothingQueuedAndConcludesTheRunningJobAsLost() throws {
        let fixture = try ServeFixture(workflow: Self.slow)
        let log = fixture.data + "/runs/1/log.txt"
        do {
            let first = try ServeProcess(fixture.arguments(["--capacity", "1", "--lease", "2"]))
            #expect(try first.deliver("push", fixture.push(), delivery: "k-1", secret: fixture.secret).status == 202)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("[slow] started") ?? false) { usleep(20_000) }
            #expect(first.stop(SIGKILL) == SIGKILL)
        }
        let second = try ServeProcess(fixture.arguments(["--capacity", "1", "--lease", "2"]))
        let token = try fixture.token()
        let run = try second.finishedRun("1", token: token)
        #expect(run["status"] as? String == "failure")
        #expect(((run["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["failure", "success", "success"])
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains(
            "[slow] error: the runner lost communication with the server (its lease expired); the job's remaining steps did not run\n"))
        #expect(!text.contains("post step"))
        #expect(text.contains("[other] other ran\n"))
        #expect(text.contains("[after] after slow=failure\n"))
        try second.waitForLine { $0.contains(#""message":"run continues after a restart""#) && $0.contains(#""run":"1""#) }
        #expect(second.stop() == 0)
    }

    static let sleeper = """
        on: push
        jobs:
          j:
            runs-on: self-hosted
            steps:
              - run: echo begun; sleep 2; echo ended
        """

    @Test func sigtermDrainsRunningJobsThenExitsZero() throws {
        let fixture = try ServeFixture(workflow: Self.sleeper)
        let serve = try ServeProcess(fixture.arguments(["--drain-timeout", "30"]))
        #expect(try serve.deliver("push", fixture.push(), delivery: "s-1", secret: fixture.secret).status == 202)
        let log = fixture.data + "/runs/1/log.txt"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("[j] begun") ?? false) { usleep(20_000) }
        kill(serve.process.processIdentifier, SIGTERM)
        try serve.waitForLine { $0.contains(#""message":"draining""#) }
        let ready = try serve.request("GET", "/ready")
        #expect((ready.status, ready.body) == (503, #"{"status":"draining"}"#))
        #expect(serve.waitForExit() == 0)
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("[j] ended\n"))
        #expect(serve.log.contains { $0.contains(#""message":"drained""#) })
    }

    @Test func theHealthCommandAsksTheServiceForAContainersHealthCheck() throws {
        let fixture = try ServeFixture(workflow: Self.sleeper)
        let serve = try ServeProcess(fixture.arguments())
        let url = "http://127.0.0.1:\(serve.port)"
        // `gantry serve` runs as gantry-server, the position-independent build beside `gantry`.
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(serve.process.processIdentifier)/exe")
        #expect(exe == RunCommandTests.gantry.deletingLastPathComponent().appendingPathComponent("gantry-server").path)
        let healthy = try runCommand(RunCommandTests.gantry, ["serve", "health", "--url", url])
        #expect((healthy.status, healthy.stderr) == (0, ""))
        let ready = try runCommand(RunCommandTests.gantry, ["serve", "health", "--ready"], environment: ["GANTRY_SERVE_LISTEN": "0.0.0.0:\(serve.port)"])
        #expect((ready.status, ready.stderr) == (0, ""))
        #expect(serve.stop() == 0)
        let gone = try runCommand(RunCommandTests.gantry, ["serve", "health", "--url", url, "--timeout", "2"])
        #expect(gone.status == 1)
        #expect(gone.stderr == "gantry: \(url)/health: no answer within 2.0 s\n")
    }

    @Test func badSettingsStopTheStartWithOneLine() throws {
        let fixture = try ServeFixture(workflow: Self.sleeper)
        func start(_ arguments: [String]) throws -> CommandResult {
            try runCommand(RunCommandTests.gantry, ["serve"] + arguments)
        }
        let noSecret = try start(["--data", fixture.data, "--repo", "octo/app=/nowhere"])
        #expect(noSecret.status == 64)
        #expect(noSecret.stderr == "gantry: error: no webhook secret: give --webhook-secret-file FILE (or GANTRY_SERVE_WEBHOOK_SECRET), or --insecure-no-webhook-secret\n")
        let listen = try start(fixture.arguments(["--listen", "localhost"]))
        #expect(listen.stderr == "gantry: error: --listen 'localhost' is not host:port (e.g. 127.0.0.1:8080)\n")
        let repo = try start(["--data", fixture.data, "--repo", "nope", "--insecure-no-webhook-secret"])
        #expect(repo.stderr == "gantry: error: --repo 'nope' is not OWNER/NAME=GIT_URL\n")
        let capacity = try runCommand(
            RunCommandTests.gantry, ["serve"] + fixture.arguments(), environment: ["GANTRY_SERVE_CAPACITY": "none"])
        #expect(capacity.stderr == "gantry: error: --capacity 'none' is not a whole number of at least 1\n")
    }

    /// A `gantry-server` beside `gantry` that cannot be run: said in one line, and `gantry` serves itself.
    @Test func aGantryServerThatCannotRunIsSaidAndGantryServesItself() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let gantry = folder.appendingPathComponent("gantry")
        try FileManager.default.copyItem(at: RunCommandTests.gantry, to: gantry)
        let server = folder.appendingPathComponent("gantry-server")
        try Data("not a program\n".utf8).write(to: server)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: server.path)
        let result = try runCommand(gantry, ["serve", "--listen", "localhost"])
        #expect(result.status == 64)
        #expect(result.stderr == """
            gantry: warning: cannot run \(server.path) (Exec format error); serving from this process
            gantry: error: --listen 'localhost' is not host:port (e.g. 127.0.0.1:8080)

            """)
    }
}

/// Runs asked for through the API: a dispatch with inputs, of one workflow, at a branch's head.
@Suite(.serialized, .ownThread) struct ServeDispatchTests {
    static let workflows = """
        on:
          workflow_dispatch:
            inputs:
              level:
                type: choice
                options: [low, high]
                default: low
        jobs:
          j:
            runs-on: self-hosted
            steps:
              - run: echo "level=${{ inputs.level }} event=${{ github.event_name }} ref=${{ github.ref }}"
        """

    @Test func aDispatchThroughTheAPIRunsTheNamedWorkflowWithItsInputs() throws {
        let fixture = try ServeFixture(workflow: Self.workflows)
        try fixture.origin.write(".github/workflows/other.yml", "on: workflow_dispatch\njobs:\n  o:\n    runs-on: self-hosted\n    steps:\n      - run: echo other\n")
        try fixture.origin.git("add", ".")
        try fixture.origin.git("commit", "-q", "-m", "other")
        let serve = try ServeProcess(fixture.arguments())
        let token = try fixture.token()
        let auth = ["Authorization": "Bearer \(token)", "Content-Type": "application/json"]
        func dispatch(_ json: String) throws -> ServeAnswer {
            try serve.request("POST", "/api/v1/runs", headers: auth, body: Data(json.utf8))
        }
        let made = try dispatch(#"{"repository":"octo/app","ref":"main","workflow":".github/workflows/ci.yml","inputs":{"level":"high"}}"#)
        #expect((made.status, made.body) == (201, #"{"runs":["1"]}"#))
        let run = try serve.finishedRun("1", token: token)
        #expect(run["status"] as? String == "success")
        #expect(run["sha"] as? String == fixture.sha)
        let log = try String(contentsOfFile: fixture.data + "/runs/1/log.txt", encoding: .utf8)
        #expect(log.contains("[j] level=high event=workflow_dispatch ref=refs/heads/main\n"))
        // Without a workflow, every workflow the event triggers runs.
        #expect(try dispatch(#"{"repository":"octo/app","ref":"main"}"#).body == #"{"runs":["2","3"]}"#)
        let bad = try dispatch(#"{"repository":"octo/app"}"#)
        #expect((bad.status, bad.body) == (400, #"{"error":"'ref' or 'sha' is required"}"#))
        let push = try dispatch(#"{"repository":"octo/app","ref":"main","event":"push"}"#)
        #expect((push.status, push.body) == (422, #"{"error":"no workflow of octo/app runs on push at refs/heads/main"}"#))
        let missing = try dispatch(#"{"repository":"octo/app","ref":"nope"}"#)
        #expect(missing.status == 422)
        #expect(missing.body.hasPrefix(#"{"error":"octo/app has no commit refs/heads/nope: "#))
        let unknown = try dispatch(#"{"repository":"octo/else","ref":"main"}"#)
        #expect(unknown.status == 404)
        #expect(try serve.request("POST", "/api/v1/runs", body: Data("{}".utf8)).status == 401)
        #expect(serve.stop() == 0)
    }
}
