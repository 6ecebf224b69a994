import Foundation
import Testing
import WorkflowExpressions
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning
import _GantryTestSupport

/// Plans and graphs of the fixture workflows, against golden files (text, DOT, Mermaid, JSON).
@Suite struct PlannerTests {
    static let directory = Fixtures.directory().appendingPathComponent("plans")

    static let git = GitFacts(
        sha: "0123456789abcdef0123456789abcdef01234567", ref: "refs/heads/main", repository: "octo/app", actor: "mona",
        commitMessage: "Fix the build\n\nDetails.", defaultBranch: "main", changedPaths: ["src/app.swift", "README.md"],
        workspace: "/work/app")

    static func workflows() throws -> [Workflow] {
        try Fixtures.files(in: directory, extensions: ["yml"]).map { name in
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let result = WorkflowParser.parse(text, file: name)
            #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
            return try #require(result.workflow)
        }
    }

    static func plan(_ request: PlanRequest) throws -> (Plan, [Diagnostic]) {
        Planner.plan(try workflows(), request)
    }

    static func golden(_ text: String, _ name: String) {
        let outcome = GoldenFile.check(text, against: directory.appendingPathComponent(name).path)
        #expect(outcome == .match, "\(outcome.failureMessage ?? "")")
    }

    @Test func pushToMainGoldens() throws {
        let (plan, diagnostics) = try Self.plan(PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        #expect(diagnostics.isEmpty)
        Self.golden(PlanWriter.text(plan), "push.plan.txt")
        Self.golden(PlanWriter.json(plan), "push.plan.json")
        Self.golden(GraphWriter.text(plan), "push.graph.txt")
        Self.golden(GraphWriter.dot(plan), "push.dot")
        Self.golden(GraphWriter.mermaid(plan), "push.mmd")
        Self.golden(GraphWriter.json(plan), "push.graph.json")
    }

    @Test func instancesAndEdges() throws {
        let (plan, _) = try Self.plan(PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        let pipeline = try #require(plan.workflows.first { $0.name == "Pipeline" })
        #expect(pipeline.instances.map(\.id) == [
            "build", "lint", "test (ubuntu-latest, 18)", "test (ubuntu-latest, 20)", "test (macos-latest, 20)", "deploy", "dynamic", "reuse",
        ])
        let deploy = try #require(pipeline.instances.first { $0.job == "deploy" })
        #expect(deploy.needs == ["test (ubuntu-latest, 18)", "test (ubuntu-latest, 20)", "test (macos-latest, 20)", "lint"])
        let test = try #require(pipeline.instances.first { $0.id == "test (macos-latest, 20)" })
        #expect(test.runsOn == ["macos-latest"])
        #expect(test.concurrencyGroup == "test-macos-latest-main")
        #expect(test.timeoutMinutes == "20")
        #expect(pipeline.instances.first { $0.job == "lint" }?.backend == "docker://node:20")
        #expect(deploy.concurrencyGroup == "deploy-${{ needs.lint.outputs.target }}")
        #expect(pipeline.instances.first { $0.job == "dynamic" }?.matrixAtRunTime == true)
        #expect(pipeline.instances.first { $0.job == "reuse" }?.backend == "reusable workflow")
        #expect(plan.skipped.map(\.file) == ["docs-only.yml", "tags-only.yml"])
    }

