import Foundation
import Testing
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What `gantry serve` reports and offers about runs: commit statuses to a forge's REST API (a local
/// recording server stands in for the forge, which is unreachable here), job metrics, logs through the
/// API (also followed live), and re-runs of all or only the failed jobs.
@Suite(.serialized, .ownThread) struct ServeReportingTests {
    static let workflow = """
        name: CI
        on: push
        jobs:
          build:
            runs-on: self-hosted
            outputs:
              v: ${{ steps.s.outputs.v }}
            steps:
              - id: s
                run: |
                  echo "build attempt ${{ github.run_attempt }} of run ${{ github.run_id }}"
                  echo "v=from-attempt-$GITHUB_RUN_ATTEMPT" >> "$GITHUB_OUTPUT"
          flaky:
            runs-on: self-hosted
            steps:
              - run: |
                  echo "flaky attempt $GITHUB_RUN_ATTEMPT with ${{ secrets.TOKEN }}"
                  echo "::warning file=src/a.c,line=3,col=5,title=Careful::look at ${{ secrets.TOKEN }}"
                  for i in $(seq 12); do echo "::error::e$i"; done
                  exit 1
          after:
            needs: [build, flaky]
            if: always()
            runs-on: self-hosted
            steps:
              - run: echo "after got ${{ needs.build.outputs.v }} flaky=${{ needs.flaky.result }}"
        """

    /// Each status the forge took, as `context state`, in the order sent.
    static func taken(_ forge: RecordingServer) -> [String] {
        forge.requests.filter { $0["status"] as? Int == 201 }.compactMap { request in
            guard let body = request["body"] as? [String: Any], let context = body["context"] as? String, let state = body["state"] as? String
            else { return nil }
            return "\(context) \(state)"
        }
    }

