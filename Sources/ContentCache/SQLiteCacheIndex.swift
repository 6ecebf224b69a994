internal import GRDB

/// The cache index of one machine: `index.sqlite` beside the packs. One connection serialises the
/// process's reads and writes; SQLite's locks keep other processes' writes from committing while a
/// read is open (rollback journal, not WAL).
public final class SQLiteCacheIndex: CacheIndex {
    public let location: String
    let database: DatabaseQueue

    public init(path: String) throws(CacheError) {
        location = path
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(60)
            database = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
                    CREATE TABLE entry (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        scope TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL,
                        created REAL NOT NULL, last_access REAL NOT NULL,
                        size INTEGER NOT NULL, files INTEGER NOT NULL,
                        paths TEXT NOT NULL, manifest TEXT NOT NULL,
                        UNIQUE (scope, key, version));
                    CREATE INDEX entry_lookup ON entry (scope, version, created);
                    CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    """)
            }
            // Packs replace one file per blob under objects/ (creating 20,000 files cost more than hashing
            // them): entries of the old format are dropped, which a cache may always do (a miss).
            migrator.registerMigration("v2 packs") { db in
                try db.execute(sql: """
                    DELETE FROM entry;
                    CREATE TABLE blob (
                        digest TEXT PRIMARY KEY, pack TEXT NOT NULL, offset INTEGER NOT NULL, size INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX blob_pack ON blob (pack);
                    """)
            }
            try migrator.migrate(database)
        } catch {
            throw CacheError("cannot open the cache index \(path): \(error)")
        }
    }

    public func read<T>(_ body: (any CacheStatements) throws -> T) throws -> T {
        try database.read { db in try body(Statements(db: db)) }
    }

    public func write<T>(_ body: (any CacheStatements) throws -> T) throws -> T {
        try database.write { db in try body(Statements(db: db)) }
    }

    private struct Statements: CacheStatements {
        let db: Database

        func query(_ sql: String, bindings: [CacheValue]) throws -> [CacheRow] {
            // Cached: a save looks up every file's digest, twice.
            let statement = try db.cachedStatement(sql: sql)
            let arguments = StatementArguments(bindings.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .integer(let number): number.databaseValue
                case .real(let number): number.databaseValue
                case .text(let text): text.databaseValue
                }
            })
            let names = statement.columnNames
            return try Row.fetchAll(statement, arguments: arguments).map { row in
                CacheRow(names: names, values: row.databaseValues.map { value in
                    switch value.storage {
                    case .null: .null
                    case .int64(let number): .integer(number)
                    case .double(let number): .real(number)
                    case .string(let text): .text(text)
                    case .blob(let data): .text(String(decoding: data, as: UTF8.self))
                    }
                })
            }
        }
    }
}
