internal import CLibCrypto

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256, as the cache names its blobs and as `hashFiles` combines files.
public enum ContentDigest {
    /// A running SHA-256 (OpenSSL's).
    /// `@unchecked Sendable`: it wraps OpenSSL's context by value; one hasher is used by one thread at
    /// a time (moved to a worker, never shared while it hashes).
    public struct Hasher: @unchecked Sendable {
        private var state = SHA256_CTX()

        public init() {
            SHA256_Init(&state)
        }

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            SHA256_Update(&state, base, bytes.count)
        }

        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The raw 32 bytes.
        public func finalize() -> [UInt8] {
            var copy = state
            var out = [UInt8](repeating: 0, count: 32)
            SHA256_Final(&out, &copy)
            return out
        }
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func sha256(_ text: String) -> String {
        var hasher = Hasher()
        hasher.update(Array(text.utf8))
        return hex(hasher.finalize())
    }

    /// The raw SHA-256 of a file's contents (links followed); nil when it cannot be read.
    public static func sha256(file path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return sha256(fd: fd)
    }

    /// The raw SHA-256 of what an open file holds from its current position on; nil on a read error.
    public static func sha256(fd: Int32) -> [UInt8]? {
        var hasher = Hasher()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { break }
            chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize()
    }
}
