internal import Logging
internal import PostgresNIO
public import WorkflowExecution

/// Where the database is: a `postgres://user:password@host:port/database?sslmode=disable` URL.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `disable` (the default: loopback and private networks), `prefer` or `require`.
    public var sslMode: String

    public init(host: String, port: Int, user: String, password: String?, database: String, sslMode: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// Reads a URL; nil with the reason when it is not one.
    public static func parse(_ text: String) -> Result<PostgresLocation, RunStoreError> {
        func fail(_ why: String) -> Result<PostgresLocation, RunStoreError> { .failure(RunStoreError("--store \(redacted(text)): \(why)")) }
        var rest = Substring(text)
        guard let scheme = ["postgres://", "postgresql://"].first(where: { rest.hasPrefix($0) }) else {
            return fail("a PostgreSQL store is a URL postgres://user:password@host:port/database")
        }
        rest = rest.dropFirst(scheme.count)
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var database = ""
        if let slash = rest.firstIndex(of: "/") {
            database = decode(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var user = "postgres"
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = decode(credentials[..<colon])
                password = decode(credentials[credentials.index(after: colon)...])
            } else {
                user = decode(credentials)
            }
        }
        var host = String(rest)
        var port = 5432
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else { return fail("the port is not a number from 1 to 65535") }
            port = number
            host = String(rest[..<colon])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return fail("the URL names no host") }
        var sslMode = "disable"
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return fail("'\(pair)' is not name=value") }
            switch parts[0] {
            case "sslmode":
                guard ["disable", "prefer", "require"].contains(parts[1]) else { return fail("sslmode is disable, prefer or require") }
                sslMode = parts[1]
            default: return fail("unknown setting '\(parts[0])' (sslmode is the only one)")
            }
        }
        return .success(PostgresLocation(
            host: host, port: port, user: user, password: password, database: database.isEmpty ? user : database, sslMode: sslMode))
    }

    /// The URL without its password, for messages and logs.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// A URL with its password replaced, for messages.
    public static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let colonSlash = text.firstIndex(of: ":"),
            text[colonSlash...].hasPrefix("://"), text.index(colonSlash, offsetBy: 3) < at
        else { return text }
        let credentials = text[text.index(colonSlash, offsetBy: 3)..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    private static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2, let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One connection's settings (the pool's are `configuration`).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case "require": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case "prefer": tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: tls = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    var configuration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "require": tls = .require(.makeClientConfiguration())
        case "prefer": tls = .prefer(.makeClientConfiguration())
        default: tls = .disable
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 8
        return configuration
    }
}

/// The schema, as numbered migrations: each runs once, in order, in the transaction that records it.
/// A node runs them at start under an advisory lock (so two nodes starting together do not both
/// migrate); a node older than the database's schema refuses to start.
enum PostgresSchema {
    /// `pg_advisory_xact_lock`'s key: "gantry" in ASCII.
    static let lockKey = 0x67_61_6E_74_72_79

