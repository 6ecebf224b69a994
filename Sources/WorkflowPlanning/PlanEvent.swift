public import WorkflowExpressions

/// The event a plan is made for, with the payload workflows see as `github.event`.
public struct PlanEvent: Sendable {
    /// The event name, e.g. `push`, `pull_request`, `workflow_dispatch`.
    public var name: String
    /// `github.event`.
    public var payload: ExpressionValue

    /// The payload with `inputs` in place of its own (other fields kept); nil for a payload that is not
    /// an object.
    public func payload(withInputs inputs: ExpressionValue) -> ExpressionValue? {
        guard case .object(let object) = payload else { return nil }
        return .object(object.pairs.filter { $0.key != "inputs" }.map { ($0.key, $0.value) } + [("inputs", inputs)])
    }
    /// `github.ref` for this event.
    public var ref: String?
    /// Pull requests: the head and base branches (`github.head_ref`, `github.base_ref`).
    public var headRef: String?
    public var baseRef: String?
    /// The activity type (`payload.action`), matched against `types`.
    public var action: String?
    /// Paths changed, for `paths` filters.
    public var changedPaths: [String]
    /// `--input name=value` pairs, in order.
    public var inputs: [(name: String, value: String)]
    public var git: GitFacts
    /// `github.run_id`, `github.run_number` and `github.run_attempt`: "1" at plan time; a run numbers
    /// itself, and a re-run counts its attempt.
    public var runID = "1"
    public var runNumber = "1"
    public var runAttempt = "1"

    /// Builds the event: from a payload file's contents when given, else a realistic payload
    /// synthesised from the git facts, as GitHub would send for a push or a pull request.
    public init(name: String, git: GitFacts, payload given: ExpressionValue? = nil, inputs: [(name: String, value: String)] = []) {
        self.name = name
        self.git = git
        self.inputs = inputs
        self.changedPaths = git.changedPaths
        let repository = Self.repositoryObject(git)
        let payload: ExpressionValue
        if let given {
            payload = given
        } else {
            switch name {
            case "push":
                payload = .object([
                    ("ref", git.ref.map(ExpressionValue.string) ?? .null),
                    ("before", .string(git.parentSha ?? String(repeating: "0", count: 40))),
                    ("after", .string(git.sha ?? "")),
                    // An all-zero `before` means the push created the ref, as GitHub reports it.
                    ("created", .bool(git.parentSha == nil)), ("deleted", .bool(false)), ("forced", .bool(false)),
                    ("base_ref", .null),
                    ("head_commit", Self.headCommit(git)),
                    ("commits", .array(git.sha == nil ? [] : [Self.headCommit(git)])),
                    ("pusher", .object([("name", .string(git.actor ?? ""))])),
                    ("repository", repository),
                    ("sender", .object([("login", .string(git.actor ?? ""))])),
                ])
            case "pull_request", "pull_request_target":
                let head = git.isTag ? nil : git.refName
                payload = .object([
                    ("action", .string("opened")),
                    ("number", .number(1)),
                    ("pull_request", .object([
                        ("number", .number(1)),
                        ("title", .string(git.commitMessage.map { String($0.split(separator: "\n").first ?? "") } ?? "")),
                        ("state", .string("open")), ("draft", .bool(false)), ("merged", .bool(false)),
                        ("head", .object([("ref", .string(head ?? "")), ("sha", .string(git.sha ?? ""))])),
                        ("base", .object([("ref", .string(git.defaultBranch ?? "main"))])),
                        ("labels", .array([])),
                        ("user", .object([("login", .string(git.actor ?? ""))])),
                    ])),
                    ("repository", repository),
                    ("sender", .object([("login", .string(git.actor ?? ""))])),
                ])
            case "workflow_dispatch":
                payload = .object([
                    ("inputs", .object(inputs.map { ($0.name, .string($0.value)) })),
                    ("ref", git.ref.map(ExpressionValue.string) ?? .null),
                    ("repository", repository),
                    ("sender", .object([("login", .string(git.actor ?? ""))])),
                ])
            default:
                payload = .object([("repository", repository), ("sender", .object([("login", .string(git.actor ?? ""))]))])
            }
        }
        self.payload = payload
        // What filters see, read back from the payload so a given payload wins.
        let object: ExpressionObject? = { if case .object(let o) = payload { return o } else { return nil } }()
        action = object?["action"].flatMap { if case .string(let s) = $0 { return s } else { return nil } }
        if name == "pull_request" || name == "pull_request_target" {
            let pr = object?["pull_request"]
            headRef = Self.string(pr, "head", "ref") ?? git.refName
            baseRef = Self.string(pr, "base", "ref") ?? git.defaultBranch ?? "main"
            let number = Self.number(object?["number"]) ?? Self.number(Self.lookup(pr, "number")) ?? 1
            ref = name == "pull_request" ? "refs/pull/\(ExpressionNumber.format(number))/merge" : "refs/heads/\(baseRef ?? "main")"
        } else {
            ref = Self.string(payload, "ref") ?? git.ref
        }
    }

