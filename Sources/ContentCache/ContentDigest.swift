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
        private let crypto = LibCrypto.shared

        public init() {
            _ = crypto.initialize(&state)
        }

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            _ = crypto.update(&state, base, bytes.count)
        }

        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The raw 32 bytes.
        public func finalize() -> [UInt8] {
            var copy = state
            var out = [UInt8](repeating: 0, count: 32)
            _ = crypto.finish(&out, &copy)
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

/// libcrypto's three SHA-256 calls, opened with dlopen the first time something is hashed: linked at
/// build time, loading and relocating libcrypto cost about 1 ms of every start of `gantry`, most of
/// which never hash. Without the library a hash cannot be made at all, so that use ends the process
/// with one line, as the dynamic loader did before (exit status 127).
struct LibCrypto: Sendable {
    let initialize: @convention(c) (UnsafeMutablePointer<SHA256_CTX>?) -> Int32
    let update: @convention(c) (UnsafeMutablePointer<SHA256_CTX>?, UnsafeRawPointer?, Int) -> Int32
    let finish: @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<SHA256_CTX>?) -> Int32

    /// The library names tried, the ABI Gantry was built against first.
    static let candidates = ["libcrypto.so.3", "libcrypto.so"]

    static let shared: LibCrypto = {
        var reason = "not found"
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                reason = dlerror().map { String(cString: $0) } ?? reason
                continue
            }
            if let initialize = dlsym(handle, "SHA256_Init"), let update = dlsym(handle, "SHA256_Update"),
                let finish = dlsym(handle, "SHA256_Final")
            {
                return LibCrypto(
                    initialize: unsafeBitCast(initialize, to: (@convention(c) (UnsafeMutablePointer<SHA256_CTX>?) -> Int32).self),
                    update: unsafeBitCast(update, to: (@convention(c) (UnsafeMutablePointer<SHA256_CTX>?, UnsafeRawPointer?, Int) -> Int32).self),
                    finish: unsafeBitCast(finish, to: (@convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<SHA256_CTX>?) -> Int32).self))
            }
            reason = "\(name) has no SHA256_Init, SHA256_Update and SHA256_Final"
        }
        let line = "gantry: error: cannot load libcrypto for SHA-256 (install Debian's libssl3): \(reason)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(127)
    }()
}
