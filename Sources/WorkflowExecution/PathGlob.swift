import ContentCache

#if canImport(Glibc)
import Glibc
#endif

/// One pattern of `@actions/glob` (upload-artifact, actions/cache and `hashFiles` read paths with it):
/// an absolute path whose segments may hold `*` (within a segment), `?` (one character), `[…]` (a
/// class, `!` or `^` negates it) or be `**` (any number of segments, none included). Dot files match
/// like others (minimatch's `dot: true`). A leading `!` excludes what the pattern matches.
struct GlobPattern: Equatable {
    let negate: Bool
    let segments: [Substring]

    /// `text` relative to `base`; `~` is `home`. Nil for an empty line or a comment. As @actions/glob,
    /// a `..` segment (or `.` after the first) is refused, and spaces after each `!` are dropped.
    init?(_ line: String, base: String, home: String) throws(GlobError) {
        var text = Substring(line)
        func trim() {
            while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
            while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        }
        trim()
        guard !text.isEmpty, !text.hasPrefix("#") else { return nil }
        var negate = false
        while text.hasPrefix("!") {
            negate.toggle()
            text = text.dropFirst()
            trim()
        }
        let given = text.split(separator: "/", omittingEmptySubsequences: true)
        if given.enumerated().contains(where: { $0.element == ".." || ($0.element == "." && $0.offset > 0) }) {
            throw GlobError(message: "Invalid pattern '\(line)'. Relative pathing '.' and '..' is not allowed.")
        }
        var path = String(text)
        if path == "~" || path.hasPrefix("~/") { path = home + path.dropFirst() }
        if !path.hasPrefix("/") { path = base + "/" + path }
        self.init(negate: negate, segments: Self.normalized(path))
    }

    init(negate: Bool, segments: [Substring]) {
        self.negate = negate
        self.segments = segments
    }

    /// `.` dropped and `..` applied to the literal segments, as path.resolve does.
    static func normalized(_ path: String) -> [Substring] {
        var out: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = out.last, last != "**", !hasGlob(last) {
                out.removeLast()
                continue
            }
            out.append(part)
        }
        return out
    }

    static func hasGlob(_ text: some StringProtocol) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The folder a search starts from: the segments before the first one with a glob character.
    var searchPath: String {
        "/" + segments.prefix { !Self.hasGlob($0) }.joined(separator: "/")
    }

    var isLiteral: Bool { !segments.contains { Self.hasGlob($0) } }

    /// Whether an absolute path matches the whole pattern.
    func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        var memo: [Int: Bool] = [:]
        func match(_ p: Int, _ s: Int) -> Bool {
            let key = p * (parts.count + 1) + s
            if let known = memo[key] { return known }
            let result: Bool
            if p == segments.count {
                result = s == parts.count
            } else if segments[p] == "**" {
                result = match(p + 1, s) || (s < parts.count && match(p, s + 1))
            } else {
                result = s < parts.count && Self.segment(Array(segments[p]), Array(parts[s])) && match(p + 1, s + 1)
            }
            memo[key] = result
            return result
        }
        return match(0, 0)
    }

    /// One segment against one name.
    static func segment(_ pattern: [Character], _ name: [Character]) -> Bool {
        func match(_ p: Int, _ n: Int) -> Bool {
            if p == pattern.count { return n == name.count }
            switch pattern[p] {
            case "*":
                var k = n
                while true {
                    if match(p + 1, k) { return true }
                    if k == name.count { return false }
                    k += 1
                }
            case "?":
                return n < name.count && match(p + 1, n + 1)
            case "[":
                guard n < name.count, let close = pattern[(p + 1)...].firstIndex(of: "]"), close > p + 1 else {
                    return n < name.count && name[n] == "[" && match(p + 1, n + 1)
                }
                var body = Array(pattern[(p + 1)..<close])
                let negated = body.first == "!" || body.first == "^"
                if negated { body.removeFirst() }
                var found = false
                var i = 0
                while i < body.count {
                    if i + 2 < body.count, body[i + 1] == "-" {
                        if body[i] <= name[n] && name[n] <= body[i + 2] { found = true }
                        i += 3
                    } else {
                        if body[i] == name[n] { found = true }
                        i += 1
                    }
                }
                return found != negated && match(close + 1, n + 1)
            default:
                return n < name.count && pattern[p] == name[n] && match(p + 1, n + 1)
            }
        }
        return match(0, 0)
    }
}

