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
        "--health-start-interval", "--mount", "--device", "--group-add", "--ipc", "--pid",
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
                if flag == "--init" { spec.hostConfig["Init"] = .bool(true) }
                if flag == "--read-only" { spec.hostConfig["ReadonlyRootfs"] = .bool(true) }
                // --rm, -t and -i change nothing here: gantry removes its containers and attaches no terminal.
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
            guard !value!.isEmpty else { throw Failure(message: "options: '\(flag)' needs a value") }
            try set(flag, value!, &spec)
        }
    }

    private static func set(_ flag: String, _ value: String, _ spec: inout ContainerSpec) throws(Failure) {
        func append(_ key: String, _ item: HostConfigValue) {
            guard case .array(let items)? = spec.hostConfig[key] else {
                spec.hostConfig[key] = .array([item])
                return
            }
            spec.hostConfig[key] = .array(items + [item])
        }
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
        case "--health-start-interval": let s = try seconds(value, flag); health { $0.startIntervalSeconds = s }
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
            guard let cpus = Double(value), cpus > 0, cpus <= 1024 else { throw Failure(message: "options: --cpus '\(value)' is not a number of CPUs") }
            spec.nanoCPUs = Int64(cpus * 1e9)
        case "--tmpfs":
            let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0].hasPrefix("/") else { throw Failure(message: "options: --tmpfs '\(value)' does not start with an absolute path") }
            spec.tmpfs[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        case "-v", "--volume": spec.binds.append(value)
        case "--add-host": spec.extraHosts.append(value)
        case "-l", "--label":
            let parts = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard !parts[0].isEmpty else { throw Failure(message: "options: --label '\(value)' has no name") }
            spec.labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        case "--shm-size": spec.hostConfig["ShmSize"] = .int(try bytes(value, flag))
        case "--cap-drop": append("CapDrop", .string(value))
        case "--dns": append("Dns", .string(value))
        case "--security-opt": append("SecurityOpt", .string(value))
        case "--group-add": append("GroupAdd", .string(value))
        case "--ipc": spec.hostConfig["IpcMode"] = .string(value)
        case "--pid": spec.hostConfig["PidMode"] = .string(value)
        case "--ulimit":
            // name=soft[:hard]
            let parts = value.split(separator: "=", maxSplits: 1)
            let limits = parts.count == 2 ? parts[1].split(separator: ":").map { Int64($0) } : []
            guard parts.count == 2, (1...2).contains(limits.count), let soft = limits[0], let hard = limits.last! else {
                throw Failure(message: "options: --ulimit '\(value)' is not NAME=SOFT[:HARD]")
            }
            append("Ulimits", .object(["Name": .string(String(parts[0])), "Soft": .int(soft), "Hard": .int(hard)]))
        case "--device":
            // host[:container[:permissions]]
            let parts = value.split(separator: ":").map(String.init)
            guard (1...3).contains(parts.count) else { throw Failure(message: "options: --device '\(value)' is not HOST[:CONTAINER[:PERMISSIONS]]") }
            append("Devices", .object([
                "PathOnHost": .string(parts[0]), "PathInContainer": .string(parts.count > 1 ? parts[1] : parts[0]),
                "CgroupPermissions": .string(parts.count > 2 ? parts[2] : "rwm"),
            ]))
        case "--mount": append("Mounts", try mount(value))
        case "--network", "--net":
            throw Failure(message: "options: --network is not supported (GitHub's rule): gantry chooses the network (`gantry run --network host|bridge`)")
        case "--name":
            throw Failure(message: "options: --name is not supported: gantry names its containers to remove them when the job ends")
        default:
            // --restart and --pull: gantry never restarts or pulls; accepted so copied options still work.
            break
        }
    }

    /// `--mount type=bind,source=/a,target=/b,readonly` (also `src`, `dst`/`destination`, `ro`, volumes and tmpfs).
    static func mount(_ text: String) throws(Failure) -> HostConfigValue {
        var fields: [String: HostConfigValue] = ["Type": .string("volume")]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            switch pair[0] {
            case "type": fields["Type"] = .string(pair.count > 1 ? pair[1] : "")
            case "source", "src": fields["Source"] = .string(pair.count > 1 ? pair[1] : "")
            case "target", "destination", "dst": fields["Target"] = .string(pair.count > 1 ? pair[1] : "")
            case "readonly", "ro": fields["ReadOnly"] = .bool(pair.count == 1 || pair[1] == "true" || pair[1] == "1")
            default: throw Failure(message: "options: --mount '\(text)': '\(pair[0])' is not a mount field gantry knows (type, source, target, readonly)")
            }
        }
        guard case .string(let target)? = fields["Target"], target.hasPrefix("/") else {
            throw Failure(message: "options: --mount '\(text)' needs target=/PATH")
        }
        return .object(fields)
    }

    /// Docker durations: `30s`, `1m30s`, `500ms`, `1h`; a bare number is seconds.
    static func seconds(_ text: String, _ flag: String) throws(Failure) -> Double {
        // Bounded so a duration in nanoseconds fits the engine's 64-bit integers.
        let limit = 1e9
        if let plain = Double(text), plain >= 0, plain <= limit { return plain }
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
        guard total.isFinite, total <= limit else { throw failure }
        return total
    }

    /// Docker sizes: `512m`, `2g`, `1024k`, bytes without a unit.
    static func bytes(_ text: String, _ flag: String) throws(Failure) -> Int64 {
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            if let n = Double(lower.dropLast(suffix.count)), n > 0, let size = Int64(exactly: (n * Double(factor)).rounded(.down)), size < 1 << 60 {
                return size
            }
        }
        if let n = Int64(lower), n > 0, n < 1 << 60 { return n }
        throw Failure(message: "options: \(flag) '\(text)' is not a size (e.g. 512m, 2g)")
    }
}
