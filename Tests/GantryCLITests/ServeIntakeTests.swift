import Foundation
import Testing
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The other ways runs reach `gantry serve`: cron schedules fired by its clock (injected here, so that
/// minutes pass in seconds), a bare repository's post-receive hook, and concurrency groups across runs.
@Suite(.serialized, .ownThread) struct ServeIntakeTests {
    static let nightly = """
        name: Nightly
        on:
          push:
          schedule:
            - cron: '*/2 * * * *'
            - cron: '30 5 1 1 *'
              timezone: Asia/Kolkata
            - cron: '0 12 * * *'
        jobs:
          j:
            runs-on: self-hosted
            steps:
              - run: echo "schedule=[${{ github.event.schedule }}] event=${{ github.event_name }} ref=${{ github.ref }}"
        """

    /// 2026-01-01T00:00:00Z.
    static let newYear = 1_767_225_600

    @Test func schedulesFireAtTheirMinutesInTheirTimeZoneOnceEvenAcrossARestart() throws {
        let fixture = try ServeFixture(workflow: Self.nightly)
        // Ten seconds before midnight UTC, running 30 times as fast: midnight comes in a third of a second,
        // 00:02 four seconds later.
        let clock = ["GANTRY_SERVE_SCHEDULE_CLOCK": "\(Self.newYear - 10)x30"]
        let serve = try ServeProcess(fixture.arguments(), environment: clock)
        let token = try fixture.token()
        let third = try serve.finishedRun("3", token: token)
        #expect(third["event"] as? String == "schedule")
        #expect(third["ref"] as? String == "refs/heads/main")
        var logs: [String] = []
        for id in ["1", "2", "3"] {
            _ = try serve.finishedRun(id, token: token)
            logs.append(try String(contentsOfFile: fixture.data + "/runs/\(id)/log.txt", encoding: .utf8))
        }
        // Midnight: every second minute, and 05:30 in Kolkata (UTC+5:30); 00:02: every second minute again.
        // Noon UTC never comes.
        let lines = logs.map { $0.split(separator: "\n").first { $0.hasPrefix("[j] schedule=") }.map(String.init) ?? $0 }
        #expect(Set(lines.prefix(2)) == [
            "[j] schedule=[*/2 * * * *] event=schedule ref=refs/heads/main", "[j] schedule=[30 5 1 1 *] event=schedule ref=refs/heads/main",
        ])
        #expect(lines[2] == "[j] schedule=[*/2 * * * *] event=schedule ref=refs/heads/main")
        let runs = try serve.request("GET", "/api/v1/runs", headers: ["Authorization": "Bearer \(token)"]).body
        #expect(runs.contains(#""delivery":"schedule/octo/app/.github/workflows/ci.yml/*/2 * * * */\#(Self.newYear)""#))
        #expect(runs.contains(#""delivery":"schedule/octo/app/.github/workflows/ci.yml/*/2 * * * */\#(Self.newYear + 120)""#))
        #expect(!runs.contains("0 12 * * *"))
        #expect(serve.stop() == 0)

        // The same clock again after a restart: midnight ran already, so it does not run twice.
        let again = try ServeProcess(fixture.arguments(), environment: clock)
        try again.waitForLine { $0.contains(#""message":"schedule ran already""#) }
        #expect(again.stop() == 0)
        #expect(!again.log.contains { $0.contains(#""message":"schedule fired""#) && $0.contains("\(Self.newYear)") })
    }

    static let hooked = """
        on: push
        jobs:
          j:
            runs-on: self-hosted
            steps:
              - uses: actions/checkout@v4
              - run: echo "pushed $(cat README.md) at ${{ github.sha }} to ${{ github.ref }}"
        """

    @Test func aBareRepositorysPostReceiveHookRunsEachPushedRef() throws {
        let fixture = try ServeFixture(workflow: Self.hooked)
        let bare = fixture.root.path + "/git/octo/app.git"
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        #expect(try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "init", "-q", "--bare", "-b", "main", bare]).status == 0)
        try fixture.origin.git("push", "-q", bare, "main")
        let serve = try ServeProcess([
            "--data", fixture.data, "--repo", "octo/app=" + bare, "--webhook-secret-file", fixture.secretFile,
        ])
        let token = try fixture.token()
        let tokenFile = fixture.root.path + "/hook-token"
        try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try """
            #!/bin/sh
            exec '\(RunCommandTests.gantry.path)' serve hook post-receive --url http://127.0.0.1:\(serve.port) --token-file '\(tokenFile)'

            """.write(toFile: bare + "/hooks/post-receive", atomically: true, encoding: .utf8)
        chmod(bare + "/hooks/post-receive", 0o755)

        try fixture.origin.write("README.md", "second\n")
        try fixture.origin.git("commit", "-q", "-am", "second")
        let pushed = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "push", bare, "main", "main:refs/heads/feature"], in: fixture.origin.url)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stderr.contains("remote: gantry: refs/heads/main: runs 1"), "\(pushed.stderr)")
        #expect(pushed.stderr.contains("remote: gantry: refs/heads/feature: runs 2"), "\(pushed.stderr)")
        let run = try serve.finishedRun("1", token: token)
        #expect(run["status"] as? String == "success")
        #expect(run["sha"] as? String == fixture.sha)
        let log = try String(contentsOfFile: fixture.data + "/runs/1/log.txt", encoding: .utf8)
        #expect(log.contains("[j] pushed second at \(fixture.sha) to refs/heads/main\n"))
        _ = try serve.finishedRun("2", token: token)

        // A deleted branch runs nothing; a hook with a bad token says so, and the push itself goes through.
        let deleted = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "push", bare, ":refs/heads/feature"], in: fixture.origin.url)
        #expect(deleted.status == 0)
        #expect(!deleted.stderr.contains("gantry:"), "\(deleted.stderr)")
        try "not-a-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let refused = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "push", bare, "main:refs/heads/other"], in: fixture.origin.url)
        #expect(refused.status == 0)
        #expect(refused.stderr.contains(
            "remote: gantry: error: refs/heads/other: the service answered 401: a valid bearer token is required (gantry serve token create)"),
            "\(refused.stderr)")
        let runs = try serve.request("GET", "/api/v1/runs", headers: ["Authorization": "Bearer \(token)"]).body
        #expect(!runs.contains(#""id":"3""#))
        #expect(serve.stop() == 0)

        let usage = try runCommand(RunCommandTests.gantry, ["serve", "hook", "pre-receive", "--url", "http://127.0.0.1:1"])
        #expect((usage.status, usage.stderr) == (64, "gantry: error: unknown hook 'pre-receive' (post-receive)\n"))
    }

    static let grouped = """
        on: push
        concurrency:
          group: ci-${{ github.ref }}
          cancel-in-progress: true
        jobs:
          long:
            runs-on: self-hosted
            steps:
              - run: |
                  echo "run ${{ github.run_id }} started"
                  for i in $(seq 600); do [ -e "$RELEASE" ] && break; sleep 0.05; done
                  echo "run ${{ github.run_id }} done"
        """

    @Test func aNewerPushCancelsTheRunningRunOfItsConcurrencyGroup() throws {
        let fixture = try ServeFixture(workflow: Self.grouped)
        let release = fixture.root.path + "/release"
        let serve = try ServeProcess(fixture.arguments(), environment: ["RELEASE": release])
        let token = try fixture.token()
        #expect(try serve.deliver("push", fixture.push(), delivery: "c-1", secret: fixture.secret).status == 202)
        let firstLog = fixture.data + "/runs/1/log.txt"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !((try? String(contentsOfFile: firstLog, encoding: .utf8))?.contains("[long] run 1 started") ?? false) { usleep(20_000) }
        #expect(try serve.deliver("push", fixture.push(), delivery: "c-2", secret: fixture.secret).body == #"{"runs":["2"],"duplicate":false}"#)
        let first = try serve.finishedRun("1", token: token)
        #expect(first["status"] as? String == "failure")
        #expect(((first["jobs"] as? [[String: Any]]) ?? []).map { $0["status"] as? String } == ["cancelled"])
        let text = try String(contentsOfFile: firstLog, encoding: .utf8)
        #expect(text.contains(
            "[gantry] cancelling .github/workflows/ci.yml: a newer run of concurrency group 'ci-refs/heads/main' has cancel-in-progress\n"), "\(text)")
        #expect(!text.contains("run 1 done"))
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        let second = try serve.finishedRun("2", token: token)
        #expect(second["status"] as? String == "success", "\((try? String(contentsOfFile: fixture.data + "/runs/2/log.txt", encoding: .utf8)) ?? "")")
        #expect(serve.stop() == 0)
    }
}
