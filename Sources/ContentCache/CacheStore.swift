internal import CProcessSpawn
internal import Dispatch
internal import Foundation

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

/// The content-addressed store: file contents stored once, by SHA-256, as ranges of pack files under
/// `packs/` (one pack per save, holding the blobs the store lacked); entries (immutable manifests) and
/// where each blob is in an index (`CacheIndex`: SQLite beside the packs, or a cluster's PostgreSQL). A save writes its pack (temporary file, then rename) before it
/// commits the blob rows and the entry's row in one transaction, so a crash at any moment leaves no
/// visible half entry; a pack no row names is collected later.
public final class CacheStore: Sendable {
    public let root: String
    let index: any CacheIndex
    /// Unreferenced blobs and temporary files younger than this are left alone by collection (a save
    /// may be about to reference them).
    let grace: Double

    /// A store in `root`, its index `root/index.sqlite` unless another is given (a cluster's, in PostgreSQL).
    public init(root: String, grace: Double = 600, index: (any CacheIndex)? = nil) throws(CacheError) {
        self.root = root
        self.grace = grace
        for folder in [root, root + "/packs", root + "/tmp"] { Self.makeDirectory(folder) }
        if let index { self.index = index } else { self.index = try SQLiteCacheIndex(path: root + "/index.sqlite") }
        if access(root + "/objects", F_OK) == 0 { removeExisting(root + "/objects") }
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
                try db.execute("UPDATE entry SET last_access = ? WHERE id = ?", Self.now(), match.entry.id)
            }
            try db.execute(
                "INSERT INTO counter (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value = counter.value + 1",
                match == nil ? "miss" : "hit")
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

    static func match(_ db: any CacheStatements, key: String, restoreKeys: [String], version: String, scopes: [String]) throws -> CacheMatch? {
        for scope in scopes {
            for (rule, candidate, exact) in rules(key: key, restoreKeys: restoreKeys) {
                if let entry = try entry(db, scope: scope, candidate: candidate, exact: exact, version: version) {
                    return CacheMatch(entry: entry, exact: exact && candidate == key, reason: "\(rule) in \(scope)")
                }
            }
        }
        return nil
    }

    static func entry(_ db: any CacheStatements, scope: String, candidate: String, exact: Bool, version: String) throws -> CacheEntry? {
        let row = exact
            ? try db.row("SELECT * FROM entry WHERE scope = ? AND version = ? AND key = ?", scope, version, candidate)
            : try db.row(
                "SELECT * FROM entry WHERE scope = ? AND version = ? AND substr(key, 1, length(?)) = ? ORDER BY created DESC, id DESC LIMIT 1",
                scope, version, candidate, candidate)
        return row.map(Self.entry)
    }

    static func entry(_ row: CacheRow) -> CacheEntry {
        let paths = (try? JSONDecoder().decode([String].self, from: Data(row.text("paths").utf8))) ?? []
        return CacheEntry(
            id: row.integer("id"), scope: row.text("scope"), key: row.text("key"), version: row.text("version"), created: row.real("created"),
            lastAccess: row.real("last_access"), size: row.integer("size"), fileCount: Int(row.integer("files")), paths: paths)
    }

