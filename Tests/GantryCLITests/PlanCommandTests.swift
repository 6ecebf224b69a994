import Foundation
import Testing
import _GantryTestSupport

/// `gantry list`, `graph` and `plan` run as users run them, in a git repository and outside one.
@Suite(.ownThread) struct PlanCommandTests {
    static let gantry = Fixtures.gantryExecutable()

    /// A copy of `Fixtures/plan-repo`, optionally made a git repository on branch `main`.
    final class Workspace {
        let url: URL

        init(git: Bool) throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-plan-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: Fixtures.directory().appendingPathComponent("plan-repo"), to: url)
            if git {
                for args in [
                    ["init", "-q", "-b", "main"], ["config", "user.name", "Mona"], ["config", "user.email", "m@example.com"],
                    ["add", "."], ["commit", "-q", "-m", "init"],
                ] {
                    _ = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git"] + args, in: url)
                }
            }
        }

        deinit { try? FileManager.default.removeItem(at: url) }

        func run(_ args: [String]) throws -> CommandResult {
            try runCommand(PlanCommandTests.gantry, args, in: url)
        }
    }

    @Test func planInAGitRepositoryUsesItsBranchAndCommit() throws {
        let ws = try Workspace(git: true)
        let sha = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "rev-parse", "HEAD"], in: ws.url).stdout.prefix(12)
        let result = try ws.run(["plan"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.stdout.hasPrefix("plan for 'push' on refs/heads/main at \(sha): 1 workflow, 4 job instances\n"))
        #expect(result.stdout.contains("  3. test (windows-latest)\n       job: test\n       needs: build\n"))
    }

    @Test func outsideARepositoryBranchFiltersCannotMatch() throws {
        let ws = try Workspace(git: false)
        let result = try ws.run(["plan"])
        #expect(result.status == 0)
        #expect(result.stderr.hasPrefix("gantry: warning: '.' is not in a git repository ("))
        #expect(result.stdout == """
            plan for 'push': 0 workflows, 0 job instances

            not taking part:
              .github/workflows/ci.yml (CI): HEAD is detached and no tag points at it, so branch and tag filters cannot match

            """)
    }

    @Test func dispatchInputsReachThePlan() throws {
        let ws = try Workspace(git: true)
        let ok = try ws.run(["plan", "workflow_dispatch", "--input", "target=production", "-j", "deploy", "--format", "json"])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("\"concurrencyGroup\": \"deploy-production\""))
        let bad = try ws.run(["plan", "workflow_dispatch", "--input", "target=moon"])
        #expect(bad.status == 1)
        #expect(bad.stderr == ".github/workflows/ci.yml:7:7: error: input 'target' must be one of 'staging', 'production'; got 'moon' [inputs]\n")
    }

    @Test func graphFormats() throws {
        let ws = try Workspace(git: true)
        let text = try ws.run(["graph"])
        #expect(text.stdout == """
            CI (.github/workflows/ci.yml)
              build
              test (ubuntu-latest)  <- build
              test (windows-latest) <- build
              deploy                <- test (ubuntu-latest), test (windows-latest)

            """)
        let dot = try ws.run(["graph", "--format", "dot"])
        #expect(dot.status == 0)
        #expect(dot.stdout.contains("\"w0:test (ubuntu-latest)\" -> \"w0:deploy\";"))
        // The DOT renders with Graphviz.
        let file = ws.url.appendingPathComponent("graph.dot")
        try dot.stdout.write(to: file, atomically: true, encoding: .utf8)
        let rendered = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["dot", "-Tsvg", file.path])
        #expect(rendered.status == 0, "graphviz's dot must be installed (.ci/install-deps does it): \(rendered.stderr)")
        #expect(rendered.stdout.contains("<svg"))
        let mermaid = try ws.run(["graph", "--format", "mermaid"])
        #expect(mermaid.stdout.hasPrefix("flowchart LR\n  subgraph w0[\"CI\"]\n"))
        let json = try ws.run(["graph", "--format", "json", "-j", "test"])
        #expect(json.stdout.contains("\"from\": \"build\""))
        #expect(!json.stdout.contains("deploy"))
    }

    @Test func listShowsEveryJob() throws {
        let ws = try Workspace(git: false)
        let result = try ws.run(["list"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            WORKFLOW  JOB ID  NAME    EVENTS                  MATRIX
            CI        build   build   push,workflow_dispatch  1
            CI        test    test    push,workflow_dispatch  2
            CI        deploy  deploy  push,workflow_dispatch  1

            """)
        let json = try ws.run(["list", "--format", "json"])
        #expect(json.stdout.contains("\"matrixSize\": 2"))
    }

    @Test func badSelectionsAndUsage() throws {
        let ws = try Workspace(git: true)
        let unknown = try ws.run(["plan", "-j", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "gantry: error: no workflow has job 'nope'; jobs are: build, test, deploy\n")
        let platform = try ws.run(["plan", "-P", "ubuntu-latest=vm://x"])
        #expect(platform.status == 64)
        #expect(platform.stderr.hasPrefix("Error: -P ubuntu-latest=vm://x: the backend must be 'host' or 'docker://IMAGE'"))
        let matrix = try ws.run(["plan", "--matrix", "os"])
        #expect(matrix.status == 64)
        let payload = try ws.run(["plan", "-e", "missing.json"])
        #expect(payload.status == 1)
        #expect(payload.stderr == "gantry: error: cannot read 'missing.json': No such file or directory\n")
    }
}
