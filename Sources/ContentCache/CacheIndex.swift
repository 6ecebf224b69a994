/// A value the cache index stores or answers.
public enum CacheValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// What can be bound to a statement of the index.
public protocol CacheArgument: Sendable {
    var cacheValue: CacheValue { get }
}

extension String: CacheArgument { public var cacheValue: CacheValue { .text(self) } }
extension Int64: CacheArgument { public var cacheValue: CacheValue { .integer(self) } }
extension Int: CacheArgument { public var cacheValue: CacheValue { .integer(Int64(self)) } }
extension Double: CacheArgument { public var cacheValue: CacheValue { .real(self) } }

/// One row of an answer: its columns' names and values.
public struct CacheRow: Sendable, Equatable {
    public var names: [String]
    public var values: [CacheValue]

    public init(names: [String], values: [CacheValue]) {
        self.names = names
        self.values = values
    }

    public subscript(_ name: String) -> CacheValue { names.firstIndex(of: name).map { values[$0] } ?? .null }

    public func text(_ name: String) -> String {
        switch self[name] {
        case .text(let text): text
        case .integer(let number): String(number)
        case .real(let number): String(number)
        case .null: ""
        }
    }

    public func integer(_ name: String) -> Int64 {
        switch self[name] {
        case .integer(let number): number
        case .real(let number): Int64(number)
        case .text(let text): Int64(text) ?? 0
        case .null: 0
        }
    }

    public func real(_ name: String) -> Double {
        switch self[name] {
        case .real(let number): number
        case .integer(let number): Double(number)
        case .text(let text): Double(text) ?? 0
        case .null: 0
        }
    }
}

/// Statements inside one read or write of the index. SQL uses `?` placeholders and only what SQLite
/// and PostgreSQL both read (`ON CONFLICT`, `RETURNING`, `substr`, `length`, a quoted `"offset"`).
public protocol CacheStatements {
    func query(_ sql: String, bindings: [CacheValue]) throws -> [CacheRow]
}

extension CacheStatements {
    /// The rows `sql` answers.
    public func rows(_ sql: String, _ arguments: any CacheArgument...) throws -> [CacheRow] {
        try query(sql, bindings: arguments.map(\.cacheValue))
    }

    /// The first row `sql` answers, if any.
    public func row(_ sql: String, _ arguments: any CacheArgument...) throws -> CacheRow? {
        try query(sql, bindings: arguments.map(\.cacheValue)).first
    }

    public func execute(_ sql: String, _ arguments: any CacheArgument...) throws {
        _ = try query(sql, bindings: arguments.map(\.cacheValue))
    }
}

/// Where the cache's entries and its blobs' places in the packs are kept: SQLite beside the packs
/// (one machine, `SQLiteCacheIndex`), or PostgreSQL for the nodes of a cluster that share the packs'
/// folder (in `RunStorePostgres`).
///
/// A read sees one consistent state. A write excludes every other write and read, on every node,
/// until it commits: a collection deletes a pack only after its write, and a restore opens the packs
/// it needs inside its read, so an open pack is never one about to go.
public protocol CacheIndex: Sendable {
    /// Where the index is, for messages.
    var location: String { get }
    func read<T>(_ body: (any CacheStatements) throws -> T) throws -> T
    func write<T>(_ body: (any CacheStatements) throws -> T) throws -> T
}
