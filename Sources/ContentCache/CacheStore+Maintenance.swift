internal import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Listing, removal, eviction, stats and verify: what `gantry cache` shows and does to the store.
extension CacheStore {
    // MARK: Listing and removal

    public func list(keyPrefix: String? = nil, scope: String? = nil) throws(CacheError) -> [CacheEntry] {
        let (conditions, arguments) = Self.filter(key: nil, prefix: keyPrefix, scope: scope)
        return try read { db in
            try db.query("SELECT * FROM entry" + conditions + " ORDER BY created DESC, id DESC", bindings: arguments).map(Self.entry)
        }
    }

    /// Removes entries (by exact key, or every key with a prefix) and collects their blobs.
    public func remove(key: String? = nil, prefix: String? = nil, scope: String? = nil) throws(CacheError) -> [CacheEntry] {
        let (conditions, arguments) = Self.filter(key: key, prefix: prefix, scope: scope)
        let removed: [CacheEntry] = try write { db in
            let rows = try db.query("SELECT * FROM entry" + conditions, bindings: arguments).map(Self.entry)
            for entry in rows { try db.execute("DELETE FROM entry WHERE id = ?", entry.id) }
            return rows
        }
        if !removed.isEmpty { _ = try collectGarbage() }
        return removed
    }

    /// A `WHERE` clause for the filters given, and its arguments.
    static func filter(key: String?, prefix: String?, scope: String?) -> (String, [CacheValue]) {
        var conditions: [String] = []
        var arguments: [CacheValue] = []
        if let key {
            conditions.append("key = ?")
            arguments.append(.text(key))
        }
        if let prefix {
            conditions.append("substr(key, 1, length(?)) = ?")
            arguments += [.text(prefix), .text(prefix)]
        }
        if let scope {
            conditions.append("scope = ?")
            arguments.append(.text(scope))
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    /// What `prune` removed.
    public struct PruneReport: Sendable, Equatable {
        public var entries: [CacheEntry]
        public var blobs: Int
        public var bytes: Int64
    }

    /// Eviction: entries unused for `maxAge` seconds, then the least recently used until the logical
    /// size is at most `maxBytes`; then blobs no entry references.
    public func prune(maxBytes: Int64?, maxAge: Double?, now: Double = CacheStore.now()) throws(CacheError) -> PruneReport {
        let removed: [CacheEntry] = try write { db in
            var removed: [CacheEntry] = []
            if let maxAge {
                let old = try db.rows("SELECT * FROM entry WHERE last_access < ? ORDER BY last_access", now - maxAge).map(Self.entry)
                for entry in old { try db.execute("DELETE FROM entry WHERE id = ?", entry.id) }
                removed += old
            }
            if let maxBytes {
                var total = try db.row("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS total FROM entry")?.integer("total") ?? 0
                let lru = try db.rows("SELECT * FROM entry ORDER BY last_access, id").map(Self.entry)
                for entry in lru where total > maxBytes {
                    try db.execute("DELETE FROM entry WHERE id = ?", entry.id)
                    total -= entry.size
                    removed.append(entry)
                }
            }
            return removed
        }
        // Collection reads every manifest: only when there may be something to collect (this prune
        // removed entries, or a save was killed and left a temporary file or a pack no row names).
        guard !removed.isEmpty || leftovers() else { return PruneReport(entries: [], blobs: 0, bytes: 0) }
        let (blobs, bytes) = try collectGarbage()
        return PruneReport(entries: removed, blobs: blobs, bytes: bytes)
    }

    /// Whether a temporary file or a pack no blob row names is on disk.
    func leftovers() -> Bool {
        guard Self.directoryNames(root + "/tmp").isEmpty else { return true }
        let named = Set((try? read { db in try db.rows("SELECT DISTINCT pack FROM blob").map { $0.text("pack") } }) ?? [])
        return packFiles().contains { !named.contains($0.name) }
    }

    /// Forgets blobs no entry references; deletes packs no blob is in any more (at once when this
    /// collection emptied them, after the grace period when no row ever named them: a save may be about
    /// to commit its pack), rewrites packs that are mostly dead into a new one, and removes leftover
    /// temporary files older than the grace period. Inside a write transaction, so no save commits
    /// meanwhile; packs are deleted after it commits, when no reader can still be about to open them.
    func collectGarbage() throws(CacheError) -> (blobs: Int, bytes: Int64) {
        let (count, bytes, doomed): (Int, Int64, [String]) = try write { db in
            var referenced = Set<String>()
            for row in try db.rows("SELECT manifest FROM entry") {
                for item in try JSONDecoder().decode([CacheItem].self, from: Data(row.text("manifest").utf8)) {
                    if let digest = item.digest { referenced.insert(digest) }
                }
            }
            var count = 0
            var bytes: Int64 = 0
            var named = Set<String>()
            for row in try db.rows("SELECT digest, pack, size FROM blob") {
                named.insert(row.text("pack"))
                let digest = row.text("digest")
                guard !referenced.contains(digest) else { continue }
                try db.execute("DELETE FROM blob WHERE digest = ?", digest)
                count += 1
                bytes += row.integer("size")
            }
            var live: [String: Int64] = [:]
            for row in try db.rows("SELECT pack, CAST(SUM(size) AS BIGINT) AS bytes FROM blob GROUP BY pack") { live[row.text("pack")] = row.integer("bytes") }
            let cutoff = Self.now() - grace
            var doomed: [String] = []
            for pack in packFiles() {
                if let liveBytes = live[pack.name] {
                    // Mostly dead: its live blobs move to a new pack.
                    if liveBytes * 2 < Int64(pack.info.st_size) { doomed.append(try compact(db, pack.name, pack.path)) }
                } else if named.contains(pack.name) || Double(pack.info.st_mtim.tv_sec) <= cutoff {
                    doomed.append(pack.path)
                }
            }
            for name in Self.directoryNames(root + "/tmp") {
                var info = stat()
                let path = root + "/tmp/" + name
                if lstat(path, &info) == 0, Double(info.st_mtim.tv_sec) <= cutoff { unlink(path) }
            }
            return (count, bytes, doomed)
        }
        for path in doomed { unlink(path) }
        return (count, bytes)
    }

    /// Copies a pack's live blobs into a new pack and points their rows at it; returns the old pack's path.
    func compact(_ db: any CacheStatements, _ name: String, _ path: String) throws -> String {
        let rows = try db.rows(#"SELECT digest, "offset", size FROM blob WHERE pack = ? ORDER BY "offset""#, name)
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw CacheError("cannot read pack \(name): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let newName = String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".pack"
        let temporary = root + "/tmp/\(getpid())-" + newName
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard output >= 0 else { throw CacheError("cannot write '\(temporary)': \(String(cString: strerror(errno)))") }
        var offset: Int64 = 0
        var moved: [(String, Int64)] = []
        for row in rows {
            let size = row.integer("size")
            guard Self.copyRange(input, row.integer("offset"), to: output, offset, length: size) else {
                close(output)
                unlink(temporary)
                throw CacheError("cannot compact pack \(name): \(String(cString: strerror(errno)))")
            }
            moved.append((row.text("digest"), offset))
            offset += size
        }
        close(output)
        guard rename(temporary, packPath(newName)) == 0 else {
            unlink(temporary)
            throw CacheError("cannot store a pack: \(String(cString: strerror(errno)))")
        }
        for (digest, newOffset) in moved {
            try db.execute(#"UPDATE blob SET pack = ?, "offset" = ? WHERE digest = ?"#, newName, newOffset, digest)
        }
        return path
    }

    // MARK: Stats and verify

    public struct Stats: Sendable, Equatable {
        public var entries: Int
        public var logicalBytes: Int64
        public var diskBytes: Int64
        public var blobs: Int
        public var hits: Int
        public var misses: Int
    }

    public func stats() throws(CacheError) -> Stats {
        let (entries, logical, hits, misses): (Int, Int64, Int, Int) = try read { db in
            let row = try db.row("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM entry")
            let hits = try db.row("SELECT value FROM counter WHERE name = 'hit'")?.integer("value") ?? 0
            let misses = try db.row("SELECT value FROM counter WHERE name = 'miss'")?.integer("value") ?? 0
            return (Int(row?.integer("n") ?? 0), row?.integer("bytes") ?? 0, Int(hits), Int(misses))
        }
        let blobs: Int = try read { db in Int(try db.row("SELECT COUNT(*) AS n FROM blob")?.integer("n") ?? 0) }
        let disk = packFiles().reduce(Int64(0)) { $0 + Int64($1.info.st_size) }
        return Stats(entries: entries, logicalBytes: logical, diskBytes: disk, blobs: blobs, hits: hits, misses: misses)
    }

    public struct VerifyReport: Sendable, Equatable {
        public var blobsChecked: Int
        /// Blobs whose contents no longer match their name: forgotten.
        public var corruptBlobs: [String]
        /// Entries that referenced a corrupt or missing blob: removed (they could not be restored whole).
        public var brokenEntries: [CacheEntry]
    }

    /// Re-hashes every blob; forgets corrupt ones (their bytes go with the next collection) and removes
    /// the entries that need them.
    public func verify() throws(CacheError) -> VerifyReport {
        let rows: [(digest: String, location: BlobLocation)] = try read { db in
            try db.rows(#"SELECT digest, pack, "offset", size FROM blob ORDER BY pack, "offset""#).map {
                ($0.text("digest"), BlobLocation(pack: $0.text("pack"), offset: $0.integer("offset"), size: $0.integer("size")))
            }
        }
        var corrupt: [String] = []
        var fds: [String: Int32] = [:]
        defer { for fd in fds.values where fd >= 0 { close(fd) } }
        for (digest, location) in rows {
            if fds[location.pack] == nil { fds[location.pack] = open(packPath(location.pack), O_RDONLY | O_CLOEXEC) }
            let fd = fds[location.pack]!
            if fd < 0 || Self.digest(fd, offset: location.offset, size: location.size) != digest { corrupt.append(digest) }
        }
        let broken: [CacheEntry] = try write { db in
            for digest in corrupt { try db.execute("DELETE FROM blob WHERE digest = ?", digest) }
            let present = Set(try db.rows("SELECT digest FROM blob").map { $0.text("digest") })
            var broken: [CacheEntry] = []
            for row in try db.rows("SELECT * FROM entry") {
                let items = try JSONDecoder().decode([CacheItem].self, from: Data(row.text("manifest").utf8))
                if items.contains(where: { $0.digest.map { !present.contains($0) } ?? false }) {
                    let entry = Self.entry(row)
                    try db.execute("DELETE FROM entry WHERE id = ?", entry.id)
                    broken.append(entry)
                }
            }
            return broken
        }
        return VerifyReport(blobsChecked: rows.count, corruptBlobs: corrupt, brokenEntries: broken)
    }
}
