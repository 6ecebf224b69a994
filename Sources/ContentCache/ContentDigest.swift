internal import CLibCrypto
internal import Crypto

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256, as the cache names its blobs and as `hashFiles` combines files.
public enum ContentDigest {
    /// A running SHA-256: OpenSSL's when libcrypto can be opened (about twice as fast here), else
    /// swift-crypto's; both give the same digest (ContentDigestTests).
    /// `@unchecked Sendable`: it wraps OpenSSL's context by value; one hasher is used by one thread at
    /// a time (moved to a worker, never shared while it hashes).
    public struct Hasher: @unchecked Sendable {
        private enum State {
            case openssl(SHA256_CTX, LibCrypto)
            case portable(Crypto.SHA256)
        }

        private var state: State

        public init() {
            self.init(portable: false)
        }

        /// `portable`: swift-crypto's even where libcrypto is there (for tests).
        init(portable: Bool) {
            if !portable, let crypto = LibCrypto.shared {
                var context = SHA256_CTX()
                _ = crypto.initialize(&context)
                state = .openssl(context, crypto)
            } else {
                state = .portable(Crypto.SHA256())
            }
        }

        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            switch state {
            case .openssl(var context, let crypto):
                _ = crypto.update(&context, base, bytes.count)
                state = .openssl(context, crypto)
            case .portable(var hasher):
                hasher.update(bufferPointer: bytes)
                state = .portable(hasher)
            }
        }

        public mutating func update(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The raw 32 bytes.
        public func finalize() -> [UInt8] {
            switch state {
            case .openssl(var context, let crypto):
                var out = [UInt8](repeating: 0, count: 32)
                _ = crypto.finish(&out, &context)
                return out
            case .portable(let hasher):
                return Array(hasher.finalize())
            }
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
/// which never hash. Nil where libcrypto cannot be opened (swift-crypto's SHA-256 is used then).
struct LibCrypto: Sendable {
    let initialize: @convention(c) (UnsafeMutablePointer<SHA256_CTX>?) -> Int32
    let update: @convention(c) (UnsafeMutablePointer<SHA256_CTX>?, UnsafeRawPointer?, Int) -> Int32
    let finish: @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<SHA256_CTX>?) -> Int32

    /// The library names tried, the ABI Gantry was built against first.
    static let candidates = ["libcrypto.so.3", "libcrypto.so"]

    static let shared: LibCrypto? = {
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            if let initialize = dlsym(handle, "SHA256_Init"), let update = dlsym(handle, "SHA256_Update"),
                let finish = dlsym(handle, "SHA256_Final")
            {
                return LibCrypto(
                    initialize: unsafeBitCast(initialize, to: (@convention(c) (UnsafeMutablePointer<SHA256_CTX>?) -> Int32).self),
                    update: unsafeBitCast(update, to: (@convention(c) (UnsafeMutablePointer<SHA256_CTX>?, UnsafeRawPointer?, Int) -> Int32).self),
                    finish: unsafeBitCast(finish, to: (@convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<SHA256_CTX>?) -> Int32).self))
            }
            dlclose(handle)
        }
        return nil
    }()
}
