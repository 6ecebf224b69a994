import Foundation
import Testing
import _GantryTestSupport

/// `gantry serve --config FILE`: settings by the flags' names, repositories with their own secrets and
/// events; flags and the environment win over the file; a bad file stops the start with one line that
/// names its place.
@Suite(.serialized, .ownThread) struct ServeConfigTests {
    static let workflow = """
        on: [push, pull_request]
        jobs:
          j:
            runs-on: [self-hosted, gpu]
            env:
              T: ${{ secrets.TOKEN }}
              SHARED: ${{ secrets.SHARED }}
            steps:
              - run: |
                  [ "$T" = "app-only" ] && echo "the repository's own secret"
                  [ "$SHARED" = "everyone" ] && echo "the service's secret"
                  echo "level=${{ vars.LEVEL }}"
        """

    @Test func aConfigurationFileGivesSettingsAndEachRepositoryItsSecretsAndEvents() throws {
        let fixture = try ServeFixture(workflow: Self.workflow)
        let root = fixture.root.path
        try "TOKEN=app-only\n".write(toFile: root + "/app.secrets", atomically: true, encoding: .utf8)
        try "TOKEN=service\nSHARED=everyone\n".write(toFile: root + "/all.secrets", atomically: true, encoding: .utf8)
        try "LEVEL=3\n".write(toFile: root + "/app.vars", atomically: true, encoding: .utf8)
        let config = root + "/serve.yml"
        try """
            # gantry serve settings
            capacity: 1
            labels: [self-hosted, linux, x64, gpu]
            webhook-secret-file: \(fixture.secretFile)
            secret-file: \(root)/all.secrets
            repositories:
              octo/app:
                url: \(fixture.daemon.url(fixture.origin.url.lastPathComponent))
                secret-file: \(root)/app.secrets
                var-file: \(root)/app.vars
                events: [push, workflow_dispatch]

            """.write(toFile: config, atomically: true, encoding: .utf8)
        // The flag wins over the file's capacity.
        let serve = try ServeProcess(["--config", config, "--data", fixture.data, "--capacity", "3"])
        let token = try fixture.token()
        let runners = try serve.request("GET", "/api/v1/runners", headers: ["Authorization": "Bearer \(token)"]).body
        #expect(runners.contains(#""labels":["self-hosted","linux","x64","gpu"],"capacity":3"#))
        #expect(try serve.deliver("push", fixture.push(), delivery: "cf-1", secret: fixture.secret).status == 202)
        let run = try serve.finishedRun("1", token: token)
        #expect(run["status"] as? String == "success")
        let log = try String(contentsOfFile: fixture.data + "/runs/1/log.txt", encoding: .utf8)
        #expect(log.contains("[j] the repository's own secret\n"))
        #expect(log.contains("[j] the service's secret\n"))
        #expect(log.contains("[j] level=3\n"))
        // An event the repository does not enable is answered, and runs nothing.
        let pull = try serve.deliver("pull_request", Self.pullRequest(fixture.sha), delivery: "cf-2", secret: fixture.secret)
        #expect((pull.status, pull.body) == (202, #"{"ignored":"event 'pull_request' is not enabled for octo/app"}"#))
        #expect(serve.stop() == 0)
    }

    static func pullRequest(_ sha: String) -> String {
        #"{"action":"opened","number":7,"pull_request":{"head":{"ref":"f","sha":"\#(sha)","repo":{"full_name":"octo/app","fork":false}},"base":{"ref":"main","sha":"\#(sha)","repo":{"full_name":"octo/app"}}},"repository":{"full_name":"octo/app"}}"#
    }

    @Test(arguments: [
        ("capacty: 2\n", "1:1: unknown setting 'capacty' (known: listen, data, webhook-secret-file, insecure-no-webhook-secret, capacity, labels, platforms, secret-file, var-file, drain-timeout, lease, log-format, name, page, report-url, report-token-file, report-api, repositories, store, store-file, shared-dir)"),
        ("repositories:\n  octo/app: /x\ninsecure-no-webhook-secret: true\ncapacity: many\n", "4:11: 'capacity' 'many' is not a whole number of at least 1"),
        ("insecure-no-webhook-secret: true\nrepositories:\n  octo/app:\n    secret-file: x\n", "3:3: repository 'octo/app' has no url"),
        ("repositories:\n  octo/app:\n    url: /x\n    events: [push, issues]\n", "4:13: 'events' of repository 'octo/app': 'issues' is not one of push, pull_request, pull_request_target, workflow_dispatch, schedule"),
        ("repositories:\n  octo:\n    url: /x\n", "2:3: repository 'octo' is not OWNER/NAME"),
        ("repositories:\n  octo/app: /x\ninsecure-no-webhook-secret: true\nlabels: [a, [b]]\n", "4:13: 'labels' must list strings"),
        ("listen: [1\n", "2:1: could not parse as YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 9)"),
        ("- a\n", "1:1: the configuration must be a mapping of settings"),
    ])
    func aBadConfigurationStopsTheStartWithItsPlace(text: String, message: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.path + "/serve.yml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try runCommand(RunCommandTests.gantry, ["serve", "--config", config, "--data", folder.path + "/data"])
        #expect(result.status == 64)
        #expect(result.stderr == "gantry: error: \(config):\(message)\n")
    }

    @Test func aMissingConfigurationFileOrAReportURLWithoutATokenSaySo() throws {
        let missing = try runCommand(RunCommandTests.gantry, ["serve", "--config", "/nowhere/serve.yml"])
        #expect((missing.status, missing.stderr) == (64, "gantry: error: --config '/nowhere/serve.yml' cannot be read: No such file or directory\n"))
        let noToken = try runCommand(
            RunCommandTests.gantry, ["serve", "--repo", "octo/app=/x", "--insecure-no-webhook-secret", "--report-url", "https://api.github.com"])
        #expect(noToken.stderr == "gantry: error: --report-url needs a token: give --report-token-file FILE (or GANTRY_SERVE_REPORT_TOKEN)\n")
        let badURL = try runCommand(
            RunCommandTests.gantry, ["serve", "--repo", "octo/app=/x", "--insecure-no-webhook-secret", "--report-url", "api.github.com"])
        #expect(badURL.stderr == "gantry: error: --report-url 'api.github.com' is not an http:// or https:// URL\n")
        let badAPI = try runCommand(
            RunCommandTests.gantry, ["serve", "--repo", "octo/app=/x", "--insecure-no-webhook-secret", "--report-url", "https://h/api/v1"],
            environment: ["GANTRY_SERVE_REPORT_TOKEN": "t", "GANTRY_SERVE_REPORT_API": "gitlab"])
        #expect(badAPI.stderr == "gantry: error: --report-api 'gitlab' is not github, gitea or forgejo\n")
    }
}
