import Foundation
import Testing
import _GantryTestSupport

/// An engine the container tests run against: Docker's socket, and Podman's when it serves one.
struct TestEngine: CustomTestStringConvertible, Sendable {
    var name: String
    var address: String
    var environment: [String: String] { ["DOCKER_HOST": address] }
    var testDescription: String { name }
}

/// Which engines the container tests can run against: each must answer and hold the local test image
/// (`.ci/docker-up` builds it in Docker's, `.ci/podman-up` in Podman's; CI runs both).
enum DockerAvailability {
    static let docker: URL? = ["/usr/bin/docker", "/usr/local/bin/docker"].map { URL(fileURLWithPath: $0) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// Docker's engine (or the one `DOCKER_HOST` names), then rootful Podman's, each if it is ready.
    static let engines: [TestEngine] = {
        var candidates = [TestEngine(name: "docker", address: ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? "unix:///var/run/docker.sock")]
        if candidates[0].address != podmanAddress { candidates.append(TestEngine(name: "podman", address: podmanAddress)) }
        return candidates.filter(hasTestImage)
    }()

    static let podmanAddress = "unix:///run/podman/podman.sock"
    static var ready: Bool { !engines.isEmpty }
    static var podmanReady: Bool { engines.contains { $0.address == podmanAddress } }

    private static func hasTestImage(_ engine: TestEngine) -> Bool {
        guard let docker, FileManager.default.fileExists(atPath: String(engine.address.dropFirst("unix://".count))) || !engine.address.hasPrefix("unix://"),
            let result = try? runCommand(docker, ["image", "inspect", "--format", "ok", "gantry-test/busybox"], environment: engine.environment)
        else { return false }
        return result.status == 0
    }

    /// `docker ps -a` rows of containers labelled with a job id (every test uses its own job ids).
    static func containers(job: String, _ engine: TestEngine) throws -> [String] {
        guard let docker else { return [] }
        let result = try runCommand(docker, ["ps", "-a", "--format", "{{.Names}}", "--filter", "label=dev.gantry.job=\(job)"], environment: engine.environment)
        return result.stdout.split(separator: "\n").map(String.init)
    }
}

/// The Docker backend end to end against a real engine, on the host network, with the busybox image
/// `.ci/docker-up` imports: job containers (sh fallback), services with health checks, Docker actions,
/// and cleanup after success, failure, timeouts and Ctrl-C.
@Suite(.serialized, .ownThread, .enabled(if: DockerAvailability.ready, "needs a Docker or Podman engine with gantry-test/busybox: run .ci/docker-up"))
struct DockerRunTests {
    static func lines(_ result: CommandResult) -> [String] {
        result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") }
    }

    /// The lines steps printed and gantry's messages, without the step start and end markers.
    static func printed(_ result: CommandResult) -> [String] {
        lines(result).filter { line in
            guard let close = line.range(of: "] ") else { return true }
            let rest = line[close.upperBound...]
            return !["▶ ", "✓ ", "✗ ", "⊘ "].contains { rest.hasPrefix($0) }
        }
    }

    /// A port for a service on the host network that was free a moment ago: a random one could be
    /// taken, as in a fresh-clone CI where Podman's service failed with "httpd: bind: Address already
    /// in use" while the other suites held connections (20,000–40,000 overlaps the ephemeral ports).
    static func port() -> Int { freeLoopbackPort() }

