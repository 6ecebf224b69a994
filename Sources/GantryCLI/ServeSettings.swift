import WebhookReading
import RunStorePostgres
import RunnerService
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// `gantry serve`'s settings, resolved once at start: a flag, else `GANTRY_SERVE_<NAME>` from the
/// environment, else the configuration file's (`--config`), else the default. A bad value stops the
/// start with one line naming the setting.
struct ServeSettings {
    struct Invalid: Error {
        var message: String
    }

    /// One served repository.
    struct Repository {
        var url: String
        /// Its own secrets and variables, over the service's (`secret-file`, `var-file` in the file).
        var secrets: [(String, String)] = []
        var vars: [(String, String)] = []
        /// The events that may start its runs from webhooks and schedules; nil: all of them.
        var events: [String]?
    }

    /// Where commit statuses go.
    struct Report {
        var url: String
        var token: String
        /// nil: the API of the forge that sent the delivery.
        var api: Forge?
    }

    var host: String
    var port: Int
    var data: String
    /// `sqlite` (one node, in `data`) or a `postgres://` URL (several nodes).
    var store: String
    /// Runs, the cache and concurrency groups: `data`, or the folder every node mounts.
    var shared: String
    /// `owner/name` lowercased → where it is fetched from and its own settings.
    var repositories: [String: Repository]
    var webhookSecret: [UInt8]?
    var capacity: Int
    var labels: [String]
    var drainTimeout: Double
    var lease: Double
    var logFormat: ServiceLogFormat
    var secrets: [(String, String)] = []
    var vars: [(String, String)] = []
    var name: String
    var platforms: [String]
    var page: PageAccess
    var report: Report?
    /// The schedule clock's start (seconds since 1970) and speed, when `GANTRY_SERVE_SCHEDULE_CLOCK`
    /// sets one (for tests: a minute can pass in a second).
    var scheduleClock: (start: Double, speed: Double, anchor: Double?)?

    typealias ServiceLogFormat = ServiceLogHandler.Format

    static func defaultData(_ environment: [(String, String)]) -> String {
        GantryDirectories.state(environment: environment) + "/serve"
    }

