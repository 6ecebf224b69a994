internal import CZlib

#if canImport(Glibc)
import Glibc
#endif

/// Git's object database, read directly: loose objects and pack files (version 2 indexes, offset and
/// reference deltas) in `objects/` and in the folders `objects/info/alternates` names.
///
/// Only what Gantry reads from objects goes through it: commits, trees and tags, never blobs. SHA-1
/// repositories only; anything else it cannot read is a `GitError`, and the caller asks libgit2.
final class ObjectStore {
    enum Kind: Int {
        case commit = 1, tree = 2, blob = 3, tag = 4
    }

    struct Object {
        var kind: Kind
        var data: [UInt8]
    }

    /// `objects/` and its alternates, in the order git searches them.
    private let directories: [String]
    private var packs: [Pack]?

    init(objectsDirectory: String) {
        var directories = [objectsDirectory]
        var index = 0
        // Alternates may name further alternates; git stops at a depth of 5.
        while index < directories.count, directories.count < 6 {
            let base = directories[index]
            index += 1
            for line in (RefReader.readFile(base + "/info/alternates") ?? "").split(separator: "\n") {
                let path = line.trimmingSpaces
                if path.isEmpty || path.hasPrefix("#") { continue }
                let joined = path.hasPrefix("/") ? path : base + "/" + path
                let resolved = RefReader.realPath(joined) ?? joined
                if !directories.contains(resolved) { directories.append(resolved) }
            }
        }
        self.directories = directories
    }

    /// The object named by a 40-digit hex id.
    func read(_ hex: String) throws(GitError) -> Object {
        guard let id = ObjectID(hex: hex) else { throw GitError(operation: "cannot read object \(hex)", message: "not a SHA-1 object id") }
        return try read(id)
    }

    func read(_ id: ObjectID) throws(GitError) -> Object {
        switch try locate(id) {
        case .packed(let pack, let offset): return try object(in: pack, at: offset, id: id)
        case .loose(let object): return object
        }
    }

    private enum Location {
        case packed(Pack, Int)
        case loose(Object)
    }

    private func locate(_ id: ObjectID) throws(GitError) -> Location {
        for pack in try allPacks() {
            if let offset = pack.offset(of: id) { return .packed(pack, offset) }
        }
        let hex = id.hex
        for directory in directories {
            let path = directory + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
            if let bytes = RefReader.readBytes(path) { return .loose(try Self.looseObject(bytes, id: hex)) }
        }
        throw GitError(operation: "cannot read object \(hex)", message: "object not found")
    }

    private func allPacks() throws(GitError) -> [Pack] {
        if let packs { return packs }
        var found: [Pack] = []
        for directory in directories {
            let folder = directory + "/pack"
            for name in RefReader.listFiles(folder, prefix: "") where name.hasSuffix(".idx") {
                let stem = folder + "/" + name.dropLast(4)
                // A pack being written has its index renamed into place last; one without its pack is skipped.
                guard let index = MappedFile(stem + ".idx"), RefReader.exists(stem + ".pack") else { continue }
                found.append(try Pack(index: index, path: stem + ".pack"))
            }
        }
        packs = found
        return found
    }

    // MARK: Loose objects

    /// `<kind> <size>\0<data>`, deflated.
    static func looseObject(_ bytes: [UInt8], id: String) throws(GitError) -> Object {
        let problem = GitError(operation: "cannot read object \(id)", message: "corrupt loose object")
        // withUnsafeBytes rethrows untyped errors: the result carries the typed one out.
        var inflated: Result<[UInt8], GitError> = .failure(problem)
        bytes.withUnsafeBytes { buffer in inflated = Result { () throws(GitError) in try inflate(buffer, expected: nil, id: id) } }
        let raw = try inflated.get()
        guard let space = raw.firstIndex(of: 0x20), let nul = raw[space...].firstIndex(of: 0),
            let size = Int(String(decoding: raw[raw.index(after: space)..<nul], as: UTF8.self)),
            size == raw.count - nul - 1
        else { throw problem }
        let kind: Kind
        switch String(decoding: raw[..<space], as: UTF8.self) {
        case "commit": kind = .commit
        case "tree": kind = .tree
        case "blob": kind = .blob
        case "tag": kind = .tag
        default: throw problem
        }
        return Object(kind: kind, data: Array(raw[(nul + 1)...]))
    }

    // MARK: Packs

