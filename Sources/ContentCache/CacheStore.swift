internal import CProcessSpawn
internal import Dispatch
internal import Foundation
internal import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// One saved cache entry: immutable once written.
public struct CacheEntry: Sendable, Equatable {
    public var id: Int64
    /// The ref the entry belongs to (`refs/heads/main`, `refs/pull/1/merge`).
    public var scope: String
    public var key: String
    /// actions/toolkit's version: a hash of the `path` input and the compression method.
    public var version: String
    /// Seconds since the epoch.
    public var created: Double
    public var lastAccess: Double
    /// Logical bytes (the files' sizes added up).
    public var size: Int64
    public var fileCount: Int
    /// The `path` input it was saved with.
    public var paths: [String]
}

/// One file, folder or symbolic link of an entry.
public struct CacheItem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case file, directory, symlink }
    /// Where it was: relative to the job's workspace, or absolute when it was outside it.
    public var path: String
    public var kind: Kind
    public var mode: UInt32
    public var size: Int64
    /// SHA-256 of a file's contents (hex), the blob's name.
    public var digest: String?
    /// A symbolic link's target.
    public var target: String?
}

/// What a save did.
public enum SaveOutcome: Sendable, Equatable {
    case saved(CacheEntry, newBlobBytes: Int64)
    /// An entry with this scope, key and version exists (another job saved it first); it is never
    /// overwritten.
    case exists
}

/// How a lookup matched.
public struct CacheMatch: Sendable, Equatable {
    public var entry: CacheEntry
    /// True only for the exact primary key in some scope (`cache-hit`).
    public var exact: Bool
    /// The rule that matched, in words.
    public var reason: String
}

