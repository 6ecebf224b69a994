#if canImport(Glibc)
import Glibc
#endif

/// The facts that live in plain files under `.git`: HEAD, refs, packed-refs and config.
///
/// Reading them directly takes well under a millisecond; libgit2 (whose start-up costs about 16 ms on
/// Debian) is then needed only for what lives in objects: the commit's author and message, the paths
/// it changed, and annotated tags that are not packed.
public struct RefFacts: Sendable, Equatable {
    /// The repository's top folder.
    public var workdir: String
    /// The `.git` folder (a worktree's own one for a linked worktree).
    public var gitDir: String
    /// Where refs, packed-refs and config live (the main `.git` for a linked worktree).
    public var commonDir: String
    public var sha: String?
    /// `refs/heads/…`, or `refs/tags/…` for a detached HEAD a tag points at; nil otherwise.
    public var ref: String?
    public var isDetached: Bool
    /// True when HEAD is detached and a loose annotated tag might point at it (libgit2 must peel it).
    public var needsTagPeeling: Bool
    public var remoteURL: String?
    public var repository: String?
    public var defaultBranch: String?
    /// `user.name` from the repository's, the user's or the system's git config.
    public var userName: String?
}

public enum RefReader {
    /// Finds the repository containing `path` (searching parent folders) and reads its refs.
    public static func read(from path: String) throws(GitError) -> RefFacts {
        guard let (workdir, gitDir) = discover(path) else {
            throw GitError(operation: "cannot open a git repository at '\(path)'", message: "could not find repository at '\(path)'")
        }
        var commonDir = gitDir
        if let common = readFile(gitDir + "/commondir")?.trimmed {
            let joined = common.hasPrefix("/") ? common : gitDir + "/" + common
            commonDir = realPath(joined) ?? joined
        }
        var facts = RefFacts(
            workdir: workdir, gitDir: gitDir, commonDir: commonDir, isDetached: false, needsTagPeeling: false)
        let packed = PackedRefs(readFile(commonDir + "/packed-refs") ?? "")
        guard let head = readFile(gitDir + "/HEAD")?.trimmed else {
            throw GitError(operation: "cannot read HEAD", message: "'\(gitDir)/HEAD' is missing")
        }
        if head.hasPrefix("ref: ") {
            let name = String(head.dropFirst(5))
            facts.ref = name
            facts.sha = resolve(name, commonDir: commonDir, gitDir: gitDir, packed: packed)
        } else if isObjectID(head) {
            facts.isDetached = true
            facts.sha = head
            let tags = tagsPointing(at: head, commonDir: commonDir, packed: packed)
            if let tag = tags.matches.sorted().first {
                facts.ref = "refs/tags/" + tag
            } else {
                facts.needsTagPeeling = tags.unpeeledLoose
            }
        }
        let config = GitConfig(files: [commonDir + "/config"])
        facts.remoteURL = config.value(section: "remote", subsection: "origin", key: "url")
        facts.repository = facts.remoteURL.flatMap { Repository.ownerAndName(fromRemoteURL: $0) }
        let home = getenv("HOME").map { String(cString: $0) }
        let xdg = getenv("XDG_CONFIG_HOME").map { String(cString: $0) } ?? home.map { $0 + "/.config" }
        let userConfig = GitConfig(files: [commonDir + "/config"] + [home.map { $0 + "/.gitconfig" }, xdg.map { $0 + "/git/config" }, "/etc/gitconfig"].compactMap { $0 })
        facts.userName = userConfig.value(section: "user", subsection: nil, key: "name")
        if let originHead = readFile(commonDir + "/refs/remotes/origin/HEAD")?.trimmed, originHead.hasPrefix("ref: refs/remotes/origin/") {
            facts.defaultBranch = String(originHead.dropFirst("ref: refs/remotes/origin/".count))
        } else {
            facts.defaultBranch = ["main", "master"].first { resolve("refs/heads/" + $0, commonDir: commonDir, gitDir: gitDir, packed: packed) != nil }
        }
        return facts
    }

