import Foundation
import Testing
import _GantryTestSupport

/// `gantry run` on the host, end to end: outputs along needs, conditions, file and workflow commands,
/// masking, timeouts and Ctrl-C.
@Suite(.ownThread) struct RunCommandTests {
    static let gantry = Fixtures.gantryExecutable()

    /// A scratch folder holding one workflow file.
    final class Scratch {
        let url: URL
        init(_ workflow: String) throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-run-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try workflow.write(to: url.appendingPathComponent("w.yml"), atomically: true, encoding: .utf8)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        func run(_ extra: [String] = [], environment: [String: String] = [:]) throws -> CommandResult {
            try runCommand(RunCommandTests.gantry, ["run", "-W", "w.yml"] + extra, in: url, environment: environment)
        }
    }

    /// Two workflows of one run may both have a `build` job: each gets its own workspace and temp folder
    /// (and containers), named after "workflow / job".
    @Test func sameJobIdsInTwoWorkflowsKeepTheirOwnFolders() throws {
        let scratch = try Scratch("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo a > mine.txt; sleep 0.3; echo \"a sees $(cat mine.txt) in ${GITHUB_WORKSPACE##*/}\"\n")
        try "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo b > mine.txt; sleep 0.3; echo \"b sees $(cat mine.txt) in ${GITHUB_WORKSPACE##*/}\"\n"
            .write(to: scratch.url.appendingPathComponent("v.yml"), atomically: true, encoding: .utf8)
        let result = try scratch.run(["-W", "v.yml"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("[w.yml / build] a sees a in w_yml___build\n"))
        #expect(result.stdout.contains("[v.yml / build] b sees b in v_yml___build\n"))
    }

    @Test func outputsConditionsAndSkipPropagation() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                outputs:
                  v: ${{ steps.s.outputs.v }}
                steps:
                  - id: s
                    run: echo "v=42" >> "$GITHUB_OUTPUT"
              b:
                needs: a
                runs-on: ubuntu-latest
                steps:
                  - run: test "${{ needs.a.outputs.v }}" = 42 && echo got-42
                  - run: exit 3
                  - run: echo never
                  - if: failure()
                    run: echo after-failure
                  - if: always()
                    run: echo always-${{ job.status }}
              c:
                needs: b
                runs-on: ubuntu-latest
                steps:
                  - run: echo c-ran
              d:
                needs: b
                if: always() && needs.b.result == 'failure'
                runs-on: ubuntu-latest
                steps:
                  - run: echo d-ran
            """)
        let result = try scratch.run()
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for expected in ["[b] got-42", "[b] error: process completed with exit code 3", "[b] after-failure", "[b] always-failure", "[d] d-ran", "[c] skipped (if: success())"] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(!lines.contains("[b] never"))
        #expect(!lines.contains("[c] c-ran"))
        let table = lines.filter { $0.hasPrefix("a ") || $0.hasPrefix("b ") || $0.hasPrefix("c ") || $0.hasPrefix("d ") }
        #expect(table.map { $0.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ") } == [
            "a success", "b failure", "c skipped", "d success",
        ])
        #expect(lines.last == "run failed")
    }

    @Test func fileCommandsWorkflowCommandsAndMasking() throws {
        let scratch = try Scratch("""
            on: push
            env:
              GREETING: hello
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
                      echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
                      { echo 'MULTI<<EOF'; echo 'line one'; echo 'line two'; echo 'EOF'; } >> "$GITHUB_ENV"
                      echo "::add-mask::masked-value"
                      echo "# Summary for $GREETING" >> "$GITHUB_STEP_SUMMARY"
                  - run: |
                      mytool
                      echo "multi=[$MULTI]"
                      echo "secret is $TOKEN and masked-value"
                      echo "::warning file=app.js,line=3,col=7::careful"
                      echo "::set-output name=legacy::v"
                    env:
                      TOKEN: ${{ secrets.TOKEN }}
                  - run: exit 1
                    continue-on-error: true
                  - run: echo still-running
            """)
        let result = try scratch.run(["-s", "TOKEN=s3cr3t-token"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for expected in [
            "[j] tool-ran", "[j] multi=[line one", "[j] line two]", "[j] secret is *** and ***",
            "[j] app.js:3:7: warning: careful",
            "[j] warning: the `set-output` command is deprecated; write to $GITHUB_OUTPUT instead", "[j] still-running",
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(!result.stdout.contains("s3cr3t-token"))
        let directory = try #require(lines.first { $0.hasPrefix("run directory: ") }).dropFirst("run directory: ".count)
        let summary = try String(contentsOfFile: directory + "/summary.md", encoding: .utf8)
        #expect(summary == "## j\n\n# Summary for hello\n\n")
        let log = try String(contentsOfFile: directory + "/log.txt", encoding: .utf8)
        #expect(log.contains("[j] secret is *** and ***"))
        #expect(!log.contains("s3cr3t-token"))
    }

    @Test func stepTimeoutKillsTheStep() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              slow:
                runs-on: ubuntu-latest
                steps:
                  - run: sleep 30
                    timeout-minutes: 0.01
                  - if: always()
                    run: echo after-timeout
            """)
        let start = Date()
        let result = try scratch.run()
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(start) < 20)
        #expect(result.stdout.contains("[slow] error: the step timed out"))
        #expect(result.stdout.contains("[slow] after-timeout"))
    }

    @Test func ctrlCCancelsRunningStepsAndStillRunsAlwaysSteps() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              long:
                runs-on: ubuntu-latest
                steps:
                  - run: echo started; sleep 37 & wait
                  - run: echo not-after-cancel
                  - if: always()
                    run: echo cleanup-${{ job.status }}
              later:
                needs: long
                runs-on: ubuntu-latest
                steps:
                  - run: echo never
            """)
        let (status, text) = try RunSemanticsTests.interrupt(scratch, after: "[long] started")
        #expect(status == 1)
        #expect(text.contains("[long] cleanup-cancelled"))
        #expect(!text.contains("[long] not-after-cancel"))
        #expect(!text.contains("[later] never"))
        #expect(text.contains("[long] ✓ Run echo cleanup-${{ job.status }}"))
        // No orphan: the background sleep of the cancelled step is gone.
        let ps = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["sh", "-c", "ps -eo args | grep -c '^sleep 37$' || true"])
        #expect(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func missingImagesAndCheckoutOutsideARepositoryFailWithOneClearLine() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: docker://alpine:3
                    continue-on-error: true
                  - uses: actions/checkout@v4
              c:
                runs-on: ubuntu-latest
                container: alpine:3
                steps:
                  - run: echo hi
            """)
        // Whether an engine runs here or not, the images are not there and gantry never pulls.
        let result = try scratch.run()
        #expect(result.status == 1)
        let noEngine = "no container engine answers at"
        #expect(result.stdout.contains("[j] error: image 'alpine:3' is not in the engine") || result.stdout.contains("[j] error: Docker actions need a container engine: \(noEngine)"))
        // Outside a git repository there is nothing to check out.
        #expect(result.stdout.contains("[j] error: actions/checkout: cannot open a git repository at '.': could not find repository"))
        #expect(result.stdout.contains("[c] error: image 'alpine:3' is not in the engine") || result.stdout.contains("[c] error: job 'c' needs a container engine: \(noEngine)"))
    }

    @Test func secretsVarsEnvAndInputsComeFromFilesEnvironmentAndFlags() throws {
        let scratch = try Scratch("""
            on:
              workflow_dispatch:
                inputs:
                  who: {default: nobody}
                  level: {default: low}
                  dry: {type: boolean, default: true}
                  count: {type: number, default: 3}
            env:
              SHADOWED: workflow-wins
            jobs:
              j:
                runs-on: ubuntu-latest
                if: vars.ENABLED == 'yes'
                steps:
                  - run: |
                      echo "file-secret=${{ secrets.FILE_SECRET }} env-secret=${{ secrets.ENV_SECRET }} flag=${{ secrets.OVERRIDDEN }}"
                      echo "multi=[${{ secrets.MULTI }}]"
                      echo "vars=${{ vars.REGION }} inputs=${{ inputs.who }}/${{ inputs.level }}"
                      echo "env=$BASE $FROM_STEP $SHADOWED $PICKED ctx=${{ env.PICKED }}"
                      echo "typed=${{ inputs.dry == true }}/${{ inputs.count == 3 }} event=${{ github.event.inputs.dry }}/${{ github.event.inputs.who }}"
                    env:
                      FROM_STEP: ${{ env.BASE }}-seen
            """)
        try "FILE_SECRET=from-secrets-file\nOVERRIDDEN=file-value\nMULTI=\"first-line\nsecond-line\"\n"
            .write(to: scratch.url.appendingPathComponent(".secrets"), atomically: true, encoding: .utf8)
        try "ENABLED=yes\nREGION=eu\n".write(to: scratch.url.appendingPathComponent(".vars"), atomically: true, encoding: .utf8)
        try "BASE=dotenv\nPICKED=from-file\nSHADOWED=dotenv\n".write(to: scratch.url.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try "who=file-user\nlevel=file-level\nundeclared=ignored-like-a-payload-field\n".write(to: scratch.url.appendingPathComponent(".input"), atomically: true, encoding: .utf8)
        let result = try runCommand(
            Self.gantry,
            ["run", "workflow_dispatch", "-W", "w.yml", "-s", "ENV_SECRET", "-s", "OVERRIDDEN=flag-value", "--env", "PICKED", "--input", "level=high"],
            in: scratch.url, environment: ["ENV_SECRET": "secret-from-environment", "PICKED": "picked-from-environment"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for expected in [
            "[j] file-secret=*** env-secret=*** flag=***", "[j] multi=[***", "[j] ***]",
            "[j] vars=eu inputs=file-user/high", "[j] env=dotenv dotenv-seen workflow-wins picked-from-environment ctx=picked-from-environment",
            "[j] typed=true/true event=true/file-user",
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        for secret in ["from-secrets-file", "secret-from-environment", "flag-value", "file-value", "first-line", "second-line"] {
            #expect(!result.stdout.contains(secret + "\n") && !result.stdout.contains(secret + " "), "\(secret) leaked")
        }
    }

    @Test func badRunInputsStopTheRunWithOneLineEach() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: echo must-not-run
            """)
        try "GOOD=1\nBAD LINE\n".write(to: scratch.url.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let result = try scratch.run(["-s", "GANTRY_TEST_UNSET_SECRET", "--var-file", "missing.vars"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == """
            gantry: error: --secret GANTRY_TEST_UNSET_SECRET: 'GANTRY_TEST_UNSET_SECRET' is not set in the environment
            gantry: error: cannot read 'missing.vars': No such file or directory
            gantry: error: .env:2:5: error: expected '=' after 'BAD' [dotenv]

            """)
        let usage = try scratch.run(["--env", "=x"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--env expects name=value or name, got '=x'"))
    }

    @Test func groupsFoldUnlessVerboseAndUnfoldWhenTheStepFails() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      echo "::group::Install"
                      echo inside-one
                      echo "::warning::warned inside"
                      echo "::endgroup::"
                      echo outside
                  - run: |
                      echo "::group::Build"
                      echo build-detail
                      exit 2
            """)
        func body(_ stdout: String) -> [String] {
            stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[j] ") && !$0.hasPrefix("[j] ✓") && !$0.hasPrefix("[j] ✗") && !$0.hasPrefix("[j] ▶") }
        }
        let folded = try scratch.run()
        #expect(folded.status == 1)
        #expect(body(folded.stdout) == [
            "[j] ▸ Install", "[j] warning: warned inside", "[j] outside", "[j] ▸ Build",
            "[j] ▾ output folded in groups, shown because the step did not succeed:", "[j] build-detail",
            "[j] error: process completed with exit code 2",
        ])
        let directory = try #require(folded.stdout.split(separator: "\n").first { $0.hasPrefix("run directory: ") }).dropFirst("run directory: ".count)
        let log = try String(contentsOfFile: String(directory) + "/log.txt", encoding: .utf8)
        #expect(body(log) == [
            "[j] ▸ Install", "[j] inside-one", "[j] warning: warned inside", "[j] ◂", "[j] outside", "[j] ▸ Build", "[j] build-detail",
            "[j] error: process completed with exit code 2",
        ])
        let verbose = try scratch.run(["--verbose"])
        #expect(body(verbose.stdout) == [
            "[j] ▸ Install", "[j] inside-one", "[j] warning: warned inside", "[j] outside", "[j] ▸ Build", "[j] build-detail",
            "[j] error: process completed with exit code 2",
        ])
    }

    @Test func jsonStreamsEveryLineAndEventInOrder() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - name: say "hi" to ${{ secrets.WHO }}
                    run: echo 'he said "hi"'
                  - run: exit 1
                    continue-on-error: true
                  - run: |
                      echo "::group::Details"
                      echo folded-detail
                      echo "::endgroup::"
              b:
                needs: a
                if: false
                runs-on: ubuntu-latest
                steps:
                  - run: echo no
            """)
        let result = try scratch.run(["--json", "-s", "WHO=hidden-person"])
        #expect(result.status == 0)
        #expect(!result.stdout.contains("hidden-person"))
        let events = try result.stdout.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        let keys = ["type", "job", "step", "text", "outcome", "conclusion", "result", "success"]
        let described = events.map { event in
            keys.compactMap { key in event[key].map { "\(key)=\($0)" } }.joined(separator: " ")
        }
        #expect(described == [
            "type=job-started job=a",
            "type=step-started job=a step=say \"hi\" to ***",
            "type=line job=a text=he said \"hi\"",
            "type=step-finished job=a step=say \"hi\" to *** outcome=success conclusion=success",
            "type=step-started job=a step=Run exit 1",
            "type=line job=a text=error: process completed with exit code 1",
            "type=step-finished job=a step=Run exit 1 outcome=failure conclusion=success",
            "type=step-started job=a step=Run echo \"::group::Details\"",
            "type=line job=a text=▸ Details",
            "type=line job=a text=folded-detail",
            "type=step-finished job=a step=Run echo \"::group::Details\" outcome=success conclusion=success",
            "type=job-finished job=a result=success",
            "type=line job=b text=skipped (if: false)",
            "type=job-finished job=b result=skipped",
            "type=run-finished success=1",
        ])
        #expect(events.filter { $0["folded"] as? Bool == true }.map { $0["text"] as? String } == ["folded-detail"])
        let last = try #require(events.last)
        let jobs = try #require(last["jobs"] as? [[String: Any]])
        #expect(jobs.map { "\($0["job"]!)=\($0["result"]!)" } == ["a=success", "b=skipped"])
        let directory = try #require(last["directory"] as? String)
        let log = try String(contentsOfFile: directory + "/log.txt", encoding: .utf8)
        #expect(log.hasPrefix("[a] ▶ say \"hi\" to ***\n[a] he said \"hi\"\n"))
        // The run directory: the plan, the whole log, and each job's log without the job prefix.
        let jobLog = try String(contentsOfFile: directory + "/logs/a.log", encoding: .utf8)
        let jobLines = jobLog.split(separator: "\n").map { $0.replacing(/\(\d+ ms\)$/, with: "(N ms)") }
        #expect(jobLines == [
            "▶ say \"hi\" to ***", "he said \"hi\"", "✓ say \"hi\" to *** (N ms)", "▶ Run exit 1",
            "error: process completed with exit code 1", "✗ Run exit 1 (N ms)",
            "▶ Run echo \"::group::Details\"", "▸ Details", "folded-detail", "◂", "✓ Run echo \"::group::Details\" (N ms)",
        ])
        #expect(try String(contentsOfFile: directory + "/logs/b.log", encoding: .utf8) == "skipped (if: false)\n")
        let plan = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/plan.json"))) as? [String: Any])
        #expect(plan["schemaVersion"] as? Int == 1)
        #expect(plan["event"] as? String == "push")
    }

    @Test func everyJobGetsItsOwnLogAndAFinishedEvent() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              first:
                name: x/y
                runs-on: ubuntu-latest
                steps:
                  - run: echo from-slash
              second:
                name: x_y
                needs: first
                runs-on: ubuntu-latest
                steps:
                  - run: echo from-underscore
              rows:
                needs: second
                strategy:
                  max-parallel: 1
                  matrix:
                    x: [1, 2, 3]
                runs-on: ubuntu-latest
                steps:
                  - run: exit 1
            """)
        let result = try scratch.run(["--json"])
        #expect(result.status == 1)
        let finished = try result.stdout.split(separator: "\n").compactMap { line -> String? in
            let event = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard event["type"] as? String == "job-finished" else { return nil }
            return "\(event["job"]!)=\(event["result"]!)"
        }
        // Rows fail-fast cancels before they start still get their event.
        #expect(finished == ["x/y=success", "x_y=success", "rows (1)=failure", "rows (2)=cancelled", "rows (3)=cancelled"])
        let last = try #require(result.stdout.split(separator: "\n").last)
        let directory = try #require((JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["directory"] as? String)
        #expect(try String(contentsOfFile: directory + "/logs/x_y.log", encoding: .utf8).contains("from-slash\n"))
        #expect(try String(contentsOfFile: directory + "/logs/x_y #2.log", encoding: .utf8).contains("from-underscore\n"))
        // The index says which job has which file (readers need not guess the ` #2`).
        let index = try String(contentsOfFile: directory + "/logs/index.tsv", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Set(index.filter { $0.hasPrefix("x_y") }) == ["x_y.log\tx/y", "x_y #2.log\tx_y"])
    }

    @Test func dryRunAndEmptyRunsSpeakJSONToo() throws {
        let scratch = try Scratch("""
            on: pull_request
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: echo never
            """)
        let empty = try scratch.run(["--json"])
        #expect(empty.status == 0)
        #expect(empty.stdout == "{\"type\":\"run-finished\",\"success\":true,\"directory\":null,\"summary\":null,\"jobs\":[]}\n")
        let dry = try scratch.run(["pull_request", "--json", "--dry-run"])
        let plan = try #require(JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        #expect(plan["event"] as? String == "pull_request")
    }
}

extension RunCommandTests {
    /// The JSON lines of `gantry run --json`.
    static func events(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// `job=result` of each job-finished event, in order.
    static func finishedJobs(_ events: [[String: Any]]) -> [String] {
        events.filter { $0["type"] as? String == "job-finished" }.map { "\($0["job"]!)=\($0["result"]!)" }
    }
}
