import Testing
import WorkflowExpressions
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

/// Edge cases a review found: each test pins GitHub's behaviour.
@Suite struct PlannerEdgeCaseTests {
    static func workflow(_ text: String) -> Workflow {
        let result = WorkflowParser.parse(text, file: "w.yml")
        #expect(!result.diagnostics.containsErrors, "\(result.diagnostics)")
        return result.workflow!
    }

    static let git = GitFacts(sha: "abc", ref: "refs/heads/main", defaultBranch: "main")

    @Test func jobsWithTheSameDisplayNameKeepDistinctInstancesAndEdges() {
        let wf = Self.workflow("""
            on: push
            jobs:
              a:
                name: Build
                runs-on: x
                steps: [{run: echo}]
              b:
                name: Build
                runs-on: x
                steps: [{run: echo}]
              c:
                needs: b
                runs-on: x
                steps: [{run: echo}]
            """)
        let (plan, _) = Planner.plan([wf], PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        let instances = plan.workflows[0].instances
        #expect(instances.map(\.id) == ["Build", "Build #2", "c"])
        #expect(instances.map(\.job) == ["a", "b", "c"])
        #expect(instances[2].needs == ["Build #2"])
    }

    /// The runner's template directives in a matrix (TemplateUnraveler): a sequence item that is one
    /// expression yielding an array is spliced into its sequence, and `${{ insert }}` splices a mapping
    /// into an `include` row.
    @Test func matrixItemsThatYieldArraysAreSplicedAndInsertAddsKeys() {
        let wf = Self.workflow("""
            on: push
            jobs:
              j:
                runs-on: x
                strategy:
                  matrix:
                    os: [one, "${{ fromJSON('[\\"two\\",\\"three\\"]') }}"]
                    include:
                      - os: one
                        ${{ insert }}: ${{ fromJSON('{"extra":"yes","n":1}') }}
                      - "${{ fromJSON('[{\\"os\\":\\"four\\"}]') }}"
                steps: [{run: echo}]
            """)
        let (plan, diagnostics) = Planner.plan([wf], PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(plan.workflows[0].instances.map(\.id) == ["j (one, yes, 1)", "j (two)", "j (three)", "j (four)"])
    }

    @Test func pullRequestRefNameIsNumberSlashMerge() {
        let event = PlanEvent(name: "pull_request", git: Self.git)
        #expect(event.refName == "1/merge")
    }

    @Test func dispatchInputsFromThePayloadAndDefaultsReachGithubEventInputs() {
        let wf = Self.workflow("""
            on:
              workflow_dispatch:
                inputs:
                  target: {required: true}
                  level: {default: info}
            jobs:
              j:
                runs-on: x
                concurrency: ${{ github.event.inputs.target }}-${{ github.event.inputs.level }}-${{ inputs.target }}
                steps: [{run: echo}]
            """)
        let payload = ExpressionValue.object([("inputs", .object([("target", .string("prod"))]))])
        let (plan, diagnostics) = Planner.plan([wf], PlanRequest(event: PlanEvent(name: "workflow_dispatch", git: Self.git, payload: payload)))
        #expect(diagnostics.isEmpty)
        #expect(plan.workflows[0].instances[0].concurrencyGroup == "prod-info-prod")
    }

    @Test func strategyContextIsTypedAndCountsRowsBeforeFilters() {
        let wf = Self.workflow("""
            on: push
            jobs:
              t:
                runs-on: x
                concurrency: ${{ strategy.fail-fast == false }}-${{ strategy.job-index }}-${{ strategy.job-total }}-${{ strategy.max-parallel }}
                strategy:
                  fail-fast: false
                  max-parallel: 2
                  matrix:
                    os: [a, b, c]
                steps: [{run: echo}]
            """)
        let request = PlanRequest(event: PlanEvent(name: "push", git: Self.git), matrixFilters: [(key: "os", value: "c")])
        let (plan, _) = Planner.plan([wf], request)
        #expect(plan.workflows[0].instances.map(\.concurrencyGroup) == ["true-2-3-2"])
    }

    @Test func matrixFromAnExpressionMustBeAnObjectAndAllExcludedRowsRunNothing() {
        let wf = Self.workflow("""
            on: push
            jobs:
              bad:
                runs-on: x
                strategy:
                  matrix: ${{ fromJSON('[1, 2]') }}
                steps: [{run: echo}]
              none:
                runs-on: x
                strategy:
                  matrix:
                    os: [a]
                    exclude:
                      - os: a
                steps: [{run: echo}]
              fine:
                runs-on: x
                strategy:
                  matrix: '${{ fromJSON(''{"v": [1, 2]}'') }}'
                steps: [{run: echo}]
            """)
        let (plan, diagnostics) = Planner.plan([wf], PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        #expect(diagnostics.map(\.message) == [
            "the matrix of job 'bad' must evaluate to an object; got array [1,2]",
            "the matrix of job 'none' has no rows left after 'exclude'; the job does not run",
        ])
        #expect(plan.workflows[0].instances.map(\.id) == ["fine (1)", "fine (2)"])
    }

    @Test func hugeMatricesAreRefusedWithoutOverflow() {
        let axes = (0..<70).map { "        k\($0): [1, 2]\n" }.joined()
        let wf = Self.workflow("on: push\njobs:\n  j:\n    runs-on: x\n    strategy:\n      matrix:\n" + axes + "    steps: [{run: echo}]\n")
        let (_, diagnostics) = Planner.plan([wf], PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        #expect(diagnostics.map(\.message) == ["the matrix would produce more than 1000000 jobs; GitHub allows at most 256"])
    }

    @Test func invalidFilterPatternsAreReported() {
        let wf = Self.workflow("on:\n  push:\n    branches: ['[A-z]*', 'ok/**']\njobs:\n  j:\n    runs-on: x\n    steps: [{run: echo}]\n")
        let (_, diagnostics) = Planner.plan([wf], PlanRequest(event: PlanEvent(name: "push", git: Self.git)))
        #expect(diagnostics.map(\.description) == [
            "w.yml:3:16: error: invalid filter pattern '[A-z]*' in 'branches' of event 'push': ranges can only include a-z, A-Z and 0-9 [events]",
        ])
    }