    static func repositoryObject(_ git: GitFacts) -> ExpressionValue {
        let full = git.repository ?? ""
        let parts = full.split(separator: "/")
        return .object([
            ("name", .string(parts.last.map(String.init) ?? "")),
            ("full_name", .string(full)),
            ("owner", .object([("login", .string(parts.first.map(String.init) ?? ""))])),
            ("default_branch", .string(git.defaultBranch ?? "main")),
            ("private", .bool(true)),
            ("fork", .bool(false)),
        ])
    }

    /// At most this many paths in each of a commit's `added`, `removed` and `modified` lists: a root
    /// commit of a large repository would otherwise put every file in the payload (GitHub's compare
    /// API stops at 3000 files too).
    public static let maxListedPaths = 3000

    /// `head_commit` (and the one entry of `commits`): the commit's author, not git's configured user;
    /// its changes per kind.
    static func headCommit(_ git: GitFacts) -> ExpressionValue {
        func list(_ paths: [String]) -> ExpressionValue { .array(paths.prefix(maxListedPaths).map(ExpressionValue.string)) }
        let author = ExpressionValue.object([
            ("name", .string(git.authorName ?? git.actor ?? "")), ("email", .string(git.authorEmail ?? "")),
            ("username", .string(git.actor ?? "")),
        ])
        return .object([
            ("id", .string(git.sha ?? "")),
            ("message", .string(git.commitMessage ?? "")),
            ("author", author), ("committer", author),
            ("added", list(git.added)), ("removed", list(git.removed)), ("modified", list(git.modified)),
        ])
    }

    static func lookup(_ value: ExpressionValue?, _ path: String...) -> ExpressionValue? {
        var current = value
        for key in path {
            guard case .object(let o)? = current else { return nil }
            current = o[key]
        }
        return current
    }

    static func string(_ value: ExpressionValue?, _ path: String...) -> String? {
        var current = value
        for key in path {
            guard case .object(let o)? = current else { return nil }
            current = o[key]
        }
        if case .string(let s)? = current { return s }
        return nil
    }

    static func number(_ value: ExpressionValue?) -> Double? {
        if case .number(let n)? = value { return n }
        return nil
    }

    /// The short name of `ref` (`main`, `v1.0`, or `1/merge` for a pull request).
    public var refName: String? {
        guard let ref else { return nil }
        for prefix in ["refs/heads/", "refs/tags/", "refs/pull/"] where ref.hasPrefix(prefix) { return String(ref.dropFirst(prefix.count)) }
        return ref
    }

    /// `github` as a workflow sees it at plan time; `payload` replaces `github.event` (the planner fills
    /// in a workflow's dispatch inputs).
    public func githubContext(workflowName: String, payload override: ExpressionValue? = nil) -> ExpressionValue {
        let payload = override ?? self.payload
        let parts = (git.repository ?? "").split(separator: "/")
        return .object([
            ("event_name", .string(name)),
            ("event", payload),
            ("ref", ref.map(ExpressionValue.string) ?? .string("")),
            ("ref_name", .string(refName ?? "")),
            ("ref_type", ref?.hasPrefix("refs/tags/") == true ? .string("tag") : ref?.hasPrefix("refs/heads/") == true ? .string("branch") : .string("")),
            ("sha", .string(git.sha ?? "")),
            ("repository", .string(git.repository ?? "")),
            ("repository_owner", .string(parts.first.map(String.init) ?? "")),
            ("actor", .string(git.actor ?? "")),
            ("triggering_actor", .string(git.actor ?? "")),
            ("workflow", .string(workflowName)),
            ("head_ref", .string(headRef ?? "")),
            ("base_ref", .string(baseRef ?? "")),
            ("server_url", .string("https://github.com")),
            ("api_url", .string("https://api.github.com")),
            ("graphql_url", .string("https://api.github.com/graphql")),
            ("workspace", .string(git.workspace ?? "")),
            ("run_id", .string(runID)), ("run_number", .string(runNumber)), ("run_attempt", .string(runAttempt)),
            ("retention_days", .string("90")),
        ])
    }
}
