import Foundation
import Testing
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The image the Dockerfile builds (`.ci/image-up` builds it as gantry-test/gantry with the
/// workflow workflows-examples/docker-build.yml), in Docker's engine.
enum ImageAvailability {
    static let image = "gantry-test/gantry:latest"
    static let ready: Bool = {
        guard let docker = DockerAvailability.docker,
            let result = try? runCommand(docker, ["image", "inspect", "--format", "ok", image], environment: engine)
        else { return false }
        return result.status == 0
    }()
    static let engine = ["DOCKER_HOST": "unix:///var/run/docker.sock"]

    /// A docker command's output; throws with its error output when it fails.
    @discardableResult
    static func docker(_ arguments: [String], timeout: Double = 120) throws -> String {
        guard let docker = DockerAvailability.docker else { throw ServeError("no docker CLI") }
        let result = try runCommand(docker, arguments, environment: engine, timeout: timeout)
        guard result.status == 0 else { throw ServeError("docker \(arguments.joined(separator: " ")): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `gantry serve` in its container, as the Deployment of deploy/kubernetes runs it: the manifests'
/// serve.yaml, the webhook secret mounted read-only, a read-only root and one data volume.
final class ServeContainer: ServeEndpoint {
    let name = "gantry-image-test-\(UUID().uuidString.prefix(8).lowercased())"
    let volume: String
    let port = freeLoopbackPort()

    init(secretFile: String, repository: String) throws {
        volume = name + "-data"
        try ImageAvailability.docker(["volume", "create", volume])
        let config = Fixtures.packageRoot().path + "/deploy/kubernetes/base/serve.yaml"
        // The host's network (the tests' engine has no bridge): the git daemon and the service are
        // both on 127.0.0.1. GANTRY_SERVE_LISTEN wins over serve.yaml's listen, for the service and
        // for its health check alike. The health check is asked every second, not every 15 s.
        try ImageAvailability.docker([
            "run", "-d", "--name", name, "--network", "host", "--read-only", "--health-interval", "1s",
            "-v", volume + ":/var/lib/gantry",
            "-v", config + ":/etc/gantry/serve.yaml:ro",
            "-v", secretFile + ":/run/secrets/gantry/webhook-secret:ro",
            "-e", "GANTRY_SERVE_LISTEN=127.0.0.1:\(port)", "-e", "GANTRY_SERVE_REPO=" + repository,
            ImageAvailability.image, "serve", "--config", "/etc/gantry/serve.yaml",
        ])
    }

    deinit {
        _ = try? ImageAvailability.docker(["rm", "-f", name])
        _ = try? ImageAvailability.docker(["volume", "rm", "-f", volume])
    }

    var log: [String] {
        guard let docker = DockerAvailability.docker,
            let result = try? runCommand(docker, ["logs", name], environment: ImageAvailability.engine)
        else { return [] }
        return (result.stdout + result.stderr).split(separator: "\n").map(String.init)
    }

    func inspect(_ format: String) throws -> String { try ImageAvailability.docker(["inspect", "--format", format, name]) }

    func exec(_ arguments: [String]) throws -> CommandResult {
        try runCommand(DockerAvailability.docker!, ["exec", name] + arguments, environment: ImageAvailability.engine)
    }

    /// Waits for Docker's health check to say `healthy`.
    func waitUntilHealthy(timeout: Double = 90) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let status = try inspect("{{.State.Status}} {{.State.Health.Status}}")
            if status == "running healthy" { return }
            if !status.hasPrefix("running") { throw ServeError("the container stopped (\(status)):\n" + log.joined(separator: "\n")) }
            usleep(200_000)
        }
        throw ServeError("not healthy within \(timeout) s:\n" + log.joined(separator: "\n"))
    }
}

@Suite(.serialized, .ownThread, .enabled(if: ImageAvailability.ready))
struct ImageTests {
    static let workflow = """
        on: push
        jobs:
          probe:
            runs-on: self-hosted
            steps:
              - uses: actions/checkout@v4
              - run: |
                  echo "uid=$(id -u) gid=$(id -g)"
                  touch /tmp/probe 2>&1 | sed 's/^.*: /tmp: /'
                  touch "$HOME/probe" && echo "home: writable"
                  echo "scratch=$(dirname "$(mktemp)")"
                  node -e 'console.log("node adds " + (40 + 2))'
                  echo "readme: $(cat README.md)"
        """

    /// The whole path a team deploys: the container starts healthy, a signed webhook from outside
    /// runs a workflow in it as UID 1000, nothing but the data volume is writable, and SIGTERM
    /// (passed on by tini, PID 1) drains the service to exit 0.
    @Test func theImageRunsAWebhooksWorkflowAsUID1000OnAReadOnlyRoot() throws {
        let fixture = try ServeFixture(workflow: Self.workflow)
        let container = try ServeContainer(
            secretFile: fixture.secretFile, repository: "octo/app=" + fixture.daemon.url(fixture.origin.url.lastPathComponent))
        try container.waitUntilHealthy()
        #expect(try container.request("GET", "/health").body == #"{"status":"ok"}"#)

        let made = try container.exec(["gantry", "serve", "token", "create", "image-test"])
        #expect(made.status == 0)
        let token = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let accepted = try container.deliver("push", fixture.push(), delivery: "image-1", secret: fixture.secret)
        #expect((accepted.status, accepted.body) == (202, #"{"runs":["1"],"duplicate":false}"#))
        let run = try container.finishedRun("1", token: token, timeout: 120)
        #expect(run["status"] as? String == "success")
        let log = try container.request("GET", "/api/v1/runs/1/log?job=probe", headers: ["Authorization": "Bearer \(token)"]).body
        for line in [
            "uid=1000 gid=1000", "tmp: Read-only file system", "home: writable", "scratch=/var/lib/gantry/tmp", "node adds 42", "readme: hello",
        ] {
            #expect(log.split(separator: "\n").contains { $0 == line }, "\(line) is not in the job's log:\n\(log)")
        }

        // The process's user, the root file system and the one writable mount, from the engine.
        // The service's own process (tini's child), not only what `docker exec` runs as.
        let service = try container.exec(["sh", "-c", #"for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = gantry ] && grep '^Uid:' $p/status; done"#])
        #expect(service.stdout == "Uid:\t1000\t1000\t1000\t1000\n")
        #expect(try container.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true")
        let mounts = try container.inspect(#"{{range .Mounts}}{{.Destination}} {{.RW}}{{"\n"}}{{end}}"#)
            .split(separator: "\n").map(String.init).sorted()
        #expect(mounts == ["/etc/gantry/serve.yaml false", "/run/secrets/gantry/webhook-secret false", "/var/lib/gantry true"])
        let refused = try container.exec(["sh", "-c", "touch /usr/local/bin/x"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("Read-only file system"))
        #expect(try container.exec(["cat", "/proc/1/comm"]).stdout == "tini\n")
        #expect(!container.log.joined().contains(fixture.secret))

        try ImageAvailability.docker(["stop", "--time", "60", container.name], timeout: 90)
        #expect(try container.inspect("{{.State.ExitCode}}") == "0")
        #expect(container.log.contains { $0.contains(#""message":"drained""#) })
    }

    /// What the image says about itself: the user, health check, port, volume and labels the
    /// Dockerfile sets, and its size (printed, for the README's record).
    @Test func theImageDeclaresItsUserHealthCheckPortAndVolume() throws {
        let image = ImageAvailability.image
        func inspect(_ format: String) throws -> String { try ImageAvailability.docker(["image", "inspect", "--format", format, image]) }
        #expect(try inspect("{{.Config.User}}") == "1000:1000")
        #expect(try inspect("{{json .Config.Healthcheck.Test}}") == #"["CMD","gantry","serve","health","--timeout","4"]"#)
        #expect(try inspect("{{json .Config.ExposedPorts}}") == #"{"8080/tcp":{}}"#)
        #expect(try inspect("{{json .Config.Volumes}}") == #"{"/var/lib/gantry":{}}"#)
        #expect(try inspect("{{json .Config.Entrypoint}}") == #"["/usr/bin/tini","--","gantry"]"#)
        #expect(try inspect(#"{{index .Config.Labels "org.opencontainers.image.title"}}"#) == "gantry")
        let size = Int(try inspect("{{.Size}}")) ?? 0
        print("image \(image): \(size / 1_048_576) MiB")
        #expect(size > 0)
    }
}

/// CI must not skip the image tests silently.
@Test func ciHasTheImage() {
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        #expect(ImageAvailability.ready, "CI=true: the image tests need \(ImageAvailability.image): .ci/run must run .ci/image-up")
    }
}
