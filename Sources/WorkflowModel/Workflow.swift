/// A parsed workflow file: everything GitHub's workflow syntax allows, each part with its location.
///
/// Text that may hold `${{ }}` is kept raw; the expression engine evaluates it later.
public struct Workflow: Hashable, Sendable, Codable {
    /// The path the workflow was read from, as the user named it.
    public var file: String
    public var name: Located<String>?
    public var runName: Located<String>?
    /// The events that trigger the workflow, in file order.
    public var triggers: [Trigger]
    public var permissions: Permissions?
    public var env: Environment?
    public var defaults: RunDefaults?
    public var concurrency: Concurrency?
    /// `cache-mode`: how `actions/cache` uses the cache in every job (`read`, `write`, `write-only`,
    /// `none`); a job's own value wins.
    public var cacheMode: Located<String>?
    /// The jobs, in file order.
    public var jobs: [Job]

    public init(
        file: String,
        name: Located<String>? = nil,
        runName: Located<String>? = nil,
        triggers: [Trigger] = [],
        permissions: Permissions? = nil,
        env: Environment? = nil,
        defaults: RunDefaults? = nil,
        concurrency: Concurrency? = nil,
        jobs: [Job] = []
    ) {
        self.file = file
        self.name = name
        self.runName = runName
        self.triggers = triggers
        self.permissions = permissions
        self.env = env
        self.defaults = defaults
        self.concurrency = concurrency
        self.jobs = jobs
    }

    /// The job with this id; ids compare case-insensitively, as GitHub compares them.
    public func job(_ id: String) -> Job? {
        jobIndex(id).map { jobs[$0] }
    }

    /// Where the job with this id is in `jobs` (case-insensitive, without making a string per job).
    public func jobIndex(_ id: String) -> Int? {
        jobs.firstIndex { Self.sameID($0.id.value, id) }
    }

    /// An id or key as GitHub compares it, for hashing: lowercased. Text of ASCII letters without
    /// capitals, nearly every id, is returned as it is (`lowercased()` makes a new string each time).
    public static func foldedID(_ id: String) -> String {
        var id = id
        // Over the bytes in place: iterating `utf8` costs about as much as `lowercased()` itself.
        let plain = id.withUTF8 { bytes in
            for byte in bytes where byte >= 0x80 || byte &- 0x41 < 26 { return false }
            return true
        }
        return plain ? id : id.lowercased()
    }

    /// Case-insensitive equality as GitHub compares ids and keys: ASCII letters folded in place,
    /// without making a string; other text compared after `lowercased()`.
    ///
    /// The common ASCII prefix decides alone when it holds two different letters (or other bytes), or
    /// when one text ends there: the lower case of ASCII is one ASCII character, and no character's lower
    /// case is empty. Only a non-ASCII byte within the shorter length leaves it to `lowercased()` (the
    /// Kelvin sign `K` is a `k`).
    public static func sameID(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        let decided: Bool? = a.withUTF8 { x in
            b.withUTF8 { y in
                let n = min(x.count, y.count)
                var i = 0
                while i < n {
                    let p = x[i], q = y[i]
                    if p >= 0x80 || q >= 0x80 { return nil }
                    if p != q {
                        let folded = p | 0x20
                        guard folded == q | 0x20, folded >= 0x61, folded <= 0x7A else { return false }
                    }
                    i += 1
                }
                return x.count == y.count
            }
        }
        return decided ?? (a.lowercased() == b.lowercased())
    }

    /// The trigger for this event name, if the workflow has one.
    public func trigger(_ event: String) -> Trigger? {
        triggers.first { $0.event.value == event }
    }
}

/// An `env:` block: a mapping, or one expression that yields a mapping.
public enum Environment: Hashable, Sendable, Codable {
    case mapping([MappingEntry])
    case expression(Located<String>)

    /// The entries of a literal mapping; empty for an expression.
    public var entries: [MappingEntry] {
        if case .mapping(let entries) = self { return entries }
        return []
    }
}

/// A boolean setting that may also be written as an expression (`continue-on-error`, `fail-fast`…).
public enum BoolOrExpression: Hashable, Sendable, Codable {
    case value(Bool)
    case expression(String)
}

/// A number setting that may also be written as an expression (`timeout-minutes`, `max-parallel`).
public enum NumberOrExpression: Hashable, Sendable, Codable {
    case value(Double)
    case expression(String)
}

/// `defaults.run` at workflow or job level.
public struct RunDefaults: Hashable, Sendable, Codable {
    public var shell: Located<String>?
    public var workingDirectory: Located<String>?
    /// Job level only: `run:` written as one expression yielding `{shell, working-directory}`.
    public var expression: Located<String>?

    public init(shell: Located<String>? = nil, workingDirectory: Located<String>? = nil) {
        self.shell = shell
        self.workingDirectory = workingDirectory
    }
}

/// `concurrency:` at workflow or job level.
public struct Concurrency: Hashable, Sendable, Codable {
    /// The group name, raw (it may hold expressions). Compared case-insensitively once evaluated.
    public var group: Located<String>
    public var cancelInProgress: Located<BoolOrExpression>?
    /// `single` (the default) or `max`.
    public var queue: Located<String>?

    public init(
        group: Located<String>,
        cancelInProgress: Located<BoolOrExpression>? = nil,
        queue: Located<String>? = nil
    ) {
        self.group = group
        self.cancelInProgress = cancelInProgress
        self.queue = queue
    }
}

/// `permissions:` for the `GITHUB_TOKEN`.
public enum Permissions: Hashable, Sendable, Codable {
    /// `read-all` or `write-all`.
    case all(Located<String>)
    /// Per scope, e.g. `contents: read`; an empty list is `{}` (no permissions).
    case scopes([Scope])

    /// One `scope: level` entry.
    public struct Scope: Hashable, Sendable, Codable {
        public var name: Located<String>
        public var level: Located<String>

        public init(name: Located<String>, level: Located<String>) {
            self.name = name
            self.level = level
        }
    }
}