    @Test func jobsSendCommitStatusesWithRetriesAndRunsCanBeReadAndRunAgain() throws {
        let fixture = try ServeFixture(workflow: Self.workflow)
        let forge = try RecordingServer(failures: 1)
        let tokenFile = fixture.root.path + "/status-token"
        try "ghs_statustoken\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let serve = try ServeProcess(fixture.arguments([
            "--capacity", "2", "--report-url", forge.url + "/api/v3", "--report-token-file", tokenFile,
        ]))
        let token = try fixture.token()
        let auth = ["Authorization": "Bearer \(token)"]
        #expect(try serve.deliver("push", fixture.push(), delivery: "r-1", secret: fixture.secret).status == 202)
        let first = try serve.finishedRun("1", token: token)
        #expect(first["status"] as? String == "failure")
        #expect(first["attempt"] as? Int == 1)
        #expect(((first["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["success", "failure", "success"])
        // Each job's steps with their results and times.
        let flakySteps = try #require((first["jobs"] as? [[String: Any]])?[1]["steps"] as? [[String: Any]])
        #expect(flakySteps.map { "\($0["name"] ?? "") \($0["outcome"] ?? "") \($0["conclusion"] ?? "")" } == [
            #"Run echo "flaky attempt $GITHUB_RUN_ATTEMPT with ${{ secrets.TOKEN }}" failure failure"#,
        ])
        #expect((flakySteps.first?["seconds"] as? Double).map { $0 > 0 } == true)
        // Annotations are kept with the job, masked, at most 10 errors a step, and the failed step's own.
        let detail = try serve.request("GET", "/api/v1/runs/1", headers: ["Authorization": "Bearer \(token)"]).body
        let errors = (1...10).map { #"{"level":"error","message":"e\#($0)"}"# }.joined(separator: ",")
        #expect(detail.contains(
            #""annotations":[{"level":"warning","message":"look at ***","title":"Careful","file":"src/a.c","line":3,"column":5},"#
                + errors + #",{"level":"error","message":"Process completed with exit code 1."}]"#), "\(detail)")

        // Statuses: each job pending, then its result; the first request failed and was sent again.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, Self.taken(forge).count < 6 { usleep(50_000) }
        let taken = Self.taken(forge)
        for (job, final) in [("build", "success"), ("flaky", "failure"), ("after", "success")] {
            #expect(taken.filter { $0.hasPrefix("CI / \(job) (push) ") } == ["CI / \(job) (push) pending", "CI / \(job) (push) \(final)"], "\(taken)")
        }
        let requests = forge.requests
        #expect(requests.count == 7)
        #expect(requests.first?["status"] as? Int == 500)
        #expect(requests.allSatisfy { $0["path"] as? String == "/api/v3/repos/octo/app/statuses/\(fixture.sha)" })
        #expect(requests.allSatisfy { $0["authorization"] as? String == "Bearer ghs_statustoken" && $0["version"] as? String == "2022-11-28" })
        let finals = requests.compactMap { $0["body"] as? [String: Any] }.filter { $0["state"] as? String == "failure" }
        #expect((finals.first?["description"] as? String)?.hasPrefix("Failing after ") == true)

        let metrics = try serve.request("GET", "/metrics").body
        #expect(metrics.contains(#"gantry_jobs_finished_total{result="success"} 2"#))
        #expect(metrics.contains(#"gantry_jobs_finished_total{result="failure"} 1"#))
        #expect(metrics.contains("gantry_job_queue_seconds_count 3"))
        #expect(metrics.contains("gantry_job_duration_seconds_count 3"))
        #expect(metrics.contains(#"gantry_commit_statuses_total{result="retried"} 1"#))
        #expect(metrics.contains(#"gantry_commit_statuses_total{result="sent"} 6"#))

        // Logs through the API: the run's, one job's (without the prefix), masked.
        let log = try serve.request("GET", "/api/v1/runs/1/log", headers: auth)
        #expect(log.status == 200)
        #expect(log.body.contains("[flaky] flaky attempt 1 with ***\n"))
        #expect(!log.body.contains("hunter2"))
        let jobLog = try serve.request("GET", "/api/v1/runs/1/log?job=build", headers: auth)
        #expect(jobLog.body.contains("\nbuild attempt 1 of run 1\n"))
        #expect(!jobLog.body.contains("[build]"))
        let noJob = try serve.request("GET", "/api/v1/runs/1/log?job=nope", headers: auth)
        #expect((noJob.status, noJob.body) == (404, #"{"error":"run 1 has no log of job 'nope'"}"#))
        #expect(try serve.request("GET", "/api/v1/runs/9/log", headers: auth).status == 404)
        #expect(try serve.request("GET", "/api/v1/runs/1/log").status == 401)

        // Re-run failed jobs: build keeps its result and output, flaky and after run again.
        let failed = try serve.request("POST", "/api/v1/runs/1/rerun-failed-jobs", headers: auth)
        #expect((failed.status, failed.body) == (201, #"{"runs":["2"]}"#))
        let second = try serve.finishedRun("2", token: token)
        #expect(second["attempt"] as? Int == 2)
        #expect(second["first_run"] as? String == "1")
        #expect(second["number"] as? Int == first["number"] as? Int)
        #expect(((second["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["success", "failure", "success"])
        let secondLog = try String(contentsOfFile: fixture.data + "/runs/2/log.txt", encoding: .utf8)
        #expect(secondLog.contains("[build] succeeded in attempt 1; not run again\n"))
        #expect(!secondLog.contains("build attempt"))
        #expect(secondLog.contains("[flaky] flaky attempt 2 with ***\n"))
        // after succeeded too, but it needs flaky, which runs again: so does it.
        #expect(!secondLog.contains("[after] succeeded in attempt"))
        #expect(secondLog.contains("[after] after got from-attempt-1 flaky=failure\n"))

        // Re-run all jobs of any attempt: the next attempt of the same run id.
        let all = try serve.request("POST", "/api/v1/runs/2/rerun", headers: auth)
        #expect((all.status, all.body) == (201, #"{"runs":["3"]}"#))
        _ = try serve.finishedRun("3", token: token)
        let thirdLog = try String(contentsOfFile: fixture.data + "/runs/3/log.txt", encoding: .utf8)
        #expect(thirdLog.contains("[build] build attempt 3 of run 1\n"))
        #expect(thirdLog.contains("[after] after got from-attempt-3 flaky=failure\n"))
        let missing = try serve.request("POST", "/api/v1/runs/99/rerun", headers: auth)
        #expect((missing.status, missing.body) == (404, #"{"error":"no run 99"}"#))
        #expect(try serve.request("POST", "/api/v1/runs/1/rerun").status == 401)
        #expect(serve.stop() == 0)
        #expect(!serve.log.joined().contains("ghs_statustoken"))
        #expect(!serve.log.joined().contains("hunter2"))
    }

    static let slowPrinter = """
        on: push
        jobs:
          talk:
            runs-on: self-hosted
            steps:
              - run: |
                  echo "line 1"
                  for i in $(seq 600); do [ -e "$RELEASE" ] && break; sleep 0.05; done
                  echo "line 2"
        """

    @Test func aFollowedLogStreamsLinesWhileTheJobRunsAndEndsWithTheRun() throws {
        let fixture = try ServeFixture(workflow: Self.slowPrinter)
        let release = fixture.root.path + "/release"
        let serve = try ServeProcess(fixture.arguments(), environment: ["RELEASE": release])
        let token = try fixture.token()
        #expect(try serve.deliver("push", fixture.push(), delivery: "f-1", secret: fixture.secret).status == 202)
        // curl writes to a file: what it received is all there once it has ended.
        let received = fixture.root.path + "/followed.txt"
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = [
            "curl", "-s", "-N", "-o", received, "-H", "Authorization: Bearer \(token)",
            "http://127.0.0.1:\(serve.port)/api/v1/runs/1/log?job=talk&follow=1",
        ]
        try curl.run()
        defer { if curl.isRunning { kill(curl.processIdentifier, SIGKILL) } }
        var text: String { (try? String(contentsOfFile: received, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !text.contains("line 1\n") { usleep(20_000) }
        // The first line arrived while the job still waits: it was streamed, not sent at the end.
        #expect(text.contains("line 1\n"))
        #expect(!text.contains("line 2"))
        let busy = try serve.request("POST", "/api/v1/runs/1/rerun", headers: ["Authorization": "Bearer \(token)"])
        #expect((busy.status, busy.body) == (409, #"{"error":"run 1 is still in progress"}"#))
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        curl.waitUntilExit()
        #expect(curl.terminationStatus == 0)
        #expect(text.contains("line 1\n"))
        #expect(text.contains("line 1\nline 2\n"))
        // It ended with the run, after the step's closing line.
        #expect(text.hasSuffix(" ms)\n"))
        #expect(text.split(separator: "\n").last?.hasPrefix(#"✓ Run echo "line 1" ("#) == true)
        #expect(serve.stop() == 0)
    }
}
