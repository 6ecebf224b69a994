internal import CGit2
import Dispatch

/// What Gantry needs to know about the repository a workflow runs in.
public struct RepositoryFacts: Sendable, Equatable {
    /// The repository's top folder.
    public var workdir: String
    /// The HEAD commit, or nil in a repository with no commit yet.
    public var sha: String?
    /// `refs/heads/<branch>`, or `refs/tags/<tag>` for a detached HEAD that a tag points at; nil for
    /// another detached HEAD.
    public var ref: String?
    public var isDetached: Bool
    /// `owner/name` from the `origin` remote's URL (https, ssh or scp-like forms).
    public var repository: String?
    public var remoteURL: String?
    /// The author of the HEAD commit.
    public var authorName: String?
    public var authorEmail: String?
    public var commitMessage: String?
    /// Paths HEAD changed against its first parent (every file for a root commit); a rename lists both
    /// the old and the new path.
    public var changedPaths: [String]
    /// The same, as added, removed and modified (see `CommitDetails`).
    public var added: [String] = []
    public var removed: [String] = []
    public var modified: [String] = []
    /// The branch `origin/HEAD` points at, else `main` or `master` when such a branch exists.
    public var defaultBranch: String?
}

/// HEAD's commit as the object database records it.
public struct CommitDetails: Sendable, Equatable {
    public var authorName: String?
    public var authorEmail: String?
    public var commitMessage: String?
    public var changedPaths: [String] = []
    /// The changed paths as a push payload lists them: files the commit added, removed and modified
    /// (a rename is the old path removed and the new one added; a file that became a folder is
    /// removed, the folder's files added).
    public var added: [String] = []
    public var removed: [String] = []
    public var modified: [String] = []
    /// HEAD's first parent.
    public var parentSha: String?
    /// A tag whose commit is HEAD (the alphabetically first), peeling annotated tags.
    public var tag: String?
}

/// A git repository opened with libgit2.
public final class Repository {
    let pointer: OpaquePointer
    let lib: LibGit2

    /// Finds the repository containing `path` (searching parent folders), as git does.
    public init(discoveringFrom path: String) throws(GitError) {
        let lib = try LibGit2.load()
        var repo: OpaquePointer?
        try check(lib, "cannot open a git repository at '\(path)'", lib.git_repository_open_ext(&repo, path, 0, nil))
        self.lib = lib
        pointer = repo!
    }

    init(lib: LibGit2, pointer: OpaquePointer) {
        self.lib = lib
        self.pointer = pointer
    }

    deinit {
        lib.git_repository_free(pointer)
    }

    /// Everything in `RepositoryFacts`, read once.
    public func facts() throws(GitError) -> RepositoryFacts {
        let workdir = lib.git_repository_workdir(pointer).map { String(cString: $0) } ?? ""
        var facts = RepositoryFacts(workdir: workdir, isDetached: lib.git_repository_head_detached(pointer) == 1, changedPaths: [])
        var head: OpaquePointer?
        let headCode = lib.git_repository_head(&head, pointer)
        if headCode == GIT_EUNBORNBRANCH.rawValue || headCode == GIT_ENOTFOUND.rawValue {
            // A new repository: HEAD names a branch with no commit yet.
            var symbolic: OpaquePointer?
            if lib.git_reference_lookup(&symbolic, pointer, "HEAD") == 0, let target = lib.git_reference_symbolic_target(symbolic) {
                facts.ref = String(cString: target)
            }
            lib.git_reference_free(symbolic)
        } else {
            try check(lib, "cannot read HEAD", headCode)
            defer { lib.git_reference_free(head) }
            if let oid = lib.git_reference_target(head) {
                facts.sha = hex(oid)
                try readCommit(oid, into: &facts)
                if facts.isDetached {
                    facts.ref = tag(pointingAt: oid).map { "refs/tags/" + $0 }
                } else if let name = lib.git_reference_name(head) {
                    facts.ref = String(cString: name)
                }
            }
        }
        facts.remoteURL = remoteURL("origin")
        facts.repository = facts.remoteURL.flatMap { Self.ownerAndName(fromRemoteURL: $0) }
        facts.defaultBranch = defaultBranch()
        return facts
    }

