import Crypto
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The REST API's bearer tokens: `<data>/tokens`, one `name sha256-hex created` line each. Only the
/// SHA-256 of a token is stored, so the file reveals none; `gantry serve token create` prints a token
/// once. The service reads the file at each request, so a revoked token stops working at once.
public struct TokenFile: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var hash: String
        public var created: Int
    }

    public let path: String

    public init(path: String) { self.path = path }

    public static func hash(_ token: String) -> String {
        WebhookSignature.hexDigits(SHA256.hash(data: Array(token.utf8)))
    }

    public func entries() -> [Entry] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var out: [Entry] = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: true).map { $0.filter { $0 != "\n" } }
            guard fields.count == 3, let created = Int(fields[2]) else { continue }
            out.append(Entry(name: fields[0], hash: fields[1], created: created))
        }
        return out
    }

    /// True when `token`'s hash is in the file (compared in constant time).
    public func accepts(_ token: String) -> Bool {
        let given = Array(Self.hash(token).utf8)
        var found = false
        for entry in entries() where WebhookSignature.constantTimeEqual(Array(entry.hash.utf8), given) { found = true }
        return found
    }

    /// Makes a new token named `name` (letters, digits, `-`, `_`, `.`), stores its hash and returns it.
    public func create(name: String) throws(TokenError) -> String {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw TokenError("a token name is letters, digits, '-', '_' and '.'")
        }
        guard !entries().contains(where: { $0.name == name }) else { throw TokenError("a token named '\(name)' exists already") }
        // The system generator reads the kernel's (getrandom): fit for secrets.
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = "gantry_" + WebhookSignature.hexDigits(bytes)
        try rewrite(entries() + [Entry(name: name, hash: Self.hash(token), created: Int(time(nil)))])
        return token
    }

    /// Removes the token named `name`; false when there is none.
    public func revoke(name: String) throws(TokenError) -> Bool {
        let all = entries()
        guard all.contains(where: { $0.name == name }) else { return false }
        try rewrite(all.filter { $0.name != name })
        return true
    }

    /// Writes the file anew: a temporary file, then a rename, so a reader sees the old or the new one.
    private func rewrite(_ entries: [Entry]) throws(TokenError) {
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TokenError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let text = entries.map { "\($0.name) \($0.hash) \($0.created)\n" }.joined()
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TokenError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

public struct TokenError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