    /// A SHA-1 (40) or SHA-256 (64) object id in hex.
    static func isObjectID(_ s: String) -> Bool {
        (s.utf8.count == 40 || s.utf8.count == 64) && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    // MARK: Discovery

    /// The work tree and `.git` folder for `path`: `.git` may be a folder or a `gitdir:` file.
    static func discover(_ path: String) -> (String, String)? {
        guard var dir = realPath(path) else { return nil }
        while true {
            let candidate = (dir == "/" ? "" : dir) + "/.git"
            if isDirectory(candidate), exists(candidate + "/HEAD") { return (dir, candidate) }
            if let link = readFile(candidate)?.trimmed, link.hasPrefix("gitdir: ") {
                let target = String(link.dropFirst(8))
                let joined = target.hasPrefix("/") ? target : dir + "/" + target
                return (dir, realPath(joined) ?? joined)
            }
            if dir == "/" { return nil }
            dir = parent(dir)
        }
    }

    // MARK: Refs

    static func resolve(_ name: String, commonDir: String, gitDir: String, packed: PackedRefs, depth: Int = 0) -> String? {
        guard depth < 5 else { return nil }
        for base in [gitDir, commonDir] {
            if let content = readFile(base + "/" + name)?.trimmed {
                if content.hasPrefix("ref: ") {
                    return resolve(String(content.dropFirst(5)), commonDir: commonDir, gitDir: gitDir, packed: packed, depth: depth + 1)
                }
                return isObjectID(content) ? content : nil
            }
        }
        return packed.refs[name]?.sha
    }

    /// Tags whose commit is `sha`; and whether a loose tag could be an annotated one pointing there.
    static func tagsPointing(at sha: String, commonDir: String, packed: PackedRefs) -> (matches: [String], unpeeledLoose: Bool) {
        var matches: [String] = []
        var unpeeledLoose = false
        var loose = Set<String>()
        for name in listFiles(commonDir + "/refs/tags", prefix: "") {
            loose.insert(name)
            guard let target = readFile(commonDir + "/refs/tags/" + name)?.trimmed else { continue }
            if target == sha { matches.append(name) } else { unpeeledLoose = true }
        }
        for (ref, entry) in packed.refs where ref.hasPrefix("refs/tags/") {
            let name = String(ref.dropFirst(10))
            if loose.contains(name) { continue }
            if entry.sha == sha || entry.peeled == sha { matches.append(name) }
        }
        // Without the `peeled` trait, packed annotated tags carry no `^` line: only libgit2 can peel them.
        let unpeeledPacked = !packed.peeled && packed.refs.keys.contains { $0.hasPrefix("refs/tags/") }
        return (matches, (unpeeledLoose || unpeeledPacked) && matches.isEmpty)
    }

    /// `packed-refs`: `<sha> <ref>` lines, each tag optionally followed by `^<peeled sha>`.
    struct PackedRefs {
        var refs: [String: (sha: String, peeled: String?)] = [:]
        /// The header's `peeled` trait: every annotated tag has its `^` line.
        var peeled = false

        init(_ text: String) {
            var last: String?
            for line in text.split(separator: "\n") {
                if line.hasPrefix("#") {
                    if line.contains(" peeled") || line.contains("fully-peeled") { peeled = true }
                    continue
                }
                if line.hasPrefix("^") {
                    if let last { refs[last]?.peeled = String(line.dropFirst()) }
                    continue
                }
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                refs[String(parts[1])] = (String(parts[0]), nil)
                last = String(parts[1])
            }
        }
    }

    // MARK: Files

    static func readFile(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A regular file's bytes; nil when it is missing, not a regular file or cannot be read.
    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Relative paths of the regular files below `dir`, recursively.
    static func listFiles(_ dir: String, prefix: String) -> [String] {
        guard let handle = opendir(dir) else { return [] }
        defer { closedir(handle) }
        var out: [String] = []
        while let entry = readdir(handle) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name == "." || name == ".." { continue }
            let path = dir + "/" + name
            if isDirectory(path) {
                out += listFiles(path, prefix: prefix + name + "/")
            } else {
                out.append(prefix + name)
            }
        }
        return out
    }
}

/// Just enough of git's config format: `[section]`, `[section "sub"]`, `key = value`, quotes, comments.
///
/// Read as bytes: `graph` and `plan` read the repository's and the user's config on every call, and
/// walking them by `Character` was a tenth of a 100-job `graph`.
struct GitConfig {
    private struct Entry {
        var section: String
        var subsection: String?
        var key: String
        var value: String
    }

    private var files: [[Entry]] = []

    init(files paths: [String]) {
        for file in paths {
            var entries: [Entry] = []
            defer { files.append(entries) }
            guard let bytes = RefReader.readBytes(file) else { continue }
            var section = ""
            var subsection: String?
            for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                let line = Self.trimmed(rawLine)
                guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }
                if first == UInt8(ascii: "["), let close = line.lastIndex(of: UInt8(ascii: "]")) {
                    let header = line[(line.startIndex + 1)..<close]
                    if let quote = header.firstIndex(of: UInt8(ascii: "\"")) {
                        section = Self.string(Self.trimmed(header[..<quote])).lowercased()
                        var name = header[(quote + 1)...]
                        if name.last == UInt8(ascii: "\"") { name = name.dropLast() }
                        subsection = Self.string(name)
                    } else if let dot = header.firstIndex(of: UInt8(ascii: ".")) {
                        section = Self.string(header[..<dot]).lowercased()
                        subsection = Self.string(header[(dot + 1)...]).lowercased()
                    } else {
                        section = Self.string(Self.trimmed(header)).lowercased()
                        subsection = nil
                    }
                    continue
                }
                guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let key = Self.string(Self.trimmed(line[..<eq])).lowercased()
                var value = Self.trimmed(line[(eq + 1)...])
                if value.first == UInt8(ascii: "\""), let close = value.dropFirst().firstIndex(of: UInt8(ascii: "\"")) {
                    value = value[(value.startIndex + 1)..<close]
                } else if let comment = value.firstIndex(where: { $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ";") }) {
                    value = Self.trimmed(value[..<comment])
                }
                entries.append(Entry(section: section, subsection: subsection, key: key, value: Self.string(value)))
            }
        }
    }

    /// Without leading spaces and tabs, and trailing spaces, tabs and CRs.
    private static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { line = line.dropFirst() }
        while let last = line.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") || last == UInt8(ascii: "\r") { line = line.dropLast() }
        return line
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The value from the first file that sets the key (the repository's own file comes first); within
    /// a file the last setting wins, as in git.
    func value(section: String, subsection: String?, key: String) -> String? {
        for entries in files {
            if let hit = entries.last(where: { $0.section == section && $0.subsection == subsection && $0.key == key.lowercased() }) {
                return hit.value
            }
        }
        return nil
    }
}

extension StringProtocol {
    var trimmed: String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s.removeLast() }
        return String(s)
    }

    var trimmingSpaces: String {
        var s = Substring(self)
        while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
        return String(s)
    }
}