    /// What only the object database knows: HEAD's author, message and changed paths, and the tag
    /// (annotated or not) that points at HEAD.
    public func commitDetails() throws(GitError) -> CommitDetails {
        var head: OpaquePointer?
        let code = lib.git_repository_head(&head, pointer)
        if code == GIT_EUNBORNBRANCH.rawValue || code == GIT_ENOTFOUND.rawValue { return CommitDetails() }
        try check(lib, "cannot read HEAD", code)
        defer { lib.git_reference_free(head) }
        guard let oid = lib.git_reference_target(head) else { return CommitDetails() }
        var facts = RepositoryFacts(workdir: "", isDetached: false, changedPaths: [])
        try readCommit(oid, into: &facts)
        var parent: String?
        var commit: OpaquePointer?
        if lib.git_commit_lookup(&commit, pointer, oid) == 0 {
            var first: OpaquePointer?
            if lib.git_commit_parentcount(commit) > 0, lib.git_commit_parent(&first, commit, 0) == 0 {
                if let id = lib.git_commit_id(first) { parent = hex(id) }
                lib.git_commit_free(first)
            }
            lib.git_commit_free(commit)
        }
        return CommitDetails(
            authorName: facts.authorName, authorEmail: facts.authorEmail, commitMessage: facts.commitMessage,
            changedPaths: facts.changedPaths, added: facts.added, removed: facts.removed, modified: facts.modified, parentSha: parent,
            tag: tag(pointingAt: oid))
    }

    private func readCommit(_ oid: UnsafePointer<git_oid>, into facts: inout RepositoryFacts) throws(GitError) {
        var commit: OpaquePointer?
        try check(lib, "cannot read the HEAD commit", lib.git_commit_lookup(&commit, pointer, oid))
        defer { lib.git_commit_free(commit) }
        if let author = lib.git_commit_author(commit) {
            facts.authorName = author.pointee.name.map { String(cString: $0) }
            facts.authorEmail = author.pointee.email.map { String(cString: $0) }
        }
        facts.commitMessage = lib.git_commit_message(commit).map { String(cString: $0) }
        let changes = try changedPaths(commit)
        facts.changedPaths = Array(Set(changes.added + changes.removed + changes.modified)).sorted()
        facts.added = changes.added
        facts.removed = changes.removed
        facts.modified = changes.modified
    }

