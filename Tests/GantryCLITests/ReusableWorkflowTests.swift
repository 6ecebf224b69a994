import Foundation
import Testing
import _GantryTestSupport

/// Jobs that call reusable workflows (`jobs.<id>.uses`), run as GitHub runs them: the called
/// workflow's jobs run under `caller / job`, with the call's typed inputs, only the secrets passed
/// down, the caller's `github` and not its `env`; its outputs reach the caller's dependents.
@Suite(.ownThread) struct ReusableWorkflowTests {
    static let build = """
        name: Build
        on:
          workflow_call:
            inputs:
              greeting:
                type: string
                required: true
              count:
                type: number
                default: 1
              debug:
                type: boolean
                default: false
            secrets:
              token:
                required: false
            outputs:
              artifact:
                value: ${{ jobs.compile.outputs.file }}
        env:
          CALLEE_ENV: from-callee
        jobs:
          compile:
            runs-on: ubuntu-latest
            outputs:
              file: ${{ steps.c.outputs.file }}
            steps:
              - id: c
                run: |
                  echo "${{ inputs.greeting }} x${{ inputs.count }} debug=${{ inputs.debug }} token=${{ secrets.token }}/${{ secrets.OTHER }} env=$CALLEE_ENV/$CALLER_ENV event=${{ github.event_name }}"
                  echo "file=app-${{ inputs.count }}.tar" >> "$GITHUB_OUTPUT"
          test:
            needs: compile
            runs-on: ubuntu-latest
            steps:
              - run: echo "testing ${{ needs.compile.outputs.file }}"; test "${{ inputs.greeting }}" != fail
        """

    /// A scratch folder with `w.yml` and the given files under `.github/workflows/`.
    static func scratch(_ workflow: String, files: [String: String]) throws -> RunCommandTests.Scratch {
        let scratch = try RunCommandTests.Scratch(workflow)
        let folder = scratch.url.appendingPathComponent(".github/workflows")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return scratch
    }

    static func lines(_ result: CommandResult) -> [String] {
        result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") && !$0.contains("▶") && !$0.contains("✓") }
    }

