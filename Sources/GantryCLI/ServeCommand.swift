import WebhookReading
import ArgumentParser
import ContentCache
import Dispatch
import ForgeClient
import Logging
import RunStorePostgres
import RunStoreSQLite
import RunnerService
import WorkflowExecution

#if canImport(Glibc)
import Glibc
#endif

extension GantryCommand {
    /// `gantry serve`: the self-hosted runner service.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run workflows for pushes, pull requests and dispatches sent by a forge's webhooks (self-hosted runner mode).",
            subcommands: [Start.self, Token.self, Hook.self, Health.self],
            defaultSubcommand: Start.self
        )
    }
}

extension GantryCommand.Serve {
    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Serve webhooks and the API, and run the jobs they bring (the default).",
            discussion: """
                Every setting is also read from the environment as GANTRY_SERVE_<NAME> (e.g. \
                GANTRY_SERVE_LISTEN, GANTRY_SERVE_CAPACITY, GANTRY_SERVE_REPO with several repositories \
                separated by spaces); a flag given on the command line wins. SIGTERM or SIGINT drains: \
                /ready answers 503, no new job starts, running jobs get --drain-timeout and are then \
                cancelled; what did not start stays queued for the next start.
                """
        )

        @Option(help: ArgumentHelp("A YAML file of settings (the flags' long names) and repositories with their own secrets, variables and events; flags and GANTRY_SERVE_* win over it.", valueName: "file"))
        var config: String?

        @Option(help: ArgumentHelp("The address to listen on (port 0 picks a free port; the chosen one is logged).", valueName: "host:port"))
        var listen: String?

        @Option(help: ArgumentHelp("The service's folder: its database, mirrors, runs and logs (default: $GANTRY_STATE_DIR/serve).", valueName: "dir"))
        var data: String?

        @Option(help: ArgumentHelp("Where runs and their queue are kept: sqlite (one node, in --data) or postgres://user:password@host:port/database (several nodes on one database; prefer GANTRY_SERVE_STORE, which keeps the password out of ps).", valueName: "sqlite|url"))
        var store: String?

        @Option(help: ArgumentHelp("A file holding the --store URL (a mounted secret), read when --store is not given.", valueName: "file"))
        var storeFile: String?

        @Option(help: ArgumentHelp("The folder every node mounts, for runs (logs, artifacts, workspaces), the cache and concurrency groups (default: --data).", valueName: "dir"))
        var sharedDir: String?

        @Option(name: .customLong("repo"), help: ArgumentHelp("A repository to run, and where to fetch it (git://, file://, a path, https://).", valueName: "owner/name=url"))
        var repositories: [String] = []

        @Option(help: ArgumentHelp("The file holding the webhook secret (or GANTRY_SERVE_WEBHOOK_SECRET).", valueName: "file"))
        var webhookSecretFile: String?

        @Flag(help: "Accept webhooks without a signature (only for a trusted network).")
        var insecureNoWebhookSecret = false

        @Option(help: "Jobs run at once (default: the number of CPUs).")
        var capacity: Int?

        @Option(help: ArgumentHelp("This runner's labels, comma-separated (default: self-hosted,linux,x64).", valueName: "labels"))
        var labels: String?

        @Option(name: .customShort("P"), help: ArgumentHelp("Map a runs-on label to a backend, as gantry run -P does.", valueName: "label=host|docker://image"))
        var platforms: [String] = []

        @Option(help: ArgumentHelp("Secrets every run gets (a dotenv file; none for pull requests from forks).", valueName: "file"))
        var secretFile: String?

        @Option(help: ArgumentHelp("Variables (`vars`) every run gets (a dotenv file).", valueName: "file"))
        var varFile: String?

        @Option(help: "Seconds running jobs get to finish after SIGTERM before they are cancelled (default: 600).")
        var drainTimeout: Double?

        @Option(help: "Seconds a job's lease lasts unless renewed; a job whose lease lapses is concluded as a lost runner (default: 60).")
        var lease: Double?

        @Option(help: ArgumentHelp("Log lines as JSON objects or text (default: json).", valueName: "json|text"))
        var logFormat: String?

        @Option(help: ArgumentHelp("Who may read the page at /: signed-in users (private, the default), anyone (public), or nobody (off).", valueName: "private|public|off"))
        var page: String?

        @Option(help: ArgumentHelp("Send each job's commit status to this REST API root (https://api.github.com, or https://HOST/api/v1 for Gitea and Forgejo).", valueName: "url"))
        var reportURL: String?

        @Option(help: ArgumentHelp("The file holding the token for --report-url (or GANTRY_SERVE_REPORT_TOKEN).", valueName: "file"))
        var reportTokenFile: String?

        @Option(help: ArgumentHelp("The API shape of --report-url (default: that of the forge that sent the delivery; github for the API).", valueName: "github|gitea|forgejo"))
        var reportAPI: String?

        /// SQLite in the data folder, or the PostgreSQL database the URL names (migrated at start; a
        /// node older than its schema, or a server that does not answer, stops the start with one line).
        static func openStore(_ settings: ServeSettings) throws -> any ServiceStore {
            guard settings.store != "sqlite" else { return try SQLiteRunStore(path: settings.data + "/serve.sqlite") }
            let location = try PostgresLocation.parse(settings.store).get()
            let opened: Result<PostgresRunStore, any Error> = RunBlocking.wait {
                do {
                    return .success(try await PostgresRunStore.open(location, node: settings.name))
                } catch {
                    return .failure(error)
                }
            }
            return try opened.get()
        }

        /// The cache's index: beside the packs for SQLite, in the shared database for PostgreSQL.
        static func cacheIndex(_ settings: ServeSettings) -> (any CacheIndex)? {
            guard settings.store != "sqlite", let location = try? PostgresLocation.parse(settings.store).get() else { return nil }
            return PostgresCacheIndex(location)
        }

        func run() throws {
            let environment = GantryCommand.Run.hostEnvironment()
            let settings: ServeSettings
            do {
                settings = try ServeSettings(self, environment: environment)
            } catch {
                FileSystem.write("gantry: error: \(error.message)\n", to: 2)
                throw ExitCode(64)
            }
            let format = settings.logFormat
            LoggingSystem.bootstrap { ServiceLogHandler(label: $0, format: format) }
            let logger = Logger(label: "gantry.serve")
            let store: any ServiceStore
            do {
                Files.makeDirectory(settings.data)
                Files.makeDirectory(settings.shared)
                // The steps' scratch folder: an image with a read-only root points TMPDIR into its
                // data volume, which starts empty.
                if let scratch = environment.last(where: { $0.0 == "TMPDIR" })?.1, scratch.hasPrefix("/") { Files.makeDirectory(scratch) }
                store = try Self.openStore(settings)
            } catch {
                FileSystem.write("gantry: error: \(error)\n", to: 2)
                throw ExitCode.failure
            }
            let cacheIndex = Self.cacheIndex(settings)
            let launcher = ServeLauncher(
                data: settings.data, shared: settings.shared, repositories: settings.repositories, hostEnvironment: environment, secrets: settings.secrets,
                vars: settings.vars, platforms: settings.platforms, store: store, name: settings.name, cacheIndex: cacheIndex)
            let metrics = ServiceMetrics()
            let statuses = settings.report.map { report in
                StatusReporter(sink: ForgeStatusClient(base: report.url, token: report.token, api: report.api), logger: logger, metrics: metrics)
            }
            let worker = WorkerIdentity(name: settings.name, labels: settings.labels)
            let runs = ServiceRuns(
                store: store, launcher: launcher, settings: .init(worker: worker, capacity: settings.capacity, lease: settings.lease)
            ) { happening in
                switch happening {
                case .accepted(let id, let record):
                    logger.info("run queued", metadata: [
                        "run": .string(id.value), "repository": .string(record.intake.repository), "workflow": .string(record.workflow),
                        "sha": .string(record.sha),
                    ])
                case .resumed(let id): logger.info("run continues after a restart", metadata: ["run": .string(id.value)])
                case .adopted(let id): logger.info("run taken over from a node that stopped", metadata: ["run": .string(id.value)])
                case .finished(let id, let success, let seconds):
                    metrics.runFinished(success: success, seconds: seconds)
                    logger.info("run finished", metadata: ["run": .string(id.value), "success": .stringConvertible(success)])
                case .failed(let message): logger.error("\(message)")
                case .jobQueued(let id, let record, let job):
                    logger.info("job queued", metadata: ["run": .string(id.value), "job": .string(job)])
                    statuses?.post(.job(job, of: record, result: nil, seconds: 0))
                case .jobRunning(let id, _, let job, let waited):
                    metrics.jobWaited(seconds: waited)
                    logger.info("job started", metadata: ["run": .string(id.value), "job": .string(job), "waited": .stringConvertible(waited)])
                case .jobFinished(let id, let record, let job, let result, let seconds, let ran, let queued):
                    metrics.jobFinished(result: result, ran: ran)
                    logger.info("job finished", metadata: ["run": .string(id.value), "job": .string(job), "result": .string(result.rawValue)])
                    // A job kept from an earlier attempt keeps that attempt's status.
                    if queued || result != .success { statuses?.post(.job(job, of: record, result: result, seconds: ran ?? seconds)) }
                }
            }
            var serverSettings = ServerSettings(
                host: settings.host, port: settings.port, webhookSecret: settings.webhookSecret,
                tokens: TokenFile(path: settings.shared + "/tokens"), drainTimeout: settings.drainTimeout,
                repositories: Array(settings.repositories.keys))
            serverSettings.events = settings.repositories.compactMapValues(\.events)
            if let clock = settings.scheduleClock { serverSettings.scheduleClock = ScheduleClock(start: clock.start, speed: clock.speed, anchor: clock.anchor) }
            serverSettings.runsDirectory = settings.shared + "/runs"
            serverSettings.page = settings.page
            let cacheRoot = settings.shared + "/cache"
            serverSettings.cacheEntries = {
                // Only an existing cache: the page never makes one.
                guard FileSystem.exists(cacheRoot + (cacheIndex == nil ? "/index.sqlite" : "/packs")),
                    let entries = try? CacheStore(root: cacheRoot, index: cacheIndex).list(keyPrefix: nil, scope: nil)
                else { return [] }
                return entries.map { PageCacheEntry(key: $0.key, scope: $0.scope, size: $0.size, lastUsed: $0.lastAccess) }
            }
            let server = RunnerServer(settings: serverSettings, runs: runs, store: store, metrics: metrics, statuses: statuses, logger: logger)
            let outcome: Result<Void, any Error> = RunBlocking.wait {
                do {
                    try await runs.start()
                    try await server.run()
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(let error) = outcome {
                logger.error("the service stopped: \(error)")
                throw ExitCode.failure
            }
        }
    }

    /// `gantry serve token create|ls|revoke`: the REST API's bearer tokens.
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token",
            abstract: "Create, list and revoke the REST API's bearer tokens (only their SHA-256 is stored).")

        @Argument(help: ArgumentHelp("create NAME, ls, or revoke NAME.", valueName: "action"))
        var action: String

        @Argument(help: "The token's name.")
        var name: String?

        @Option(help: ArgumentHelp("The folder of the tokens file: the service's --data, or its --shared-dir when it has one (default: $GANTRY_STATE_DIR/serve).", valueName: "dir"))
        var data: String?

        func run() throws {
            let environment = GantryCommand.Run.hostEnvironment()
            let folder = data.map(FileSystem.absolute) ?? ServeSettings.defaultData(environment)
            Files.makeDirectory(folder)
            let tokens = TokenFile(path: folder + "/tokens")
            let result: Result<Int32, TokenError>
            do throws(TokenError) {
                switch (action, name) {
                case ("create", let name?):
                    FileSystem.write(try tokens.create(name: name) + "\n", to: 1)
                    result = .success(0)
                case ("ls", nil):
                    FileSystem.write(tokens.entries().map { "\($0.name)  created \($0.created)\n" }.joined(), to: 1)
                    result = .success(0)
                case ("revoke", let name?):
                    if try tokens.revoke(name: name) {
                        result = .success(0)
                    } else {
                        FileSystem.write("gantry: error: no token named '\(name)'\n", to: 2)
                        result = .success(1)
                    }
                default:
                    FileSystem.write("gantry: error: use 'token create NAME', 'token ls' or 'token revoke NAME'\n", to: 2)
                    result = .success(64)
                }
            } catch {
                result = .failure(error)
            }
            switch result {
            case .success(0): return
            case .success(let code): throw ExitCode(code)
            case .failure(let error):
                FileSystem.write("gantry: error: \(error)\n", to: 2)
                throw ExitCode.failure
            }
        }
    }
}