    /// Paths changed by `commit` against its first parent, with rename detection.
    private func changedPaths(_ commit: OpaquePointer?) throws(GitError) -> CommitReader.Changes {
        var tree: OpaquePointer?
        try check(lib, "cannot read the HEAD tree", lib.git_commit_tree(&tree, commit))
        defer { lib.git_tree_free(tree) }
        var parentTree: OpaquePointer?
        if lib.git_commit_parentcount(commit) > 0 {
            var parent: OpaquePointer?
            try check(lib, "cannot read the parent commit", lib.git_commit_parent(&parent, commit, 0))
            defer { lib.git_commit_free(parent) }
            try check(lib, "cannot read the parent tree", lib.git_commit_tree(&parentTree, parent))
        }
        defer { lib.git_tree_free(parentTree) }
        var diff: OpaquePointer?
        try check(lib, "cannot diff HEAD against its parent", lib.git_diff_tree_to_tree(&diff, pointer, parentTree, tree, nil))
        defer { lib.git_diff_free(diff) }
        var options = git_diff_find_options()
        lib.git_diff_find_options_init(&options, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION))
        options.flags = GIT_DIFF_FIND_RENAMES.rawValue
        try check(lib, "cannot detect renames", lib.git_diff_find_similar(diff, &options))
        var changes = CommitReader.Changes()
        for i in 0..<lib.git_diff_num_deltas(diff) {
            guard let delta = lib.git_diff_get_delta(diff, i) else { continue }
            let old = delta.pointee.old_file.path.map { String(cString: $0) }
            let new = delta.pointee.new_file.path.map { String(cString: $0) }
            switch delta.pointee.status {
            case GIT_DELTA_DELETED: if let old { changes.removed.append(old) }
            case GIT_DELTA_RENAMED:
                if let old { changes.removed.append(old) }
                if let new { changes.added.append(new) }
            case GIT_DELTA_ADDED, GIT_DELTA_COPIED: if let new { changes.added.append(new) }
            default: if let new { changes.modified.append(new) }
            }
        }
        return CommitReader.Changes(added: changes.added.sorted(), removed: changes.removed.sorted(), modified: changes.modified.sorted())
    }

    /// A tag (lightweight or annotated) whose commit is `oid`; the alphabetically first when several.
    private func tag(pointingAt oid: UnsafePointer<git_oid>) -> String? {
        var names = git_strarray()
        guard lib.git_tag_list(&names, pointer) == 0 else { return nil }
        defer { lib.git_strarray_dispose(&names) }
        var found: [String] = []
        for i in 0..<names.count {
            guard let raw = names.strings[i] else { continue }
            let name = String(cString: raw)
            var object: OpaquePointer?
            guard lib.git_revparse_single(&object, pointer, "refs/tags/\(name)^{commit}") == 0 else { continue }
            defer { lib.git_object_free(object) }
            if lib.git_oid_equal(lib.git_object_id(object), oid) == 1 { found.append(name) }
        }
        return found.sorted().first
    }

    /// The remote's URL as configured (`remote.<name>.url`), before any `insteadOf` rewriting, so
    /// `owner/name` is what the user wrote.
    private func remoteURL(_ name: String) -> String? {
        var config: OpaquePointer?
        guard lib.git_repository_config_snapshot(&config, pointer) == 0 else { return nil }
        defer { lib.git_config_free(config) }
        var value: UnsafePointer<CChar>?
        guard lib.git_config_get_string(&value, config, "remote.\(name).url") == 0, let value else { return nil }
        return String(cString: value)
    }

    private func defaultBranch() -> String? {
        var ref: OpaquePointer?
        if lib.git_reference_lookup(&ref, pointer, "refs/remotes/origin/HEAD") == 0 {
            defer { lib.git_reference_free(ref) }
            if let target = lib.git_reference_symbolic_target(ref) {
                let name = String(cString: target)
                let prefix = "refs/remotes/origin/"
                if name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
            }
        }
        for candidate in ["main", "master"] {
            var branch: OpaquePointer?
            if lib.git_reference_lookup(&branch, pointer, "refs/heads/\(candidate)") == 0 {
                lib.git_reference_free(branch)
                return candidate
            }
        }
        return nil
    }

    /// `owner/name` from `https://host/owner/name(.git)`, `ssh://git@host[:port]/owner/name(.git)` or
    /// `git@host:owner/name(.git)`.
    public static func ownerAndName(fromRemoteURL url: String) -> String? {
        var path: Substring
        if let scheme = url.firstRange(of: "://") {
            let rest = url[scheme.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            path = rest[rest.index(after: slash)...]
        } else if let colon = url.firstIndex(of: ":"), !url.hasPrefix("/") {
            path = url[url.index(after: colon)...]
        } else {
            return nil
        }
        while path.hasSuffix("/") { path = path.dropLast() }
        if path.hasSuffix(".git") { path = path.dropLast(4) }
        let parts = path.split(separator: "/")
        guard parts.count >= 2 else { return nil }
        return parts.suffix(2).joined(separator: "/")
    }

    func hex(_ oid: UnsafePointer<git_oid>) -> String {
        var buffer = [CChar](repeating: 0, count: 41)
        _ = lib.git_oid_tostr(&buffer, 41, oid)
        return String(cString: buffer)
    }
}

/// libgit2's global state, initialised once per process.
///
/// Debian's libgit2 loads the system's CA bundle through mbedTLS when it initialises (about 8 ms of
/// CPU), although Gantry only reads local repositories; `prewarm()` starts that work on another core
/// while the command line is parsed.
public enum GitLibrary {
    static func initialize() {
        _ = LibGit2.shared
    }

    /// Initialises libgit2 on a background thread, so a later `Repository` finds it ready.
    public static func prewarm() {
        DispatchQueue.global(qos: .userInitiated).async { initialize() }
    }
}
