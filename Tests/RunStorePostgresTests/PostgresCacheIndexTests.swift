import ContentCache
import Foundation
import RunStorePostgres
import Testing
import _GantryTestSupport

/// The content cache of a cluster: the packs in one shared folder, the index in PostgreSQL. Two
/// stores on one folder and one database are two nodes: what one saves the other finds and restores,
/// a key is saved once whichever node commits first, and removal and eviction on one node leave the
/// other's view whole.
@Suite(.serialized, .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct PostgresCacheIndexTests {
    final class Nodes: @unchecked Sendable {
        let server: PostgresServer
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-pgcache-\(UUID().uuidString)").path
        var shared: String { folder + "/shared/cache" }
        let a: CacheStore
        let b: CacheStore

        init() async throws {
            server = try PostgresServer()
            let location = try PostgresLocation.parse(server.url).get()
            // The run store's migrations make the cache's schema.
            await try PostgresRunStore.open(location, node: "a").close()
            a = try CacheStore(root: folder + "/shared/cache", grace: 0, index: PostgresCacheIndex(location))
            b = try CacheStore(root: folder + "/shared/cache", grace: 0, index: PostgresCacheIndex(location))
            for node in ["a", "b"] { try FileManager.default.createDirectory(atPath: folder + "/" + node, withIntermediateDirectories: true) }
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        func write(_ node: String, _ path: String, _ text: String) throws {
            let full = folder + "/" + node + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }

        func save(_ store: CacheStore, _ node: String, _ key: String) throws -> SaveOutcome {
            let workspace = folder + "/" + node
            let items = CacheStore.collect([workspace + "/deps"]) { String($0.dropFirst(workspace.count + 1)) }
            return try store.save(scope: "o/r:refs/heads/main", key: key, version: CacheStore.version(paths: ["deps"]), paths: ["deps"], items: items)
        }

        func find(_ store: CacheStore, _ key: String, _ restoreKeys: [String] = []) throws -> CacheMatch? {
            try store.find(key: key, restoreKeys: restoreKeys, version: CacheStore.version(paths: ["deps"]), scopes: ["o/r:refs/heads/main"])
        }

        var packs: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: shared + "/packs")) ?? []).sorted() }
    }

    @Test func whatOneNodeSavesTheOtherRestores() async throws {
        let nodes = try await Nodes()
        try nodes.write("a", "deps/lib.txt", "made on a")
        try nodes.write("a", "deps/sub/other.txt", "more")
        guard case .saved(let entry, let bytes) = try nodes.save(nodes.a, "a", "deps-1") else { Issue.record("not saved"); return }
        #expect(entry.fileCount == 2 && bytes == 13)
        // b finds it by the exact key and by a restore key, and writes the files back.
        let hit = try #require(try nodes.find(nodes.b, "deps-1"))
        #expect(hit.exact && hit.reason == "exact key 'deps-1' in o/r:refs/heads/main")
        #expect(try nodes.find(nodes.b, "deps-2", ["deps-"])?.reason == "restore key 'deps-' as a prefix in o/r:refs/heads/main")
        #expect(try nodes.find(nodes.b, "other") == nil)
        let restored = try nodes.b.restore(hit.entry) { nodes.folder + "/b/" + $0 }
        #expect(restored == 2)
        #expect(try String(contentsOfFile: nodes.folder + "/b/deps/lib.txt", encoding: .utf8) == "made on a")
        #expect(try String(contentsOfFile: nodes.folder + "/b/deps/sub/other.txt", encoding: .utf8) == "more")
        // The same key saved again on b exists already; both nodes count the lookups.
        #expect(try nodes.save(nodes.b, "b", "deps-1") == .exists)
        let stats = try nodes.a.stats()
        #expect((stats.entries, stats.logicalBytes, stats.blobs, stats.hits, stats.misses) == (1, 13, 2, 2, 1))
        #expect(try nodes.server.sql("SELECT string_agg(name || '=' || value, ',' ORDER BY name) FROM gantry_cache.counter") == "hit=2,miss=1")
        // Nothing of the index is on disk: no SQLite file beside the packs.
        #expect(!FileManager.default.fileExists(atPath: nodes.shared + "/index.sqlite"))
    }

    @Test func concurrentSavesOnTwoNodesCommitEachKeyOnce() async throws {
        let nodes = try await Nodes()
        for node in ["a", "b"] {
            for i in 0..<40 { try nodes.write(node, "deps/\(i).txt", "shared \(i)") }
            try nodes.write(node, "deps/own.txt", "only on \(node)")
        }
        // Both nodes save the same 10 keys at once: each key is committed by one of them.
        let outcomes = try await withThrowingTaskGroup(of: [SaveOutcome].self) { group in
            for (store, node) in [(nodes.a, "a"), (nodes.b, "b")] {
                group.addTask { try (0..<10).map { try nodes.save(store, node, "key-\($0)") } }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(outcomes.filter { if case .saved = $0 { true } else { false } }.count == 10)
        #expect(outcomes.filter { $0 == .exists }.count == 10)
        #expect(try nodes.a.list().map(\.key).sorted() == (0..<10).map { "key-\($0)" }.sorted())
        #expect(try nodes.server.sql("SELECT count(*) FROM gantry_cache.entry") == "10")
        // Every entry restores whole on the other node.
        for entry in try nodes.b.list() {
            let into = nodes.folder + "/restored-\(entry.key)/"
            #expect(try nodes.b.restore(entry) { into + $0 } == 41)
            #expect(try String(contentsOfFile: into + "deps/7.txt", encoding: .utf8) == "shared 7")
        }
    }

    @Test func removalAndEvictionOnOneNodeCollectThePacksForBoth() async throws {
        let nodes = try await Nodes()
        try nodes.write("a", "deps/x.txt", "x")
        _ = try nodes.save(nodes.a, "a", "one")
        try nodes.write("b", "deps/y.txt", "yy")
        _ = try nodes.save(nodes.b, "b", "two")
        #expect(nodes.packs.count == 2)
        #expect(try nodes.b.remove(key: "one").map(\.key) == ["one"])
        #expect(try nodes.a.list().map(\.key) == ["two"])
        #expect(nodes.packs.count == 1)
        let pruned = try nodes.a.prune(maxBytes: 0, maxAge: nil)
        #expect(pruned.entries.map(\.key) == ["two"] && pruned.blobs == 1 && pruned.bytes == 2)
        #expect(nodes.packs.isEmpty)
        #expect(try nodes.server.sql("SELECT count(*) FROM gantry_cache.blob") == "0")
        let verified = try nodes.b.verify()
        #expect(verified.blobsChecked == 0 && verified.corruptBlobs.isEmpty && verified.brokenEntries.isEmpty)
    }

    @Test func aDatabaseWithoutTheSchemaOrAServerThatIsGoneIsOneLine() throws {
        let server = try PostgresServer()
        let location = try PostgresLocation.parse(server.url).get()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-pgcache-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try CacheStore(root: folder, index: PostgresCacheIndex(location))
        do {
            _ = try store.list()
            Issue.record("listed a cache with no index")
        } catch {
            #expect(error.message == "\(location) has no cache index (schema gantry_cache): `gantry serve --store` creates it")
        }
        try server.stop()
        do {
            _ = try store.list()
            Issue.record("listed a cache with no server")
        } catch {
            #expect(error.message.hasPrefix("cannot reach the cache index at \(location) (schema gantry_cache): PostgreSQL could not connect: "))
            #expect(!error.message.contains("\n"))
        }
    }
}
