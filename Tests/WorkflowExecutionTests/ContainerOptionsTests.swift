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
        #expect(failure("--cpus 0") == "options: --cpus '0' is not a number")
        #expect(failure("--health-cmd \"pg_isready") == "options: unterminated quote in options '--health-cmd \"pg_isready'")
    }
}