public struct CacheError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The content-addressed store: blobs under `objects/` named by their SHA-256, entries (immutable
/// manifests) in an SQLite index. A save writes every blob (temporary file, then rename) before it
/// commits the entry's row, so a crash at any moment leaves no visible half entry; a blob no entry
/// references is collected later.
public final class CacheStore: Sendable {
    public let root: String
    let database: DatabaseQueue
    /// Unreferenced blobs and temporary files younger than this are left alone by collection (a save
    /// may be about to reference them).
    let grace: Double

    public init(root: String, grace: Double = 600) throws(CacheError) {
        self.root = root
        self.grace = grace
        for folder in [root, root + "/objects", root + "/tmp"] { Self.makeDirectory(folder) }
        // The 256 blob folders exist from the start: a save makes no folder per blob.
        if access(root + "/objects/ff", F_OK) != 0 {
            let digits = Array("0123456789abcdef")
            for a in digits { for b in digits { mkdir(root + "/objects/" + String(a) + String(b), 0o755) } }
        }
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(60)
            database = try DatabaseQueue(path: root + "/index.sqlite", configuration: configuration)
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
            try migrator.migrate(database)
        } catch {
            throw CacheError("cannot open the cache index \(root)/index.sqlite: \(error)")
        }
    }

    /// actions/toolkit's `getCacheVersion`: SHA-256 of the `path` lines, the compression method and
    /// the salt `1.0`, joined by `|`. Gantry answers as a Linux runner with zstd does (the toolkit
    /// reports `zstd-without-long` whenever zstd is installed).
    public static func version(paths: [String], compression: String = "zstd-without-long") -> String {
        ContentDigest.sha256((paths + [compression, "1.0"]).joined(separator: "|"))
    }

    /// Seconds since the epoch.
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    // MARK: Lookup

    /// actions/cache's order, scope by scope: the exact key, then the key as a prefix, then each
    /// restore key as a prefix (newest entry first). The entry found is marked as used now.
    public func find(key: String, restoreKeys: [String], version: String, scopes: [String]) throws(CacheError) -> CacheMatch? {
        let match = try read { db in try Self.match(db, key: key, restoreKeys: restoreKeys, version: version, scopes: scopes) }
        try write { db in
            if let match {
                try db.execute(sql: "UPDATE entry SET last_access = ? WHERE id = ?", arguments: [Self.now(), match.entry.id])
            }
            try db.execute(
                sql: "INSERT INTO counter (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = value + 1",
                arguments: [match == nil ? "miss" : "hit"])
        }
        return match
    }

    /// Every rule tried for a lookup, in order, with what it found: for `gantry cache show --explain`.
    public func explain(key: String, restoreKeys: [String], version: String, scopes: [String]) throws(CacheError) -> [String] {
        try read { db in
            var lines: [String] = []
            for scope in scopes {
                for (rule, candidate, exact) in Self.rules(key: key, restoreKeys: restoreKeys) {
                    let found = try Self.entry(db, scope: scope, candidate: candidate, exact: exact, version: version)
                    lines.append("\(scope): \(rule): " + (found.map { "matches '\($0.key)'" } ?? "nothing"))
                    if found != nil { return lines + ["→ restores '\(found!.key)' from \(scope)" + (exact && candidate == key ? " (cache-hit: true)" : "")] }
                }
            }
            return lines + ["→ a miss"]
        }
    }

    static func rules(key: String, restoreKeys: [String]) -> [(String, String, Bool)] {
        [("exact key '\(key)'", key, true), ("key '\(key)' as a prefix", key, false)]
            + restoreKeys.map { ("restore key '\($0)' as a prefix", $0, false) }
    }

    static func match(_ db: Database, key: String, restoreKeys: [String], version: String, scopes: [String]) throws -> CacheMatch? {
        for scope in scopes {
            for (rule, candidate, exact) in rules(key: key, restoreKeys: restoreKeys) {
                if let entry = try entry(db, scope: scope, candidate: candidate, exact: exact, version: version) {
                    return CacheMatch(entry: entry, exact: exact && candidate == key, reason: "\(rule) in \(scope)")
                }
            }
        }
        return nil
    }

    static func entry(_ db: Database, scope: String, candidate: String, exact: Bool, version: String) throws -> CacheEntry? {
        let sql = exact
            ? "SELECT * FROM entry WHERE scope = ? AND version = ? AND key = ?"
            : "SELECT * FROM entry WHERE scope = ? AND version = ? AND substr(key, 1, length(?3)) = ?3 ORDER BY created DESC, id DESC LIMIT 1"
        return try Row.fetchOne(db, sql: sql, arguments: [scope, version, candidate]).map(Self.entry)
    }

    static func entry(_ row: Row) -> CacheEntry {
        let paths = (try? JSONDecoder().decode([String].self, from: Data((row["paths"] as String).utf8))) ?? []
        return CacheEntry(
            id: row["id"], scope: row["scope"], key: row["key"], version: row["version"], created: row["created"],
            lastAccess: row["last_access"], size: row["size"], fileCount: row["files"], paths: paths)
    }

    /// An entry's files, folders and links.
    public func items(of entry: CacheEntry) throws(CacheError) -> [CacheItem] {
        try read { db in
            let text: String = try String.fetchOne(db, sql: "SELECT manifest FROM entry WHERE id = ?", arguments: [entry.id]) ?? "[]"
            return try JSONDecoder().decode([CacheItem].self, from: Data(text.utf8))
        }
    }

    // MARK: Save

    /// Walks each path (a file, a folder with everything below it, or a link, never followed) into
    /// items named by `name(absolutePath)`.
    public static func collect(_ absolutePaths: [String], name: (String) -> String) -> [(source: String, item: CacheItem)] {
        var out: [(String, CacheItem)] = []
        var seen = Set<String>()
        func visit(_ path: String) {
            guard seen.insert(path).inserted else { return }
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            let mode = UInt32(info.st_mode & 0o7777)
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                out.append((path, CacheItem(path: name(path), kind: .directory, mode: mode, size: 0)))
                for child in directoryNames(path) { visit(path == "/" ? "/" + child : path + "/" + child) }
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(path, &buffer, buffer.count - 1)
                guard n >= 0 else { return }
                out.append((path, CacheItem(path: name(path), kind: .symlink, mode: mode, size: 0, target: String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))))
            case S_IFREG:
                out.append((path, CacheItem(path: name(path), kind: .file, mode: mode, size: Int64(info.st_size))))
            default: return
            }
        }
        for path in absolutePaths { visit(path) }
        return out
    }

    /// Stores the items (blobs first, each written once across all entries) and commits the entry.
    public func save(scope: String, key: String, version: String, paths: [String], items: [(source: String, item: CacheItem)]) throws(CacheError) -> SaveOutcome {
        // Characters as JavaScript counts them (UTF-16 units).
        guard key.utf16.count <= 512 else { throw CacheError("the key is longer than 512 characters") }
        if try read({ db in try Self.entry(db, scope: scope, candidate: key, exact: true, version: version) }) != nil { return .exists }
        // Files are hashed and stored on every core; each blob is written once, by the first save
        // that needs it.
        let fileIndexes = items.indices.filter { items[$0].item.kind == .file }
        let results = BlobResults(count: items.count)
        DispatchQueue.concurrentPerform(iterations: min(fileIndexes.count, ProcessInfo.processInfo.activeProcessorCount * 2)) { worker in
            var i = worker
            let stride = min(fileIndexes.count, ProcessInfo.processInfo.activeProcessorCount * 2)
            while i < fileIndexes.count {
                let index = fileIndexes[i]
                do throws(CacheError) {
                    let (digest, written) = try self.storeFile(items[index].source)
                    results.set(index, digest: digest, written: written)
                } catch {
                    results.fail(error)
                }
                i += stride
            }
        }
        if let error = results.error { throw error }
        var stored: [CacheItem] = []
        var newBytes: Int64 = 0
        var size: Int64 = 0
        var files = 0
        for (index, (_, item)) in items.enumerated() {
            var item = item
            if item.kind == .file {
                item.digest = results.digests[index]
                newBytes += results.written[index]
                size += item.size
                files += 1
            }
            stored.append(item)
        }
        let manifest: String
        let pathsText: String
        do {
            manifest = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
            pathsText = String(decoding: try JSONEncoder().encode(paths), as: UTF8.self)
        } catch {
            throw CacheError("cannot encode the manifest: \(error)")
        }
        let now = Self.now()
        do {
            let id: Int64? = try database.write { db in
                // A collection may have removed a blob this entry shares since it was checked: the
                // sources are still here, so they are written again before the row commits.
                for (index, item) in stored.enumerated() where item.kind == .file {
                    if access(blobPath(item.digest!), F_OK) != 0 { _ = try storeBlob(items[index].source, digest: item.digest!) }
                }
                try db.execute(
                    sql: """
                        INSERT INTO entry (scope, key, version, created, last_access, size, files, paths, manifest)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key, version) DO NOTHING
                        """,
                    arguments: [scope, key, version, now, now, size, files, pathsText, manifest])
                return db.changesCount == 1 ? db.lastInsertedRowID : nil
            }
            guard let id else { return .exists }
            return .saved(
                CacheEntry(id: id, scope: scope, key: key, version: version, created: now, lastAccess: now, size: size, fileCount: files, paths: paths),
                newBlobBytes: newBytes)
        } catch let error as CacheError {
            throw error
        } catch {
            throw CacheError("cannot commit the entry: \(error)")
        }
    }

    func blobPath(_ digest: String) -> String {
        root + "/objects/" + digest.prefix(2) + "/" + digest.dropFirst(2)
    }

    /// Hashes a file and writes its blob unless it is there: the digest and the bytes written.
    func storeFile(_ source: String) throws(CacheError) -> (String, Int64) {
        var before = stat()
        guard stat(source, &before) == 0, let raw = ContentDigest.sha256(file: source) else {
            throw CacheError("cannot read '\(source)': \(String(cString: strerror(errno)))")
        }
        let digest = ContentDigest.hex(raw)
        return (digest, try storeBlob(source, digest: digest, expected: before))
    }

    /// Writes a blob unless it is there; returns the bytes written. `expected` is the source's stat when
    /// it was hashed: a source changed since (size, mtime, inode) would be stored under a wrong name.
    @discardableResult
    func storeBlob(_ source: String, digest: String, expected: stat? = nil) throws(CacheError) -> Int64 {
        let target = blobPath(digest)
        if access(target, F_OK) == 0 { return 0 }
        let temporary = root + "/tmp/\(getpid())-\(digest.prefix(16))-\(UInt64.random(in: 0...UInt64.max))"
        let written = try FileCopy.copy(source, to: temporary, mode: 0o444)
        var after = stat()
        if let expected {
            guard stat(source, &after) == 0, after.st_size == expected.st_size, after.st_ino == expected.st_ino,
                after.st_mtim.tv_sec == expected.st_mtim.tv_sec, after.st_mtim.tv_nsec == expected.st_mtim.tv_nsec
            else {
                unlink(temporary)
                throw CacheError("'\(source)' changed while it was being saved")
            }
        } else if ContentDigest.sha256(file: temporary).map(ContentDigest.hex) != digest {
            unlink(temporary)
            throw CacheError("'\(source)' changed while it was being saved")
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CacheError("cannot store a blob: \(reason)")
        }
        return written
    }

    // MARK: Restore

    /// Writes an entry's items back: folders made, files copied from their blobs (copy_file_range,
    /// which shares extents where the file system can; never hard links), links recreated. `place`
    /// turns a stored path into the absolute path to write. Returns the number of files written.
    public func restore(_ entry: CacheEntry, place: (String) -> String) throws(CacheError) -> Int {
        let items = try items(of: entry)
        let targets = items.map { place($0.path) }
        // Folders first (the manifest lists a folder before what it holds), then links; files on every
        // core.
        var made = Set<String>()
        func parent(_ path: String) {
            guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
            let folder = String(path[..<slash])
            if made.insert(folder).inserted, access(folder, F_OK) != 0 { Self.makeDirectory(folder) }
        }
        for (item, target) in zip(items, targets) {
            switch item.kind {
            case .directory:
                // A link standing where a folder goes is replaced, not followed (as tar does). Folders
                // stay writable until their files are in; their modes are set last.
                var info = stat()
                if lstat(target, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR { unlink(target) }
                if mkdir(target, 0o755) != 0 && errno == ENOENT { Self.makeDirectory(target) }
                chmod(target, mode_t(item.mode | 0o700))
                made.insert(target)
            case .symlink:
                parent(target)
                removeExisting(target)
                guard symlink(item.target ?? "", target) == 0 else { throw CacheError("cannot create link '\(target)': \(String(cString: strerror(errno)))") }
            case .file:
                parent(target)
            }
        }
        let files = items.indices.filter { items[$0].kind == .file && items[$0].digest != nil }
        let results = BlobResults(count: 0)
        let workers = min(files.count, ProcessInfo.processInfo.activeProcessorCount * 2)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var i = worker
            while i < files.count {
                let item = items[files[i]]
                let target = targets[files[i]]
                self.removeExisting(target)
                do throws(CacheError) {
                    _ = try FileCopy.copy(self.blobPath(item.digest!), to: target, mode: item.mode)
                } catch {
                    results.fail(error)
                }
                i += workers
            }
        }
        if let error = results.error { throw error }
        // Folder modes last, deepest first (a read-only folder would have refused its files).
        for (item, target) in zip(items, targets).reversed() where item.kind == .directory {
            chmod(target, mode_t(item.mode))
        }
        return files.count
    }

    /// Removes what stands at `path` (a file, a link, or a folder with its contents) without following links.
    func removeExisting(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in Self.directoryNames(path) { removeExisting(path + "/" + name) }
            chmod(path, 0o700)
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    // MARK: Listing and removal

    public func list(keyPrefix: String? = nil, scope: String? = nil) throws(CacheError) -> [CacheEntry] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM entry WHERE (?1 IS NULL OR substr(key, 1, length(?1)) = ?1) AND (?2 IS NULL OR scope = ?2)
                    ORDER BY created DESC, id DESC
                    """,
                arguments: [keyPrefix, scope]
            ).map(Self.entry)
        }
    }

    /// Removes entries (by exact key, or every key with a prefix) and collects their blobs.
    public func remove(key: String? = nil, prefix: String? = nil, scope: String? = nil) throws(CacheError) -> [CacheEntry] {
        let removed: [CacheEntry] = try write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM entry WHERE (?1 IS NULL OR key = ?1) AND (?2 IS NULL OR substr(key, 1, length(?2)) = ?2)
                    AND (?3 IS NULL OR scope = ?3)
                    """,
                arguments: [key, prefix, scope]
            ).map(Self.entry)
            for entry in rows { try db.execute(sql: "DELETE FROM entry WHERE id = ?", arguments: [entry.id]) }
            return rows
        }
        if !removed.isEmpty { _ = try collectGarbage() }
        return removed
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
                let old = try Row.fetchAll(db, sql: "SELECT * FROM entry WHERE last_access < ? ORDER BY last_access", arguments: [now - maxAge]).map(Self.entry)
                for entry in old { try db.execute(sql: "DELETE FROM entry WHERE id = ?", arguments: [entry.id]) }
                removed += old
            }
            if let maxBytes {
                var total: Int64 = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM entry") ?? 0
                let lru = try Row.fetchAll(db, sql: "SELECT * FROM entry ORDER BY last_access, id").map(Self.entry)
                for entry in lru where total > maxBytes {
                    try db.execute(sql: "DELETE FROM entry WHERE id = ?", arguments: [entry.id])
                    total -= entry.size
                    removed.append(entry)
                }
            }
            return removed
        }
        let (blobs, bytes) = try collectGarbage()
        return PruneReport(entries: removed, blobs: blobs, bytes: bytes)
    }

    /// Deletes blobs no entry references and leftover temporary files, both older than the grace
    /// period; inside a write transaction, so no save commits meanwhile.
    func collectGarbage() throws(CacheError) -> (blobs: Int, bytes: Int64) {
        try write { db in
            var referenced = Set<String>()
            for text in try String.fetchAll(db, sql: "SELECT manifest FROM entry") {
                for item in try JSONDecoder().decode([CacheItem].self, from: Data(text.utf8)) {
                    if let digest = item.digest { referenced.insert(digest) }
                }
            }
            let cutoff = Self.now() - grace
            var count = 0
            var bytes: Int64 = 0
            for (digest, path, info) in blobs() where !referenced.contains(digest) && Double(info.st_mtim.tv_sec) <= cutoff {
                if unlink(path) == 0 {
                    count += 1
                    bytes += Int64(info.st_size)
                }
            }
            for name in Self.directoryNames(root + "/tmp") {
                var info = stat()
                let path = root + "/tmp/" + name
                if lstat(path, &info) == 0, Double(info.st_mtim.tv_sec) <= cutoff { unlink(path) }
            }
            return (count, bytes)
        }
    }

    /// Every blob: its digest, path and stat.
    func blobs() -> [(String, String, stat)] {
        var out: [(String, String, stat)] = []
        for prefix in Self.directoryNames(root + "/objects") where prefix.utf8.count == 2 {
            for rest in Self.directoryNames(root + "/objects/" + prefix) {
                let path = root + "/objects/" + prefix + "/" + rest
                var info = stat()
                if lstat(path, &info) == 0 { out.append((prefix + rest, path, info)) }
            }
        }
        return out
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
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM entry")!
            let hits = try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'hit'") ?? 0
            let misses = try Int.fetchOne(db, sql: "SELECT value FROM counter WHERE name = 'miss'") ?? 0
            return (row["n"], row["bytes"], hits, misses)
        }
        let blobs = blobs()
        return Stats(entries: entries, logicalBytes: logical, diskBytes: blobs.reduce(0) { $0 + Int64($1.2.st_size) }, blobs: blobs.count, hits: hits, misses: misses)
    }

    public struct VerifyReport: Sendable, Equatable {
        public var blobsChecked: Int
        /// Blobs whose contents no longer match their name: removed.
        public var corruptBlobs: [String]
        /// Entries that referenced a corrupt or missing blob: removed (they could not be restored whole).
        public var brokenEntries: [CacheEntry]
    }

    /// Re-hashes every blob; removes corrupt blobs and the entries that need them.
    public func verify() throws(CacheError) -> VerifyReport {
        var corrupt: [String] = []
        let all = blobs()
        for (digest, path, _) in all {
            if ContentDigest.sha256(file: path).map(ContentDigest.hex) != digest {
                unlink(path)
                corrupt.append(digest)
            }
        }
        let broken: [CacheEntry] = try write { db in
            var broken: [CacheEntry] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM entry") {
                let items = try JSONDecoder().decode([CacheItem].self, from: Data((row["manifest"] as String).utf8))
                if items.contains(where: { $0.digest.map { access(blobPath($0), F_OK) != 0 } ?? false }) {
                    let entry = Self.entry(row)
                    try db.execute(sql: "DELETE FROM entry WHERE id = ?", arguments: [entry.id])
                    broken.append(entry)
                }
            }
            return broken
        }
        return VerifyReport(blobsChecked: all.count, corruptBlobs: corrupt, brokenEntries: broken)
    }

    // MARK: Helpers

    func read<T>(_ body: (Database) throws -> T) throws(CacheError) -> T {
        do {
            return try database.read(body)
        } catch let error as CacheError {
            throw error
        } catch {
            throw CacheError("cache index: \(error)")
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(CacheError) -> T {
        do {
            return try database.write(body)
        } catch let error as CacheError {
            throw error
        } catch {
            throw CacheError("cache index: \(error)")
        }
    }

    static func makeDirectory(_ path: String) {
        var partial = ""
        for part in path.split(separator: "/") {
            partial += "/" + part
            mkdir(partial, 0o755)
        }
    }

    static func makeParent(_ path: String) {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { makeDirectory(String(path[..<slash])) }
    }

    static func directoryNames(_ path: String) -> [String] {
        FileCopy.directoryNames(path)
    }

}

/// Results of the workers of a save or a restore.
final class BlobResults: @unchecked Sendable {
    private let lock = NSLock()
    var digests: [String?]
    var written: [Int64]
    private(set) var error: CacheError?

    init(count: Int) {
        digests = Array(repeating: nil, count: count)
        written = Array(repeating: 0, count: count)
    }

    func set(_ index: Int, digest: String, written bytes: Int64) {
        lock.withLock {
            digests[index] = digest
            written[index] = bytes
        }
    }

    func fail(_ error: CacheError) {
        lock.withLock { if self.error == nil { self.error = error } }
    }
}

/// File copies and folder listings for the store and for the executor's built-in actions.
public enum FileCopy {
    /// The names in a folder (without `.` and `..`), in byte order.
    public static func directoryNames(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Copies a file's bytes with copy_file_range (the kernel copies, or shares extents where the file
    /// system can; plain reads and writes where it is refused), never following a link at the target.
    public static func copy(_ source: String, to target: String, mode: UInt32) throws(CacheError) -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw CacheError("cannot read '\(source)': \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var info = stat()
        fstat(input, &info)
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard output >= 0 else { throw CacheError("cannot write '\(target)': \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var remaining = Int(info.st_size)
        while remaining > 0 {
            let n = gantry_copy_file_range(input, output, UInt(remaining))
            if n <= 0 { break }
            remaining -= n
        }
        if remaining > 0 {
            lseek(input, 0, SEEK_SET)
            ftruncate(output, 0)
            lseek(output, 0, SEEK_SET)
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if n < 0 { throw CacheError("cannot read '\(source)': \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                guard chunk.withUnsafeBytes({ Glibc.write(output, $0.baseAddress, n) }) == n else {
                    throw CacheError("cannot write '\(target)': \(String(cString: strerror(errno)))")
                }
            }
        }
        fchmod(output, mode_t(mode))
        return Int64(info.st_size)
    }
}
