#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file-system calls the front end needs, on libc directly: Foundation's start-up cost would
/// dominate `gantry validate` on a small repository.
enum FileSystem {
    /// A failure to read, with the system's message.
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot read '\(path)': \(reason)" }
    }

    /// The absolute, resolved path (the path itself when it cannot be resolved).
    static func absolute(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Whether `path` is a directory (true), something else (false), or nothing this process can see
    /// (nil): one `stat` where `isDirectory` and `exists` make two.
    static func isDirectoryIfExists(_ path: String) -> Bool? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The whole file.
    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, reason: lastError()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(path: path, reason: lastError()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(path: path, reason: "it is a directory") }
        let isRegular = (info.st_mode & S_IFMT) == S_IFREG
        // Read straight into a buffer of the file's size (plus one byte to notice growth), not into a
        // scratch chunk copied per file.
        var bytes = [UInt8]()
        var capacity = Int(info.st_size) + 1
        while true {
            var failure: Int32 = 0
            var grown = false
            let start = bytes.count
            bytes.reserveCapacity(start + capacity)
            bytes.append(contentsOf: repeatElement(0, count: capacity))
            let filled = bytes.withUnsafeMutableBytes { raw -> Int in
                var total = 0
                while total < capacity {
                    let wanted = capacity - total
                    let n = Glibc.read(fd, raw.baseAddress! + start + total, wanted)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return total
                    }
                    if n == 0 { return total }
                    total += n
                    // A regular file gives less than asked only at its end: no second read for the 0.
                    if n < wanted && isRegular { return total }
                }
                grown = true
                return total
            }
            bytes.removeLast(capacity - filled)
            if failure != 0 { throw Failure(path: path, reason: String(cString: strerror(failure))) }
            if !grown { return bytes }
            capacity = max(capacity, 65536)
        }
    }

    /// An entry of a directory: its name and whether it is a directory, when the directory listing
    /// says so (nil: a symbolic link, or a file system that does not say; `stat` it).
    struct Entry {
        var name: String
        var isDirectory: Bool?
    }

    /// The entries of a directory, sorted by the bytes of their names (`strcmp`), without `.` and `..`.
    ///
    /// `scandir` sorts them in C: the standard library's sort of a `[Entry]` by `String` order made the
    /// runtime build its generic types on first use and compared through Unicode, a third of
    /// `validate`'s look for files, which the other threads wait for. For UTF-8 names the byte order
    /// is the order of their Unicode scalars.
    ///
    /// Each entry `scandir` gives is allocated at its record's length, shorter than `dirent` when the
    /// name is: its fields are read where they lie (`nameOffset`, `typeOffset`), never by copying the
    /// whole struct or its 256-byte name, which read past the allocation (`gantry serve` crashed so).
    static func entries(_ path: String) throws(Failure) -> [Entry] {
        var list: UnsafeMutablePointer<UnsafeMutablePointer<dirent>?>?
        let count = scandir(path, &list, nil) { a, b in
            guard let a = a?.pointee, let b = b?.pointee else { return 0 }
            return strcmp(FileSystem.name(of: UnsafeRawPointer(a)), FileSystem.name(of: UnsafeRawPointer(b)))
        }
        guard count >= 0, let list else { throw Failure(path: path, reason: lastError()) }
        defer {
            for index in 0..<Int(count) { free(list[index]) }
            free(list)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let entry = list[index] else { continue }
            let record = UnsafeRawPointer(entry)
            let name = String(cString: name(of: record))
            guard name != "." && name != ".." else { continue }
            let type = Int32(record.load(fromByteOffset: typeOffset, as: UInt8.self))
            entries.append(Entry(name: name, isDirectory: type == DT_DIR ? true : type == DT_REG ? false : nil))
        }
        return entries
    }

    /// Where a `dirent`'s name and type lie in its record.
    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    private static let typeOffset = MemoryLayout<dirent>.offset(of: \dirent.d_type)!

    /// The NUL-terminated name of the `dirent` record at `record`.
    private static func name(of record: UnsafeRawPointer) -> UnsafePointer<CChar> {
        record.advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
    }

    /// The path of the running executable (`/proc/self/exe`), nil where it cannot be read.
    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `path` is a file this process may execute.
    static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0 && !isDirectory(path)
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }

    /// Writes all of `text` to a file descriptor.
    static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
