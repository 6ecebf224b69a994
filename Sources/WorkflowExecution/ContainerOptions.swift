/// The `options:` of a job container or service: `docker create` flags, applied to a `ContainerSpec`.
/// Flags that change nothing Gantry controls are accepted; `--network` is refused as GitHub does; an
/// unknown flag is an error naming it, never silently dropped.
public enum ContainerOptions {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Flags that take a value and are applied below.
    private static let valued: Set<String> = [
        "--health-cmd", "--health-interval", "--health-timeout", "--health-retries", "--health-start-period",
        "-e", "--env", "--entrypoint", "-u", "--user", "-w", "--workdir", "-h", "--hostname", "--cap-add",
        "-m", "--memory", "--cpus", "--tmpfs", "-v", "--volume", "--add-host", "-l", "--label", "--network", "--net",
        "--name", "--shm-size", "--ulimit", "--cap-drop", "--security-opt", "--dns", "--restart", "--pull",
        "--platform", "--health-start-interval", "--mount", "--device", "--group-add", "--ipc", "--pid",
    ]
    /// Flags without a value.
    private static let switches: Set<String> = ["--privileged", "--no-healthcheck", "--rm", "--init", "-t", "--tty", "-i", "--interactive", "--read-only"]

    /// Applies `text` (one string of flags, quoted as a shell would) to `spec`.
    public static func apply(_ text: String, to spec: inout ContainerSpec) throws(Failure) {
        let words: [String]
        do {
            words = try ShellInvocation.splitWords(text)
        } catch {
            throw Failure(message: "options: \(error.message.replacing("shell", with: "options"))")
        }
        var index = 0
        while index < words.count {
            var flag = words[index]
            var value: String?
            if flag.hasPrefix("--"), let equals = flag.firstIndex(of: "=") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            index += 1
            if switches.contains(flag) {
                if flag == "--privileged" { spec.privileged = true }
                if flag == "--no-healthcheck" { spec.health = HealthCheck(test: ["NONE"]) }
                continue
            }
            guard valued.contains(flag) else {
                throw Failure(message: "options: '\(flag)' is not a `docker create` option gantry knows")
            }
            if value == nil {
                guard index < words.count else { throw Failure(message: "options: '\(flag)' needs a value") }
                value = words[index]
                index += 1
            }
            try set(flag, value!, &spec)
        }
    }

    private static func set(_ flag: String, _ value: String, _ spec: inout ContainerSpec) throws(Failure) {
        func health(_ change: (inout HealthCheck) -> Void) {
            var check = spec.health ?? HealthCheck(test: [])
            change(&check)
            spec.health = check
        }
        switch flag {
        case "--health-cmd": health { $0.test = ["CMD-SHELL", value] }
        case "--health-interval": let s = try seconds(value, flag); health { $0.intervalSeconds = s }
        case "--health-timeout": let s = try seconds(value, flag); health { $0.timeoutSeconds = s }
        case "--health-start-period": let s = try seconds(value, flag); health { $0.startPeriodSeconds = s }
        case "--health-retries":
            guard let n = Int(value), n >= 0 else { throw Failure(message: "options: --health-retries '\(value)' is not a count") }
            health { $0.retries = n }
        case "-e", "--env": spec.env.append(value)
        case "--entrypoint": spec.entrypoint = value.isEmpty ? [] : [value]
        case "-u", "--user": spec.user = value
        case "-w", "--workdir": spec.workingDirectory = value
        case "-h", "--hostname": spec.hostname = value
        case "--cap-add": spec.capAdd.append(value)
        case "-m", "--memory": spec.memoryBytes = try bytes(value, flag)
        case "--cpus":
            guard let cpus = Double(value), cpus > 0 else { throw Failure(message: "options: --cpus '\(value)' is not a number") }
            spec.nanoCPUs = Int64(cpus * 1e9)
        case "--tmpfs":
            let parts = value.split(separator: ":", maxSplits: 1)
            spec.tmpfs[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        case "-v", "--volume": spec.binds.append(value)
        case "--add-host": spec.extraHosts.append(value)
        case "-l", "--label":
            let parts = value.split(separator: "=", maxSplits: 1)
            spec.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        case "--network", "--net":
            throw Failure(message: "options: --network is not supported (GitHub's rule): gantry chooses the network (`gantry run --network host|bridge`)")
        case "--name":
            throw Failure(message: "options: --name is not supported: gantry names its containers to remove them when the job ends")
        default:
            // Accepted and left to the engine's defaults: they change limits or isolation, not what a
            // step sees of the workflow.
            break
        }
    }

    /// Docker durations: `30s`, `1m30s`, `500ms`, `1h`; a bare number is seconds.
    static func seconds(_ text: String, _ flag: String) throws(Failure) -> Double {
        if let plain = Double(text), plain >= 0 { return plain }
        let failure = Failure(message: "options: \(flag) '\(text)' is not a duration (e.g. 10s, 1m30s, 500ms)")
        let factors: [String: Double] = ["ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600]
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw failure }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            guard let n = Double(number), let factor = factors[String(unit)] else { throw failure }
            total += n * factor
        }
        return total
    }

    /// Docker sizes: `512m`, `2g`, `1024k`, bytes without a unit.
    static func bytes(_ text: String, _ flag: String) throws(Failure) -> Int64 {
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            if let n = Double(lower.dropLast(suffix.count)), n > 0 { return Int64(n * Double(factor)) }
        }
        if let n = Int64(lower), n > 0 { return n }
        throw Failure(message: "options: \(flag) '\(text)' is not a size (e.g. 512m, 2g)")
    }
}
