import ContentCache
import Foundation
import Testing
import _GantryTestSupport

/// The content-addressed store: lookup order as actions/cache, versions, scopes, immutability,
/// round trips, dedup, eviction and verify.
@Suite struct CacheStoreTests {
    /// A store and a workspace in a temporary folder.
    final class Scratch: @unchecked Sendable {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-cache-\(UUID().uuidString)")
        var root: String { url.path + "/store" }
        var workspace: String { url.path + "/work" }
        let store: CacheStore

        init(grace: Double = 0) throws {
            try FileManager.default.createDirectory(atPath: url.path + "/work", withIntermediateDirectories: true)
            store = try CacheStore(root: url.path + "/store", grace: grace)
        }
        deinit { try? FileManager.default.removeItem(at: url) }

        func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
            let full = workspace + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
        }

        @discardableResult
        func save(_ key: String, scope: String = "refs/heads/main", paths: [String] = ["deps"], version: String? = nil) throws -> SaveOutcome {
            let items = CacheStore.collect(paths.map { workspace + "/" + $0 }) { String($0.dropFirst(workspace.count + 1)) }
            return try store.save(scope: scope, key: key, version: version ?? CacheStore.version(paths: paths), paths: paths, items: items)
        }

        func find(_ key: String, _ restoreKeys: [String] = [], scopes: [String] = ["refs/heads/main"], paths: [String] = ["deps"]) throws -> CacheMatch? {
            try store.find(key: key, restoreKeys: restoreKeys, version: CacheStore.version(paths: paths), scopes: scopes)
        }
    }

    @Test func versionIsTheToolkitsHashOfPathsCompressionAndSalt() {
        // printf '%s' 'node_modules|~/.npm|zstd-without-long|1.0' | sha256sum
        #expect(CacheStore.version(paths: ["node_modules", "~/.npm"]) == Self.sha256("node_modules|~/.npm|zstd-without-long|1.0"))
        #expect(CacheStore.version(paths: ["a"]) == Self.sha256("a|zstd-without-long|1.0"))
        #expect(CacheStore.version(paths: ["a"], compression: "gzip") == Self.sha256("a|gzip|1.0"))
    }

    /// sha256sum, computed outside Gantry.
    static func sha256(_ text: String) -> String {
        let result = try! runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", text])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// GitHub's documented example: key npm-feature-d5ea0750, restore keys npm-feature- and npm-, on a
    /// feature branch whose default branch is main.
    @Test func lookupOrderFollowsGitHubsExample() throws {
        let s = try Scratch()
        try s.write("deps/a", "1")
        let feature = "refs/heads/feature"
        let main = "refs/heads/main"
        let scopes = [feature, main]
        let key = "npm-feature-d5ea0750"
        let restore = ["npm-feature-", "npm-"]
        #expect(try s.find(key, restore, scopes: scopes) == nil)
        try s.save("npm-0000", scope: main)
        #expect(try s.find(key, restore, scopes: scopes)?.reason == "restore key 'npm-' as a prefix in refs/heads/main")
        try s.save("npm-feature-0000", scope: main)
        #expect(try s.find(key, restore, scopes: scopes)?.entry.key == "npm-feature-0000")
        try s.save("npm-1111", scope: feature)
        // The current branch comes first, whatever rule matched there.
        #expect(try s.find(key, restore, scopes: scopes)?.reason == "restore key 'npm-' as a prefix in refs/heads/feature")
        try s.save("npm-feature-1111", scope: feature)
        #expect(try s.find(key, restore, scopes: scopes)?.reason == "restore key 'npm-feature-' as a prefix in refs/heads/feature")
        try s.save("npm-feature-d5ea0750-old", scope: feature)
        #expect(try s.find(key, restore, scopes: scopes)?.reason == "key 'npm-feature-d5ea0750' as a prefix in refs/heads/feature")
        #expect(try s.find(key, restore, scopes: scopes)?.exact == false)
        try s.save(key, scope: feature)
        let exact = try #require(try s.find(key, restore, scopes: scopes))
        #expect(exact.exact && exact.entry.key == key && exact.reason == "exact key 'npm-feature-d5ea0750' in refs/heads/feature")
        // A sibling branch sees neither feature's entries.
        #expect(try s.find(key, restore, scopes: ["refs/heads/other", main])?.entry.key == "npm-feature-0000")
        // Another path list is another version: nothing matches.
        #expect(try s.find(key, restore, scopes: scopes, paths: ["deps", "more"]) == nil)
        // Newest first among prefix matches.
        try s.save("npm-feature-2222", scope: main)
        #expect(try s.find("npm-feature-x", ["npm-feature-"], scopes: [main])?.entry.key == "npm-feature-2222")
        #expect(try s.store.explain(key: key, restoreKeys: restore, version: CacheStore.version(paths: ["deps"]), scopes: ["refs/heads/other", main]) == [
            "refs/heads/other: exact key 'npm-feature-d5ea0750': nothing",
            "refs/heads/other: key 'npm-feature-d5ea0750' as a prefix: nothing",
            "refs/heads/other: restore key 'npm-feature-' as a prefix: nothing",
            "refs/heads/other: restore key 'npm-' as a prefix: nothing",
            "refs/heads/main: exact key 'npm-feature-d5ea0750': nothing",
            "refs/heads/main: key 'npm-feature-d5ea0750' as a prefix: nothing",
            "refs/heads/main: restore key 'npm-feature-' as a prefix: matches 'npm-feature-2222'",
            "→ restores 'npm-feature-2222' from refs/heads/main",
        ])
        let stats = try s.store.stats()
        #expect(stats.hits == 9 && stats.misses == 2)
    }

    @Test func entriesAreImmutableAndRoundTripWithModesAndLinks() throws {
        let s = try Scratch()
        try s.write("deps/bin/tool", "#!/bin/sh\n", mode: 0o755)
        try s.write("deps/lib/a.txt", "same")
        try s.write("deps/lib/b.txt", "same")
        try FileManager.default.createSymbolicLink(atPath: s.workspace + "/deps/link", withDestinationPath: "lib/a.txt")
        guard case .saved(let entry, let written)? = try? s.save("k") else {
            Issue.record("expected a save")
            return
        }
        #expect(entry.fileCount == 3 && entry.size == 18)
        #expect(written == 14)  // "same" is stored once
        try s.write("deps/lib/a.txt", "changed")
        #expect(try s.save("k") == .exists)
        // Re-saving the same tree under a new key writes no blob bytes.
        try s.write("deps/lib/a.txt", "same")
        guard case .saved(_, let again)? = try? s.save("k2") else {
            Issue.record("expected a save")
            return
        }
        #expect(again == 0)
        try FileManager.default.removeItem(atPath: s.workspace + "/deps")
        let restored = try s.store.restore(entry) { s.workspace + "/" + $0 }
        #expect(restored == 3)
        #expect(try String(contentsOfFile: s.workspace + "/deps/lib/b.txt", encoding: .utf8) == "same")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: s.workspace + "/deps/link") == "lib/a.txt")
        #expect(try FileManager.default.attributesOfItem(atPath: s.workspace + "/deps/bin/tool")[.posixPermissions] as? Int == 0o755)
        // A restored file is a copy: changing it leaves the blob alone.
        try s.write("deps/lib/b.txt", "edited")
        #expect(try s.store.verify().corruptBlobs.isEmpty)
        let stats = try s.store.stats()
        #expect(stats.entries == 2 && stats.logicalBytes == 36 && stats.diskBytes == 14 && stats.blobs == 2)
    }

    @Test func evictionByAgeThenLeastRecentlyUsedAndGarbageCollection() throws {
        let s = try Scratch()
        for (key, text) in [("a", "aaaa"), ("b", "bbbb"), ("c", "cccc")] {
            try s.write("deps/\(key)", text)
            try s.save(key)
            try FileManager.default.removeItem(atPath: s.workspace + "/deps/\(key)")
        }
        // Touch a: b is now the least recently used.
        _ = try s.find("a")
        let now = CacheStore.now()
        #expect(try s.store.prune(maxBytes: nil, maxAge: 7 * 86400, now: now).entries.isEmpty)
        let report = try s.store.prune(maxBytes: 8, maxAge: nil, now: now)
        #expect(report.entries.map(\.key) == ["b"])
        #expect(report.blobs == 1 && report.bytes == 4)
        #expect(try s.store.list().map(\.key).sorted() == ["a", "c"])
        // Eight days later nothing was used for seven.
        #expect(try s.store.prune(maxBytes: nil, maxAge: 7 * 86400, now: now + 8 * 86400).entries.count == 2)
        let stats = try s.store.stats()
        let figures: [Int] = [stats.entries, Int(stats.logicalBytes), Int(stats.diskBytes), stats.blobs, stats.hits, stats.misses]
        #expect(figures == [0, 0, 0, 0, 1, 0])
    }

    @Test func verifyRemovesCorruptBlobsAndTheEntriesThatNeedThem() throws {
        let s = try Scratch()
        try s.write("deps/x", "x")
        try s.save("one")
        try s.write("deps/y", "y")
        try s.save("two")
        // The second save's pack holds only "y" (the store had "x"): one byte changed in place.
        let packs = try FileManager.default.contentsOfDirectory(atPath: s.root + "/packs").map { s.root + "/packs/" + $0 }
        #expect(packs.count == 2)
        let blob = try #require(packs.first { (try? String(contentsOfFile: $0, encoding: .utf8)) == "y" })
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: blob)
        try "z".write(toFile: blob, atomically: false, encoding: .utf8)
        let report = try s.store.verify()
        #expect(report.blobsChecked == 2 && report.corruptBlobs == [Self.sha256("y")] && report.brokenEntries.map(\.key) == ["two"])
        #expect(try s.store.list().map(\.key) == ["one"])
        let again = try s.store.verify()
        #expect(again.blobsChecked == 1 && again.corruptBlobs.isEmpty && again.brokenEntries.isEmpty)
    }

    /// One pack per save with the blobs the store lacked; removing entries deletes the packs nothing
    /// uses any more and rewrites a mostly dead one, and what is left still restores.
    @Test func packsHoldEachBlobOnceAndShrinkWhenTheirEntriesGo() throws {
        let s = try Scratch()
        try s.write("deps/shared", "s")
        try s.write("deps/big", String(repeating: "b", count: 1000))
        guard case .saved(_, let firstBytes) = try s.save("one") else { Issue.record("not saved"); return }
        #expect(firstBytes == 1001)
        try FileManager.default.removeItem(atPath: s.workspace + "/deps/big")
        try s.write("deps/other", "oo")
        guard case .saved(_, let secondBytes) = try s.save("two") else { Issue.record("not saved"); return }
        #expect(secondBytes == 2)
        try s.write("deps/third", "ttt")
        try s.save("three")
        func packSizes() throws -> [Int] {
            try FileManager.default.contentsOfDirectory(atPath: s.root + "/packs")
                .map { try FileManager.default.attributesOfItem(atPath: s.root + "/packs/" + $0)[.size] as! Int }.sorted()
        }
        #expect(try packSizes() == [2, 3, 1001])
        // "one" goes: its pack keeps only "s" (1 of 1001 bytes), so "s" moves to a pack of its own.
        #expect(try s.store.remove(key: "one").map(\.key) == ["one"])
        #expect(try packSizes() == [1, 2, 3])
        // "three" goes: only "ttt" was in its pack, which is deleted.
        _ = try s.store.remove(key: "three")
        #expect(try packSizes() == [1, 2])
        let stats = try s.store.stats()
        let figures: [Int] = [stats.entries, stats.blobs, Int(stats.diskBytes)]
        #expect(figures == [1, 2, 3])
        try FileManager.default.removeItem(atPath: s.workspace + "/deps")
        let entry = try #require(try s.find("two")).entry
        #expect(try s.store.restore(entry) { s.workspace + "/" + $0 } == 2)
        #expect(try String(contentsOfFile: s.workspace + "/deps/shared", encoding: .utf8) == "s")
        #expect(try String(contentsOfFile: s.workspace + "/deps/other", encoding: .utf8) == "oo")
        #expect(try s.store.verify().corruptBlobs.isEmpty)
    }

    /// A save whose only new content is an empty file (an empty `__init__.py`) gets an empty pack that
    /// its row names, and restores.
    @Test func anEmptyFileAloneIsStoredAndRestored() throws {
        let s = try Scratch()
        try s.write("deps/__init__.py", "")
        guard case .saved(_, let bytes) = try s.save("empty") else { Issue.record("not saved"); return }
        #expect(bytes == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root + "/packs").count == 1)
        try FileManager.default.removeItem(atPath: s.workspace + "/deps")
        let entry = try #require(try s.find("empty")).entry
        #expect(try s.store.restore(entry) { s.workspace + "/" + $0 } == 1)
        #expect(try String(contentsOfFile: s.workspace + "/deps/__init__.py", encoding: .utf8) == "")
        let report = try s.store.verify()
        #expect(report.blobsChecked == 1 && report.corruptBlobs.isEmpty && report.brokenEntries.isEmpty)
    }

    /// A store of the format before packs (one file per blob under objects/): its entries are dropped
    /// and objects/ removed when it is opened, a miss rather than a failure.
    @Test func aStoreOfTheLooseObjectFormatStartsEmpty() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let script = """
            import os, sqlite3, sys
            root = sys.argv[1]
            os.makedirs(root + "/objects/ab", exist_ok=True)
            open(root + "/objects/ab/cdef", "w").write("x")
            db = sqlite3.connect(root + "/index.sqlite")
            db.executescript(sys.argv[2])
            db.commit()
            """
        let schema = """
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('v1');
            CREATE TABLE entry (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, key TEXT NOT NULL,
              version TEXT NOT NULL, created REAL NOT NULL, last_access REAL NOT NULL, size INTEGER NOT NULL,
              files INTEGER NOT NULL, paths TEXT NOT NULL, manifest TEXT NOT NULL, UNIQUE (scope, key, version));
            CREATE INDEX entry_lookup ON entry (scope, version, created);
            CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO entry (scope, key, version, created, last_access, size, files, paths, manifest)
              VALUES ('refs/heads/main', 'old', 'v', 1, 1, 1, 1, '["deps"]',
              '[{"path":"deps/x","kind":"file","mode":420,"size":1,"digest":"abcdef"}]');
            """
        let made = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, url.path + "/store", schema])
        #expect(made.status == 0, "\(made.stderr)")
        let store = try CacheStore(root: url.path + "/store", grace: 0)
        #expect(try store.list().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: url.path + "/store/objects"))
        #expect(try store.stats().entries == 0)
    }

    @Test func concurrentSavesOfOneKeyLeaveOneEntry() throws {
        let s = try Scratch()
        for i in 0..<50 { try s.write("deps/f\(i)", String(repeating: "\(i)", count: 1000)) }
        let outcomes = ConcurrentResults()
        let (root, workspace) = (s.root, s.workspace)
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let store = try! CacheStore(root: root, grace: 0)
            let items = CacheStore.collect([workspace + "/deps"]) { String($0.dropFirst(workspace.count + 1)) }
            outcomes.append(try! store.save(scope: "refs/heads/main", key: "same", version: CacheStore.version(paths: ["deps"]), paths: ["deps"], items: items))
        }
        let saved = outcomes.values.filter { if case .saved = $0 { return true } else { return false } }
        #expect(saved.count == 1)
        #expect(outcomes.values.count == 6)
        #expect(try s.store.list().count == 1)
        #expect(try s.store.verify().corruptBlobs.isEmpty)
    }

    final class ConcurrentResults: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [SaveOutcome] = []
        func append(_ value: SaveOutcome) { lock.withLock { items.append(value) } }
        var values: [SaveOutcome] { lock.withLock { items } }
    }
}