    @Test func aCallRunsItsWorkflowsJobsWithTypedInputsOnlyThePassedSecretsAndItsOutputs() throws {
        let scratch = try Self.scratch("""
            on: push
            env:
              CALLER_ENV: from-caller
            jobs:
              prepare:
                runs-on: ubuntu-latest
                outputs:
                  who: ${{ steps.w.outputs.who }}
                steps:
                  - id: w
                    run: echo "who=Mona" >> "$GITHUB_OUTPUT"
              call:
                needs: prepare
                uses: ./.github/workflows/build.yml
                with:
                  greeting: hello ${{ needs.prepare.outputs.who }}
                  count: 3
                secrets:
                  token: ${{ secrets.TOKEN }}
              report:
                needs: call
                runs-on: ubuntu-latest
                steps:
                  - run: echo "result=${{ needs.call.result }} artifact=${{ needs.call.outputs.artifact }}"
            """, files: ["build.yml": Self.build])
        let graph = try runCommand(RunCommandTests.gantry, ["graph", "-W", "w.yml"], in: scratch.url)
        #expect(graph.stdout == """
            w.yml (w.yml)
              prepare
              call           <- prepare
              call / compile <- call
              call / test    <- call / compile
              report         <- call

            """)
        let result = try scratch.run(["-s", "TOKEN", "-s", "OTHER=other-secret", "--jobs", "1"], environment: ["TOKEN": "tok-secret"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.lines(result) == [
            "[call / compile] hello Mona x3 debug=false token=***/ env=from-callee/ event=push",
            "[call / test] testing app-3.tar",
            "[report] result=success artifact=app-3.tar",
        ])
        #expect(!result.stdout.contains("tok-secret"))
        #expect(result.stdout.contains("\ncall / compile  success"))
    }

    @Test func matrixCallsNestedCallsInheritedSecretsAndSkippedCalls() throws {
        let scratch = try Self.scratch("""
            on: push
            jobs:
              call:
                strategy:
                  matrix:
                    target: [a, b]
                uses: $/.github/workflows/build.yml
                with:
                  greeting: hi-${{ matrix.target }}
                secrets: inherit
              outer:
                uses: ./.github/workflows/middle.yml
              skipped:
                if: false
                uses: ./.github/workflows/build.yml
                with:
                  greeting: never
              report:
                needs: [call, outer, skipped]
                if: always()
                runs-on: ubuntu-latest
                steps:
                  - run: echo "call=${{ needs.call.result }} outer=${{ needs.outer.result }}/${{ needs.outer.outputs.m }} skipped=${{ needs.skipped.result }}"
            """, files: [
                "build.yml": Self.build,
                "middle.yml": """
                    on:
                      workflow_call:
                        outputs:
                          m:
                            value: ${{ jobs.inner.outputs.artifact }}
                    jobs:
                      inner:
                        uses: ./.github/workflows/build.yml
                        with:
                          greeting: nested
                          count: 7
                    """,
            ])
        let result = try scratch.run(["-s", "token=inherited", "--jobs", "1"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.lines(result) == [
            "[skipped] skipped (if: false)",
            "[call (a) / compile] hi-a x1 debug=false token=***/ env=from-callee/ event=push",
            "[call (b) / compile] hi-b x1 debug=false token=***/ env=from-callee/ event=push",
            // middle.yml passes no secrets on: the inner call sees none.
            "[outer / inner / compile] nested x7 debug=false token=/ env=from-callee/ event=push",
            "[call (a) / test] testing app-1.tar",
            "[call (b) / test] testing app-1.tar",
            "[outer / inner / test] testing app-7.tar",
            "[report] call=success outer=success/app-7.tar skipped=skipped",
        ])
        let table = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { $0.contains("skipped") && ($0.first == "skipped") }
        #expect(table.map { $0.prefix(3).joined(separator: " ") } == ["skipped skipped -", "skipped / compile", "skipped / test"])
    }

    @Test func aFailingCalledJobFailsTheCallAndItsDependentsAreSkipped() throws {
        let scratch = try Self.scratch("""
            on: push
            jobs:
              call:
                uses: ./.github/workflows/build.yml
                with:
                  greeting: fail
              after:
                needs: call
                runs-on: ubuntu-latest
                steps:
                  - run: echo never
            """, files: ["build.yml": Self.build])
        let result = try scratch.run(["--jobs", "1", "--json"])
        #expect(result.status == 1)
        let events = try RunCommandTests.events(result.stdout)
        let finished = RunCommandTests.finishedJobs(events)
        #expect(finished == ["call / compile=success", "call / test=failure", "call=failure", "after=skipped"])
    }

    @Test func remoteWorkflowsComeFromTheActionDirectoryAndAMissingOneNamesTheCloneLine() throws {
        let scratch = try Self.scratch("""
            on: push
            jobs:
              call:
                uses: octo/shared/.github/workflows/build.yml@v2
                with:
                  greeting: remote
            """, files: [:])
        let actions = scratch.url.appendingPathComponent("actions")
        let missing = try scratch.run(["--action-dir", actions.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains(
            "w.yml:4:11: error: the reusable workflow 'octo/shared/.github/workflows/build.yml@v2' is not in the action directory: gantry runs offline and looks for it in \(actions.path)/octo/shared@v2; provide it with `git clone --depth 1 --branch v2 https://github.com/octo/shared \(actions.path)/octo/shared@v2` or point --action-dir elsewhere [reusable-workflow]"),
            "\(missing.stderr)")
        let folder = actions.appendingPathComponent("octo/shared@v2/.github/workflows")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.build.write(to: folder.appendingPathComponent("build.yml"), atomically: true, encoding: .utf8)
        let found = try scratch.run(["--action-dir", actions.path, "--jobs", "1"])
        #expect(found.status == 0, "\(found.stdout)\(found.stderr)")
        #expect(Self.lines(found) == ["[call / compile] remote x1 debug=false token=/ env=from-callee/ event=push", "[call / test] testing app-1.tar"])
    }

    @Test func workflowsThatCallEachOtherAreRefusedWithTheChainNamed() throws {
        let scratch = try Self.scratch("""
            on: push
            jobs:
              call:
                uses: ./.github/workflows/a.yml
            """, files: [
                "a.yml": "on: workflow_call\njobs:\n  again:\n    uses: ./.github/workflows/b.yml\n",
                "b.yml": "on: workflow_call\njobs:\n  back:\n    uses: ./.github/workflows/a.yml\n",
            ])
        let result = try scratch.run()
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            ".github/workflows/b.yml:4:11: error: reusable workflows call each other in a cycle: w.yml -> .github/workflows/a.yml -> .github/workflows/b.yml -> .github/workflows/a.yml [reusable-workflow]"),
            "\(result.stderr)")
    }

    /// `validate` finds a remote callee where `gantry run` does: in the cache's action directory,
    /// `$XDG_CACHE_HOME/gantry/actions`, else `$HOME/.cache/gantry/actions`.
    @Test func validateLooksForRemoteCalleesInTheCacheDirectory() throws {
        let scratch = try Self.scratch("on: push\njobs: {}\n", files: [
            "ci.yml": "on: push\njobs:\n  call:\n    uses: octo/shared/.github/workflows/build.yml@v2\n"
        ])
        let required = Self.build.replacingOccurrences(of: "required: false", with: "required: true")
        let cases: [([String: String], String)] = [
            (["GANTRY_CACHE_DIR": "", "XDG_CACHE_HOME": scratch.url.appendingPathComponent("xdg").path], "xdg/gantry"),
            (["GANTRY_CACHE_DIR": "", "XDG_CACHE_HOME": "", "HOME": scratch.url.appendingPathComponent("home").path], "home/.cache/gantry"),
        ]
        for (environment, root) in cases {
            let folder = scratch.url.appendingPathComponent(root + "/actions/octo/shared@v2/.github/workflows")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try required.write(to: folder.appendingPathComponent("build.yml"), atomically: true, encoding: .utf8)
            let result = try runCommand(RunCommandTests.gantry, ["validate"], in: scratch.url, environment: environment)
            #expect(result.status == 1, "\(root)")
            #expect(result.stdout == """
                .github/workflows/ci.yml:4:11: error: Input greeting is required, but not provided while calling 'octo/shared/.github/workflows/build.yml@v2' [reusable-workflow]
                .github/workflows/ci.yml:4:11: error: Secret token is required, but not provided while calling 'octo/shared/.github/workflows/build.yml@v2' [reusable-workflow]

                """, "\(root)")
            try FileManager.default.removeItem(at: scratch.url.appendingPathComponent(root))
        }
    }

    @Test func validateChecksEachCallAgainstTheWorkflowItCalls() throws {
        let scratch = try Self.scratch("on: push\njobs: {}\n", files: [
            "build.yml": Self.build.replacingOccurrences(of: "required: false", with: "required: true"),
            "notcall.yml": "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: \"true\"\n",
            "ci.yml": """
                on: push
                jobs:
                  a:
                    uses: ./.github/workflows/build.yml
                    with:
                      greting: hi
                      debug: maybe
                      count: ${{ github.run_number }}
                    secrets:
                      tok: x
                  b:
                    uses: ./.github/workflows/missing.yml
                  c:
                    uses: ./.github/workflows/notcall.yml
                  d:
                    uses: elsewhere/repo/.github/workflows/x.yml@v1
                  e:
                    uses: $/.github/workflows/build.yml
                    with:
                      greeting: fine
                      count: 2
                    secrets: inherit
                """,
        ])
        let result = try runCommand(RunCommandTests.gantry, ["validate"], in: scratch.url, environment: ["GANTRY_CACHE_DIR": scratch.url.appendingPathComponent("cache").path])
        #expect(result.status == 1)
        #expect(result.stdout == """
            .github/workflows/ci.yml:4:11: error: Input greeting is required, but not provided while calling './.github/workflows/build.yml' [reusable-workflow]
            .github/workflows/ci.yml:4:11: error: Secret token is required, but not provided while calling './.github/workflows/build.yml' [reusable-workflow]
            .github/workflows/ci.yml:6:7: error: Invalid input, greting is not defined in the referenced workflow './.github/workflows/build.yml' [reusable-workflow]
            .github/workflows/ci.yml:7:14: error: Input debug of './.github/workflows/build.yml' is a boolean; got a string 'maybe' [reusable-workflow]
            .github/workflows/ci.yml:10:7: error: Invalid secret, tok is not defined in the referenced workflow './.github/workflows/build.yml' [reusable-workflow]
            .github/workflows/ci.yml:12:11: error: the reusable workflow './.github/workflows/missing.yml' cannot be used: cannot read './.github/workflows/missing.yml': No such file or directory [reusable-workflow]
            .github/workflows/ci.yml:14:11: error: './.github/workflows/notcall.yml' is not a reusable workflow: ./.github/workflows/notcall.yml has no 'workflow_call' under 'on' [reusable-workflow]

            """)
    }

    /// A matrix of calls known only at run time: each row calls the workflow once its needs finish.
    /// `${{ insert }}` in a call's `with:` gives the called workflow the mapping's inputs, with their
    /// JSON types; `validate` leaves the required inputs to the call then, as GitHub's parser does.
    @Test func insertInACallsWithGivesTypedInputs() throws {
        let scratch = try Self.scratch("""
            on: push
            jobs:
              call:
                uses: ./.github/workflows/build.yml
                with:
                  ${{ insert }}: ${{ fromJSON('{"greeting":"inserted","count":3,"debug":true}') }}
            """, files: ["build.yml": Self.build])
        let validate = try runCommand(RunCommandTests.gantry, ["validate", "w.yml"], in: scratch.url)
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let result = try scratch.run(["-j", "call"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.lines(result).first == "[call / compile] inserted x3 debug=true token=/ env=from-callee/ event=push", "\(result.stdout)")
    }

    @Test func aMatrixOfCallsKnownOnlyAtRunTimeCallsOncePerRow() throws {
        let scratch = try Self.scratch("""
            on: push
            jobs:
              setup:
                runs-on: ubuntu-latest
                outputs:
                  targets: ${{ steps.t.outputs.targets }}
                steps:
                  - id: t
                    run: echo 'targets=["x","y"]' >> "$GITHUB_OUTPUT"
              call:
                needs: setup
                strategy:
                  matrix:
                    target: ${{ fromJSON(needs.setup.outputs.targets) }}
                uses: ./.github/workflows/build.yml
                with:
                  greeting: for-${{ matrix.target }}
              after:
                needs: call
                runs-on: ubuntu-latest
                steps:
                  - run: echo "after ${{ needs.call.result }}"
            """, files: ["build.yml": Self.build])
        let result = try scratch.run(["--jobs", "1"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.lines(result) == [
            "[call (x) / compile] for-x x1 debug=false token=/ env=from-callee/ event=push",
            "[call (y) / compile] for-y x1 debug=false token=/ env=from-callee/ event=push",
            "[call (x) / test] testing app-1.tar",
            "[call (y) / test] testing app-1.tar",
            "[after] after success",
        ])
    }
}
