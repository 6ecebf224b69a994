import Foundation
import Testing
import _GantryTestSupport

/// Details of the official runner that real workflows rely on, each as the runner's code has it.
@Suite(.ownThread) struct RunnerDetailTests {
    /// actions/runner `ActionCommandManager.cs`: `set-env` and `add-path` work only when
    /// ACTIONS_ALLOW_UNSECURE_COMMANDS is true in the runner's environment or the step's env context;
    /// otherwise the command fails the step.
    @Test func unsecureCommandsWorkOnlyWhenAllowedAndFailTheStepOtherwise() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              allowed:
                runs-on: ubuntu-latest
                env:
                  ACTIONS_ALLOW_UNSECURE_COMMANDS: true
                steps:
                  - run: |
                      mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool ran\\n' > "$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
                      echo "::set-env name=GREETING::hello"
                      echo "::add-path::$RUNNER_TEMP/bin"
                      echo "::set-env name=NODE_OPTIONS::--inspect"
                  - run: echo "greeting=$GREETING env=${{ env.GREETING }}"; mytool
              refused:
                runs-on: ubuntu-latest
                steps:
                  - id: s
                    run: echo "::set-env name=GREETING::hello"; echo after
                    continue-on-error: true
                  - run: echo "outcome=${{ steps.s.outcome }} greeting=[$GREETING]"
              from-environment:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "::set-env name=FROM::gantry"
                  - run: echo "from=$FROM"
            """)
        let result = try scratch.run(["--jobs", "1"], environment: ["ACTIONS_ALLOW_UNSECURE_COMMANDS": ""])
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") && !$0.contains("▶") && !$0.contains("✓") && !$0.contains("✗") }
        #expect(lines == [
            "[allowed] error: Can't update NODE_OPTIONS environment variable using ::set-env:: command.",
            "[allowed] greeting=hello env=hello",
            "[allowed] tool ran",
            "[refused] error: Unable to process command '::set-env name=GREETING::hello' successfully: the `set-env` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`.",
            "[refused] after",
            "[refused] outcome=failure greeting=[]",
            "[from-environment] error: Unable to process command '::set-env name=FROM::gantry' successfully: the `set-env` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`.",
            "[from-environment] skipped: Run echo \"from=$FROM\"",
        ])
        #expect(result.status == 1)
        // Allowed by gantry's own environment, as by the runner's.
        let allowed = try scratch.run(["--jobs", "1", "-j", "from-environment"], environment: ["ACTIONS_ALLOW_UNSECURE_COMMANDS": "True"])
        #expect(allowed.status == 0, "\(allowed.stdout)")
        #expect(allowed.stdout.contains("[from-environment] from=gantry\n"))
    }

    /// `${{ insert }}` as a key of `env` (workflow, job, step) and of `with` splices in the mapping its
    /// value evaluates to (the runner's TemplateEvaluator); a value that is not a mapping fails the step.
    @Test func insertDirectivesSpliceMappingsIntoEnvAndWith() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            env:
              A: a
              ${{ insert }}: ${{ fromJSON('{"B":"b"}') }}
            jobs:
              j:
                runs-on: ubuntu-latest
                env:
                  ${{ insert }}: ${{ fromJSON('{"C":"c","D":"d"}') }}
                steps:
                  - run: |
                      mkdir -p show && printf 'inputs:\\n  who:\\n    default: nobody\\nruns:\\n  using: composite\\n  steps:\\n    - run: echo "hello ${{ '${{' }} inputs.who }}"\\n      shell: sh\\n' > show/action.yml
                  - run: echo "A=$A B=$B C=$C D=$D E=$E ${{ env.B }}"
                    env:
                      ${{ insert }}: ${{ fromJSON('{"E":"e"}') }}
                  - uses: ./show
                    with:
                      ${{ insert }}: ${{ fromJSON('{"who":"world"}') }}
                  - run: echo never
                    env:
                      ${{ insert }}: ${{ fromJSON('[1]') }}
            """)
        let result = try scratch.run()
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("[j] A=a B=b C=c D=d E=e b\n"), "\(result.stdout)")
        #expect(result.stdout.contains("[j] hello world\n"), "\(result.stdout)")
        #expect(result.stdout.contains("[j] error: step 'Run echo never': '${{ insert }}' expects a mapping, found Array. Located within expression: ${{ fromJSON('[1]') }}\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("[j] never"))
    }

    /// `--matrix` given twice for one key keeps the rows with either value (act's habit); a filter that
    /// keeps no row says so and fails instead of running nothing.
    @Test func matrixFiltersForOneKeyAddUpAndOneThatKeepsNothingFails() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              t:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    os: [a, b, c]
                    v: [1, 2]
                steps:
                  - run: echo "${{ matrix.os }}-${{ matrix.v }}"
            """)
        let plan = try runCommand(RunCommandTests.gantry, ["plan", "-W", "w.yml", "--matrix", "os=a", "--matrix", "os=C", "--matrix", "v=2"], in: scratch.url)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("1. t (a, 2)\n"))
        #expect(plan.stdout.contains("2. t (c, 2)\n"))
        #expect(!plan.stdout.contains("3. "))
        let none = try scratch.run(["--matrix", "os=z"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("w.yml:3:3: error: --matrix os=z keeps no row of the matrix of job 't' [matrix]"), "\(none.stderr)")
    }

    /// `GITHUB_ACTION` and `github.action` as the runner names steps: the `id`, else `__run`,
    /// `__run_2`…, `__OWNER_REPO` for an action, `__self` for a local one; inside a composite the
    /// inner steps have their own names and `github.action_path`, `action_repository` and
    /// `action_ref` are the composite action's.
    @Test func stepsAreNamedAsTheRunnerNamesThem() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "1 $GITHUB_ACTION ${{ github.action }}"
                  - run: echo "2 $GITHUB_ACTION ${{ github.action }}"
                  - id: named
                    run: echo "3 $GITHUB_ACTION ${{ github.action }}"
                  - uses: octo/say@v3
                  - uses: octo/say@v3
                  - run: echo "6 $GITHUB_ACTION"
            """)
        let action = scratch.url.appendingPathComponent("actions/octo/say@v3")
        try FileManager.default.createDirectory(at: action, withIntermediateDirectories: true)
        try """
            runs:
              using: composite
              steps:
                - run: echo "in $GITHUB_ACTION ${{ github.action }} repo=${{ github.action_repository }}@${{ github.action_ref }} path=${{ github.action_path == env.P }}"
                  shell: bash
                  env:
                    P: ${{ github.action_path }}
                - run: echo "env $GITHUB_ACTION_REPOSITORY $GITHUB_ACTION_REF ${GITHUB_ACTION_PATH##*/}"
                  shell: bash
            """.write(to: action.appendingPathComponent("action.yml"), atomically: true, encoding: .utf8)
        let result = try scratch.run(["--action-dir", scratch.url.appendingPathComponent("actions").path])
        #expect(result.status == 0, "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[a] ") && !$0.contains("▶") && !$0.contains("✓") }
        #expect(lines == [
            "[a] 1 __run __run",
            "[a] 2 __run_2 __run_2",
            "[a] 3 named named",
            "[a] in __run __run repo=octo/say@v3 path=true",
            "[a] env octo/say v3 say@v3",
            "[a] in __run __run repo=octo/say@v3 path=true",
            "[a] env octo/say v3 say@v3",
            "[a] 6 __run_3",
        ])
    }

    /// A missing action is explained once per run, however many steps and jobs use it.
    @Test func aMissingActionIsExplainedOncePerRun() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - uses: octo/gone@v1
                  - uses: octo/gone@v1
              b:
                needs: a
                if: always()
                runs-on: ubuntu-latest
                steps:
                  - uses: octo/gone@v1
            """)
        let actions = scratch.url.appendingPathComponent("actions").path
        let result = try scratch.run(["--action-dir", actions, "--jobs", "1"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") }
        #expect(lines == [
            "[a] error: action 'octo/gone@v1' is not in the action directory: gantry runs offline and looks for it in \(actions)/octo/gone@v1; provide it with `git clone --depth 1 --branch v1 https://github.com/octo/gone \(actions)/octo/gone@v1` or point --action-dir elsewhere",
            "[b] error: action 'octo/gone@v1' cannot be used (said above)",
        ])
    }

    /// A post script runs with the job's env as it is then (what later steps wrote to GITHUB_ENV)
    /// under the action step's own `env`; its `post-if` sees the job's steps and the action's inputs
    /// (actions/runner: the post step is a step of its own, evaluated when it runs).
    @Test func postStepsSeeTheEnvAndStepsOfWhenTheyRun() throws {
        let repo = try ScratchRepository()
        try repo.write("act/action.yml", """
            inputs:
              who: {default: nobody}
            runs:
              using: node20
              main: main.js
              post: post.js
              post-if: steps.later.outcome == 'success' && inputs.who == 'mona'
            """)
        try repo.write("act/main.js", "console.log('main ' + process.env.LATER + ' ' + process.env.OWN)\n")
        try repo.write("act/post.js", "console.log('post later=' + process.env.LATER + ' own=' + process.env.OWN + ' who=' + process.env.INPUT_WHO)\n")
        try repo.write("skip/action.yml", "runs:\n  using: node20\n  main: main.js\n  post: post.js\n  post-if: steps.nope.outcome == 'success'\n")
        try repo.write("skip/main.js", "console.log('skip main')\n")
        try repo.write("skip/post.js", "console.log('skip post ran')\n")
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: ./act
                    with:
                      who: mona
                    env:
                      OWN: step-env
                  - uses: ./skip
                  - id: later
                    run: echo "LATER=written-later" >> "$GITHUB_ENV"
            """)
        let result = try runCommand(RunCommandTests.gantry, ["run"], in: repo.url)
        #expect(result.status == 0, "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[j] ") && !$0.contains("▶") && !$0.contains("✓") && !$0.contains("checked out") }
        #expect(lines == ["[j] main undefined step-env", "[j] skip main", "[j] post later=written-later own=step-env who=mona"])
    }

    /// The push payload made from git lists each kind of change, and its author is the commit's,
    /// not the user git is configured with.
    @Test func thePushPayloadListsAddedRemovedAndModifiedAndTheCommitsAuthor() throws {
        let repo = try ScratchRepository()
        try repo.write("keep.txt", "1\n")
        try repo.write("gone.txt", "x\n")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "root")
        try repo.write("keep.txt", "2\n")
        try repo.git("rm", "-q", "gone.txt")
        try repo.write("new.txt", "n\n")
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      echo 'added=${{ join(github.event.head_commit.added, ',') }}'
                      echo 'removed=${{ join(github.event.head_commit.removed, ',') }}'
                      echo 'modified=${{ join(github.event.head_commit.modified, ',') }}'
                      echo 'author=${{ github.event.head_commit.author.name }} <${{ github.event.head_commit.author.email }}>'
                      echo 'commits=${{ github.event.commits[0].id == github.sha }}'
            """)
        try repo.git("add", ".")
        try repo.git("commit", "-q", "--author", "Octo Cat <octo@example.com>", "-m", "second")
        let result = try runCommand(RunCommandTests.gantry, ["run"], in: repo.url)
        #expect(result.status == 0, "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[j] ") && !$0.contains("▶") && !$0.contains("✓") }
        #expect(lines == [
            "[j] added=.github/workflows/ci.yml,new.txt", "[j] removed=gone.txt", "[j] modified=keep.txt",
            "[j] author=Octo Cat <octo@example.com>", "[j] commits=true",
        ])
    }

    /// validate expands literal matrices with the runner's MatrixBuilder rules: an `exclude` key the
    /// matrix does not have and more than 256 rows are errors, as GitHub raises them.
    @Test func validateChecksLiteralMatricesAsGitHubBuildsThem() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              exclude:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    os: [a, b]
                    exclude:
                      - oss: a
                steps:
                  - run: echo
              big:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
                    y: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
                steps:
                  - run: echo
              later:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    n: ${{ fromJSON(vars.N) }}
                steps:
                  - run: echo
            """)
        let result = try runCommand(RunCommandTests.gantry, ["validate", "w.yml"], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stdout == """
            w.yml:9:13: error: matrix exclude key 'oss' does not match any key within the matrix [matrix]
            w.yml:16:9: error: the matrix produces 272 jobs; GitHub allows at most 256 [matrix]

            """)
    }

    /// `validate --format sarif` (SARIF 2.1.0, for code scanning) and `--format github` (workflow
    /// commands that annotate the lines when validate runs in a workflow).
    @Test func validatePrintsSarifAndGitHubAnnotations() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              __a:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "${{ github.event_name, }}"
            """)
        let github = try runCommand(RunCommandTests.gantry, ["validate", "--format", "github", "w.yml"], in: scratch.url)
        #expect(github.status == 1)
        #expect(github.stdout.hasPrefix("::error file=w.yml,line=3,col=3,title=id::invalid job id '__a': ids starting with '__' are reserved\n::error file=w.yml,line=6,col="))
        let sarif = try runCommand(RunCommandTests.gantry, ["validate", "--format", "sarif", "w.yml"], in: scratch.url)
        #expect(sarif.status == 1)
        let object = try #require(JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8)) as? [String: Any])
        #expect(object["version"] as? String == "2.1.0")
        let run = try #require((object["runs"] as? [[String: Any]])?.first)
        let rules = ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]]
        #expect(rules?.map { $0["id"] as? String } == ["id", "expression"])
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.map { $0["ruleId"] as? String } == ["id", "expression"])
        #expect(results.map { $0["level"] as? String } == ["error", "error"])
        let region = ((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"] as? [String: Int]
        #expect(region == ["startLine": 3, "startColumn": 3])
    }

    /// Advisory warnings with their own rules, off with --no-warnings: retired hosted runner labels,
    /// majors of GitHub's actions whose runtime GitHub no longer runs, deprecated workflow commands.
    @Test func validateAdvisesAboutWhatGitHubNoLongerRuns() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              old:
                runs-on: ubuntu-20.04
                steps:
                  - uses: actions/checkout@v3
                  - uses: actions/upload-artifact@v3.1.0
                    with: {name: a, path: x}
                  - uses: actions/checkout@v4
                  - run: echo "::set-output name=x::1"
            """)
        let result = try runCommand(RunCommandTests.gantry, ["validate", "w.yml"], in: scratch.url)
        #expect(result.status == 0)
        #expect(result.stdout == """
            w.yml:4:14: warning: runner label 'ubuntu-20.04' names a hosted image GitHub retired in 2025-04; the job would wait for a runner that never comes [runner-label]
            w.yml:6:15: warning: 'actions/checkout@v3' runs on node12 or node16, which GitHub no longer runs; use a newer major version [action-runtime]
            w.yml:7:15: warning: 'actions/upload-artifact@v3.1.0' was shut down by GitHub on 2025-01-30; use a newer major version [action-runtime]
            w.yml:10:14: warning: the `set-output` workflow command is deprecated; write to $GITHUB_OUTPUT instead [deprecated-command]

            """)
        let quiet = try runCommand(RunCommandTests.gantry, ["validate", "--no-warnings", "w.yml"], in: scratch.url)
        #expect(quiet.stdout == "" && quiet.stderr == "1 workflow file checked: no problems\n")
    }
}