    /// The object at `offset`: its chain of deltas is followed down to a whole object (through other
    /// packs too, for reference deltas), then applied from the base up. No recursion: a corrupt pack
    /// whose deltas loop ends at the chain limit, not in a stack overflow.
    private func object(in first: Pack, at offset: Int, id: ObjectID) throws(GitError) -> Object {
        let problem = GitError(operation: "cannot read object \(id.hex)", message: "corrupt pack \(first.path)")
        var deltas: [[UInt8]] = []
        var pack = first
        var position = offset
        var base: Object?
        while base == nil {
            // A chain longer than any git writes (its maximum depth is 4095) means a loop in a corrupt pack.
            guard deltas.count < 10_000 else { throw problem }
            var header = try pack.header(at: position)
            switch header.type {
            case 1...4:
                let data = try pack.inflate(at: header.dataOffset, size: header.size, id: id)
                base = Object(kind: Kind(rawValue: header.type)!, data: data)
            case 6:
                // OFS_DELTA: the base is this many bytes before the object, in git's offset encoding.
                var byte = try pack.byte(at: header.dataOffset)
                var distance = Int(byte & 0x7f)
                header.dataOffset += 1
                while byte & 0x80 != 0 {
                    guard distance < Int.max >> 8 else { throw problem }
                    byte = try pack.byte(at: header.dataOffset)
                    header.dataOffset += 1
                    distance = ((distance + 1) << 7) | Int(byte & 0x7f)
                }
                guard distance > 0, distance <= position else { throw problem }
                deltas.append(try pack.inflate(at: header.dataOffset, size: header.size, id: id))
                position -= distance
            case 7:
                // REF_DELTA: the base is named by its id, in this pack or anywhere else.
                let baseID = try pack.objectID(at: header.dataOffset)
                deltas.append(try pack.inflate(at: header.dataOffset + 20, size: header.size, id: id))
                switch try locate(baseID) {
                case .packed(let basePack, let baseOffset): (pack, position) = (basePack, baseOffset)
                case .loose(let object): base = object
                }
            default:
                throw problem
            }
        }
        var result = base!
        for delta in deltas.reversed() {
            guard let applied = Self.apply(delta, to: result.data) else { throw problem }
            result.data = applied
        }
        return result
    }

