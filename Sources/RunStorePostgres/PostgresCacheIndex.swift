public import ContentCache
import Logging
import PostgresNIO
import Synchronization
import WorkflowExecution

/// The content cache's index for a cluster: the nodes share the packs' folder (`--shared-dir`) and
/// keep entries and blob places in PostgreSQL, in the schema `gantry_cache` (migration 2).
///
/// The cache is synchronous (a job's step saves and restores on the job's own thread), so the index
/// holds one connection of its own and waits on its futures, which NIO's event loop completes: an
/// answer needs no thread of the cooperative pool. Every read holds `pg_advisory_xact_lock_shared`
/// and every write `pg_advisory_xact_lock` on one key, so a write excludes every read and write of
/// every node until it commits, as SQLite's locks do on one machine (see `CacheIndex`).
public final class PostgresCacheIndex: CacheIndex {
    public let location: String
    private let target: PostgresLocation
    private let logger = Logger(label: "gantry.cache.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// The connection, used by one call at a time.
    private let held = Mutex<PostgresConnection?>(nil)
    /// No answer within this many seconds fails the call (a miss for a restore, a skipped save):
    /// a collection compacting packs may hold the write lock a while.
    private let deadline: Int64

    /// The lock key: "gantry" + 2 (the run store uses +0 for migrations and +1 for start-up).
    static let lockKey = PostgresSchema.lockKey + 2

    public init(_ location: PostgresLocation, deadline: Int64 = 120) {
        target = location
        self.location = "\(location) (schema gantry_cache)"
        self.deadline = deadline
    }

    deinit {
        // Waited for (a process that exits with the close in flight traps in NIO), except on the
        // connection's own event loop, where waiting would never end.
        guard let connection = held.withLock({ $0 }) else { return }
        let closed: EventLoopFuture<Void> = connection.close()
        if !connection.eventLoop.inEventLoop { _ = try? closed.wait() }
    }

    public func read<T>(_ body: (any CacheStatements) throws -> T) throws -> T {
        try transaction("pg_advisory_xact_lock_shared", body)
    }

    public func write<T>(_ body: (any CacheStatements) throws -> T) throws -> T {
        try transaction("pg_advisory_xact_lock", body)
    }

    private func transaction<T>(_ lock: String, _ body: (any CacheStatements) throws -> T) throws -> T {
        var outcome: Result<T, any Error> = .failure(CacheError("the cache index was not read"))
        held.withLock { held in outcome = Result { try transaction(&held, lock, body) } }
        return try outcome.get()
    }

    private func transaction<T>(_ held: inout PostgresConnection?, _ lock: String, _ body: (any CacheStatements) throws -> T) throws -> T {
        let connection = try held ?? connect()
        held = connection
        let statements = Statements(connection: connection, logger: logger, deadline: deadline)
        do {
            try statements.run("BEGIN")
            try statements.run("SELECT \(lock)(\(Self.lockKey))")
            let value = try body(statements)
            try statements.run("COMMIT")
            return value
        } catch {
            // A connection that cannot even roll back is dropped; the next call makes a new one.
            if (try? statements.run("ROLLBACK")) == nil {
                held = nil
                _ = try? connection.close().wait()
            }
            throw error
        }
    }

    private func connect() throws -> PostgresConnection {
        let eventLoop = PostgresConnection.defaultEventLoopGroup.any()
        let connection: PostgresConnection
        do {
            connection = try Statements.wait(
                PostgresConnection.connect(on: eventLoop, configuration: target.connectionConfiguration(), id: 1, logger: logger),
                seconds: deadline, doing: "connect")
        } catch let error as CacheError {
            throw CacheError("cannot reach the cache index at \(location): \(error.message)")
        } catch {
            throw CacheError("cannot reach the cache index at \(location): \(PostgresErrors.wrap(error, "connect").description)")
        }
        let statements = Statements(connection: connection, logger: logger, deadline: deadline)
        do {
            let schema = try statements.query("SELECT 1 AS found FROM pg_namespace WHERE nspname = 'gantry_cache'", bindings: [])
            guard !schema.isEmpty else {
                throw CacheError("\(target) has no cache index (schema gantry_cache): `gantry serve --store` creates it")
            }
            try statements.run("SET search_path TO gantry_cache")
        } catch {
            _ = try? connection.close().wait()
            throw error
        }
        return connection
    }

    private struct Statements: CacheStatements {
        let connection: PostgresConnection
        let logger: Logger
        let deadline: Int64

        /// Runs a statement whose answer nobody reads (`BEGIN`, a lock).
        func run(_ sql: String) throws { _ = try answer(sql, bindings: []) }

        func query(_ sql: String, bindings: [CacheValue]) throws -> [CacheRow] {
            try answer(sql, bindings: bindings).map { row in
                var names: [String] = []
                var values: [CacheValue] = []
                for cell in row {
                    names.append(cell.columnName)
                    values.append(try Self.value(cell))
                }
                return CacheRow(names: names, values: values)
            }
        }

        private func answer(_ sql: String, bindings: [CacheValue]) throws -> PostgresQueryResult {
            // `?` placeholders become `$1`, `$2`… (the statements hold no `?` in a literal).
            var text = ""
            var number = 0
            for character in sql {
                if character == "?" {
                    number += 1
                    text += "$\(number)"
                } else {
                    text.append(character)
                }
            }
            var binds = PostgresBindings(capacity: bindings.count)
            for value in bindings {
                switch value {
                case .null: binds.appendNull()
                case .integer(let number): binds.append(number)
                case .real(let number): binds.append(number)
                case .text(let string): binds.append(string)
                }
            }
            do {
                return try Self.wait(
                    connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger), seconds: deadline, doing: "query the cache index")
            } catch let error as CacheError {
                throw error
            } catch {
                throw CacheError(PostgresErrors.wrap(error, "query the cache index").description)
            }
        }

        static func value(_ cell: PostgresCell) throws -> CacheValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8: return .real(try cell.decode(Double.self))
            case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
            default: throw CacheError("the cache index answered a column \(cell.columnName) of type \(cell.dataType), which Gantry does not read")
            }
        }

        /// The future's value, or a `CacheError` after `seconds`.
        static func wait<T: Sendable>(_ future: EventLoopFuture<T>, seconds: Int64, doing: String) throws -> T {
            let promise = future.eventLoop.makePromise(of: T.self)
            let done = FirstCaller()
            let timer = future.eventLoop.scheduleTask(in: .seconds(seconds)) {
                guard done.first() else { return }
                promise.fail(CacheError("PostgreSQL did not answer within \(seconds) s (\(doing))"))
            }
            future.whenComplete { result in
                timer.cancel()
                guard done.first() else { return }
                promise.completeWith(result)
            }
            return try promise.futureResult.wait()
        }
    }
}

/// True for the first caller only.
private final class FirstCaller: Sendable {
    private let done = Atomic<Bool>(false)

    func first() -> Bool { !done.exchange(true, ordering: .relaxed) }
}
