import ContentCache

#if canImport(Glibc)
import Glibc
#endif

/// The file-system helpers of the executor, in one place: folders made and removed, whole files read
/// and written, folders listed and walked, files copied. Each works on absolute paths and never throws:
/// a failure is an empty result or `false`, for callers that report it in their own words.
public enum Files {
    public static func makeDirectory(_ path: String) {
        var partial = ""
        for part in path.split(separator: "/") {
            partial += "/" + part
            mkdir(partial, 0o755)
        }
    }

    static func write(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    /// Removes a folder and everything below it; a symbolic link is removed itself, never followed.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            unlink(path)
            return
        }
        for name in Files.directoryEntries(path) { Files.removeTree(path + "/" + name) }
        rmdir(path)
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The disk space a file or folder takes (`du`: allocated blocks), links not followed.
    static func size(of path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        var total = Int64(info.st_blocks) * 512
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in directoryEntries(path) { total += size(of: path + "/" + name) }
        }
        return total
    }

    static func read(_ path: String) -> String {
        String(decoding: Files.readBytes(path), as: UTF8.self)
    }

    /// A file's bytes; empty when it cannot be read.
    public static func readBytes(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        return readAll(fd)
    }

    /// At most `limit` bytes of a file from `offset` (a log being followed); empty at its end or when it
    /// cannot be read.
    public static func readBytes(_ path: String, from offset: Int, limit: Int) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, limit, off_t(offset)) }
        return n > 0 ? Array(bytes[0..<n]) : []
    }

    /// Everything left to read from a descriptor.
    public static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// The names in a folder (without `.` and `..`), in byte order.
    static func directoryEntries(_ path: String) -> [String] {
        FileCopy.directoryNames(path)
    }

    /// Every file (and symlink) below a folder, as absolute paths, in byte order of names; symbolic links
    /// are not followed.
    static func filesBelow(_ directory: String) -> [String] {
        var out: [String] = []
        for name in Files.directoryEntries(directory) {
            let child = directory == "/" ? "/" + name : directory + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR { out += Files.filesBelow(child) } else { out.append(child) }
        }
        return out
    }

    /// Copies a file (its executable bit kept) or a symlink, making the target's folders; with
    /// `followLinks`, a link's target is copied instead (as upload-artifact zips it).
    @discardableResult
    static func copyFile(_ source: String, to target: String, followLinks: Bool = false) -> Bool {
        var info = stat()
        guard (followLinks ? stat(source, &info) : lstat(source, &info)) == 0 else { return false }
        if let slash = target.lastIndex(of: "/") { Files.makeDirectory(String(target[..<slash])) }
        unlink(target)
        if (info.st_mode & S_IFMT) == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(source, &buffer, buffer.count - 1)
            guard n >= 0 else { return false }
            buffer[n] = 0
            return symlink(buffer, target) == 0
        }
        return (try? FileCopy.copy(source, to: target, mode: UInt32(info.st_mode & 0o111 != 0 ? 0o755 : 0o644))) != nil
    }

    /// Reads a small file, changes its text and writes it back, all under an exclusive `flock`, so
    /// processes sharing the file see each change whole (the file is made when missing). `change`
    /// returns the new text, or nil to leave the file as it is. Throws a one-line reason.
    static func updateLocked(_ path: String, _ change: (String) -> String?) throws(LockedFileError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LockedFileError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var locked: Int32
        repeat { locked = flock(fd, LOCK_EX) } while locked != 0 && errno == EINTR
        guard locked == 0 else { throw LockedFileError(message: "cannot lock \(path): \(String(cString: strerror(errno)))") }
        defer { flock(fd, LOCK_UN) }
        guard let text = change(String(decoding: readAll(fd), as: UTF8.self)) else { return }
        var data = Array(text.utf8)
        guard ftruncate(fd, 0) == 0, data.withUnsafeMutableBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == data.count else {
            throw LockedFileError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Why `Files.updateLocked` could not change its file.
struct LockedFileError: Error {
    var message: String
}

/// Sizes as people write them: `10G`, `500M`, `64k`, `1048576` (powers of 1024).
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingCharacters(in: " "))
        var factor: Int64 = 1
        if let last = digits.last?.uppercased(), let power = ["K": 1, "M": 2, "G": 3, "T": 4][last] {
            factor = Int64(1) << (10 * power)
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value >= 0 else { return nil }
        return value.multipliedReportingOverflow(by: factor).overflow ? nil : value * factor
    }

    /// `1.5 MiB`, `12 B`.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(Int(value * 10) / 10) + "." + String(Int(value * 10) % 10) + " " + units[unit]
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