    /// An entry's files, folders and links.
    public func items(of entry: CacheEntry) throws(CacheError) -> [CacheItem] {
        try read { db in
            let text = try db.row("SELECT manifest FROM entry WHERE id = ?", entry.id)?.text("manifest") ?? "[]"
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
        // Files are hashed on every core, in batches of files next to each other: one index read
        // tells which of a batch's blobs the store lacks, and those go into this save's pack at once,
        // from the descriptor they were hashed through, while they are still in the page cache.
        let fileIndexes = items.indices.filter { items[$0].item.kind == .file }
        let hashed = BlobResults(count: items.count)
        let writer = try PackWriter(self)
        let batch = 32
        let batches = (fileIndexes.count + batch - 1) / batch
        let workers = min(batches, ProcessInfo.processInfo.activeProcessorCount * 2)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var open: [(index: Int, fd: Int32, info: stat, digest: String)] = []
            for first in stride(from: worker * batch, to: fileIndexes.count, by: workers * batch) {
                for index in fileIndexes[first..<min(first + batch, fileIndexes.count)] {
                    let source = items[index].source
                    let fd = Glibc.open(source, O_RDONLY | O_CLOEXEC)
                    var info = stat()
                    guard fd >= 0, fstat(fd, &info) == 0, let raw = ContentDigest.sha256(fd: fd) else {
                        hashed.fail(CacheError("cannot read '\(source)': \(String(cString: strerror(errno)))"))
                        if fd >= 0 { close(fd) }
                        continue
                    }
                    let digest = ContentDigest.hex(raw)
                    hashed.set(index, digest: digest, stat: info)
                    open.append((index, fd, info, digest))
                }
                do throws(CacheError) {
                    let stored = try self.read { db in try open.map { try Self.location(db, $0.digest) != nil } }
                    for (file, known) in zip(open, stored) where !known {
                        guard let placement = writer.claim(file.digest, source: items[file.index].source, hashed: file.info) else { continue }
                        try writer.write(placement, from: file.fd)
                    }
                } catch {
                    hashed.fail(error)
                }
                for file in open { close(file.fd) }
                open.removeAll(keepingCapacity: true)
            }
        }
        if let error = hashed.error {
            writer.discard()
            throw error
        }
        let digests = hashed.digests
        var packs: [String] = []
        if try writer.finish() { packs.append(writer.name) }
        let placements = writer.placements
        var newBytes = writer.size
        var stored: [CacheItem] = []
        var size: Int64 = 0
        var files = 0
        for (index, (_, item)) in items.enumerated() {
            var item = item
            if item.kind == .file {
                item.digest = digests[index]
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
            let id: Int64? = try index.write { db in
                if try Self.entry(db, scope: scope, candidate: key, exact: true, version: version) != nil { return nil }
                if let pack = packs.first { try Self.insert(db, placements, pack: pack) }
                // A collection may have removed a blob this entry shares since it was looked up: the
                // sources are still here, so those go into a pack of their own before the row commits.
                var seen = Set(placements.map(\.digest))
                var again: PackWriter?
                for index in fileIndexes where seen.insert(digests[index]!).inserted {
                    guard try Self.location(db, digests[index]!) == nil else { continue }
                    let writer = try again ?? PackWriter(self)
                    again = writer
                    if let placement = writer.claim(digests[index]!, source: items[index].source, hashed: hashed.stats[index]) {
                        do { try writer.write(placement) } catch { writer.discard(); throw error }
                    }
                }
                if let again, try again.finish() {
                    packs.append(again.name)
                    newBytes += again.size
                    try Self.insert(db, again.placements, pack: again.name)
                }
                let inserted = try db.row(
                    """
                    INSERT INTO entry (scope, key, version, created, last_access, size, files, paths, manifest)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    scope, key, version, now, now, size, files, pathsText, manifest)
                return inserted?.integer("id")
            }
            guard let id else {
                // Another save of this key committed first: this one's pack is nobody's.
                for pack in packs { unlink(packPath(pack)) }
                return .exists
            }
            return .saved(
                CacheEntry(id: id, scope: scope, key: key, version: version, created: now, lastAccess: now, size: size, fileCount: files, paths: paths),
                newBlobBytes: newBytes)
        } catch let error as CacheError {
            throw error
        } catch {
            throw CacheError("cannot commit the entry: \(error)")
        }
    }

    // MARK: Restore

    /// Writes an entry's items back: folders made, files copied from their packs (copy_file_range,
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
        // The packs are opened while the index is read: a collection that moves blobs waits for this
        // read to end before it deletes a pack, and an open pack stays readable.
        let (locations, packs): ([String: BlobLocation], [String: Int32]) = try read { db in
            var locations: [String: BlobLocation] = [:]
            var packs: [String: Int32] = [:]
            for index in files {
                let digest = items[index].digest!
                guard locations[digest] == nil else { continue }
                guard let location = try Self.location(db, digest) else {
                    throw CacheError("entry '\(entry.key)' needs a blob the store lost (\(digest.prefix(12))); `gantry cache verify` removes such entries")
                }
                locations[digest] = location
                if packs[location.pack] == nil {
                    let fd = open(packPath(location.pack), O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { throw CacheError("cannot read pack \(location.pack): \(String(cString: strerror(errno)))") }
                    packs[location.pack] = fd
                }
            }
            return (locations, packs)
        }
        defer { for fd in packs.values { close(fd) } }
        let results = BlobResults(count: 0)
        let workers = min(files.count, ProcessInfo.processInfo.activeProcessorCount * 2)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var i = worker
            while i < files.count {
                let item = items[files[i]]
                let target = targets[files[i]]
                i += workers
                self.removeExisting(target)
                let location = locations[item.digest!]!
                let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(item.mode))
                guard output >= 0 else {
                    results.fail(CacheError("cannot write '\(target)': \(String(cString: strerror(errno)))"))
                    continue
                }
                if !Self.copyRange(packs[location.pack]!, location.offset, to: output, 0, length: location.size) {
                    results.fail(CacheError("cannot restore '\(target)': \(String(cString: strerror(errno)))"))
                }
                fchmod(output, mode_t(item.mode))
                close(output)
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

    // MARK: Helpers

    func read<T>(_ body: (any CacheStatements) throws -> T) throws(CacheError) -> T {
        do {
            return try index.read(body)
        } catch let error as CacheError {
            throw error
        } catch {
            throw CacheError("cache index: \(error)")
        }
    }

    func write<T>(_ body: (any CacheStatements) throws -> T) throws(CacheError) -> T {
        do {
            return try index.write(body)
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