    @Test(arguments: DockerAvailability.engines) func stepsRunInTheJobContainerWithTheShFallbackFileCommandsAndTheJobContext(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              in-box:
                runs-on: ubuntu-latest
                container:
                  image: gantry-test/busybox
                  env:
                    FROM_CONTAINER: yes
                  options: --hostname boxed --health-cmd "true"
                steps:
                  - run: echo "host=$(hostname) shell=$(basename $(readlink /proc/$$/exe)) bash=$(command -v bash || echo none) from=$FROM_CONTAINER path=$PATH"
                  - id: out
                    run: |
                      echo "value=42" >> "$GITHUB_OUTPUT"
                      echo "LATER=yes" >> "$GITHUB_ENV"
                      mkdir -p /tmp/extra && echo /tmp/extra >> "$GITHUB_PATH"
                  - run: echo "out=${{ steps.out.outputs.value }} later=$LATER path=$PATH network=${{ job.container.network }} id=${{ job.container.id != '' }}"
                  - run: echo "in workspace $(pwd | grep -c "$GITHUB_WORKSPACE")" > made-inside.txt
            """)
        let result = try scratch.run(["--keep-workspace"], environment: engine.environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let output = Self.lines(result).filter { !$0.contains("▶") && !$0.contains("✓") && !$0.contains("container: started") }
        #expect(output == [
            "[in-box] host=boxed shell=busybox bash=none from=yes path=/bin",
            "[in-box] out=42 later=yes path=/tmp/extra:/bin network=host id=true",
        ])
        // The workspace is bind-mounted: what a step wrote is on the host, in the run's folder.
        let directory = result.stdout.split(separator: "\n").first { $0.hasPrefix("run directory: ") }.map { String($0.dropFirst("run directory: ".count)) } ?? ""
        #expect((try? String(contentsOfFile: directory + "/work/in-box/made-inside.txt", encoding: .utf8)) == "in workspace 1\n")
        #expect(try DockerAvailability.containers(job: "in-box", engine) == [])
    }

    @Test(arguments: DockerAvailability.engines) func aHostJobWaitsForAHealthyServiceOn127001(engine: TestEngine) throws {
        let port = Self.port()
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              with-web:
                runs-on: ubuntu-latest
                services:
                  web:
                    image: gantry-test/busybox
                    command: sh -c "mkdir -p /www && echo served > /www/index.html && httpd -f -p 127.0.0.1:\(port) -h /www"
                    options: >-
                      --health-cmd "wget -q -O /dev/null http://127.0.0.1:\(port)/"
                      --health-interval 200ms --health-retries 20
                    ports: ["\(port):\(port)"]
                steps:
                  - run: python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:${{ job.services.web.ports[\(port)] }}/').read().decode().strip())"
                  - run: echo "service id set=${{ job.services.web.id != '' }}"
            """)
        let result = try scratch.run(environment: engine.environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let output = Self.lines(result).filter { !$0.contains("▶") && !$0.contains("✓") }.map {
            $0.replacing(/\([0-9a-f]{12}\)/, with: "(ID)")
        }
        #expect(output == [
            "[with-web] service web: started gantry-test/busybox (ID)",
            "[with-web] service web: healthy",
            "[with-web] served",
            "[with-web] service id set=true",
        ])
        #expect(try DockerAvailability.containers(job: "with-web", engine) == [])
    }

    @Test(arguments: DockerAvailability.engines) func aServiceThatTurnsUnhealthyFailsTheJobWithItsLogs(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              sick:
                runs-on: ubuntu-latest
                services:
                  db:
                    image: gantry-test/busybox
                    command: sh -c "echo booting; sleep 0.2; echo cannot open data dir >&2; sleep 600"
                    options: --health-cmd "exit 1" --health-interval 300ms --health-retries 2
                steps:
                  - run: echo never runs
              other:
                runs-on: ubuntu-latest
                steps:
                  - run: echo host jobs are unaffected
            """)
        let result = try scratch.run(environment: engine.environment)
        #expect(result.status == 1)
        let output = Self.lines(result).filter { $0.hasPrefix("[sick]") && !$0.contains("started") }
        #expect(output == [
            "[sick] error: service 'db' is unhealthy; its last output:",
            "[sick]   booting",
            "[sick]   cannot open data dir",
        ])
        #expect(result.stdout.contains("[other] host jobs are unaffected"))
        #expect(try DockerAvailability.containers(job: "sick", engine) == [])
    }

    @Test(arguments: DockerAvailability.engines) func aContainerJobReachesItsServiceByName(engine: TestEngine) throws {
        let port = Self.port()
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              pair:
                runs-on: ubuntu-latest
                container: gantry-test/busybox
                services:
                  api:
                    image: gantry-test/busybox
                    command: sh -c "mkdir -p /www && echo pong > /www/ping && httpd -f -p 127.0.0.1:\(port) -h /www"
                    options: --health-cmd "wget -q -O /dev/null http://127.0.0.1:\(port)/ping" --health-interval 200ms
                steps:
                  - run: wget -q -O - http://api:\(port)/ping
            """)
        let result = try scratch.run(environment: engine.environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("[pair] pong\n"))
        #expect(try DockerAvailability.containers(job: "pair", engine) == [])
    }

    @Test(arguments: DockerAvailability.engines) func dockerActionsFromADockerfileAndFromAnImage(engine: TestEngine) throws {
        let repo = try ScratchRepository()
        try repo.write("greet/Dockerfile", "FROM gantry-test/busybox\nCOPY entry.sh /entry.sh\nENTRYPOINT [\"/entry.sh\"]\n")
        try repo.write("greet/entry.sh", """
            #!/bin/sh
            echo "args: $*"
            echo "who=$INPUT_WHO mode=$MODE workspace=$GITHUB_WORKSPACE pwd=$(pwd) sees=$(cat marker.txt)"
            echo "greeting=hello $INPUT_WHO" >> "$GITHUB_OUTPUT"

            """, executable: true)
        try repo.write("greet/action.yml", """
            inputs:
              who: {default: world}
            outputs:
              greeting: {}
            runs:
              using: docker
              image: Dockerfile
              args: ["--who", "${{ inputs.who }}"]
              env:
                MODE: ${{ inputs.who }}-mode
              post-entrypoint: /bin/echo
            """)
        try repo.write("marker.txt", "the workspace\n")
        // A remote Docker action (from --action-dir) whose pre-entrypoint runs when the job is set up.
        let actions = repo.url.appendingPathComponent("actions-dir")
        try FileManager.default.createDirectory(at: actions.appendingPathComponent("acme/dock@v1"), withIntermediateDirectories: true)
        try """
            inputs:
              x: {required: true}
            runs:
              using: docker
              image: docker://gantry-test/busybox
              pre-entrypoint: /bin/echo
              entrypoint: /bin/echo
              args: ["phase-with", "${{ inputs.x }}"]
            """.write(to: actions.appendingPathComponent("acme/dock@v1/action.yml"), atomically: true, encoding: .utf8)
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              docker-actions:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: acme/dock@v1
                    with: {x: remote}
                  - id: g
                    uses: ./greet
                    with: {who: gantry}
                  - run: echo "got ${{ steps.g.outputs.greeting }}"
                  - uses: docker://gantry-test/busybox
                    with:
                      entrypoint: /bin/echo
                      args: hello "from an image"
                  - uses: docker://gantry-test/busybox
                    continue-on-error: true
                    with: {entrypoint: /bin/false}
            """)
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "base")
        let result = try runCommand(RunCommandTests.gantry, ["run", "--action-dir", actions.path], in: repo.url, environment: engine.environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let output = Self.printed(result).filter { !$0.contains("checked out") && !$0.contains("building") }
        #expect(output == [
            "[docker-actions] phase-with remote",
            "[docker-actions] phase-with remote",
            "[docker-actions] args: --who gantry",
            "[docker-actions] who=gantry mode=gantry-mode workspace=/github/workspace pwd=/github/workspace sees=the workspace",
            "[docker-actions] got hello gantry",
            "[docker-actions] hello from an image",
            "[docker-actions] error: process completed with exit code 1",
            // The post entrypoint, with the action's args.
            "[docker-actions] --who gantry",
        ])
        #expect(result.stdout.contains("[docker-actions] ▶ Post ./greet"))
        #expect(result.stdout.contains("[docker-actions] ▶ Pre acme/dock@v1"))
        #expect(try DockerAvailability.containers(job: "docker-actions", engine) == [])
    }

    /// actions/runner's ContainerActionHandler and ActionManager: a folder with only a Dockerfile is a
    /// Docker action; without `runs.args` the `args` input is the argument string, without
    /// `runs.entrypoint` the `entryPoint` input the entrypoint; a base image the engine lacks is named
    /// with the pull that provides it.
    @Test(arguments: DockerAvailability.engines) func aDockerfileOnlyActionTakesArgsFromWithAndAMissingBaseImageIsNamed(engine: TestEngine) throws {
        let repo = try ScratchRepository()
        try repo.write("bare/Dockerfile", "FROM gantry-test/busybox\nCOPY run.sh /run.sh\nENTRYPOINT [\"/run.sh\"]\n")
        try repo.write("bare/run.sh", "#!/bin/sh\necho \"bare args: $* who=$INPUT_WHO\"\n", executable: true)
        try repo.write("noargs/action.yml", "runs:\n  using: docker\n  image: Dockerfile\n")
        try repo.write("noargs/Dockerfile", "FROM gantry-test/busybox\n")
        try repo.write("missing/action.yml", "runs:\n  using: docker\n  image: Dockerfile\n")
        try repo.write("missing/Dockerfile", "FROM gantry-test/busybox AS tools\nFROM gantry-test/not-here:1.0\nCOPY --from=tools /bin/sh /sh\n")
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: ./bare
                    with:
                      args: one "two words"
                      who: mona
                  - uses: ./noargs
                    with:
                      entryPoint: /bin/echo
                      args: from with
                  - uses: ./missing
            """)
        let result = try runCommand(RunCommandTests.gantry, ["run"], in: repo.url, environment: engine.environment)
        #expect(result.status == 1)
        let output = Self.printed(result).filter { !$0.contains("checked out") && !$0.contains("building") && !$0.contains("warning: unexpected input") }
        #expect(output.count == 3, "\(output)")
        #expect(output.prefix(2) == ["[j] bare args: one two words who=mona", "[j] from with"])
        #expect(output.last?.hasPrefix("[j] error: the Dockerfile of /") == true)
        #expect(output.last?.hasSuffix(
            "/work/j/missing starts FROM 'gantry-test/not-here:1.0', which is not in the engine: gantry never pulls; provide it with `docker pull gantry-test/not-here:1.0`") == true,
            "\(output)")
    }

    /// A job container that runs as another user than gantry writes the workspace and runs its scripts.
    @Test(arguments: DockerAvailability.engines) func aJobContainerRunningAsAnotherUserWritesTheWorkspace(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                container:
                  image: gantry-test/busybox
                  options: --user 1000:1000
                steps:
                  - run: id -u; echo hi > made.txt && cat made.txt; mkdir sub && echo ok > sub/x && cat sub/x
                  - run: echo "next=$(cat made.txt)" >> "$GITHUB_ENV"
                  - run: echo "$next"
            """)
        let result = try scratch.run(environment: engine.environment)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.printed(result).filter { !$0.contains("container: started") } == ["[j] 1000", "[j] hi", "[j] ok", "[j] hi"])
    }

    @Test(arguments: DockerAvailability.engines) func timeoutsAndFailuresInAContainerStillRemoveEverything(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              slow-box:
                runs-on: ubuntu-latest
                container: gantry-test/busybox
                services:
                  side:
                    image: gantry-test/busybox
                    command: sleep 600
                steps:
                  - timeout-minutes: 0.02
                    run: trap 'echo interrupted; exit 130' INT; echo started; sleep 30 & wait
                  - if: always()
                    run: echo always ran; exit 3
            """)
        let result = try scratch.run(environment: engine.environment)
        #expect(result.status == 1)
        let output = Self.lines(result).filter { !$0.contains("▶") && !$0.contains("started gantry-test") }
        #expect(output.filter { !$0.contains("✗") && !$0.contains("✓") } == [
            "[slow-box] started",
            "[slow-box] interrupted",
            "[slow-box] error: the step timed out",
            "[slow-box] always ran",
            "[slow-box] error: process completed with exit code 3",
        ])
        #expect(try DockerAvailability.containers(job: "slow-box", engine) == [])
    }

    @Test(arguments: DockerAvailability.engines) func ctrlCRemovesTheContainersAndPruneRemovesWhatAKilledRunLeft(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              interrupted:
                runs-on: ubuntu-latest
                container: gantry-test/busybox
                services:
                  side:
                    image: gantry-test/busybox
                    command: sleep 600
                steps:
                  - run: echo waiting; sleep 600
                  - if: always()
                    run: echo cleanup step
            """)
        let run = try ConcurrencyRunTests.Background(in: scratch.url, name: "int", arguments: [], environment: engine.environment)
        try run.waitFor("[interrupted] waiting")
        #expect(try DockerAvailability.containers(job: "interrupted", engine).count == 2)
        run.process.interrupt()
        let (status, lines) = run.finish()
        #expect(status == 1)
        // SIGINT reached the step's whole process group (busybox's `kill` has no `--`): the shell waiting
        // on `sleep` ended by it, not by the SIGTERM 7.5 s later.
        #expect(lines.contains("[interrupted] error: process completed with exit code 130"))
        #expect(lines.contains("[interrupted] cleanup step"))
        #expect(try DockerAvailability.containers(job: "interrupted", engine) == [])

        // SIGKILL leaves them; `gantry docker prune` removes those of runs that are gone.
        let killed = try ConcurrencyRunTests.Background(in: scratch.url, name: "kill", arguments: [], environment: engine.environment)
        try killed.waitFor("[interrupted] waiting")
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        #expect(try DockerAvailability.containers(job: "interrupted", engine).count == 2)
        let listed = try runCommand(RunCommandTests.gantry, ["docker", "ls"], environment: engine.environment)
        #expect(listed.stdout.split(separator: "\n").filter { $0.contains("job interrupted") && $0.hasSuffix("left over") }.count == 2)
        let pruned = try runCommand(RunCommandTests.gantry, ["docker", "prune"], environment: engine.environment)
        #expect(pruned.status == 0)
        #expect(pruned.stdout.hasPrefix("removed "))
        #expect(try DockerAvailability.containers(job: "interrupted", engine) == [])
    }

    /// Cases a review found: each job is one of them, side by side in one run.
    @Test(arguments: DockerAvailability.engines) func actionsInContainerJobsUsersPortsImagesFromNeedsMountsAndExitedServices(engine: TestEngine) throws {
        let port = Self.port()
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              after-action:
                runs-on: ubuntu-latest
                container: gantry-test/busybox
                steps:
                  - uses: docker://gantry-test/busybox
                    with: {entrypoint: /bin/echo, args: from the action}
                  - run: echo the job container is still there
              ports-host:
                runs-on: ubuntu-latest
                services:
                  web:
                    image: gantry-test/busybox
                    command: sleep 600
                    ports: ["\(port + 1):\(port)"]
                steps:
                  - run: echo "port ${{ job.services.web.ports['\(port)'] }}"
              as-user:
                runs-on: ubuntu-latest
                container:
                  image: gantry-test/busybox
                  options: --user 1000
                steps:
                  - id: s
                    run: echo "uid=$(id -u)" >> "$GITHUB_OUTPUT"
                  - run: echo "${{ steps.s.outputs.uid }}"
              pick:
                runs-on: ubuntu-latest
                outputs:
                  image: ${{ steps.p.outputs.image }}
                steps:
                  - id: p
                    run: echo "image=gantry-test/busybox" >> "$GITHUB_OUTPUT"
              from-needs:
                name: Tëst ünïcode
                needs: pick
                runs-on: ubuntu-latest
                container: ${{ needs.pick.outputs.image }}
                steps:
                  - run: echo "in $(cat /etc/passwd | cut -d ':' -f7)"
              mounted:
                runs-on: ubuntu-latest
                container:
                  image: gantry-test/busybox
                  options: --mount type=bind,source=${{ vars.SCRATCH }},target=/mnt/scratch,readonly --shm-size 8m
                steps:
                  - run: head -1 /mnt/scratch/w.yml; df -k /dev/shm | tail -1 | awk '{print "shm " $2}'
              dead-service:
                runs-on: ubuntu-latest
                services:
                  gone:
                    image: gantry-test/busybox
                    command: sh -c "echo address in use; exit 3"
                steps:
                  - run: echo never
            """)
        let result = try scratch.run(["--var", "SCRATCH=\(scratch.url.path)"], environment: engine.environment)
        #expect(result.status == 1)
        func job(_ id: String) -> [String] {
            Self.printed(result).filter { $0.hasPrefix("[\(id)]") && !$0.contains(": started gantry-test") }
        }
        #expect(job("after-action") == ["[after-action] from the action", "[after-action] the job container is still there"])
        #expect(job("ports-host") == [
            "[ports-host] warning: service web: port \(port + 1):\(port) is not remapped on the host network; it listens on \(port) (use --network bridge to publish it as \(port + 1))",
            "[ports-host] port \(port)",
        ])
        #expect(job("as-user") == ["[as-user] 1000"])
        #expect(result.stdout.contains("[Tëst ünïcode] in /bin/sh\n"))
        #expect(job("mounted") == ["[mounted] on: push", "[mounted] shm 8192"])
        #expect(job("dead-service").prefix(2) == ["[dead-service] error: service 'gone' exited with code 3 before the first step; its last output:", "[dead-service]   address in use"])
        for id in ["after-action", "ports-host", "as-user", "from-needs", "mounted", "dead-service"] {
            #expect(try DockerAvailability.containers(job: id, engine) == [])
        }
    }

    @Test(arguments: DockerAvailability.engines) func manyQuickStepsInParallelContainersAllReportTheirExitCodes(engine: TestEngine) throws {
        let steps = (1...30).map { "      - run: echo step-$(( \($0) * 1 ))" }.joined(separator: "\n")
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              quick:
                strategy:
                  matrix: {row: [1, 2, 3]}
                runs-on: ubuntu-latest
                container: gantry-test/busybox
                steps:
            \(steps)
            """)
        let result = try scratch.run(["--jobs", "3"], environment: engine.environment)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(Self.printed(result).filter { $0.contains("] step-") }.count == 90)
    }

    /// Containers that exit at once, one after another: each step's output and exit code arrive. (Under
    /// Podman 4.3, following the logs of a container that had just exited sometimes never ended, and the
    /// run hung; the output is now attached before the container starts.)
    @Test(arguments: DockerAvailability.engines) func quickDockerActionStepsAllFinishWithTheirOutput(engine: TestEngine) throws {
        let steps = (1...40).map { "      - uses: docker://gantry-test/busybox\n        with: { args: echo quick-\($0) }" }.joined(separator: "\n")
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              quick-actions:
                runs-on: ubuntu-latest
                steps:
            \(steps)
                  - uses: docker://gantry-test/busybox
                    with: { args: sh -c "echo to-stderr >&2; exit 3" }
              bad-entrypoint:
                runs-on: ubuntu-latest
                steps:
                  - uses: docker://gantry-test/busybox
                    with: { entrypoint: /no/such/binary }
            """)
        let result = try scratch.run([], environment: engine.environment)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let printed = Self.printed(result)
        #expect(printed.filter { $0.hasPrefix("[quick-actions]") } == (1...40).map { "[quick-actions] quick-\($0)" } + [
            "[quick-actions] to-stderr", "[quick-actions] error: process completed with exit code 3",
        ])
        // One line, in the engine's words (Docker's and Podman's differ): the start's error.
        let bad = printed.filter { $0.hasPrefix("[bad-entrypoint]") }
        #expect(bad.count == 1 && bad[0].hasPrefix("[bad-entrypoint] error: starting container ") && bad[0].contains("/no/such/binary"), "\(bad)")
        for job in ["quick-actions", "bad-entrypoint"] { #expect(try DockerAvailability.containers(job: job, engine) == []) }
    }

    @Test(arguments: DockerAvailability.engines) func cancellingDuringTheHealthWaitAndABuildPastItsTimeLimitStopPromptly(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              waiting:
                runs-on: ubuntu-latest
                services:
                  slow:
                    image: gantry-test/busybox
                    command: sleep 600
                    options: --health-cmd false --health-interval 100s
                steps:
                  - run: echo never
            """)
        let run = try ConcurrencyRunTests.Background(in: scratch.url, name: "wait", arguments: [], environment: engine.environment)
        try run.waitFor("[waiting] service slow: started")
        usleep(300_000)
        let interrupted = Date()
        run.process.interrupt()
        let (status, _) = run.finish()
        #expect(status == 1)
        // The back-off sleeps up to 32 s; cancellation is noticed within a slice of it.
        #expect(Date().timeIntervalSince(interrupted) < 10)
        #expect(try DockerAvailability.containers(job: "waiting", engine) == [])

        let repo = try ScratchRepository()
        try repo.write("slow/Dockerfile", "FROM gantry-test/busybox\nRUN sleep 60\n")
        try repo.write("slow/action.yml", "runs:\n  using: docker\n  image: Dockerfile\n")
        try repo.write(".github/workflows/ci.yml", """
            on: push
            jobs:
              slow-build:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: ./slow
                    timeout-minutes: 0.03
            """)
        try repo.git("add", ".")
        try repo.git("commit", "-q", "-m", "base")
        let started = Date()
        let result = try runCommand(RunCommandTests.gantry, ["run"], in: repo.url, environment: engine.environment)
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(Self.printed(result).contains { $0.hasPrefix("[slow-build] error: building gantry-action:") && $0.hasSuffix(": stopped (the step was cancelled or timed out)") })
    }

    @Test(arguments: DockerAvailability.engines) func badContainerOptionsAndMissingImagesAreOneLine(engine: TestEngine) throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              bad-option:
                runs-on: ubuntu-latest
                container:
                  image: gantry-test/busybox
                  options: --network bridge
                steps:
                  - run: echo never
              missing-image:
                runs-on: ubuntu-latest
                container: gantry-test/not-here:1.0
                steps:
                  - run: echo never
            """)
        let result = try scratch.run(environment: engine.environment)
        #expect(result.status == 1)
        let errors = Self.lines(result).filter { $0.contains("error") }.sorted()
        #expect(errors == [
            "[bad-option] error: options: --network is not supported (GitHub's rule): gantry chooses the network (`gantry run --network host|bridge`)",
            "[missing-image] error: image 'gantry-test/not-here:1.0' is not in the engine at \(engine.address), and gantry does not pull images: `docker pull gantry-test/not-here:1.0`, or build it, then run again",
        ])
        #expect(try DockerAvailability.containers(job: "bad-option", engine) == [])
    }
}