    @Test func quantifiersAfterWildcardsAreLiteral() {
        #expect(FilterPattern("*?").matches("ab?"))
        #expect(!FilterPattern("*?").matches("ab"))
        #expect(FilterPattern("**+").matches("x/y+"))
    }

    @Test func workflowRunFiltersUseTheFinishedRun() {
        let wf = Self.workflow("on:\n  workflow_run:\n    workflows: [CI]\n    branches: [main]\njobs:\n  j:\n    runs-on: x\n    steps: [{run: echo}]\n")
        func decide(_ name: String, _ branch: String) -> Bool {
            let payload = ExpressionValue.object([
                ("action", .string("completed")),
                ("workflow_run", .object([("name", .string(name)), ("head_branch", .string(branch))])),
            ])
            return TriggerMatcher.decide(wf, for: PlanEvent(name: "workflow_run", git: Self.git, payload: payload)).runs
        }
        #expect(decide("CI", "main"))
        #expect(!decide("Docs", "main"))
        #expect(!decide("CI", "feature"))
    }

    @Test func mergeGroupFiltersOnTheBaseBranch() {
        let wf = Self.workflow("on:\n  merge_group:\n    branches: [main]\njobs:\n  j:\n    runs-on: x\n    steps: [{run: echo}]\n")
        let payload = ExpressionValue.object([
            ("action", .string("checks_requested")),
            ("merge_group", .object([("base_ref", .string("refs/heads/main"))])),
        ])
        var git = Self.git
        git.ref = "refs/heads/gh-readonly-queue/main/pr-1"
        #expect(TriggerMatcher.decide(wf, for: PlanEvent(name: "merge_group", git: git, payload: payload)).runs)
    }
}
