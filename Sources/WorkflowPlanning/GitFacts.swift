/// What the planner knows about the repository, gathered by the front end (from GitSupport).
public struct GitFacts: Sendable, Codable, Equatable {
    public var sha: String?
    /// HEAD's first parent, when known (the push payload's `before`).
    public var parentSha: String?
    /// `refs/heads/…` or `refs/tags/…`; nil for a detached HEAD no tag points at.
    public var ref: String?
    /// `owner/name`.
    public var repository: String?
    public var actor: String?
    public var commitMessage: String?
    public var defaultBranch: String?
    /// Paths changed by the commit, for `paths` filters.
    public var changedPaths: [String]
    /// The repository's top folder.
    public var workspace: String?
    /// The commit's author (`head_commit.author`), and its changes as a push payload lists them.
    public var authorName: String?
    public var authorEmail: String?
    public var added: [String] = []
    public var removed: [String] = []
    public var modified: [String] = []

    public init(
        sha: String? = nil, ref: String? = nil, repository: String? = nil, actor: String? = nil,
        commitMessage: String? = nil, defaultBranch: String? = nil, changedPaths: [String] = [], workspace: String? = nil
    ) {
        self.sha = sha
        self.ref = ref
        self.repository = repository
        self.actor = actor
        self.commitMessage = commitMessage
        self.defaultBranch = defaultBranch
        self.changedPaths = changedPaths
        self.workspace = workspace
    }

    /// The short name of `ref` (`main` for `refs/heads/main`).
    public var refName: String? {
        guard let ref else { return nil }
        for prefix in ["refs/heads/", "refs/tags/"] where ref.hasPrefix(prefix) { return String(ref.dropFirst(prefix.count)) }
        return ref
    }

    public var isTag: Bool { ref?.hasPrefix("refs/tags/") ?? false }
}
