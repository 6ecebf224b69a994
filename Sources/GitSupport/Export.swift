internal import CGit2

#if canImport(Glibc)
import Glibc
#endif

extension Repository {
    /// Which tree `export` copies.
    public enum ExportSource: Sendable {
        /// The working tree as it is: tracked files with their uncommitted changes and untracked files
        /// git does not ignore (deleted files stay deleted).
        case workingTree
        /// The tree of the HEAD commit.
        case head
        /// The tree of a commit (a full sha, or anything `git rev-parse` reads), also from a bare repository.
        case commit(String)
    }

    /// Copies the repository's files (never `.git`) into `directory`, which must exist; returns how many
    /// files were written. The repository, its index and working tree are only read.
    @discardableResult
    public func export(_ source: ExportSource, to directory: String) throws(GitError) -> Int {
        switch source {
        case .head: return try exportTree("HEAD", to: directory)
        case .commit(let revision): return try exportTree(revision, to: directory)
        case .workingTree: return try exportWorkingTree(to: directory)
        }
    }

    private func exportTree(_ revision: String, to directory: String) throws(GitError) -> Int {
        var tree: OpaquePointer?
        try check(lib, "cannot read the tree of \(revision)", lib.git_revparse_single(&tree, pointer, revision + "^{tree}"))
        defer { lib.git_object_free(tree) }
        var options = git_checkout_options()
        try check(lib, "cannot set up checkout", lib.git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)))
        // FORCE writes every file; DONT_UPDATE_INDEX keeps the repository's own index untouched.
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
        let code = directory.withCString { target in
            options.target_directory = target
            return lib.git_checkout_tree(pointer, tree, &options)
        }
        try check(lib, "cannot check out \(revision) into '\(directory)'", code)
        return Self.countFiles(directory)
    }

    private func exportWorkingTree(to directory: String) throws(GitError) -> Int {
        guard let workdir = lib.git_repository_workdir(pointer).map({ String(cString: $0) }) else {
            throw GitError(operation: "cannot copy the working tree", message: "the repository is bare")
        }
        var options = git_status_options()
        try check(lib, "cannot set up status", lib.git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)))
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_INCLUDE_UNMODIFIED.rawValue | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        try check(lib, "cannot read the working tree's status", lib.git_status_list_new(&list, pointer, &options))
        defer { lib.git_status_list_free(list) }
        var count = 0
        for index in 0..<lib.git_status_list_entrycount(list) {
            guard let entry = lib.git_status_byindex(list, index)?.pointee else { continue }
            if entry.status.rawValue & GIT_STATUS_WT_DELETED.rawValue != 0 { continue }
            let delta = entry.index_to_workdir ?? entry.head_to_index
            guard let path = delta?.pointee.new_file.path.map({ String(cString: $0) }) else { continue }
            if try Self.copy(from: workdir + path, to: directory + "/" + path, below: directory) { count += 1 }
        }
        return count
    }

    /// Copies one file or symlink, making its folders below `root`; false when the source is gone or not
    /// a file. A symbolic link already standing where a folder goes is an error, never followed.
    private static func copy(from source: String, to target: String, below root: String) throws(GitError) -> Bool {
        var info = stat()
        guard lstat(source, &info) == 0 else { return false }
        try makeParents(of: target, below: root)
        unlink(target)
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(source, &buffer, buffer.count - 1)
            guard n >= 0 else { return false }
            buffer[n] = 0
            guard symlink(buffer, target) == 0 else { throw failure("cannot create link '\(target)'") }
            return true
        case S_IFREG:
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw failure("cannot read '\(source)'") }
            defer { close(input) }
            // Executable bits are kept, as git keeps them; other modes follow git's 644/755.
            let mode: mode_t = info.st_mode & 0o111 != 0 ? 0o755 : 0o644
            let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
            guard output >= 0 else { throw failure("cannot write '\(target)'") }
            defer { close(output) }
            var remaining = Int(info.st_size)
            while remaining > 0 {
                let n = gantry_copy_file_range(input, output, UInt(remaining))
                if n <= 0 { break }
                remaining -= n
            }
            if remaining > 0 {
                // copy_file_range refused (another file system, an old kernel): plain reads and writes.
                lseek(input, 0, SEEK_SET)
                ftruncate(output, 0)
                lseek(output, 0, SEEK_SET)
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    guard chunk.withUnsafeBytes({ write(output, $0.baseAddress, n) }) == n else { throw failure("cannot write '\(target)'") }
                }
            }
            return true
        default:
            return false
        }
    }

    private static func failure(_ operation: String) -> GitError {
        GitError(operation: operation, message: String(cString: strerror(errno)))
    }

    private static func makeParents(of path: String, below root: String) throws(GitError) {
        var partial = ""
        let parts = path.split(separator: "/")
        for part in parts.dropLast() {
            partial += "/" + part
            guard partial.count > root.count else { continue }
            var info = stat()
            if lstat(partial, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFLNK {
                    throw GitError(operation: "cannot write '\(path)'", message: "'\(partial)' is a symbolic link; gantry does not write through it")
                }
            } else {
                mkdir(partial, 0o755)
            }
        }
    }

    private static func countFiles(_ directory: String) -> Int {
        guard let dir = opendir(directory) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
            if name == "." || name == ".." { continue }
            let child = directory + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            count += (info.st_mode & S_IFMT) == S_IFDIR ? countFiles(child) : 1
        }
        return count
    }
}
