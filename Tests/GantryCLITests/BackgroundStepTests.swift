import Foundation
import Testing
import _GantryTestSupport

/// Background steps, `wait`, `wait-all`, `cancel` and `parallel` groups, with the semantics of GitHub's
/// runner (actions/runner BackgroundStepCoordinator, PRs #4476, #4479, #4482; docs: workflow syntax,
/// `jobs.<job_id>.steps[*].background`). Steps that must run at the same time meet through files: each
/// waits for the other's, so a test fails (instead of hanging) when they run one after the other.
@Suite(.ownThread) struct BackgroundStepTests {
    /// `meet FILE` waits up to 10 s for a file and fails with 9 when the other step never made it.
    static let meet = #"meet() { for i in $(seq 200); do [ -e "$GITHUB_WORKSPACE/$1" ] && return 0; sleep 0.05; done; exit 9; }"#

    /// The `--json` stream's lines and step events, in order, as short strings.
    static func stream(_ stdout: String) -> (lines: [String], events: [String]) {
        var lines: [String] = []
        var events: [String] = []
        for line in stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let type = object["type"] as? String
            else { continue }
            if type == "line", let text = object["text"] as? String { lines.append(text) }
            if type.hasPrefix("step-"), let step = object["step"] as? String {
                events.append("\(type == "step-started" ? "▶" : "■") \(step)" + ((object["conclusion"] as? String).map { " " + $0 } ?? ""))
            }
        }
        return (lines, events)
    }

    @Test func aBackgroundStepRunsBesideTheNextStepsAndItsEffectsArriveAtTheWait() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - id: server
                    name: server
                    background: true
                    run: |
                      \(Self.meet)
                      meet go
                      echo serving
                      echo "port=8080" >> "$GITHUB_OUTPUT"
                      echo "SERVER_UP=yes" >> "$GITHUB_ENV"
                      echo "$RUNNER_TEMP/server-bin" >> "$GITHUB_PATH"
                      echo "## from the server" >> "$GITHUB_STEP_SUMMARY"
                  - name: before
                    run: |
                      echo "before: outcome=[${{ steps.server.outcome }}] port=[${{ steps.server.outputs.port }}] env=[$SERVER_UP]"
                      touch "$GITHUB_WORKSPACE/go"
                  - wait: server
                  - name: after
                    run: |
                      echo "after: outcome=${{ steps.server.outcome }} port=${{ steps.server.outputs.port }} env=$SERVER_UP ${{ env.SERVER_UP }}"
                      case "$PATH" in "$RUNNER_TEMP/server-bin:"*) echo "path added";; esac
            """)
        let result = try scratch.run(["--json"])
        #expect(result.status == 0, "\(result.stdout)")
        let (lines, events) = Self.stream(result.stdout)
        // Before the wait nothing of the server is known; at the wait its outputs, env and PATH arrive.
        // Lines of steps running at once may come in any order: the job's own, then the server's.
        #expect(lines.filter { !$0.contains(" | ") } == [
            "before: outcome=[] port=[] env=[]",
            "Waiting for background step(s) to complete: server",
            "Finished waiting for background step(s).",
            "  server: success",
            "after: outcome=success port=8080 env=yes yes",
            "path added",
        ])
        #expect(lines.filter { $0.contains(" | ") } == ["server | serving"])
        // "before" ran while the server waited for it, and the wait ended after the server. Once "before"
        // has made the file, the server and "before" end in either order, and the server may end before
        // or after the wait starts (and the server's thread may announce it after "before" starts): each
        // of those is right, so only the orders the steps force are checked.
        #expect(Set(events.prefix(2)) == ["▶ server", "▶ before"], "\(events)")
        #expect(Set(events.prefix(5)) == ["▶ server", "▶ before", "■ before success", "■ server success", "▶ Wait"], "\(events)")
        let position = { (event: String) in events.firstIndex(of: event) ?? -1 }
        #expect(position("■ before success") < position("▶ Wait"), "\(events)")
        #expect(Array(events.suffix(3)) == ["■ Wait success", "▶ after", "■ after success"], "\(events)")
        #expect(events.count == 8, "\(events)")
        let directories = result.stdout.split(separator: "\n").compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["directory"] as? String
        }
        let directory = try #require(directories.first)
        #expect(try String(contentsOfFile: directory + "/summary.md", encoding: .utf8).contains("## from the server"))
    }

    /// The steps of a group run at once; one failing does not stop the others; the group's wait fails,
    /// so later steps are skipped unless their `if` says otherwise.
    @Test func aParallelGroupRunsItsStepsAtOnceAndFailsWhenOneFails() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - parallel:
                      - id: a
                        name: a
                        run: |
                          \(Self.meet)
                          touch "$GITHUB_WORKSPACE/a"; meet b
                          echo "v=A" >> "$GITHUB_OUTPUT"
                      - id: b
                        name: b
                        run: |
                          \(Self.meet)
                          touch "$GITHUB_WORKSPACE/b"; meet a
                          echo "v=B" >> "$GITHUB_OUTPUT"
                  - run: echo "group ${{ steps.a.outputs.v }}${{ steps.b.outputs.v }}"
                  - parallel:
                      - id: fails
                        name: fails
                        run: exit 3
                      - id: goes-on
                        name: goes-on
                        run: |
                          \(Self.meet)
                          sleep 0.3; echo "still running"
                  - run: echo "not reached"
                  - if: always()
                    run: echo "fails=${{ steps.fails.outcome }} goes-on=${{ steps.goes-on.outcome }}"
            """)
        let result = try scratch.run(["--json"])
        #expect(result.status == 1, "\(result.stdout)")
        let (lines, events) = Self.stream(result.stdout)
        #expect(lines.filter { !$0.hasPrefix("Waiting") && !$0.contains(" | ") } == [
            "Finished waiting for background step(s).", "  a: success", "  b: success",
            "group AB",
            "Finished waiting for background step(s).", "  fails: failure", "  goes-on: success",
            "skipped: Run echo \"not reached\"",
            "fails=failure goes-on=success",
        ])
        #expect(lines.contains("goes-on | still running"))
        #expect(lines.contains("fails | error: process completed with exit code 3"))
        #expect(events.filter { $0.hasPrefix("■ Wait") } == ["■ Wait for parallel steps success", "■ Wait for parallel steps failure"])
    }

    /// A `cancel` interrupts its step with SIGINT and succeeds; the cancelled step is `cancelled` and
    /// leaves the job's result alone (actions/runner #4482).
    @Test func cancelInterruptsAStepAndLeavesTheJobResultAlone() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - id: sidecar
                    name: sidecar
                    background: true
                    run: |
                      trap 'echo interrupted; exit 130' INT
                      touch "$GITHUB_WORKSPACE/ready"
                      while true; do sleep 0.05; done
                  - run: |
                      \(Self.meet)
                      meet ready
                  - cancel: sidecar
                  - run: echo "sidecar=${{ steps.sidecar.outcome }}/${{ steps.sidecar.conclusion }}"
            """)
        let result = try scratch.run(["--json"])
        #expect(result.status == 0, "\(result.stdout)")
        let (lines, events) = Self.stream(result.stdout)
        #expect(lines == [
            "Cancelling background step(s): sidecar",
            "sidecar | interrupted",
            "sidecar | error: process completed with exit code 130",
            "Finished cancelling background step(s).",
            "  sidecar: cancelled",
            "sidecar=cancelled/cancelled",
        ])
        #expect(events.contains("■ sidecar cancelled"))
        #expect(events.contains("■ Cancel success"))
    }

    /// A background step's failure is invisible to `failure()` until a wait takes it; `continue-on-error`
    /// on the wait keeps the job going, but the job still fails at its end, as the runner folds every
    /// background step's result into the job's. A step nobody waits for is waited for before the job ends.
    @Test func aFailureCountsWhenWaitedForAndAlwaysAtTheJobsEnd() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - id: early
                    name: early
                    background: true
                    run: echo failing; exit 3
                  - if: failure()
                    run: echo "a failure is seen before the wait"
                  - run: sleep 0.3; echo "no failure seen yet"
                  - name: Wait for early
                    wait: early
                    continue-on-error: true
                  - run: echo "after the wait, early=${{ steps.early.outcome }}"
                  - id: unwaited
                    name: unwaited
                    background: true
                    run: sleep 0.2; echo "unwaited done"
                  - run: echo last
            """)
        let result = try scratch.run(["--json"])
        #expect(result.status == 1, "\(result.stdout)")
        let (lines, events) = Self.stream(result.stdout)
        #expect(lines.filter { !$0.contains(" | ") } == [
            "skipped: Run echo \"a failure is seen before the wait\"",
            "no failure seen yet",
            "Waiting for background step(s) to complete: early",
            "Finished waiting for background step(s).",
            "  early: failure",
            "after the wait, early=failure",
            "last",
            "Waiting for all background step(s) to complete: unwaited",
            "Finished waiting for all background step(s).",
            "  unwaited: success",
        ])
        #expect(events.contains("■ Wait for early success"))
        #expect(events.suffix(1) == ["■ Wait for all background steps success"])
        #expect(result.stdout.contains("\"type\":\"job-finished\",\"job\":\"t\",\"result\":\"failure\""))
    }

    /// Masks are the job's, shared as they are added: a background step's `::add-mask::` masks what a
    /// foreground step prints while it still runs, and the other way round. A `wait` after a `cancel`
    /// of the same step does not wait again.
    @Test func masksAddedInOneStepHideTheValueInEveryStepAtOnce() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
                  - id: bg
                    name: bg
                    background: true
                    run: |
                      \(Self.meet)
                      echo "::add-mask::hunter2"; touch "$GITHUB_WORKSPACE/masked"
                      meet second; echo "bg sees swordfish"
                      while true; do sleep 0.05; done
                  - run: |
                      \(Self.meet)
                      meet masked; echo "fg sees hunter2"
                      echo "::add-mask::swordfish"; touch "$GITHUB_WORKSPACE/second"; sleep 0.3
                  - cancel: bg
                  - wait: bg
                  - run: echo "after"
            """)
        let result = try scratch.run()
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("[t] fg sees ***\n"), "\(result.stdout)")
        #expect(result.stdout.contains("[t] bg | bg sees ***\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("hunter2") && !result.stdout.contains("swordfish"))
        #expect(result.stdout.contains("[t] after\n"))
    }

    /// At most 10 background steps run at once (the runner's DefaultMaxBackgroundSteps); the rest queue
    /// and all of them run.
    @Test func atMostTenBackgroundStepsRunAtOnce() throws {
        let steps = (1...12).map { n in
            """
                  - background: true
                    run: |
                      mkdir -p "$RUNNER_TEMP/running"; touch "$RUNNER_TEMP/running/\(n)"
                      ls "$RUNNER_TEMP/running" | wc -l >> "$RUNNER_TEMP/counts"
                      sleep 0.4; rm "$RUNNER_TEMP/running/\(n)"; echo "done \(n)"
            """
        }.joined(separator: "\n")
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                steps:
            \(steps)
                  - wait-all:
                  - run: |
                      echo "most at once: $(sort -n "$RUNNER_TEMP/counts" | tail -1), started: $(wc -l < "$RUNNER_TEMP/counts")"
            """)
        let result = try scratch.run()
        #expect(result.status == 0, "\(result.stdout)")
        let most = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("[t] most at once: ") })
        let numbers = most.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[0] <= 10 && numbers[1] == 12, "\(most)")
        #expect((1...12).allSatisfy { result.stdout.contains(" | done \($0)\n") })
    }

    /// A sidecar nobody cancels keeps the implicit wait-all waiting, until the job's timeout cancels it.
    @Test func anUncancelledSidecarRunsUntilTheJobTimesOut() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                timeout-minutes: 0.02
                steps:
                  - id: sidecar
                    name: sidecar
                    background: true
                    run: while true; do sleep 0.05; done
                  - run: echo "main work done"
            """)
        let result = try scratch.run()
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("[t] main work done\n"))
        #expect(result.stdout.contains("[t] error: the job exceeded its timeout of 1.2 s\n"), "\(result.stdout)")
        #expect(result.stdout.contains("[t]   sidecar: cancelled\n"))
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("t ") && $0.contains(" cancelled ") }, "\(result.stdout)")
    }

    /// In a job container (running as another user) a background step has its own file-command files.
    @Test(arguments: DockerAvailability.engines) func backgroundStepsRunInTheJobContainer(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                container:
                  image: gantry-test/busybox
                  options: --user 1000:1000
                steps:
                  - id: one
                    name: one
                    background: true
                    run: |
                      \(Self.meet)
                      touch "$GITHUB_WORKSPACE/one"; meet two
                      echo "v=1" >> "$GITHUB_OUTPUT"
                  - id: two
                    name: two
                    background: true
                    run: |
                      \(Self.meet)
                      touch "$GITHUB_WORKSPACE/two"; meet one
                      echo "v=2" >> "$GITHUB_OUTPUT"
                  - wait: [one, two]
                  - run: echo "outputs ${{ steps.one.outputs.v }} ${{ steps.two.outputs.v }}"
            """)
        let result = try scratch.run(environment: engine.environment)
        let expectations = {
            #expect(result.status == 0, "\(result.stdout)")
            #expect(result.stdout.contains("[j] outputs 1 2\n"), "\(result.stdout)")
            #expect(result.stdout.contains("[j]   one: success\n[j]   two: success\n"), "\(result.stdout)")
        }
        guard engine.name == "podman" else { return expectations() }
        // A known bug, not fixed yet: under Podman, about one run in twenty, one step never sees the
        // file the other touched in the shared workspace (its `ls` shows only its own) while the other
        // sees it and succeeds. Seen in CI and locally on 2026-12-05; Docker never showed it.
        withKnownIssue("Podman: a background step sometimes does not see its sibling's file", isIntermittent: true) { expectations() }
    }
}