    /// Git's delta format: the base's and the result's sizes, then copies from the base and inserts.
    static func apply(_ delta: [UInt8], to base: [UInt8]) -> [UInt8]? {
        var i = 0
        func size() -> Int? {
            var value = 0
            var shift = 0
            while i < delta.count, shift < 63 {
                let byte = delta[i]
                i += 1
                value |= Int(byte & 0x7f) << shift
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
        guard let baseSize = size(), baseSize == base.count, let resultSize = size() else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(resultSize)
        while i < delta.count {
            let op = delta[i]
            i += 1
            if op & 0x80 != 0 {
                var offset = 0
                var length = 0
                for bit in 0..<4 where op & (1 << bit) != 0 {
                    guard i < delta.count else { return nil }
                    offset |= Int(delta[i]) << (8 * bit)
                    i += 1
                }
                for bit in 0..<3 where op & (0x10 << bit) != 0 {
                    guard i < delta.count else { return nil }
                    length |= Int(delta[i]) << (8 * bit)
                    i += 1
                }
                if length == 0 { length = 0x10000 }
                guard offset + length <= base.count else { return nil }
                out.append(contentsOf: base[offset..<(offset + length)])
            } else if op != 0 {
                let length = Int(op)
                guard i + length <= delta.count else { return nil }
                out.append(contentsOf: delta[i..<(i + length)])
                i += length
            } else {
                return nil
            }
        }
        return out.count == resultSize ? out : nil
    }

    // MARK: Files and zlib

    /// Inflates one zlib stream from the start of `input` (which may go on past it); `expected` is the
    /// inflated size when the caller knows it, and must then match.
    static func inflate(_ input: UnsafeRawBufferPointer, expected: Int?, id: String) throws(GitError) -> [UInt8] {
        let problem = GitError(operation: "cannot read object \(id)", message: "corrupt compressed data")
        var stream = z_stream()
        guard gantry_inflate_init(&stream) == Z_OK else { throw problem }
        defer { inflateEnd(&stream) }
        guard let base = input.baseAddress else { throw problem }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(min(input.count, Int(UInt32.max)))
        var out = [UInt8](repeating: 0, count: (expected ?? 4096) + 1)
        var produced = 0
        while true {
            let status: Int32 = out.withUnsafeMutableBytes { buffer in
                stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                stream.avail_out = uInt(buffer.count - produced)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced = buffer.count - Int(stream.avail_out)
                return status
            }
            if status == Z_STREAM_END { break }
            // Anything else than "more room needed" is corrupt or truncated input.
            guard status == Z_OK || status == Z_BUF_ERROR, stream.avail_out == 0 || (status == Z_OK && stream.avail_in > 0) else { throw problem }
            if stream.avail_out == 0 {
                // Room for one byte more than expected tells a stream that is too long.
                guard expected == nil else { throw problem }
                out += [UInt8](repeating: 0, count: out.count)
            }
        }
        if let expected, produced != expected { throw problem }
        out.removeSubrange(produced...)
        return out
    }
}

/// A SHA-1 object id, as its 20 bytes.
struct ObjectID: Hashable {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    init?(hex: some StringProtocol) {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        for pair in stride(from: 0, to: 40, by: 2) {
            guard let high = Self.value(digits[pair]), let low = Self.value(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 48...57: digit - 48
        case 97...102: digit - 87
        case 65...70: digit - 55
        default: nil
        }
    }

    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}

/// A file mapped read-only into memory.
final class MappedFile {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init?(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0,
            let address = mmap(nil, Int(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED
        else { return nil }
        self.path = path
        bytes = UnsafeRawBufferPointer(start: address, count: Int(info.st_size))
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}

/// One pack: its version 2 index (fan-out table, sorted ids, offsets) and the pack file, mapped on
/// first use.
final class Pack {
    let path: String
    private let index: MappedFile
    private var mappedPack: MappedFile?
    private let count: Int

    init(index: MappedFile, path: String) throws(GitError) {
        self.index = index
        self.path = path
        let bytes = index.bytes
        // `\377tOc`, version 2. Version 1 indexes (git before 1.5.2) are left to libgit2.
        guard bytes.count >= 8 + 256 * 4, bytes[0] == 0xff, bytes[1] == 0x74, bytes[2] == 0x4f, bytes[3] == 0x63,
            Self.uint32(bytes, 4) == 2
        else { throw GitError(operation: "cannot read pack index \(index.path)", message: "not a version 2 pack index") }
        count = Int(Self.uint32(bytes, 8 + 255 * 4))
        guard bytes.count >= 8 + 256 * 4 + count * 28 else {
            throw GitError(operation: "cannot read pack index \(index.path)", message: "index is truncated")
        }
    }

    static func uint32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    /// The object's offset in the pack, found by the fan-out table and a binary search.
    func offset(of id: ObjectID) -> Int? {
        let bytes = index.bytes
        let first = Int(id.bytes[0])
        var low = first == 0 ? 0 : Int(Self.uint32(bytes, 8 + (first - 1) * 4))
        var high = Int(Self.uint32(bytes, 8 + first * 4))
        let ids = 8 + 256 * 4
        guard high <= count else { return nil }
        while low < high {
            let middle = (low + high) / 2
            let start = ids + middle * 20
            var order = 0
            for k in 0..<20 where order == 0 {
                order = Int(bytes[start + k]) - Int(id.bytes[k])
            }
            if order == 0 {
                let offsets = ids + count * 24
                let small = Self.uint32(bytes, offsets + middle * 4)
                guard small & 0x8000_0000 != 0 else { return Int(small) }
                // Offsets past 2 GiB are in a table of 8-byte ones.
                let large = offsets + count * 4 + Int(small & 0x7fff_ffff) * 8
                guard large + 8 <= bytes.count else { return nil }
                return Int(Self.uint32(bytes, large)) << 32 | Int(Self.uint32(bytes, large + 4))
            }
            if order < 0 { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    private func pack() throws(GitError) -> UnsafeRawBufferPointer {
        if let mappedPack { return mappedPack.bytes }
        guard let file = MappedFile(path) else { throw GitError(operation: "cannot read pack \(path)", message: "cannot map the file") }
        mappedPack = file
        return file.bytes
    }

    func byte(at offset: Int) throws(GitError) -> UInt8 {
        let bytes = try pack()
        guard offset >= 0, offset < bytes.count else { throw GitError(operation: "cannot read pack \(path)", message: "offset past its end") }
        return bytes[offset]
    }

    /// An entry's type (1–4 whole objects, 6 and 7 deltas), inflated size and where its data starts.
    func header(at offset: Int) throws(GitError) -> (type: Int, size: Int, dataOffset: Int) {
        var position = offset
        var byte = try self.byte(at: position)
        position += 1
        let type = Int(byte >> 4) & 7
        var size = Int(byte & 0x0f)
        var shift = 4
        while byte & 0x80 != 0 {
            guard shift < 60 else { throw GitError(operation: "cannot read pack \(path)", message: "corrupt entry header") }
            byte = try self.byte(at: position)
            position += 1
            size |= Int(byte & 0x7f) << shift
            shift += 7
        }
        return (type, size, position)
    }

    func objectID(at offset: Int) throws(GitError) -> ObjectID {
        let bytes = try pack()
        guard offset >= 0, offset + 20 <= bytes.count else { throw GitError(operation: "cannot read pack \(path)", message: "offset past its end") }
        return ObjectID(bytes: Array(bytes[offset..<(offset + 20)]))
    }

    func inflate(at offset: Int, size: Int, id: ObjectID) throws(GitError) -> [UInt8] {
        let bytes = try pack()
        guard offset >= 0, offset < bytes.count else { throw GitError(operation: "cannot read pack \(path)", message: "offset past its end") }
        return try ObjectStore.inflate(UnsafeRawBufferPointer(rebasing: bytes[offset...]), expected: size, id: id.hex)
    }
}
