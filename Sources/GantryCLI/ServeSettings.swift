import RunnerService
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// `gantry serve`'s settings, resolved once at start: a flag, else `GANTRY_SERVE_<NAME>` from the
/// environment, else the default. A bad value stops the start with one line naming the setting.
struct ServeSettings {
    struct Invalid: Error {
        var message: String
    }

    var host: String
    var port: Int
    var data: String
    /// `owner/name` lowercased → the URL it is fetched from.
    var repositories: [String: String]
    var webhookSecret: [UInt8]?
    var capacity: Int
    var labels: [String]
    var drainTimeout: Double
    var lease: Double
    var logFormat: ServiceLogFormat
    var secrets: [(String, String)] = []
    var vars: [(String, String)] = []
    var name: String

    typealias ServiceLogFormat = ServiceLogHandler.Format

    static func defaultData(_ environment: [(String, String)]) -> String {
        GantryDirectories.state(environment: environment) + "/serve"
    }

    init(_ options: GantryCommand.Serve.Start, environment: [(String, String)]) throws(Invalid) {
        func env(_ name: String) -> String? {
            environment.last { $0.0 == "GANTRY_SERVE_" + name }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
        }
        let listen = options.listen ?? env("LISTEN") ?? "127.0.0.1:8080"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw Invalid(message: "--listen '\(listen)' is not host:port (e.g. 127.0.0.1:8080)")
        }
        host = String(listen[..<colon])
        self.port = port
        data = FileSystem.absolute(options.data ?? env("DATA") ?? Self.defaultData(environment))
        let given = options.repositories.isEmpty ? (env("REPO")?.split(separator: " ").map(String.init) ?? []) : options.repositories
        repositories = [:]
        for entry in given {
            guard let (name, url) = PlanOptions.split(entry), name.split(separator: "/").count == 2, !url.isEmpty else {
                throw Invalid(message: "--repo '\(entry)' is not OWNER/NAME=GIT_URL")
            }
            repositories[name.lowercased()] = url.hasPrefix("/") || url.contains("://") ? url : FileSystem.absolute(url)
        }
        guard !repositories.isEmpty else { throw Invalid(message: "no repository to serve: give --repo OWNER/NAME=GIT_URL (or GANTRY_SERVE_REPO)") }
        if let file = options.webhookSecretFile ?? env("WEBHOOK_SECRET_FILE") {
            guard let bytes = try? FileSystem.read(file) else { throw Invalid(message: "--webhook-secret-file '\(file)' cannot be read") }
            var secret = bytes
            while secret.last == 10 || secret.last == 13 { secret.removeLast() }
            guard !secret.isEmpty else { throw Invalid(message: "--webhook-secret-file '\(file)' is empty") }
            webhookSecret = secret
        } else if let secret = env("WEBHOOK_SECRET") {
            webhookSecret = Array(secret.utf8)
        } else if options.insecureNoWebhookSecret || env("INSECURE_NO_WEBHOOK_SECRET") == "1" {
            webhookSecret = nil
        } else {
            throw Invalid(message: "no webhook secret: give --webhook-secret-file FILE (or GANTRY_SERVE_WEBHOOK_SECRET), or --insecure-no-webhook-secret")
        }
        let capacityText = options.capacity.map(String.init) ?? env("CAPACITY")
        if let capacityText {
            guard let value = Int(capacityText), value >= 1 else { throw Invalid(message: "--capacity '\(capacityText)' is not a whole number of at least 1") }
            capacity = value
        } else {
            capacity = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        }
        let labelText = options.labels ?? env("LABELS") ?? "self-hosted,linux,x64"
        labels = labelText.split(separator: ",").map { $0.filter { $0 != " " } }.filter { !$0.isEmpty }
        guard !labels.isEmpty else { throw Invalid(message: "--labels '\(labelText)' names no label") }
        func seconds(_ flag: Double?, _ name: String, _ option: String, default value: Double) throws(Invalid) -> Double {
            guard let text = flag.map({ "\($0)" }) ?? env(name) else { return value }
            guard let parsed = Double(text), parsed > 0, parsed.isFinite else { throw Invalid(message: "--\(option) '\(text)' is not a positive number of seconds") }
            return parsed
        }
        drainTimeout = try seconds(options.drainTimeout, "DRAIN_TIMEOUT", "drain-timeout", default: 600)
        lease = try seconds(options.lease, "LEASE", "lease", default: 60)
        let formatText = options.logFormat ?? env("LOG_FORMAT") ?? "json"
        guard let format = ServiceLogFormat(rawValue: formatText) else { throw Invalid(message: "--log-format '\(formatText)' is not json or text") }
        logFormat = format
        for (file, flag) in [(options.secretFile ?? env("SECRET_FILE"), "secret-file"), (options.varFile ?? env("VAR_FILE"), "var-file")] {
            guard let file else { continue }
            do {
                let values = try DotEnv.parse(String(decoding: try FileSystem.read(file), as: UTF8.self), file: file, environment: environment)
                if flag == "secret-file" { secrets = values } else { vars = values }
            } catch {
                throw Invalid(message: "--\(flag) '\(file)': \(error)")
            }
        }
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        name = env("NAME") ?? String(cString: buffer)
    }
}
