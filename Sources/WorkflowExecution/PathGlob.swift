#if canImport(Glibc)
import Glibc
#endif

/// File globs as `@actions/glob` reads them (used by upload-artifact): `*` matches within one path
/// segment, `?` one character, `[abc]`/`[a-z]`/`[!a]` a class, and a `**` segment any number of
/// segments (none included). A pattern without a glob character names a file, or a folder and
/// everything below it.
struct PathGlob {
    /// The absolute pattern, `.` and `..` resolved.
    let pattern: String
    let segments: [Substring]

    init(_ absolute: String) {
        pattern = absolute
        segments = absolute.split(separator: "/")
    }

    static func hasGlob(_ text: some StringProtocol) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The folder a search starts from: the segments before the first one with a glob character.
    var searchRoot: String {
        "/" + segments.prefix { !Self.hasGlob($0) }.joined(separator: "/")
    }

    var isLiteral: Bool { !Self.hasGlob(pattern) }

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

    /// One segment against one name: `*`, `?` and classes; a leading dot is matched only by a dot.
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
        if name.first == ".", pattern.first != "." { return false }
        return match(0, 0)
    }
}

/// Every file (and symlink) below a folder, as absolute paths; folders whose name starts with `.` are
/// skipped unless `hidden`.
func filesBelow(_ directory: String, hidden: Bool) -> [String] {
    var out: [String] = []
    guard let dir = opendir(directory) else { return out }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        if name == "." || name == ".." || (!hidden && name.hasPrefix(".")) { continue }
        names.append(name)
    }
    for name in names.sorted() {
        let child = directory == "/" ? "/" + name : directory + "/" + name
        var info = stat()
        guard lstat(child, &info) == 0 else { continue }
        if (info.st_mode & S_IFMT) == S_IFDIR { out += filesBelow(child, hidden: hidden) } else { out.append(child) }
    }
    return out
}

/// Copies a file (its executable bit kept) or a symlink, making the target's folders.
@discardableResult
func copyFile(_ source: String, to target: String) -> Bool {
    var info = stat()
    guard lstat(source, &info) == 0 else { return false }
    if let slash = target.lastIndex(of: "/") { makeDirectory(String(target[..<slash])) }
    unlink(target)
    if (info.st_mode & S_IFMT) == S_IFLNK {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(source, &buffer, buffer.count - 1)
        guard n >= 0 else { return false }
        buffer[n] = 0
        return symlink(buffer, target) == 0
    }
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { return false }
    defer { close(input) }
    let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, info.st_mode & 0o111 != 0 ? 0o755 : 0o644)
    guard output >= 0 else { return false }
    defer { close(output) }
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
        if n < 0 { return false }
        if n == 0 { return true }
        guard chunk.withUnsafeBytes({ write(output, $0.baseAddress, n) }) == n else { return false }
    }
}
