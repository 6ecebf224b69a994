import Testing
import WorkflowExecution

/// `options:` of job and service containers: `docker create` flags applied to the container spec.
@Suite struct ContainerOptionsTests {
    func spec(_ options: String) throws -> ContainerSpec {
        var spec = ContainerSpec(name: "n", image: "i")
        try ContainerOptions.apply(options, to: &spec)
        return spec
    }

    func failure(_ options: String) -> String? {
        var spec = ContainerSpec(name: "n", image: "i")
        do {
            try ContainerOptions.apply(options, to: &spec)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func healthChecksWithQuotesDurationsAndContinuationLines() throws {
        let postgres = try spec("--health-cmd \"pg_isready -U postgres\" --health-interval 10s --health-timeout=1m30s\n--health-retries 5 \\\n --health-start-period 500ms")
        #expect(postgres.health == HealthCheck(test: ["CMD-SHELL", "pg_isready -U postgres"], intervalSeconds: 10, timeoutSeconds: 90, startPeriodSeconds: 0.5, retries: 5))
        #expect(try spec("--health-cmd 'redis-cli ping' --health-interval 2").health == HealthCheck(test: ["CMD-SHELL", "redis-cli ping"], intervalSeconds: 2))
        #expect(try spec("--no-healthcheck").health == HealthCheck(test: ["NONE"]))
    }

    @Test func environmentUserLimitsAndMounts() throws {
        let s = try spec("-e A=1 --env B=two --user 1000:1000 -w /src --hostname box --privileged --cap-add NET_ADMIN -m 512m --cpus 1.5 --tmpfs /run:size=64m -v /data:/data:ro --add-host db:127.0.0.1 --label team=ci --rm --init")
        #expect(s.env == ["A=1", "B=two"])
        #expect(s.user == "1000:1000")
        #expect(s.workingDirectory == "/src")
        #expect(s.hostname == "box")
        #expect(s.privileged)
        #expect(s.capAdd == ["NET_ADMIN"])
        #expect(s.memoryBytes == 512 << 20)
        #expect(s.nanoCPUs == 1_500_000_000)
        #expect(s.tmpfs == ["/run": "size=64m"])
        #expect(s.binds == ["/data:/data:ro"])
        #expect(s.extraHosts == ["db:127.0.0.1"])
        #expect(s.labels == ["team": "ci"])
        #expect(try spec("--entrypoint /bin/sh").entrypoint == ["/bin/sh"])
        #expect(try spec("--memory=2g").memoryBytes == 2 << 30)
        // Flags that change what the container sees reach the engine's HostConfig; none is dropped.
        let host = try spec("--shm-size 1g --mount type=bind,source=/etc,target=/hostetc,readonly --ulimit nofile=1024:2048 --device /dev/fuse --dns 127.0.0.53 --cap-drop ALL --security-opt no-new-privileges --group-add 100 --ipc host --pid host --init --read-only").hostConfig
        #expect(host["ShmSize"] == .int(1 << 30))
        #expect(host["Mounts"] == .array([.object(["Type": .string("bind"), "Source": .string("/etc"), "Target": .string("/hostetc"), "ReadOnly": .bool(true)])]))
        #expect(host["Ulimits"] == .array([.object(["Name": .string("nofile"), "Soft": .int(1024), "Hard": .int(2048)])]))
        #expect(host["Devices"] == .array([.object(["PathOnHost": .string("/dev/fuse"), "PathInContainer": .string("/dev/fuse"), "CgroupPermissions": .string("rwm")])]))
        #expect(host["Dns"] == .array([.string("127.0.0.53")]))
        #expect(host["CapDrop"] == .array([.string("ALL")]))
        #expect(host["SecurityOpt"] == .array([.string("no-new-privileges")]))
        #expect(host["GroupAdd"] == .array([.string("100")]))
        #expect(host["IpcMode"] == .string("host"))
        #expect(host["PidMode"] == .string("host"))
        #expect(host["Init"] == .bool(true))
        #expect(host["ReadonlyRootfs"] == .bool(true))
    }

    @Test func badOptionsAreOneLineNamingTheFlag() {
        #expect(failure("--network host") == "options: --network is not supported (GitHub's rule): gantry chooses the network (`gantry run --network host|bridge`)")
        #expect(failure("--name db") == "options: --name is not supported: gantry names its containers to remove them when the job ends")
        #expect(failure("--frobnicate") == "options: '--frobnicate' is not a `docker create` option gantry knows")
        #expect(failure("--health-interval") == "options: '--health-interval' needs a value")
        #expect(failure("--health-interval soon") == "options: --health-interval 'soon' is not a duration (e.g. 10s, 1m30s, 500ms)")
        #expect(failure("--health-interval 10x") == "options: --health-interval '10x' is not a duration (e.g. 10s, 1m30s, 500ms)")
        #expect(failure("--health-retries -1") == "options: --health-retries '-1' is not a count")
        #expect(failure("--memory lots") == "options: --memory 'lots' is not a size (e.g. 512m, 2g)")
        #expect(failure("--cpus 0") == "options: --cpus '0' is not a number of CPUs")
        #expect(failure("--health-cmd \"pg_isready") == "options: unterminated quote in options '--health-cmd \"pg_isready'")
        // Values that are empty, infinite or too large for the engine's integers are refused, not a crash.
        #expect(failure("--tmpfs=") == "options: '--tmpfs' needs a value")
        #expect(failure("--label=") == "options: '--label' needs a value")
        #expect(failure("--label==x") == "options: --label '=x' has no name")
        #expect(failure("--tmpfs :size=1m") == "options: --tmpfs ':size=1m' does not start with an absolute path")
        #expect(failure("--cpus inf") == "options: --cpus 'inf' is not a number of CPUs")
        #expect(failure("--cpus 1e300") == "options: --cpus '1e300' is not a number of CPUs")
        #expect(failure("--memory 1e30g") == "options: --memory '1e30g' is not a size (e.g. 512m, 2g)")
        #expect(failure("--health-interval 1e300") == "options: --health-interval '1e300' is not a duration (e.g. 10s, 1m30s, 500ms)")
        #expect(failure("--health-interval inf") == "options: --health-interval 'inf' is not a duration (e.g. 10s, 1m30s, 500ms)")
        #expect(failure("--ulimit nofile") == "options: --ulimit 'nofile' is not NAME=SOFT[:HARD]")
        #expect(failure("--mount type=bind,source=/a") == "options: --mount 'type=bind,source=/a' needs target=/PATH")
        #expect(failure("--mount type=bind,bogus=1,target=/b") == "options: --mount 'type=bind,bogus=1,target=/b': 'bogus' is not a mount field gantry knows (type, source, target, readonly)")
    }
}
