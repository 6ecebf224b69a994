internal import CGit2

#if canImport(Glibc)
import Glibc
#endif

/// A bare mirror of a repository someone else hosts (`gantry serve`): every branch and tag fetched with
/// libgit2 from its URL (`git://`, `file://`, a path, `https://` where a network exists), workflows and
/// checkouts read from it at a commit, never from a working tree.
public struct Mirror: Sendable {
    public let path: String
    public let url: String

    public init(path: String, url: String) {
        self.path = path
        self.url = url
    }

    /// Fetches every branch and tag, pruning those the remote deleted, and points the mirror's `HEAD` at
    /// the remote's default branch; makes the bare repository on first use. Not safe to call twice at
    /// once for one mirror: the caller serialises.
    public func fetch() throws(GitError) {
        let lib = try LibGit2.load()
        var repo: OpaquePointer?
        if lib.git_repository_open_ext(&repo, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil) < 0 {
            try check(lib, "cannot create the mirror '\(path)'", lib.git_repository_init(&repo, path, 1))
        }
        defer { lib.git_repository_free(repo) }
        var remote: OpaquePointer?
        try check(lib, "cannot use the remote '\(url)'", lib.git_remote_create_anonymous(&remote, repo, url))
        defer { lib.git_remote_free(remote) }
        var options = git_fetch_options()
        try check(lib, "cannot set up fetch", lib.git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)))
        options.prune = GIT_FETCH_PRUNE
        options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL
        let specs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
        let cStrings = specs.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafeMutablePointer<CChar>?] = cStrings
        let code = pointers.withUnsafeMutableBufferPointer { buffer in
            var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return lib.git_remote_fetch(remote, &array, &options, "gantry serve: fetch")
        }
        try check(lib, "cannot fetch '\(url)'", code)
        // The heads the remote advertised stay readable after the fetch disconnected.
        var branch = git_buf()
        if lib.git_remote_default_branch(&branch, remote) == 0, let name = branch.ptr { _ = lib.git_repository_set_head(repo, name) }
        lib.git_buf_dispose(&branch)
    }

    /// The branch the mirror's `HEAD` names (`refs/heads/main`): the remote's default branch once fetched.
    public func defaultBranch() throws(GitError) -> String {
        let lib = try LibGit2.load()
        let repository = try open()
        var head: OpaquePointer?
        try check(lib, "the mirror '\(path)' has no HEAD", lib.git_reference_lookup(&head, repository.pointer, "HEAD"))
        defer { lib.git_reference_free(head) }
        guard let target = lib.git_reference_symbolic_target(head) else { throw GitError(operation: "reading the mirror's HEAD", message: "it names no branch") }
        return String(cString: target)
    }

    /// The mirror, opened for reading (`export(.commit(sha), to:)`, `resolve`).
    public func open() throws(GitError) -> Repository {
        try Repository(at: path)
    }
}

extension Repository {
    /// Opens the repository at exactly `path` (a bare one too), without searching parent folders.
    public convenience init(at path: String) throws(GitError) {
        let lib = try LibGit2.load()
        var repo: OpaquePointer?
        try check(
            lib, "cannot open the git repository '\(path)'",
            lib.git_repository_open_ext(&repo, path, UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue), nil))
        self.init(lib: lib, pointer: repo!)
    }

    /// The full sha of the commit `revision` names (a sha, `refs/heads/main`, `main`, a tag).
    public func resolve(_ revision: String) throws(GitError) -> String {
        var object: OpaquePointer?
        try check(lib, "no commit '\(revision)'", lib.git_revparse_single(&object, pointer, revision + "^{commit}"))
        defer { lib.git_object_free(object) }
        var buffer = [CChar](repeating: 0, count: 80)
        _ = lib.git_oid_tostr(&buffer, buffer.count, lib.git_object_id(object))
        return String(cString: buffer)
    }
}
