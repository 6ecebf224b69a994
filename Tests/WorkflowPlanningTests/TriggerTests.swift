import Testing
import WorkflowExpressions
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

/// Which workflows take part in an event, and the inputs context of workflow_dispatch.
@Suite struct TriggerTests {
    static func workflow(_ on: String, _ extra: String = "") -> Workflow {
        let text = "on:\n" + on + extra + "jobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo\n"
        let result = WorkflowParser.parse(text, file: "t.yml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        return result.workflow!
    }

    static func decide(_ on: String, event: String = "push", ref: String? = "refs/heads/main", changed: [String] = ["src/a.swift"], payload: ExpressionValue? = nil) -> TriggerMatcher.Decision {
        let git = GitFacts(sha: "abc", ref: ref, defaultBranch: "main", changedPaths: changed)
        return TriggerMatcher.decide(workflow(on), for: PlanEvent(name: event, git: git, payload: payload))
    }

    @Test(
        "push filters",
        arguments: [
            ("  push:\n", "refs/heads/main", true),
            ("  push:\n    branches: [main]\n", "refs/heads/main", true),
            ("  push:\n    branches: [main]\n", "refs/heads/dev", false),
            ("  push:\n    branches: ['releases/**']\n", "refs/heads/releases/1.0/hotfix", true),
            ("  push:\n    branches-ignore: ['wip/*']\n", "refs/heads/wip/x", false),
            ("  push:\n    branches-ignore: ['wip/*']\n", "refs/heads/main", true),
            ("  push:\n    branches: ['**', '!main']\n", "refs/heads/main", false),
            ("  push:\n    tags: ['v*']\n", "refs/tags/v1.0", true),
            ("  push:\n    tags: ['v*']\n", "refs/heads/main", false),
            ("  push:\n    branches: [main]\n", "refs/tags/v1.0", false),
            ("  push:\n    tags-ignore: ['*-rc*']\n", "refs/tags/v1-rc1", false),
            ("  push:\n    branches: [main]\n    tags: ['v*']\n", "refs/tags/v2", true),
            ("  push:\n    paths: ['src/**']\n", "refs/heads/main", true),
            ("  push:\n    paths: ['docs/**']\n", "refs/heads/main", false),
            ("  push:\n    paths: ['docs/**']\n", "refs/tags/v1", true),
            ("  push:\n    paths-ignore: ['src/**']\n", "refs/heads/main", false),
            ("  push:\n    branches: [main]\n    paths: ['docs/**']\n", "refs/heads/main", false),
            ("  pull_request:\n", "refs/heads/main", false),
        ])
    func push(on: String, ref: String, runs: Bool) {
        #expect(Self.decide(on, ref: ref).runs == runs)
    }

    @Test func detachedHeadCannotMatchBranchFilters() {
        let decision = Self.decide("  push:\n    branches: [main]\n", ref: nil)
        #expect(!decision.runs)
        #expect(decision.reason == "HEAD is detached and no tag points at it, so branch and tag filters cannot match")
        #expect(Self.decide("  push:\n", ref: nil).runs)
    }

    @Test func pullRequestsFilterOnTheBaseBranchAndTypes() {
        #expect(Self.decide("  pull_request:\n    branches: [main]\n", event: "pull_request").runs)
        #expect(!Self.decide("  pull_request:\n    branches: [develop]\n", event: "pull_request").runs)
        #expect(!Self.decide("  pull_request:\n    types: [closed]\n", event: "pull_request").runs)
        let closed = ExpressionValue.object([("action", .string("closed")), ("pull_request", .object([("base", .object([("ref", .string("develop"))]))]))])
        #expect(Self.decide("  pull_request:\n    types: [closed]\n    branches: [develop]\n", event: "pull_request", payload: closed).runs)
        // Default types are opened, synchronize and reopened.
        #expect(!Self.decide("  pull_request:\n", event: "pull_request", payload: closed).runs)
    }

    @Test func synthesisedPayloadsLookLikeGitHubs() {
        let git = GitFacts(sha: "abc123", ref: "refs/heads/feature", repository: "octo/app", actor: "mona", defaultBranch: "main")
        let pr = PlanEvent(name: "pull_request", git: git)
        #expect(pr.ref == "refs/pull/1/merge")
        #expect(pr.headRef == "feature")
        #expect(pr.baseRef == "main")
        #expect(JSONText.compact(pr.githubContext(workflowName: "CI")).contains("\"head_ref\":\"feature\""))
        let push = PlanEvent(name: "push", git: git)
        guard case .object(let payload) = push.payload else {
            Issue.record("payload should be an object")
            return
        }
        #expect(payload["after"]?.stringValue == "abc123")
        #expect(payload["ref"]?.stringValue == "refs/heads/feature")
        #expect(JSONText.compact(payload["repository"] ?? .null) == "{\"name\":\"app\",\"full_name\":\"octo/app\",\"owner\":{\"login\":\"octo\"},\"default_branch\":\"main\",\"private\":true,\"fork\":false}")
    }

    @Test func dispatchInputsAreCheckedAndTyped() {
        let on = """
              workflow_dispatch:
                inputs:
                  level:
                    type: choice
                    options: [info, debug]
                    default: info
                  dry-run:
                    type: boolean
                    required: true
                  count:
                    type: number
                    default: 2

            """
        let workflow = Self.workflow(on)
        func plan(_ inputs: [(name: String, value: String)]) -> [String] {
            let event = PlanEvent(name: "workflow_dispatch", git: GitFacts(), inputs: inputs)
            return Planner.plan([workflow], PlanRequest(event: event)).1.map(\.message)
        }
        #expect(plan([("dry-run", "true")]) == [])
        #expect(plan([]) == ["input 'dry-run' is required; pass --input dry-run=VALUE"])
        #expect(Set(plan([("dry-run", "yes"), ("level", "trace"), ("count", "x"), ("other", "1")])) == [
            "input 'level' must be one of 'info', 'debug'; got 'trace'",
            "input 'dry-run' is a boolean; 'yes' is not true or false",
            "input 'count' is a number; 'x' is not",
            "input 'other' given with --input is not declared by 'workflow_dispatch' of this workflow",
        ])
    }
}