    /// Calls of reusable workflows (a matrix of calls, a remote one that calls another) and a matrix
    /// known only at run time: the called jobs under `caller / job`, with their edges, in every format.
    @Test func reusableWorkflowAndRunTimeMatrixGoldens() throws {
        let folder = Fixtures.directory().appendingPathComponent("calls")
        func parse(_ name: String, as file: String) throws -> Workflow {
            let result = WorkflowParser.parse(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8), file: file)
            #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
            return try #require(result.workflow)
        }
        let ci = try parse("ci.yml", as: "ci.yml")
        var request = PlanRequest(event: PlanEvent(name: "push", git: Self.git))
        let release = try parse("release.yml", as: "actions/octo/pipelines@v1/.github/workflows/release.yml")
        request.calledWorkflows = [
            ReusableWorkflows.key(caller: "ci.yml", uses: "./.github/workflows/build.yml"): try parse("build.yml", as: ".github/workflows/build.yml"),
            ReusableWorkflows.key(caller: "ci.yml", uses: "octo/pipelines/.github/workflows/release.yml@v1"): release,
            ReusableWorkflows.key(caller: release.file, uses: "./.github/workflows/notify.yml"):
                try parse("notify.yml", as: "actions/octo/pipelines@v1/.github/workflows/notify.yml"),
        ]
        let (plan, diagnostics) = Planner.plan([ci], request)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        func golden(_ text: String, _ name: String) {
            let outcome = GoldenFile.check(text, against: folder.appendingPathComponent(name).path)
            #expect(outcome == .match, "\(outcome.failureMessage ?? "")")
        }
        golden(PlanWriter.text(plan), "calls.plan.txt")
        golden(PlanWriter.json(plan), "calls.plan.json")
        golden(GraphWriter.text(plan), "calls.graph.txt")
        golden(GraphWriter.dot(plan), "calls.dot")
        golden(GraphWriter.mermaid(plan), "calls.mmd")
        golden(GraphWriter.json(plan), "calls.graph.json")
        let ids = plan.workflows.flatMap(\.instances).map(\.id)
        #expect(ids == [
            "setup", "build", "build / compile", "build / test", "release (stable)", "release (stable) / package",
            "release (stable) / publish", "release (stable) / publish / say", "release (beta)", "release (beta) / package",
            "release (beta) / publish", "release (beta) / publish / say",
        ])
    }

    /// A root commit of a large repository does not put every file in the push payload.
    @Test func thePushPayloadListsAtMost3000PathsOfEachKind() throws {
        var git = Self.git
        git.added = (0..<5000).map { "file-\($0)" }
        git.authorName = "Octo Cat"
        let payload = PlanEvent(name: "push", git: git).payload
        guard case .object(let object) = payload, case .object(let head)? = object["head_commit"], case .array(let added)? = head["added"],
            case .object(let author)? = head["author"]
        else {
            Issue.record("no head_commit in \(JSONText.compact(payload))")
            return
        }
        #expect(added.items.count == PlanEvent.maxListedPaths)
        #expect(PlanEvent.maxListedPaths == 3000)
        #expect(author["name"].map(JSONText.compact) == #""Octo Cat""#)
    }

    @Test func selectionKeepsWhatTheJobNeeds() throws {
        let (plan, _) = try Self.plan(PlanRequest(event: PlanEvent(name: "push", git: Self.git), jobs: ["DEPLOY"]))
        let ids = plan.workflows.flatMap { $0.instances.map(\.job) }
        #expect(Set(ids) == ["build", "lint", "test", "deploy"])
        #expect(plan.skipped.contains { $0.file == "docs-only.yml" })
    }

    @Test func matrixFilterAndPlatformMapping() throws {
        let request = PlanRequest(
            event: PlanEvent(name: "push", git: Self.git), jobs: ["test"], matrixFilters: [(key: "os", value: "UBUNTU-LATEST")],
            platforms: [(label: "ubuntu-latest", backend: "docker://ubuntu:24.04")])
        let (plan, _) = try Self.plan(request)
        let instances = plan.workflows.flatMap(\.instances)
        #expect(instances.map(\.id) == ["build", "test (ubuntu-latest, 18)", "test (ubuntu-latest, 20)"])
        #expect(instances.map(\.backend) == ["docker://ubuntu:24.04", "docker://ubuntu:24.04", "docker://ubuntu:24.04"])
    }

    @Test func tagPushTakesTheTagWorkflowOnly() throws {
        var git = Self.git
        git.ref = "refs/tags/v1.2.0"
        let (plan, _) = try Self.plan(PlanRequest(event: PlanEvent(name: "push", git: git)))
        // Path filters are not evaluated for tag pushes, so the paths-only workflow runs too.
        #expect(plan.workflows.map(\.name) == ["Docs", "Release"])
        #expect(plan.skipped.first { $0.name == "Pipeline" }?.reason == "tag 'v1.2.0' pushed, but only branch filters are set")
    }

    @Test func pathsFilterRunsWhenADocChanges() throws {
        var git = Self.git
        git.changedPaths = ["docs/guide/intro.md"]
        let (plan, _) = try Self.plan(PlanRequest(event: PlanEvent(name: "push", git: git)))
        #expect(plan.workflows.map(\.name) == ["Docs", "Pipeline"])
    }
}