/// Without an engine: jobs that need one fail in one line; the others run.
@Suite(.ownThread) struct NoEngineRunTests {
    @Test func aJobThatNeedsAnEngineFailsInOneLineAndHostJobsRun() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              boxed:
                runs-on: ubuntu-latest
                container: gantry-test/busybox
                steps:
                  - run: echo never
              plain:
                runs-on: ubuntu-latest
                steps:
                  - run: echo host step
                  - uses: docker://gantry-test/busybox
            """)
        let result = try scratch.run(environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(result.status == 1)
        let lines = DockerRunTests.lines(result).filter { !$0.contains("▶") && !$0.contains("✓") && !$0.contains("✗") }
        #expect(lines.sorted() == [
            "[boxed] error: job 'boxed' needs a container engine: no container engine answers at unix:///nonexistent/docker.sock (no such socket); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST",
            "[plain] error: Docker actions need a container engine: no container engine answers at unix:///nonexistent/docker.sock (no such socket); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST",
            "[plain] host step",
        ])
        // A socket file nobody listens on: refused at once, not after a connect timeout.
        let dead = scratch.url.appendingPathComponent("dead.sock").path
        let python = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import socket; socket.socket(socket.AF_UNIX).bind('\(dead)')"])
        #expect(python.status == 0)
        let refused = try scratch.run(environment: ["DOCKER_HOST": "unix://" + dead])
        #expect(DockerRunTests.lines(refused).contains("[boxed] error: job 'boxed' needs a container engine: no container engine answers at unix://\(dead) (connection refused); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST"))
        let badHost = try scratch.run(environment: ["DOCKER_HOST": "ssh://example"])
        #expect(DockerRunTests.lines(badHost).contains("[boxed] error: job 'boxed' needs a container engine: DOCKER_HOST 'ssh://example' is neither unix:// nor tcp:// (TLS and ssh:// are not supported)"))
    }

    @Test func dockerCommandsWithoutAnEngineSayWhyAndExit1() throws {
        let ls = try runCommand(RunCommandTests.gantry, ["docker", "ls"], environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(ls.status == 1)
        #expect(ls.stderr == "gantry: error: no container engine answers at unix:///nonexistent/docker.sock (no such socket); start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST\n")
        let prune = try runCommand(RunCommandTests.gantry, ["docker", "prune"], environment: ["DOCKER_HOST": "bogus"])
        #expect(prune.status == 1)
        #expect(prune.stderr == "gantry: error: DOCKER_HOST 'bogus' is neither unix:// nor tcp:// (TLS and ssh:// are not supported)\n")
    }

    /// CI must not skip the container tests silently.
    @Test func ciHasAnEngine() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(DockerAvailability.engines.map(\.name) == ["docker", "podman"], "CI=true: the container tests run against Docker and Podman, each with gantry-test/busybox: .ci/run must run .ci/docker-up and .ci/podman-up")
        }
    }
}