    init(_ options: GantryCommand.Serve.Start, environment: [(String, String)]) throws(Invalid) {
        func env(_ name: String) -> String? {
            environment.last { $0.0 == "GANTRY_SERVE_" + name }.map(\.1).flatMap { $0.isEmpty ? nil : $0 }
        }
        let config = try (options.config ?? env("CONFIG")).map { path throws(Invalid) in try ServeConfigFile(path: path) }
        /// A flag, else the environment, else the file.
        func setting(_ flag: String?, _ name: String, _ key: String) throws(Invalid) -> String? {
            if let flag { return flag }
            if let value = env(name) { return value }
            return try config?.text(key)
        }
        /// Where a bad value came from, for its message.
        func origin(_ flag: String?, _ name: String, _ key: String) -> String {
            if flag != nil || env(name) != nil { return "--\(key)" }
            return config?.location(key).map { "\($0): '\(key)'" } ?? "--\(key)"
        }
        let listen = try setting(options.listen, "LISTEN", "listen") ?? "127.0.0.1:8080"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw Invalid(message: "\(origin(options.listen, "LISTEN", "listen")) '\(listen)' is not host:port (e.g. 127.0.0.1:8080)")
        }
        host = String(listen[..<colon])
        self.port = port
        data = FileSystem.absolute(try setting(options.data, "DATA", "data") ?? Self.defaultData(environment))
        if let given = try setting(options.store, "STORE", "store") {
            store = given
        } else if let file = try setting(options.storeFile, "STORE_FILE", "store-file") {
            // The URL with its password, from a file (a mounted secret).
            guard let bytes = try? FileSystem.read(file) else { throw Invalid(message: "--store-file '\(file)' cannot be read") }
            store = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
        } else {
            store = "sqlite"
        }
        guard store == "sqlite" || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
            throw Invalid(message: "\(origin(options.store, "STORE", "store")) '\(RunStorePostgres.PostgresLocation.redacted(store))' is not sqlite or a postgres:// URL")
        }
        shared = try setting(options.sharedDir, "SHARED_DIR", "shared-dir").map(FileSystem.absolute) ?? data
        func dotenv(_ file: String, _ what: String) throws(Invalid) -> [(String, String)] {
            do {
                return try DotEnv.parse(String(decoding: try FileSystem.read(file), as: UTF8.self), file: file, environment: environment)
            } catch {
                throw Invalid(message: "\(what) '\(file)': \(error)")
            }
        }
        func location(_ url: String) -> String { url.hasPrefix("/") || url.contains("://") ? url : FileSystem.absolute(url) }
        repositories = [:]
        for repository in config?.repositories ?? [] {
            var entry = Repository(url: location(repository.url ?? ""), events: repository.events)
            if let file = repository.secretFile { entry.secrets = try dotenv(file, "'secret-file' of repository '\(repository.name)'") }
            if let file = repository.varFile { entry.vars = try dotenv(file, "'var-file' of repository '\(repository.name)'") }
            repositories[repository.name.lowercased()] = entry
        }
        let given = options.repositories.isEmpty ? (env("REPO")?.split(separator: " ").map(String.init) ?? []) : options.repositories
        for entry in given {
            guard let (name, url) = PlanOptions.split(entry), name.split(separator: "/").count == 2, !url.isEmpty else {
                throw Invalid(message: "--repo '\(entry)' is not OWNER/NAME=GIT_URL")
            }
            // A repository the file configures keeps its settings; the flag gives its URL.
            repositories[name.lowercased(), default: Repository(url: "")].url = location(url)
        }
        guard !repositories.isEmpty else {
            throw Invalid(message: "no repository to serve: give --repo OWNER/NAME=GIT_URL (or GANTRY_SERVE_REPO, or 'repositories' in --config)")
        }
        let insecureInFile = try config?.text("insecure-no-webhook-secret") == "true"
        // The flag, then the environment (a file or the secret itself), then the configuration file.
        let secretFile = options.webhookSecretFile ?? env("WEBHOOK_SECRET_FILE")
        let secretInEnvironment = secretFile == nil ? env("WEBHOOK_SECRET") : nil
        let secretFileInConfig = try config?.text("webhook-secret-file")
        if let secretInEnvironment {
            webhookSecret = Array(secretInEnvironment.utf8)
        } else if let file = secretFile ?? secretFileInConfig {
            guard let bytes = try? FileSystem.read(file) else { throw Invalid(message: "--webhook-secret-file '\(file)' cannot be read") }
            var secret = bytes
            while secret.last == 10 || secret.last == 13 { secret.removeLast() }
            guard !secret.isEmpty else { throw Invalid(message: "--webhook-secret-file '\(file)' is empty") }
            webhookSecret = secret
        } else if options.insecureNoWebhookSecret || env("INSECURE_NO_WEBHOOK_SECRET") == "1" || insecureInFile {
            webhookSecret = nil
        } else {
            throw Invalid(message: "no webhook secret: give --webhook-secret-file FILE (or GANTRY_SERVE_WEBHOOK_SECRET), or --insecure-no-webhook-secret")
        }
        let capacityFlag = options.capacity.map(String.init)
        if let capacityText = try setting(capacityFlag, "CAPACITY", "capacity") {
            guard let value = Int(capacityText), value >= 1 else {
                throw Invalid(message: "\(origin(capacityFlag, "CAPACITY", "capacity")) '\(capacityText)' is not a whole number of at least 1")
            }
            capacity = value
        } else {
            capacity = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        }
        let labelText = try setting(options.labels, "LABELS", "labels") ?? "self-hosted,linux,x64"
        labels = labelText.split(separator: ",").map { $0.filter { $0 != " " } }.filter { !$0.isEmpty }
        guard !labels.isEmpty else { throw Invalid(message: "\(origin(options.labels, "LABELS", "labels")) '\(labelText)' names no label") }
        func seconds(_ flag: Double?, _ name: String, _ option: String, default value: Double) throws(Invalid) -> Double {
            let given = flag.map { "\($0)" }
            guard let text = try setting(given, name, option) else { return value }
            guard let parsed = Double(text), parsed > 0, parsed.isFinite else {
                throw Invalid(message: "\(origin(given, name, option)) '\(text)' is not a positive number of seconds")
            }
            return parsed
        }
        drainTimeout = try seconds(options.drainTimeout, "DRAIN_TIMEOUT", "drain-timeout", default: 600)
        lease = try seconds(options.lease, "LEASE", "lease", default: 60)
        let formatText = try setting(options.logFormat, "LOG_FORMAT", "log-format") ?? "json"
        guard let format = ServiceLogFormat(rawValue: formatText) else {
            throw Invalid(message: "\(origin(options.logFormat, "LOG_FORMAT", "log-format")) '\(formatText)' is not json or text")
        }
        logFormat = format
        if let file = try setting(options.secretFile, "SECRET_FILE", "secret-file") { secrets = try dotenv(file, "--secret-file") }
        if let file = try setting(options.varFile, "VAR_FILE", "var-file") { vars = try dotenv(file, "--var-file") }
        platforms = options.platforms.isEmpty ? (try config?.list("platforms") ?? []) : options.platforms
        for platform in platforms where PlanOptions.split(platform) == nil {
            throw Invalid(message: "-P '\(platform)' is not LABEL=host or LABEL=docker://IMAGE")
        }
        if let url = try setting(options.reportURL, "REPORT_URL", "report-url") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw Invalid(message: "\(origin(options.reportURL, "REPORT_URL", "report-url")) '\(url)' is not an http:// or https:// URL")
            }
            // The flag, then the environment (a file or the token itself), then the configuration file.
            let tokenFile = options.reportTokenFile ?? env("REPORT_TOKEN_FILE")
            let tokenFileInConfig = try config?.text("report-token-file")
            let token: String
            if tokenFile == nil, let given = env("REPORT_TOKEN") {
                token = given
            } else if let file = tokenFile ?? tokenFileInConfig {
                guard let bytes = try? FileSystem.read(file) else { throw Invalid(message: "--report-token-file '\(file)' cannot be read") }
                token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            } else {
                token = ""
            }
            guard !token.isEmpty else {
                throw Invalid(message: "--report-url needs a token: give --report-token-file FILE (or GANTRY_SERVE_REPORT_TOKEN)")
            }
            var api: Forge?
            if let text = try setting(options.reportAPI, "REPORT_API", "report-api") {
                guard let forge = Forge(rawValue: text) else {
                    throw Invalid(message: "\(origin(options.reportAPI, "REPORT_API", "report-api")) '\(text)' is not github, gitea or forgejo")
                }
                api = forge
            }
            report = Report(url: url, token: token, api: api)
        }
        let pageText = try setting(options.page, "PAGE", "page") ?? "private"
        guard let page = PageAccess(rawValue: pageText) else {
            throw Invalid(message: "\(origin(options.page, "PAGE", "page")) '\(pageText)' is not private, public or off")
        }
        self.page = page
        if let clock = env("SCHEDULE_CLOCK") {
            let anchored = clock.split(separator: "@", omittingEmptySubsequences: false)
            let parts = anchored[0].split(separator: "x")
            guard anchored.count <= 2, (1...2).contains(parts.count), let start = Double(parts[0]),
                let speed = parts.count == 2 ? Double(parts[1]) : 1, speed > 0,
                anchored.count == 1 || Double(anchored[1]) != nil
            else {
                throw Invalid(message: "GANTRY_SERVE_SCHEDULE_CLOCK '\(clock)' is not SECONDS_SINCE_1970[xSPEED][@ANCHOR]")
            }
            scheduleClock = (start, speed, anchored.count == 2 ? Double(anchored[1]) : nil)
        }
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        name = try setting(nil, "NAME", "name") ?? String(cString: buffer)
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
