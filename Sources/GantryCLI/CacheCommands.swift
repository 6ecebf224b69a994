import ArgumentParser
import ContentCache
import WorkflowExecution
import GitSupport
import RunStorePostgres

#if canImport(Glibc)
import Glibc
#endif

extension GantryCommand {
    /// `gantry cache`: inspect and manage the content cache that actions/cache uses.
    struct Cache: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cache",
            abstract: "Inspect and manage the content cache (actions/cache).",
            discussion: """
                The cache root is $GANTRY_CACHE_DIR, else the repository's cache/ folder when it holds \
                .gantry-cache-root, else $XDG_CACHE_HOME/gantry, else ~/.cache/gantry. --cache-dir names \
                another. A cluster of `gantry serve` nodes keeps its cache's index in PostgreSQL: give \
                --cache-dir <shared-dir>/cache and --store (or --store-file) with the nodes' database.
                """,
            subcommands: [List.self, Show.self, Remove.self, Prune.self, Stats.self, Verify.self]
        )
    }
}

/// Where the cache is, shared by the `cache` subcommands.
struct CacheLocation: ParsableArguments {
    @Option(help: ArgumentHelp("The cache root to use.", valueName: "dir"))
    var cacheDir: String?

    @Option(name: [.customShort("C"), .customLong("directory")], help: ArgumentHelp("The repository to work in.", valueName: "dir"))
    var directory: String?

    @Option(help: ArgumentHelp(
        "The PostgreSQL database holding the index of a cluster's cache (the URL `gantry serve --store` was given).",
        valueName: "postgres-url"))
    var store: String?

    @Option(help: ArgumentHelp("A file holding the --store URL (a mounted secret).", valueName: "file"))
    var storeFile: String?

    var root: String {
        if let cacheDir { return cacheDir }
        let environment = GantryCommand.Run.hostEnvironment()
        let workdir = try? RefReader.read(from: directory ?? ".").workdir
        return GantryDirectories.cache(environment: environment, repository: workdir)
    }

    func open() throws -> CacheStore {
        if let url = try storeURL() {
            let location: PostgresLocation
            switch PostgresLocation.parse(url) {
            case .success(let parsed): location = parsed
            case .failure(let error): throw CacheCommandError(error.description)
            }
            guard FileSystem.exists(root + "/packs") else { throw CacheCommandError("no cache at \(root) (no packs/)") }
            do {
                return try CacheStore(root: root, index: PostgresCacheIndex(location))
            } catch {
                throw CacheCommandError(error.message)
            }
        }
        // Only an existing cache: a folder without an index is never touched (prune would clean it).
        guard FileSystem.exists(root + "/index.sqlite") else {
            throw CacheCommandError("no cache at \(root) (no index.sqlite)")
        }
        do {
            return try CacheStore(root: root)
        } catch {
            throw CacheCommandError(error.message)
        }
    }
}

extension CacheLocation {
    /// `--store`, or the first line of `--store-file`.
    func storeURL() throws -> String? {
        if let store { return store }
        guard let storeFile else { return nil }
        // As `gantry serve --store-file` reads it.
        guard let bytes = try? FileSystem.read(storeFile) else { throw CacheCommandError("--store-file '\(storeFile)' cannot be read") }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace
    }
}

struct CacheCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a cache command body: a cache error is one line on standard error and exit status 1.
func cacheCommand(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CacheCommandError {
        FileSystem.write("gantry: error: \(error.description)\n", to: 2)
        throw ExitCode.failure
    } catch let error as CacheError {
        FileSystem.write("gantry: error: \(error.message)\n", to: 2)
        throw ExitCode.failure
    }
}

enum CacheFormat {
    /// `2026-11-22 03:04:05Z`.
    static func time(_ seconds: Double) -> String {
        var value = time_t(seconds)
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func json(_ entry: CacheEntry) -> String {
        "{\"key\":\(JSON.quote(entry.key)),\"scope\":\(JSON.quote(entry.scope)),\"version\":\(JSON.quote(entry.version)),"
            + "\"size\":\(entry.size),\"files\":\(entry.fileCount),\"created\":\(JSON.quote(time(entry.created))),"
            + "\"lastUsed\":\(JSON.quote(time(entry.lastAccess))),\"paths\":[\(entry.paths.map(JSON.quote).joined(separator: ","))]}"
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = first.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2) }.joined()
        }.joined(separator: "\n") + "\n"
    }
}

