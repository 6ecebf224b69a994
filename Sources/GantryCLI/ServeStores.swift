public import RunStorePostgres
public import RunStoreSQLite
public import RunnerService
public import WorkflowExecution

/// The stores `gantry serve` runs on, as the service sees them: SQLite for one node (the default),
/// PostgreSQL for several (`--store postgres://…`).
extension SQLiteRunStore: RunnerService.ServiceStore {
    public func storedRuns(limit: Int, unfinishedOnly: Bool) throws -> [StoredRunRecord] {
        try runs(limit: limit, unfinishedOnly: unfinishedOnly).compactMap { ServeStores.record($0.id, $0.record, $0.created, $0.finished, $0.success) }
    }

    public func storedRun(_ id: RunID) throws -> StoredRunRecord? {
        try run(id).flatMap { ServeStores.record($0.id, $0.record, $0.created, $0.finished, $0.success) }
    }

    public func queued() throws -> [(instance: InstanceID, runsOn: [String], since: Double)] {
        try queuedJobs().map { ($0.instance, $0.runsOn, $0.since) }
    }
}

extension PostgresRunStore: RunnerService.ServiceStore {
    public nonisolated var isShared: Bool { true }

    public func storedRuns(limit: Int, unfinishedOnly: Bool) async throws -> [StoredRunRecord] {
        try await runs(limit: limit, unfinishedOnly: unfinishedOnly).compactMap { ServeStores.record($0.id, $0.record, $0.created, $0.finished, $0.success) }
    }

    public func storedRun(_ id: RunID) async throws -> StoredRunRecord? {
        try await run(id).flatMap { ServeStores.record($0.id, $0.record, $0.created, $0.finished, $0.success) }
    }

    public func queued() async throws -> [(instance: InstanceID, runsOn: [String], since: Double)] {
        try await queuedJobs()
    }

    public func runners() async throws -> [RunnerStatus]? { try await nodes() }

    public func unavailable() async -> String? {
        await ping() ? nil : "PostgreSQL does not answer"
    }
}

enum ServeStores {
    static func record(_ id: RunID, _ text: String, _ created: Double, _ finished: Double?, _ success: Bool?) -> StoredRunRecord? {
        guard let record = try? CodableJSON.decode(ServiceRunRecord.self, from: text) else { return nil }
        return StoredRunRecord(id: id, record: record, created: created, finished: finished, success: success)
    }
}
