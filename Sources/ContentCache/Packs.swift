internal import CProcessSpawn
internal import Dispatch
internal import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a blob's bytes are: a range of a pack file under `packs/`.
struct BlobLocation: Sendable, Equatable {
    var pack: String
    var offset: Int64
    var size: Int64
}

/// A file a save puts into a pack: its source, where it goes, and the source's stat when it was hashed
/// (a source that changed since would be stored under a wrong digest).
struct PackPlacement: Sendable {
    var digest: String
    var source: String
    var offset: Int64
    var hashed: stat
}

/// A pack being written: blobs claim room one after another (under a lock) and are copied in by any
/// thread at their offsets, into a temporary file renamed into `packs/` once whole. Nothing is visible
/// until a blob row names the pack, so a killed save leaves only a file that collection removes.
/// `@unchecked Sendable`: offsets are claimed under its lock; each claimed range is written by one
/// thread only, through `pwrite` on the shared descriptor.
final class PackWriter: @unchecked Sendable {
    let name: String
    private let temporary: String
    private let target: String
    private let fd: Int32
    private let lock = NSLock()
    private var claimed = Set<String>()
    private(set) var placements: [PackPlacement] = []
    private(set) var size: Int64 = 0

    init(_ store: CacheStore) throws(CacheError) {
        name = String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".pack"
        temporary = store.root + "/tmp/\(getpid())-" + name
        target = store.packPath(name)
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw CacheError("cannot write '\(temporary)': \(String(cString: strerror(errno)))") }
    }

    /// Room for a blob at the pack's end, unless this pack already holds its digest.
    func claim(_ digest: String, source: String, hashed: stat) -> PackPlacement? {
        lock.withLock {
            guard claimed.insert(digest).inserted else { return nil }
            let placement = PackPlacement(digest: digest, source: source, offset: size, hashed: hashed)
            placements.append(placement)
            size += Int64(hashed.st_size)
            return placement
        }
    }

    /// Copies a claimed blob in from its source, which must not have changed since it was hashed.
    func write(_ placement: PackPlacement) throws(CacheError) {
        let input = open(placement.source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw CacheError("cannot read '\(placement.source)': \(String(cString: strerror(errno)))") }
        defer { close(input) }
        try write(placement, from: input)
    }

    /// Copies a claimed blob in from an open descriptor of its source.
    func write(_ placement: PackPlacement, from input: Int32) throws(CacheError) {
        let before = placement.hashed
        var after = stat()
        guard CacheStore.copyRange(input, 0, to: fd, placement.offset, length: Int64(before.st_size)), fstat(input, &after) == 0,
            after.st_size == before.st_size, after.st_ino == before.st_ino,
            after.st_mtim.tv_sec == before.st_mtim.tv_sec, after.st_mtim.tv_nsec == before.st_mtim.tv_nsec
        else {
            throw CacheError("'\(placement.source)' changed while it was being saved")
        }
    }

    /// Puts the pack in place; false (and nothing on disk) when no blob was claimed. A pack of empty
    /// files only is empty, but its rows still need it.
    func finish() throws(CacheError) -> Bool {
        close(fd)
        guard !placements.isEmpty else {
            unlink(temporary)
            return false
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CacheError("cannot store a pack: \(reason)")
        }
        return true
    }

    func discard() {
        close(fd)
        unlink(temporary)
    }
}

extension CacheStore {
    func packPath(_ name: String) -> String {
        root + "/packs/" + name
    }

    /// Copies `length` bytes between offsets: copy_file_range (the kernel copies, or shares extents where
    /// the file system can), else reads and writes. False when the input ends early or a call fails.
    static func copyRange(_ input: Int32, _ inputOffset: Int64, to output: Int32, _ outputOffset: Int64, length: Int64) -> Bool {
        var inOffset = inputOffset
        var outOffset = outputOffset
        var remaining = length
        while remaining > 0 {
            let n = gantry_copy_file_range_at(input, &inOffset, output, &outOffset, UInt(remaining))
            if n <= 0 { break }
            remaining -= Int64(n)
        }
        if remaining == 0 { return true }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while remaining > 0 {
            let n = chunk.withUnsafeMutableBytes { pread(input, $0.baseAddress, min($0.count, Int(remaining)), off_t(inOffset)) }
            if n <= 0 { return false }
            guard chunk.withUnsafeBytes({ pwrite(output, $0.baseAddress, n, off_t(outOffset)) }) == n else { return false }
            inOffset += Int64(n)
            outOffset += Int64(n)
            remaining -= Int64(n)
        }
        return true
    }

    /// The SHA-256 (hex) of a range of an open file; nil when it cannot be read whole.
    static func digest(_ fd: Int32, offset: Int64, size: Int64) -> String? {
        var hasher = ContentDigest.Hasher()
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var position = offset
        var remaining = size
        while remaining > 0 {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min($0.count, Int(remaining)), off_t(position)) }
            if n <= 0 { return nil }
            chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            position += Int64(n)
            remaining -= Int64(n)
        }
        return ContentDigest.hex(hasher.finalize())
    }

    static func location(_ db: any CacheStatements, _ digest: String) throws -> BlobLocation? {
        try db.row(#"SELECT pack, "offset", size FROM blob WHERE digest = ?"#, digest).map {
            BlobLocation(pack: $0.text("pack"), offset: $0.integer("offset"), size: $0.integer("size"))
        }
    }

    static func insert(_ db: any CacheStatements, _ placements: [PackPlacement], pack: String) throws {
        for placement in placements {
            try db.execute(
                #"INSERT INTO blob (digest, pack, "offset", size) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"#,
                placement.digest, pack, placement.offset, Int64(placement.hashed.st_size))
        }
    }

    /// Pack files on disk: name, path and stat.
    func packFiles() -> [(name: String, path: String, info: stat)] {
        Self.directoryNames(root + "/packs").compactMap { name in
            let path = packPath(name)
            var info = stat()
            return lstat(path, &info) == 0 ? (name, path, info) : nil
        }
    }
}
