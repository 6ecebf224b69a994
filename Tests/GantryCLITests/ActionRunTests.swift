import Foundation
import Testing
import _GantryTestSupport

/// `gantry run` with actions, end to end on repositories the tests create: actions/checkout, local
/// composite and node actions, remote actions from --action-dir, and the errors when one is missing.
@Suite(.ownThread) struct ActionRunTests {
    static let gantry = Fixtures.gantryExecutable()

    /// The console lines of a run, without the summary table.
    static func lines(_ result: CommandResult) -> [String] {
        result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") }
    }

    /// A repository with a workflow and three local actions: a composite, a composite calling it, and a
    /// node action with a post script.
    static func repository(workflow: String) throws -> ScratchRepository {
        let repo = try ScratchRepository()
        try repo.write(".github/actions/greet/action.yml", """
            name: greet
            inputs:
              who:
                default: world
              loud:
                required: false
            outputs:
              said:
                value: ${{ steps.say.outputs.text }}
            runs:
              using: composite
              steps:
                - id: say
                  shell: bash
                  run: |
                    echo "hello ${{ inputs.who }} from ${GITHUB_ACTION_PATH#$GITHUB_WORKSPACE/}"
                    echo "text=hi-${{ inputs.who }}" >> "$GITHUB_OUTPUT"
                    echo "$CALLER_ENV"
                - if: inputs.loud == 'yes'
                  shell: sh
                  run: echo "LOUD ${{ github.action_path != '' }}"
            """)
        try repo.write(".github/actions/outer/action.yml", """
            runs:
              using: composite
              steps:
                - id: inner
                  uses: ./.github/actions/greet
                  with: { who: nested }
                - shell: bash
                  run: echo "inner said ${{ steps.inner.outputs.said }}"; echo "FROM_COMPOSITE=set" >> "$GITHUB_ENV"
            outputs:
              x:
                value: ${{ steps.inner.outputs.said }}
            """)
        try repo.write(".github/actions/node/action.yml", """
            inputs:
              my input:
                default: dflt
            runs:
              using: node20
              main: main.js
              post: post.js
            """)
        try repo.write(".github/actions/node/main.js", """
            const fs = require('fs');
            console.log('main input=' + process.env['INPUT_MY_INPUT']);
            fs.appendFileSync(process.env.GITHUB_STATE, 'token=abc\\n');
            fs.appendFileSync(process.env.GITHUB_OUTPUT, 'out=42\\n');
            """)
        try repo.write(".github/actions/node/post.js", "console.log('post state=' + process.env['STATE_token'] + ' input=' + process.env['INPUT_MY_INPUT']);\n")
        try repo.write(".github/workflows/ci.yml", workflow)
        try repo.write("committed.txt", "committed\n")
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "base")
        return repo
    }

    @Test func checkoutCompositeAndNodeActions() throws {
        let repo = try Self.repository(workflow: """
            on: push
            jobs:
              build:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: cat committed.txt untracked.txt
                  - id: g
                    uses: ./.github/actions/greet
                    env:
                      CALLER_ENV: from-caller
                    with:
                      who: gantry
                      loud: yes
                  - run: echo "said ${{ steps.g.outputs.said }}"
                  - id: o
                    uses: ./.github/actions/outer
                  - run: echo "outer x=${{ steps.o.outputs.x }} env=$FROM_COMPOSITE"
                  - id: n
                    uses: ./.github/actions/node
                    with:
                      my input: given
                      bogus: 1
                  - run: echo "node out=${{ steps.n.outputs.out }}"
            """)
        try repo.write("committed.txt", "changed in the working tree\n")
        try repo.write("untracked.txt", "untracked\n")
        let result = try runCommand(Self.gantry, ["run"], in: repo.url)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = Self.lines(result).filter { !$0.contains("✓") && !$0.hasPrefix("[build] checked out") }
        #expect(lines == [
            "[build] ▶ actions/checkout@v4",
            "[build] ▶ Run cat committed.txt untracked.txt",
            "[build] changed in the working tree",
            "[build] untracked",
            "[build] ▶ ./.github/actions/greet",
            "[build] hello gantry from .github/actions/greet",
            "[build] from-caller",
            "[build] LOUD true",
            "[build] ▶ Run echo \"said ${{ steps.g.outputs.said }}\"",
            "[build] said hi-gantry",
            "[build] ▶ ./.github/actions/outer",
            "[build] hello nested from .github/actions/greet",
            "[build] ",
            "[build] skipped: Run echo \"LOUD ${{ github.action_path != '' }}\"",
            "[build] inner said hi-nested",
            "[build] ▶ Run echo \"outer x=${{ steps.o.outputs.x }} env=$FROM_COMPOSITE\"",
            "[build] outer x=hi-nested env=set",
            "[build] ▶ ./.github/actions/node",
            "[build] warning: unexpected input(s) 'bogus', valid inputs are ['my input']",
            "[build] main input=given",
            "[build] ▶ Run echo \"node out=${{ steps.n.outputs.out }}\"",
            "[build] node out=42",
            "[build] ▶ Post ./.github/actions/node",
            "[build] post state=abc input=given",
        ])
        #expect(Self.lines(result).contains { $0.hasPrefix("[build] checked out 8 files of the working tree (with uncommitted changes) into /") })
        // The repository itself is untouched.
        #expect(try repo.git("status", "--porcelain") == "M committed.txt\n?? untracked.txt")
    }

    /// `uses: $/PATH` (GitHub's 2026 form, actions/runner #4457): an action of this repository at the
    /// run's commit, with no checkout; one that is not there fails the job at set-up.
    @Test func selfRepositoryActionsNeedNoCheckout() throws {
        let repo = try Self.repository(workflow: """
            on: push
            jobs:
              build:
                runs-on: ubuntu-latest
                steps:
                  - id: n
                    uses: $/.github/actions/node
                    with:
                      my input: given
                  - run: echo "node out=${{ steps.n.outputs.out }} workspace=$(ls -A | wc -l)"
              bad:
                runs-on: ubuntu-latest
                steps:
                  - uses: $/.github/actions/missing
            """)
        let result = try runCommand(Self.gantry, ["run"], in: repo.url)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = Self.lines(result).filter { !$0.contains("✓") && !$0.contains("✗") }
        #expect(lines.filter { $0.hasPrefix("[build]") } == [
            "[build] ▶ $/.github/actions/node",
            "[build] main input=given",
            "[build] ▶ Run echo \"node out=${{ steps.n.outputs.out }} workspace=$(ls -A | wc -l)\"",
            "[build] node out=42 workspace=0",
            "[build] ▶ Post $/.github/actions/node",
            "[build] post state=abc input=given",
        ])
        #expect(lines.contains("[bad] error: '$/.github/actions/missing' has no action.yml or action.yaml at .github/actions/missing in this repository at the run's commit"))
    }

    @Test func checkoutHeadAndPathAndOtherRepositories() throws {
        let repo = try Self.repository(workflow: """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                    with:
                      path: src/here
                  - run: cat src/here/committed.txt; test ! -e src/here/untracked.txt && echo no-untracked
                  - id: again
                    uses: actions/checkout@v4
                    with:
                      path: ../outside
                  - if: failure()
                    uses: actions/checkout@v4
                    with:
                      repository: someone/else
            """)
        try repo.write("committed.txt", "changed in the working tree\n")
        try repo.write("untracked.txt", "untracked\n")
        let result = try runCommand(Self.gantry, ["run", "--checkout", "head"], in: repo.url)
        #expect(result.status == 1)
        let lines = Self.lines(result)
        #expect(lines.contains { $0.hasPrefix("[j] checked out 7 files of the HEAD commit into /") && $0.hasSuffix("/work/j/src/here") })
        #expect(lines.contains("[j] committed"))
        #expect(lines.contains("[j] no-untracked"))
        #expect(lines.contains { $0.hasPrefix("[j] error: actions/checkout: path '../outside' is outside the workspace /") })
        #expect(lines.contains("[j] error: actions/checkout: gantry checks out only the repository it runs in, not 'someone/else' (that needs the network)"))
    }

    @Test func remoteActionsComeFromTheActionDirectoryWithPreAndPost() throws {
        let repo = try ScratchRepository()
        let actions = repo.url.appendingPathComponent("actions-dir")
        try repo.write("actions-dir/acme/tool@v1/action.yml", """
            runs:
              using: node20
              pre: pre.js
              pre-if: runner.os == 'Linux'
              main: main.js
              post: post.js
              post-if: failure()
            """)
        try repo.write("actions-dir/acme/tool@v1/pre.js", "console.log('pre'); require('fs').appendFileSync(process.env.GITHUB_STATE, 'p=1\\n');\n")
        try repo.write("actions-dir/acme/tool@v1/main.js", "console.log('main sees STATE_p=' + process.env.STATE_p);\n")
        try repo.write("actions-dir/acme/tool@v1/post.js", "console.log('post after failure');\n")
        try repo.write("actions-dir/acme/tool@v1/sub/action.yml", "runs:\n  using: composite\n  steps:\n    - run: echo from-sub-path\n      shell: bash\n")
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: echo first
                  - uses: acme/tool@v1
                  - uses: acme/tool/sub@v1
                  - uses: ./missing
              b:
                runs-on: ubuntu-latest
                steps:
                  - run: echo never
                  - uses: acme/other@v2
            """)
        let result = try runCommand(Self.gantry, ["run", "--action-dir", actions.path], in: repo.url)
        #expect(result.status == 1)
        let lines = Self.lines(result).filter { !$0.contains("✓") && !$0.contains("✗") }
        #expect(lines.filter { $0.hasPrefix("[a]") } == [
            "[a] ▶ Pre acme/tool@v1", "[a] pre",
            "[a] ▶ Run echo first", "[a] first",
            "[a] ▶ acme/tool@v1", "[a] main sees STATE_p=1",
            "[a] ▶ acme/tool/sub@v1", "[a] from-sub-path",
            "[a] ▶ ./missing",
            "[a] error: './missing' has no action.yml or action.yaml in the workspace (\(Self.workspace(result, "a"))/missing); local actions are read from the workspace: check out the repository first with actions/checkout",
            "[a] ▶ Post acme/tool@v1", "[a] post after failure",
        ])
        // A missing remote action fails the job before any step runs, in one line that says how to fix it.
        let other = actions.path + "/acme/other@v2"
        #expect(lines.filter { $0.hasPrefix("[b]") } == [
            "[b] error: action 'acme/other@v2' is not in the action directory: gantry runs offline and looks for it in \(other); provide it with `git clone --depth 1 --branch v2 https://github.com/acme/other \(other)` or point --action-dir elsewhere",
        ])
    }

    @Test func badMetadataDockerActionsAndMissingNode() throws {
        let repo = try ScratchRepository()
        try repo.write("bad/action.yml", "runs:\n  using: node8\n  main: x.js\n")
        try repo.write("docker/action.yml", "runs:\n  using: docker\n  image: Dockerfile\n")
        try repo.write("node/action.yml", "runs:\n  using: node20\n  main: x.js\n")
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: ./bad
                    continue-on-error: true
                  - uses: ./docker
                    continue-on-error: true
                  - uses: docker://busybox
                    continue-on-error: true
                  - uses: ./node
                    env:
                      PATH: /nonexistent
            """)
        // No engine here: the Docker actions fail in one line each (DockerRunTests runs them for real).
        let result = try runCommand(Self.gantry, ["run"], in: repo.url, environment: ["DOCKER_HOST": "unix:///nonexistent.sock"])
        #expect(result.status == 1)
        let errors = Self.lines(result).filter { $0.contains("error") || $0.contains("a.yml") || $0.hasPrefix("[j] /") }
        let workspace = Self.workspace(result, "j")
        #expect(errors == [
            "[j] error: action './bad' has invalid metadata:",
            "[j] \(workspace)/bad/action.yml:2:10: error: unknown 'runs.using' value 'node8': expected composite, docker or one of node12, node16, node20, node24 [action]",
            "[j] error: Docker actions need a container engine: no container engine answers at unix:///nonexistent.sock (no such socket); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST",
            "[j] error: Docker actions need a container engine: no container engine answers at unix:///nonexistent.sock (no such socket); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST",
            "[j] error: the action runs on node20; gantry runs JavaScript actions with the host's `node`, which is not on PATH (install Node.js)",
        ])
    }

    /// The examples a newcomer runs first, from this repository (those that need no container, no
    /// service and no downloaded action).
    @Test(arguments: ["hello-dag.yml", "matrix.yml", "local-actions.yml", "terraform-plan-apply.yml", "cache-pip.yml"])
    func examplesRun(_ file: String) throws {
        // State, cache and HOME (the pip cache lives in ~/.cache/pip) in a temporary folder.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let environment = ["GANTRY_STATE_DIR": scratch.path + "/state", "GANTRY_CACHE_DIR": scratch.path + "/cache", "HOME": scratch.path + "/home"]
        let result = try runCommand(Self.gantry, ["run", "-W", "workflows-examples/" + file], in: Fixtures.packageRoot(), environment: environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("run succeeded\n"))
        if file == "cache-pip.yml" {
            // A miss that saves, then an exact hit on the second run.
            #expect(Self.lines(result).contains("[install] exact hit: false"))
            #expect(Self.lines(result).contains { $0.hasPrefix("[install] Cache saved with key: Linux-pip-") })
            let again = try runCommand(Self.gantry, ["run", "-W", "workflows-examples/" + file], in: Fixtures.packageRoot(), environment: environment)
            #expect(Self.lines(again).contains("[install] exact hit: true"))
            #expect(Self.lines(again).contains("[install] skipped: Fill the cache directory on a miss"))
        }
        if file == "local-actions.yml" {
            let lines = Self.lines(result)
            for expected in [
                "[greet] timer 'greet' started", "[greet] hello, gantry (from workflows-examples/actions/greet)", "[greet] HELLO, GANTRY",
                "[greet] the action said 'hello, gantry'", "[greet] timer 'greet' stopped after a few milliseconds", "[reply] got the greeting",
            ] {
                #expect(lines.contains(expected), "missing \(expected)")
            }
        }
    }

    @Test func artifactsPassFilesBetweenJobs() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              make:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      mkdir -p dist/linux dist/mac/.cache docs
                      echo l > dist/linux/app; echo m > dist/mac/app; echo c > dist/mac/.cache/x; echo d > docs/readme.md
                      echo skip > dist/linux/app.tmp
                  - uses: actions/upload-artifact@v4
                    with:
                      name: binaries
                      path: |
                        dist/**/app*
                        !dist/**/*.tmp
                  - uses: actions/upload-artifact@v4
                    with:
                      name: docs
                      path: docs/readme.md
                  - uses: actions/upload-artifact@v4
                    with:
                      name: everything
                      include-hidden-files: true
                      path: |
                        dist
                        docs
                  - id: none
                    uses: actions/upload-artifact@v4
                    with:
                      name: none
                      path: nothing-*.txt
                  - uses: actions/upload-artifact@v4
                    continue-on-error: true
                    with:
                      name: none
                      path: nothing-*.txt
                      if-no-files-found: error
                  - uses: actions/upload-artifact@v4
                    continue-on-error: true
                    with:
                      name: docs
                      path: docs
                  - uses: actions/upload-artifact@v4
                    continue-on-error: true
                    with:
                      name: a/b
                      path: docs
                  - uses: actions/upload-artifact@v4
                    continue-on-error: true
                    with:
                      name: ..
                      overwrite: true
                      path: docs
                  - run: ln -s docs/readme.md linked.md
                  - uses: actions/upload-artifact@v4
                    with:
                      name: link
                      path: linked.md
              use:
                needs: make
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      name: binaries
                      path: bin
                  - id: all
                    uses: actions/download-artifact@v4
                    with:
                      path: all
                  - uses: actions/download-artifact@v4
                    with:
                      pattern: bin*
                      merge-multiple: true
                      path: merged
                  - run: |
                      find bin all merged -type f | sort
                      test "${{ steps.all.outputs.download-path }}" = "$PWD/all" && echo download-path-ok
                  - uses: actions/download-artifact@v4
                    with:
                      name: missing
            """)
        let result = try scratch.run()
        #expect(result.status == 1)
        let lines = Self.lines(result).filter { !$0.contains("▶") && !$0.contains("✓") && !$0.contains("✗") }
        let root = Self.workspace(result, "make").replacingOccurrences(of: "/work/make", with: "")
        #expect(lines.filter { $0.hasPrefix("[make]") } == [
            "[make] uploaded artifact 'binaries': 2 files, 4 bytes, to \(root)/artifacts/binaries",
            "[make] uploaded artifact 'docs': 1 file, 2 bytes, to \(root)/artifacts/docs",
            "[make] uploaded artifact 'everything': 5 files, 13 bytes, to \(root)/artifacts/everything",
            "[make] warning: actions/upload-artifact: No files were found with the provided path: nothing-*.txt. No artifacts will be uploaded.",
            "[make] error: actions/upload-artifact: No files were found with the provided path: nothing-*.txt. No artifacts will be uploaded.",
            "[make] error: actions/upload-artifact: an artifact named 'docs' was already uploaded in this run; give another name or set overwrite: true",
            "[make] error: actions/upload-artifact: the artifact name 'a/b' contains '/', which is not allowed (\" : < > | * ? \\r \\n \\ /)",
            "[make] error: actions/upload-artifact: '..' is not an artifact name",
            "[make] uploaded artifact 'link': 1 file, 2 bytes, to \(root)/artifacts/link",
        ])
        // A link is uploaded as what it points to.
        #expect(try String(contentsOfFile: root + "/artifacts/link/linked.md", encoding: .utf8) == "d\n")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/artifacts/link/linked.md")) == nil)
        let use = Self.workspace(result, "use")
        #expect(lines.filter { $0.hasPrefix("[use]") } == [
            "[use] downloaded 1 artifact (2 files) to \(use)/bin",
            "[use] downloaded 4 artifacts (9 files) to \(use)/all",
            "[use] downloaded 1 artifact (2 files) to \(use)/merged",
            "[use] all/binaries/linux/app", "[use] all/binaries/mac/app", "[use] all/docs/readme.md",
            "[use] all/everything/dist/linux/app", "[use] all/everything/dist/linux/app.tmp", "[use] all/everything/dist/mac/.cache/x",
            "[use] all/everything/dist/mac/app", "[use] all/everything/docs/readme.md", "[use] all/link/linked.md",
            "[use] bin/linux/app", "[use] bin/mac/app", "[use] merged/linux/app", "[use] merged/mac/app",
            "[use] download-path-ok",
            "[use] error: actions/download-artifact: unable to download artifact(s): artifact not found for name: missing (artifacts are shared by the jobs of one gantry run; was it uploaded by a job this one needs?)",
        ])
    }

    @Test func checkoutNeverFollowsSymlinksAndTakesAbsolutePathsInsideTheWorkspace() throws {
        let repo = try Self.repository(workflow: """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: mkdir -p "$VICTIM" && echo keep > "$VICTIM/keep.txt" && ln -s "$VICTIM" out && ln -s "$VICTIM" up
                  - uses: actions/checkout@v4
                    with:
                      path: out
                  - run: test -d out && test ! -L out && test -f out/committed.txt && echo out-is-a-real-folder
                  - uses: actions/checkout@v4
                    continue-on-error: true
                    with:
                      path: up/sub
                  - uses: actions/checkout@v4
                    with:
                      path: ${{ github.workspace }}/abs
                  - run: test -f abs/committed.txt && echo absolute-path-ok
            """)
        let victim = repo.url.appendingPathComponent("victim")
        let result = try runCommand(Self.gantry, ["run"], in: repo.url, environment: ["VICTIM": victim.path])
        #expect(result.status == 0, "\(result.stdout)")
        let lines = Self.lines(result)
        #expect(lines.contains("[j] out-is-a-real-folder"))
        #expect(lines.contains("[j] error: actions/checkout: '\(Self.workspace(result, "j"))/up' is a symbolic link; gantry does not check out through it"))
        #expect(lines.contains("[j] absolute-path-ok"))
        // What the links pointed to is untouched.
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim.path) == ["keep.txt"])
    }

    @Test func compositeStatusTimeoutsPostAfterSkippedMainAndSaveState() throws {
        let repo = try ScratchRepository()
        let actions = repo.url.appendingPathComponent("actions-dir")
        try repo.write("actions-dir/acme/tool@v1/action.yml", "runs:\n  using: node20\n  pre: pre.js\n  main: main.js\n  post: post.js\n")
        try repo.write("actions-dir/acme/tool@v1/pre.js", "console.log('::save-state name=legacy::from-pre');\n")
        try repo.write("actions-dir/acme/tool@v1/main.js", "console.log('main ran');\n")
        try repo.write("actions-dir/acme/tool@v1/post.js", "console.log('post sees ' + process.env.STATE_legacy);\n")
        try repo.write("actions-dir/acme/sleep@v1/action.yml", "runs:\n  using: node20\n  main: main.js\n")
        try repo.write("actions-dir/acme/sleep@v1/main.js", "setTimeout(() => console.log('node slept'), 5000);\n")
        try repo.write("cleanup/action.yml", """
            runs:
              using: composite
              steps:
                - run: echo "inner step ran"
                  shell: bash
                - if: failure()
                  run: echo "inner failure() true"
                  shell: bash
                - run: sleep 5; echo "composite slept"
                  shell: bash
            """)
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: exit 1
                  - uses: acme/tool@v1
                  - if: always()
                    uses: ./cleanup
                    timeout-minutes: 0.02
                    continue-on-error: true
                  - if: always()
                    uses: acme/sleep@v1
                    timeout-minutes: 0.01
            """)
        let result = try runCommand(Self.gantry, ["run", "--action-dir", actions.path], in: repo.url)
        #expect(result.status == 1)
        let lines = Self.lines(result).filter { !$0.contains("▶") && !$0.contains("✓") && !$0.contains("✗") && !$0.hasPrefix("[j] checked out") }
        #expect(lines == [
            "[j] warning: the `save-state` command is deprecated; write to $GITHUB_STATE instead",
            "[j] error: process completed with exit code 1",
            "[j] skipped: acme/tool@v1",
            // A cleanup composite called with always() runs its steps: its status functions see its own steps.
            "[j] inner step ran",
            "[j] skipped: Run echo \"inner failure() true\"",
            "[j] error: the step timed out",
            "[j] error: the step timed out",
            // The pre step ran, so the post step runs although the main step was skipped.
            "[j] post sees from-pre",
        ])
    }

    /// The job's workspace, from the run directory the run printed.
    static func workspace(_ result: CommandResult, _ job: String) -> String {
        let directory = result.stdout.split(separator: "\n").first { $0.hasPrefix("run directory: ") }.map { String($0.dropFirst("run directory: ".count)) } ?? "?"
        return directory + "/work/" + job
    }
}
