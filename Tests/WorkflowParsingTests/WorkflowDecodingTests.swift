import Foundation
import Testing
import WorkflowModel
import WorkflowParsing
import _GantryTestSupport

/// The typed model holds what the file says, with the right locations.
@Suite struct WorkflowDecodingTests {
    static func parseFixture(_ name: String) throws -> Workflow {
        let url = Fixtures.directory().appendingPathComponent("ok").appendingPathComponent(name)
        let result = WorkflowParser.parse(try [UInt8](Data(contentsOf: url)), file: name)
        #expect(result.diagnostics.isEmpty)
        return try #require(result.workflow)
    }

    @Test func rootKeysAndTriggers() throws {
        let wf = try Self.parseFixture("whole-syntax.yml")
        #expect(wf.name?.value == "Everything")
        #expect(wf.runName?.value == "Deploy by @${{ github.actor }}")
        #expect(wf.triggers.map(\.event.value) == [
            "push", "pull_request", "schedule", "workflow_dispatch", "workflow_call", "issues", "release", "workflow_run",
        ])
        let push = try #require(wf.trigger("push"))
        #expect(push.branches?.map(\.value) == ["main", "releases/**"])
        #expect(push.tags?.map(\.value) == ["v*"])
        #expect(push.paths?.map(\.value) == ["src/**", "!src/docs/**"])
        #expect(push.event.location == SourceLocation(file: "whole-syntax.yml", line: 5, column: 3))
        let pr = try #require(wf.trigger("pull_request"))
        #expect(pr.types?.map(\.value) == ["opened", "synchronize"])
        #expect(pr.branchesIgnore?.map(\.value) == ["wip/**"])
        #expect(pr.pathsIgnore?.map(\.value) == ["**.md"])
        let schedule = try #require(wf.trigger("schedule"))
        #expect(schedule.schedules.map(\.cron.value) == ["30 5 * * 1-5", "0 0 1 JAN *"])
        #expect(schedule.schedules.first?.timezone?.value == "Europe/Berlin")
        #expect(wf.trigger("issues")?.types?.map(\.value) == ["opened"])
        #expect(wf.trigger("workflow_run")?.workflows?.map(\.value) == ["CI"])
    }

    @Test func dispatchAndCallInputs() throws {
        let wf = try Self.parseFixture("whole-syntax.yml")
        let dispatch = try #require(wf.trigger("workflow_dispatch"))
        #expect(dispatch.inputs.map(\.id.value) == ["level", "dry-run", "count", "target"])
        let level = dispatch.inputs[0]
        #expect(level.required)
        #expect(level.type?.value == .choice)
        #expect(level.options.map(\.value) == ["info", "warning", "debug"])
        #expect(level.defaultValue?.kind == .string("warning"))
        #expect(dispatch.inputs[1].defaultValue?.kind == .bool(false))
        #expect(dispatch.inputs[2].defaultValue?.kind == .number(3, text: "3"))
        #expect(dispatch.inputs[3].type?.value == .environment)
        let call = try #require(wf.trigger("workflow_call"))
        #expect(call.inputs.first?.defaultValue?.kind == .string("${{ github.ref_name }}"))
        #expect(call.outputs.map(\.id.value) == ["url"])
        #expect(call.outputs.first?.value.value == "${{ jobs.deploy.outputs.url }}")
        #expect(call.secrets.map(\.id.value) == ["token", "optional"])
        #expect(call.secrets.map(\.required) == [true, false])
    }

    @Test func workflowLevelSettings() throws {
        let wf = try Self.parseFixture("whole-syntax.yml")
        guard case .scopes(let scopes)? = wf.permissions else {
            Issue.record("permissions should be scopes")
            return
        }
        #expect(scopes.map { "\($0.name.value)=\($0.level.value)" } == ["contents=read", "id-token=write"])
        #expect(wf.env?.entries.map(\.key.value) == ["GLOBAL"])
        #expect(wf.defaults?.shell?.value == "bash")
        #expect(wf.defaults?.workingDirectory?.value == "./src")
        #expect(wf.concurrency?.group.value == "${{ github.workflow }}-${{ github.ref }}")
        #expect(wf.concurrency?.cancelInProgress?.value == .expression("${{ github.ref != 'refs/heads/main' }}"))
    }

    @Test func jobsInFileOrderWithTheirSettings() throws {
        let wf = try Self.parseFixture("whole-syntax.yml")
        #expect(wf.jobs.map(\.id.value) == ["build", "test", "deploy", "reuse", "reuse-local"])
        let build = try #require(wf.job("BUILD"))
        #expect(build.name?.value == "Build ${{ matrix.os }}")
        #expect(build.runsOn?.labels.map(\.value) == ["${{ matrix.os }}"])
        #expect(build.timeoutMinutes?.value == .value(30))
        #expect(build.continueOnError?.value == .expression("${{ matrix.experimental }}"))
        #expect(build.outputs.map(\.key.value) == ["artifact"])
        #expect(build.defaults?.shell?.value.hasPrefix("${{") == true)
        let strategy = try #require(build.strategy)
        #expect(strategy.failFast?.value == .value(false))
        #expect(strategy.maxParallel?.value == .value(2))
        guard case .literal(let matrix)? = strategy.matrix else {
            Issue.record("matrix should be literal")
            return
        }
        #expect(matrix.axes.map(\.key.value) == ["os", "node", "experimental"])
        guard case .literal(let nodes) = matrix.axes[1].values else {
            Issue.record("node axis should be literal")
            return
        }
        #expect(nodes.map(\.kind) == [.number(18, text: "18"), .number(20, text: "20")])
        guard case .literal(let include)? = matrix.include, case .literal(let exclude)? = matrix.exclude else {
            Issue.record("include and exclude should be literal")
            return
        }
        #expect(include.count == 1)
        #expect(exclude.count == 1)

        let test = try #require(wf.job("test"))
        #expect(test.needs.map(\.value) == ["build"])
        #expect(test.condition?.value == "always()")
        #expect(test.runsOn?.labels.map(\.value) == ["self-hosted", "linux"])
        let container = try #require(test.container)
        #expect(container.image?.value == "node:20")
        #expect(container.credentials?.username?.value == "${{ github.actor }}")
        #expect(container.ports.map(\.scalarText) == ["80", "8080:80"])
        #expect(container.volumes.map(\.value) == ["/data:/data"])
        #expect(container.options?.value == "--cpus 1")
        #expect(test.services.map(\.id.value) == ["postgres", "redis"])
        #expect(test.services[0].container.options?.value == "--health-cmd pg_isready --health-interval 10s")
        #expect(test.services[1].container.command?.value == "redis-server --save \"\"")
        #expect(test.services[1].container.entrypoint?.value == "docker-entrypoint.sh")

        let deploy = try #require(wf.job("deploy"))
        #expect(deploy.runsOn?.group?.value == "deployers")
        #expect(deploy.runsOn?.labels.map(\.value) == ["linux"])
        #expect(deploy.environment?.name.value == "production")
        #expect(deploy.environment?.url?.value == "${{ steps.ship.outputs.url }}")
        #expect(deploy.concurrency?.group.value == "deploy-production")

        let reuse = try #require(wf.job("reuse"))
        #expect(reuse.isReusableWorkflowCall)
        #expect(reuse.uses?.value == "octo/pipelines/.github/workflows/notify.yml@v2")
        #expect(reuse.with.map(\.key.value) == ["channel", "verbose"])
        #expect(reuse.with[1].value.kind == .bool(true))
        #expect(reuse.secrets == .inherit(SourceLocation(file: "whole-syntax.yml", line: 160, column: 14)))
        let local = try #require(wf.job("reuse-local"))
        guard case .mapping(let secrets)? = local.secrets, case .all(let all)? = local.permissions else {
            Issue.record("reuse-local should have mapped secrets and read-all permissions")
            return
        }
        #expect(secrets.map(\.key.value) == ["token"])
        #expect(all.value == "read-all")
    }

    @Test func stepsKeepEveryField() throws {
        let wf = try Self.parseFixture("whole-syntax.yml")
        let steps = try #require(wf.job("build")).steps
        #expect(steps.count == 4)
        #expect(steps[0].uses?.value == "actions/checkout@v4")
        #expect(steps[0].with.first?.value.kind == .number(0, text: "0"))
        let pack = steps[1]
        #expect(pack.id?.value == "pack")
        #expect(pack.name?.value == "Pack")
        #expect(pack.condition?.value == "${{ success() }}")
        #expect(pack.run?.value == "echo \"name=app-${NODE}\" >> \"$GITHUB_OUTPUT\"\n")
        #expect(pack.shell?.value == "bash")
        #expect(pack.env?.entries.map(\.key.value) == ["STEP"])
        #expect(pack.workingDirectory?.value == "./app")
        #expect(pack.continueOnError?.value == .value(true))
        #expect(pack.timeoutMinutes?.value == .value(5))
        #expect(pack.location == SourceLocation(file: "whole-syntax.yml", line: 96, column: 9))
        #expect(pack.run?.location == SourceLocation(file: "whole-syntax.yml", line: 99, column: 14))
    }

    @Test func yaml12ScalarsAsGitHubReadsThem() throws {
        let wf = try Self.parseFixture("yaml-1.2.yml")
        #expect(wf.triggers.map(\.event.value) == ["push"])
        let env = wf.env?.entries ?? []
        #expect(env.map(\.value.kind) == [
            .string("yes"), .string("off"), .number(3.1, text: "3.10"), .number(31, text: "0x1F"),
        ])
    }

    @Test func aliasesResolveToTheAnchoredValue() throws {
        let wf = try Self.parseFixture("anchors-and-aliases.yml")
        let lint = try #require(wf.job("lint"))
        #expect(lint.env?.entries.map(\.key.value) == ["NODE_ENV", "CI_MODE"])
        #expect(lint.steps.first?.uses?.value == "actions/checkout@v4")
        // The alias keeps the anchored node's position, where the text was written.
        #expect(lint.steps.first?.uses?.location.line == 10)
    }

    @Test func onFormsAsSequence() throws {
        let wf = try Self.parseFixture("on-forms.yml")
        #expect(wf.triggers.map(\.event.value) == ["push", "pull_request", "workflow_dispatch"])
    }
}