    static let migrations: [String] = [
        // 1: runs, their event logs, the queue with leases, deliveries, counters and the node registry.
        """
        CREATE TABLE gantry_run (
            id TEXT PRIMARY KEY, ord BIGSERIAL, created DOUBLE PRECISION NOT NULL, definition TEXT NOT NULL,
            record TEXT NOT NULL, seq BIGINT NOT NULL DEFAULT 0, finished DOUBLE PRECISION, success BOOLEAN);
        CREATE INDEX gantry_run_unfinished ON gantry_run (ord) WHERE finished IS NULL;
        CREATE TABLE gantry_event (
            run TEXT NOT NULL REFERENCES gantry_run (id), seq BIGINT NOT NULL, event TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL, node TEXT NOT NULL, PRIMARY KEY (run, seq));
        CREATE SEQUENCE gantry_queue_position;
        CREATE SEQUENCE gantry_claim_token;
        CREATE TABLE gantry_queue (
            instance TEXT PRIMARY KEY, run TEXT NOT NULL REFERENCES gantry_run (id), position BIGINT NOT NULL,
            runs_on TEXT NOT NULL, needs TEXT NOT NULL, since DOUBLE PRECISION NOT NULL,
            worker TEXT, token BIGINT, lease_ends DOUBLE PRECISION, claimed DOUBLE PRECISION);
        CREATE INDEX gantry_queue_waiting ON gantry_queue (position) WHERE worker IS NULL;
        CREATE INDEX gantry_queue_held ON gantry_queue (lease_ends) WHERE worker IS NOT NULL;
        CREATE TABLE gantry_delivery (id TEXT PRIMARY KEY, runs TEXT NOT NULL, received DOUBLE PRECISION NOT NULL);
        CREATE TABLE gantry_counter (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
        CREATE TABLE gantry_node (
            name TEXT PRIMARY KEY, labels TEXT NOT NULL, capacity BIGINT NOT NULL, busy BIGINT NOT NULL,
            draining BOOLEAN NOT NULL, started DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL);
        """,
        // 2: the content cache's index (`PostgresCacheIndex`), in a schema of its own so that the
        // cache's statements read the same on SQLite and here.
        """
        CREATE SCHEMA gantry_cache;
        CREATE TABLE gantry_cache.entry (
            id BIGSERIAL PRIMARY KEY, scope TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL, last_access DOUBLE PRECISION NOT NULL, size BIGINT NOT NULL,
            files BIGINT NOT NULL, paths TEXT NOT NULL, manifest TEXT NOT NULL, UNIQUE (scope, key, version));
        CREATE INDEX entry_lookup ON gantry_cache.entry (scope, version, created);
        CREATE TABLE gantry_cache.counter (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
        CREATE TABLE gantry_cache.blob (
            digest TEXT PRIMARY KEY, pack TEXT NOT NULL, "offset" BIGINT NOT NULL, size BIGINT NOT NULL);
        CREATE INDEX blob_pack ON gantry_cache.blob (pack)
        """,
    ]

    /// Brings the database to this build's schema; throws (one line) when it is newer.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.run(
                "CREATE TABLE IF NOT EXISTS gantry_schema (version BIGINT PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)", logger: logger)
            let version = try await connection.values("SELECT COALESCE(MAX(version), 0) FROM gantry_schema", Int.self, logger: logger).first ?? 0
            guard version <= migrations.count else {
                throw RunStoreError(
                    "the database's schema is version \(version) and this gantry knows versions up to \(migrations.count): upgrade this node")
            }
            for (index, sql) in migrations.enumerated() where index + 1 > version {
                // One statement a query: the extended protocol takes no lists.
                for statement in sql.split(separator: ";\n") {
                    try await connection.run(PostgresQuery(unsafeSQL: String(statement)), logger: logger)
                }
                try await connection.run(
                    "INSERT INTO gantry_schema (version, applied) VALUES (\(index + 1), \(HostProcess.wallClock()))", logger: logger)
            }
        }
    }
}

/// Store errors as the service reports them: a server that cannot be reached is `unavailable`.
enum PostgresErrors {
    static func wrap(_ error: any Error, _ doing: String) -> RunStoreError {
        if let error = error as? RunStoreError { return error }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError { return wrap(inner, doing) }
            if let inner = error.beginError ?? error.commitError { return wrap(inner, doing) }
        }
        guard let error = error as? PSQLError else { return RunStoreError("PostgreSQL could not \(doing): \(error)", unavailable: true) }
        if error.code == .server {
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "\(error)"
            // Connection exceptions, and a server shutting down or starting up.
            let unavailable = state.hasPrefix("08") || state.hasPrefix("57P")
            return RunStoreError("PostgreSQL could not \(doing): \(message) (\(state))", unavailable: unavailable)
        }
        return RunStoreError("PostgreSQL could not \(doing): \(error.code)", unavailable: true)
    }
}