/// A pattern @actions/glob refuses.
struct GlobError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A list of patterns read as `@actions/glob` reads them: later patterns win (`!` excludes, a plain
/// pattern includes again), and each pattern also covers everything below what it names
/// (`implicitDescendants`).
struct Glob {
    let patterns: [GlobPattern]

    init(lines: [String], base: String, home: String, implicitDescendants: Bool = true) throws(GlobError) {
        var patterns: [GlobPattern] = []
        for line in lines {
            guard let pattern = try GlobPattern(line, base: base, home: home) else { continue }
            patterns.append(pattern)
            if implicitDescendants && pattern.segments.last != "**" {
                patterns.append(GlobPattern(negate: pattern.negate, segments: pattern.segments + ["**"]))
            }
        }
        self.patterns = patterns
    }

    func matches(_ path: String) -> Bool {
        var matched = false
        for pattern in patterns where pattern.negate == matched {
            if pattern.matches(path) { matched = !pattern.negate }
        }
        return matched
    }

    /// Where the search starts: each including pattern's search path, minus those inside another, in
    /// pattern order (`getSearchPaths`).
    var searchPaths: [String] {
        let candidates = patterns.filter { !$0.negate }.map(\.searchPath)
        let all = Set(candidates)
        var result: [String] = []
        for path in candidates where !result.contains(path) {
            var parent = path
            var hasAncestor = false
            while parent != "/" {
                parent = parent.lastIndex(of: "/").map { $0 == parent.startIndex ? "/" : String(parent[..<$0]) } ?? "/"
                if all.contains(parent) {
                    hasAncestor = true
                    break
                }
            }
            if !hasAncestor { result.append(path) }
        }
        return result
    }

    /// The matching paths in `globGenerator`'s order: search paths in turn, depth first, names in byte
    /// order. `followSymlinks` descends into linked folders (a loop is cut); otherwise a link is reported
    /// as itself. `directories` reports matching folders too. `excludeHidden` skips names starting
    /// with `.`.
    func matches(followSymlinks: Bool = true, excludeHidden: Bool = false, directories: Bool = false) -> [String] {
        var out: [String] = []
        for root in searchPaths {
            var info = stat()
            guard lstat(root, &info) == 0 else { continue }
            walk(root, chain: [], options: (followSymlinks, excludeHidden, directories), into: &out)
        }
        return out
    }

    /// The matching files (symbolic links to files included), symbolic links followed.
    func files(excludeHidden: Bool = false) -> [String] {
        matches(followSymlinks: true, excludeHidden: excludeHidden)
    }

    private func walk(_ path: String, chain: [String], options: (follow: Bool, excludeHidden: Bool, directories: Bool), into out: inout [String]) {
        var info = stat()
        // fs.stat when following links (a broken link is omitted), fs.lstat otherwise.
        guard (options.follow ? stat(path, &info) : lstat(path, &info)) == 0 else { return }
        if options.excludeHidden, path.split(separator: "/").last?.hasPrefix(".") == true { return }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            if matches(path) { out.append(path) }
            return
        }
        if options.directories && matches(path) { out.append(path) }
        guard let real = realpath(path, nil) else { return }
        let resolved = String(cString: real)
        free(real)
        // A link back to a folder on the way would loop.
        guard !chain.contains(resolved) else { return }
        for name in Files.directoryEntries(path) {
            walk(path == "/" ? "/" + name : path + "/" + name, chain: chain + [resolved], options: options, into: &out)
        }
    }
}

