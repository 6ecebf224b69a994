internal import CProcessSpawn
internal import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the workers of a save (each file's digest and stat) or a restore found; the first error.
/// `@unchecked Sendable`: workers write it only under its lock; it is read after they have all finished.
final class BlobResults: @unchecked Sendable {
    private let lock = NSLock()
    var digests: [String?]
    var stats: [stat]
    private(set) var error: CacheError?

    init(count: Int) {
        digests = Array(repeating: nil, count: count)
        stats = Array(repeating: stat(), count: count)
    }

    func set(_ index: Int, digest: String, stat info: stat) {
        lock.withLock {
            digests[index] = digest
            stats[index] = info
        }
    }

    func fail(_ error: CacheError) {
        lock.withLock { if self.error == nil { self.error = error } }
    }
}

/// File copies and folder listings for the store and for the executor's built-in actions.
public enum FileCopy {
    /// The names in a folder (without `.` and `..`), in byte order.
    public static func directoryNames(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Copies a file's bytes with copy_file_range (the kernel copies, or shares extents where the file
    /// system can; plain reads and writes where it is refused), never following a link at the target.
    public static func copy(_ source: String, to target: String, mode: UInt32) throws(CacheError) -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw CacheError("cannot read '\(source)': \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var info = stat()
        fstat(input, &info)
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard output >= 0 else { throw CacheError("cannot write '\(target)': \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var remaining = Int(info.st_size)
        while remaining > 0 {
            let n = gantry_copy_file_range(input, output, UInt(remaining))
            if n <= 0 { break }
            remaining -= n
        }
        if remaining > 0 {
            lseek(input, 0, SEEK_SET)
            ftruncate(output, 0)
            lseek(output, 0, SEEK_SET)
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if n < 0 { throw CacheError("cannot read '\(source)': \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                guard chunk.withUnsafeBytes({ Glibc.write(output, $0.baseAddress, n) }) == n else {
                    throw CacheError("cannot write '\(target)': \(String(cString: strerror(errno)))")
                }
            }
        }
        fchmod(output, mode_t(mode))
        return Int64(info.st_size)
    }
}