extension GantryCommand.Cache {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List entries, newest first.")
        @OptionGroup var location: CacheLocation
        @Option(help: "Only keys starting with this.") var keyPrefix: String?
        @Option(help: ArgumentHelp("Only entries of this ref (e.g. refs/heads/main).", valueName: "ref")) var scope: String?
        @Option(help: "text or json.") var format: OutputFormat = .text

        func run() throws {
            try cacheCommand {
                let entries = try location.open().list(keyPrefix: keyPrefix, scope: scope)
                if format == .json {
                    FileSystem.write("[" + entries.map(CacheFormat.json).joined(separator: ",\n ") + "]\n", to: 1)
                    return
                }
                let rows = [["KEY", "SCOPE", "VERSION", "SIZE", "FILES", "CREATED", "LAST USED"]] + entries.map {
                    [$0.key, $0.scope, String($0.version.prefix(12)), ByteSize.format($0.size), String($0.fileCount), CacheFormat.time($0.created), CacheFormat.time($0.lastAccess)]
                }
                FileSystem.write(entries.isEmpty ? "no entries\n" : CacheFormat.table(rows), to: 1)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show an entry's files, or explain a lookup.",
            discussion: """
                'gantry cache show KEY' lists the entries saved under KEY with their files. With --explain, \
                the lookup actions/cache makes for --key and --restore-key is traced rule by rule, in each \
                --scope (default: KEY's scope), with the version of --path (default: KEY's paths).
                """)
        @OptionGroup var location: CacheLocation
        @Argument(help: "The entry's key.") var key: String?
        @Flag(help: "Trace the lookup of --key and --restore-key.") var explain = false
        @Option(name: .customLong("key"), help: "The key a lookup uses (with --explain).") var lookupKey: String?
        @Option(name: .customLong("restore-key"), help: "A restore key, in order (repeatable).") var restoreKeys: [String] = []
        @Option(name: .customLong("scope"), help: ArgumentHelp("A ref to search, in order (repeatable).", valueName: "ref")) var scopes: [String] = []
        @Option(name: .customLong("path"), help: "A line of the `path` input (repeatable): gives the version.") var paths: [String] = []

        func validate() throws {
            if explain && lookupKey == nil { throw ValidationError("--explain needs --key") }
            if !explain && key == nil { throw ValidationError("give the KEY of an entry, or --explain --key K") }
        }

        func run() throws {
            try cacheCommand {
                let store = try location.open()
                let entries = try key.map { k in try store.list(keyPrefix: k).filter { $0.key == k } } ?? []
                if let key, entries.isEmpty { throw CacheCommandError("no entry has the key '\(key)'") }
                var text = ""
                if !explain {
                    for entry in entries {
                        text += "key:       \(entry.key)\nscope:     \(entry.scope)\nversion:   \(entry.version)\npaths:     \(entry.paths.joined(separator: ", "))\n"
                        text += "created:   \(CacheFormat.time(entry.created))\nlast used: \(CacheFormat.time(entry.lastAccess))\n"
                        text += "size:      \(ByteSize.format(entry.size)) in \(entry.fileCount) file\(entry.fileCount == 1 ? "" : "s")\n"
                        for item in try store.items(of: entry) {
                            switch item.kind {
                            case .directory: text += "  \(item.path)/\n"
                            case .symlink: text += "  \(item.path) -> \(item.target ?? "")\n"
                            case .file: text += "  \(item.path)  \(item.size) bytes  \(String(format8: item.mode))  \(item.digest?.prefix(12) ?? "")\n"
                            }
                        }
                        text += "\n"
                    }
                    FileSystem.write(String(text.dropLast()), to: 1)
                    return
                }
                let version = paths.isEmpty ? entries.first?.version : CacheStore.version(paths: paths)
                guard let version else { throw CacheCommandError("--explain needs --path (or the KEY of an entry to take its paths)") }
                let searched = scopes.isEmpty ? (entries.first.map { [$0.scope] } ?? ["refs/heads/main"]) : scopes
                let lines = try store.explain(key: lookupKey!, restoreKeys: restoreKeys, version: version, scopes: searched)
                text = lines.joined(separator: "\n") + "\n"
                if let key {
                    let lands = lines.last?.hasPrefix("→ restores '\(key)'") == true
                    text += lands ? "'\(key)' is what this lookup restores\n" : "'\(key)' is not what this lookup restores\n"
                }
                FileSystem.write(text, to: 1)
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove entries by key or key prefix.")
        @OptionGroup var location: CacheLocation
        @Argument(help: "The key to remove.") var key: String?
        @Option(help: "Remove every key starting with this.") var prefix: String?
        @Option(help: ArgumentHelp("Only in this ref.", valueName: "ref")) var scope: String?

        func validate() throws {
            if (key == nil) == (prefix == nil) { throw ValidationError("give either a KEY or --prefix") }
        }

        func run() throws {
            try cacheCommand {
                let removed = try location.open().remove(key: key, prefix: prefix, scope: scope)
                guard !removed.isEmpty else { throw CacheCommandError("no entry matches") }
                FileSystem.write(removed.map { "removed \($0.key) (\($0.scope))\n" }.joined(), to: 1)
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune", abstract: "Evict entries: unused for --max-age, then least recently used above --max-size.")
        @OptionGroup var location: CacheLocation
        @Option(help: ArgumentHelp("Size limit (e.g. 10G, 500M).", valueName: "size")) var maxSize: String = "10G"
        @Option(help: ArgumentHelp("Age limit since last use (e.g. 7d, 12h, 30m).", valueName: "age")) var maxAge: String = "7d"

        func run() throws {
            guard let bytes = ByteSize.parse(maxSize) else { throw ValidationError("--max-size '\(maxSize)' is not a size (e.g. 10G)") }
            guard let age = Self.seconds(maxAge) else { throw ValidationError("--max-age '\(maxAge)' is not an age (e.g. 7d, 12h)") }
            try cacheCommand {
                let report = try location.open().prune(maxBytes: bytes, maxAge: age)
                var text = report.entries.map { "removed \($0.key) (\($0.scope), last used \(CacheFormat.time($0.lastAccess)))\n" }.joined()
                text += "\(report.entries.count) entr\(report.entries.count == 1 ? "y" : "ies") removed, \(report.blobs) blob\(report.blobs == 1 ? "" : "s") (\(ByteSize.format(report.bytes))) freed\n"
                FileSystem.write(text, to: 1)
            }
        }

        static func seconds(_ text: String) -> Double? {
            guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return Double(text) }
            switch unit {
            case "s": return value
            case "m": return value * 60
            case "h": return value * 3600
            case "d": return value * 86400
            default: return nil
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stats", abstract: "Entries, bytes, dedup ratio, hits and misses.")
        @OptionGroup var location: CacheLocation
        @Option(help: "text or json.") var format: OutputFormat = .text

        func run() throws {
            try cacheCommand {
                let s = try location.open().stats()
                let ratio = s.diskBytes == 0 ? 1.0 : Double(s.logicalBytes) / Double(s.diskBytes)
                let ratioText = String(Int(ratio * 100) / 100) + "." + String(Int(ratio * 100) % 100 < 10 ? "0" : "") + String(Int(ratio * 100) % 100)
                if format == .json {
                    FileSystem.write(
                        "{\"entries\":\(s.entries),\"logicalBytes\":\(s.logicalBytes),\"diskBytes\":\(s.diskBytes),\"blobs\":\(s.blobs),"
                            + "\"dedupRatio\":\(ratioText),\"hits\":\(s.hits),\"misses\":\(s.misses)}\n", to: 1)
                    return
                }
                FileSystem.write(
                    """
                    entries:        \(s.entries)
                    logical size:   \(ByteSize.format(s.logicalBytes)) (\(s.logicalBytes) bytes)
                    on disk:        \(ByteSize.format(s.diskBytes)) in \(s.blobs) blob\(s.blobs == 1 ? "" : "s")
                    dedup ratio:    \(ratioText)
                    lookups:        \(s.hits) hit\(s.hits == 1 ? "" : "s"), \(s.misses) miss\(s.misses == 1 ? "" : "es")
                    root:           \(location.root)

                    """, to: 1)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Re-hash every blob; remove corrupt blobs and the entries that need them.")
        @OptionGroup var location: CacheLocation

        func run() throws {
            var clean = true
            try cacheCommand {
                let report = try location.open().verify()
                var text = report.corruptBlobs.map { "corrupt blob \($0): removed\n" }.joined()
                text += report.brokenEntries.map { "entry \($0.key) (\($0.scope)) lost a blob: removed\n" }.joined()
                text += "\(report.blobsChecked) blob\(report.blobsChecked == 1 ? "" : "s") checked, \(report.corruptBlobs.count) corrupt, \(report.brokenEntries.count) entr\(report.brokenEntries.count == 1 ? "y" : "ies") removed\n"
                FileSystem.write(text, to: 1)
                clean = report.corruptBlobs.isEmpty && report.brokenEntries.isEmpty
            }
            if !clean { throw ExitCode.failure }
        }
    }
}

extension String {
    /// An octal file mode, e.g. `755`.
    init(format8 mode: UInt32) {
        self = String(mode & 0o7777, radix: 8)
    }
}
