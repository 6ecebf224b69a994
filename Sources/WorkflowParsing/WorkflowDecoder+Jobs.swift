import WorkflowExpressions
import WorkflowModel

extension WorkflowDecoder {
    static let stepJobKeys = [
        "name", "needs", "permissions", "runs-on", "environment", "concurrency", "outputs", "env", "defaults",
        "if", "steps", "timeout-minutes", "cancel-timeout-minutes", "strategy", "continue-on-error",
        "container", "services", "snapshot", "cache-mode",
    ]
    static let reusableJobKeys = [
        "name", "uses", "with", "secrets", "needs", "if", "permissions", "concurrency", "strategy", "cache-mode",
    ]

    mutating func jobs(_ node: YAMLNode) -> [Job] {
        guard let pairs = pairs(node, "'jobs'", allowNull: false) else { return [] }
        if pairs.isEmpty {
            report("'jobs' must define at least one job", at: node, rule: "missing-key")
        }
        // Reserved: a Job is large, and growing the array copies every one decoded so far.
        var jobs: [Job] = []
        jobs.reserveCapacity(pairs.count)
        for pair in pairs {
            if let job = job(id: pair.key, pair.value) { jobs.append(job) }
        }
        return jobs
    }

    private mutating func job(id idNode: YAMLNode, _ node: YAMLNode) -> Job? {
        let idText = idNode.scalar ?? ""
        let id = Located(idText, at: location(idNode))
        if !Self.isValidIdentifier(idText) {
            report(
                "invalid job id '\(idText)': an id must start with a letter or '_' and contain only letters, digits, '-' and '_'",
                at: idNode, rule: "id")
        } else if idText.hasPrefix("__") {
            // The runner's IdBuilder reserves names starting with '__' (`__run`, `__actions_checkout`).
            report("invalid job id '\(idText)': ids starting with '__' are reserved", at: idNode, rule: "id")
        }
        let what = "job '\(idText)'"
        guard case .mapping = node.kind else {
            typeMismatch(what, expected: "a mapping", found: node)
            return nil
        }
        var isReusable = false
        if case .mapping(let rawPairs) = node.kind {
            isReusable = rawPairs.contains { $0.key.scalar == "uses" }
        }
        let allowed = isReusable ? Self.reusableJobKeys : Self.stepJobKeys
        guard let fields = fieldsForJob(node, what, allowed: allowed, reusable: isReusable) else { return nil }
        var job = Job(id: id)
        if !isReusable && !fields.has("runs-on") {
            report("\(what) is missing required key 'runs-on' (or 'uses' to call a reusable workflow)", at: idNode, rule: "missing-key")
        }
        if !isReusable && !fields.has("steps") {
            report("\(what) is missing required key 'steps' (or 'uses' to call a reusable workflow)", at: idNode, rule: "missing-key")
        }
        for pair in fields.pairs {
            let key = pair.key.scalar ?? ""
            let value = pair.value
            lazy var keyWhat = "'\(key)' of \(what)"
            switch key {
            case "name": job.name = string(value, keyWhat)
            case "needs": job.needs = stringList(value, keyWhat, expressions: false) ?? []
            case "if": job.condition = string(value, keyWhat)
            case "runs-on": job.runsOn = runsOn(value, keyWhat)
            case "environment": job.environment = environment(value, keyWhat)
            case "outputs": job.outputs = scalarMap(value, keyWhat) ?? []
            case "env": job.env = environment(value, keyWhat)
            case "defaults": job.defaults = defaults(value, keyWhat, expressions: true)
            case "timeout-minutes": job.timeoutMinutes = timeout(value, keyWhat)
            case "cancel-timeout-minutes": job.cancelTimeoutMinutes = timeout(value, keyWhat)
            case "strategy": job.strategy = strategy(value, keyWhat)
            case "continue-on-error": job.continueOnError = boolOrExpression(value, keyWhat)
            case "container": job.container = container(value, keyWhat, isService: false)
            case "services":
                if isExpression(value), let text = value.scalar {
                    job.servicesExpression = Located(text, at: location(value))
                } else {
                    job.services = services(value, what)
                }
            case "concurrency": job.concurrency = concurrency(value, keyWhat, jobLevel: true)
            case "cache-mode": job.cacheMode = cacheMode(value, keyWhat)
            case "permissions": job.permissions = permissions(value, keyWhat)
            case "uses": job.uses = reusableWorkflowReference(value, keyWhat)
            case "with": job.with = reusableWith(value, keyWhat)
            case "secrets": job.secrets = reusableSecrets(value, keyWhat)
            case "steps": job.steps = steps(value, jobWhat: what)
            case "snapshot": snapshot(value, keyWhat)
            default: break
            }
        }
        if !isReusable, job.steps.isEmpty, let stepsNode = fields["steps"], case .sequence = stepsNode.kind {
            report("\(what) must have at least one step", at: fields.keyNode("steps")!, rule: "missing-key")
        }
        return job
    }

    /// Like `fields`, but a key that belongs only to the other kind of job gets a message saying so.
    private mutating func fieldsForJob(_ node: YAMLNode, _ what: @autoclosure () -> String, allowed: [String], reusable: Bool) -> Fields? {
        guard let pairs = pairs(node, what()) else { return nil }
        // Every key allowed, nearly always: the pairs are kept as they are (as `fields` does).
        if pairs.indices.allSatisfy({ allowed.contains(pairs[$0].key.scalar ?? "") }) { return Fields(pairs: pairs, node: node) }
        var fields = Fields(node: node)
        fields.pairs.reserveCapacity(pairs.count)
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            if allowed.contains(key) {
                fields.pairs.append(pair)
            } else if reusable && Self.stepJobKeys.contains(key) {
                report(
                    "'\(key)' is not allowed in \(what()), which calls a reusable workflow with 'uses'",
                    at: pair.key, rule: "unexpected-key")
            } else {
                report(unexpectedKeyMessage(key, in: what(), allowed: allowed), at: pair.key, rule: "unexpected-key")
            }
        }
        return fields
    }

    /// GitHub's rule for job and step ids.
    /// ASCII letters, digits, `-` and `_`, starting with a letter or `_` (compared as bytes: an ASCII
    /// letter is what Unicode's Alphabetic property allows in ASCII).
    static func isValidIdentifier(_ id: String) -> Bool {
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        guard let first = id.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return id.utf8.allSatisfy {
            isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }

    // MARK: Parts of a job

    /// `cache-mode` (GitHub, 2026-09-10: workflow and job level, reusable-workflow calls included).
    mutating func cacheMode(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<String>? {
        // An expression is reported by `string` (none is allowed here); one error is enough.
        guard let mode = string(node, what(), expressions: false), !mode.value.hasExpressionMarker else { return nil }
        guard Self.cacheModes.contains(mode.value) else {
            report(
                "invalid value '\(mode.value)' for \(what()); expected one of " + Self.cacheModes.map { "'\($0)'" }.joined(separator: ", "),
                at: node, rule: "value")
            return nil
        }
        return mode
    }

    static let cacheModes = ["read", "write", "write-only", "none"]

    mutating func timeout(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<NumberOrExpression>? {
        // actions/runner's converters only assert a number and cast it to Int32 (ConvertToJobTimeout,
        // ConvertToStepTimeout); a literal too large for a double reads as ±Infinity and is accepted
        // (languageservices testdata/reader/round-to-infinity.yml). So no number is an error: a positive
        // infinity is no limit, and 0 or less sets none either (the runner applies a step's limit only
        // above 0), which deserves a warning.
        let result = numberOrExpression(node, what())
        if case .value(let minutes)? = result?.value, !(minutes > 0) {
            report(
                "\(what()) is \(ExpressionNumber.format(minutes)): GitHub accepts it, but a limit of 0 or less sets none (Gantry runs without one), so it has no effect",
                at: node, rule: "value", severity: .warning)
        }
        return result
    }

    private mutating func runsOn(_ node: YAMLNode, _ what: @autoclosure () -> String) -> RunsOn? {
        if case .mapping = node.kind {
            guard let fields = fields(node, what(), allowed: ["group", "labels"]) else { return nil }
            let group = fields["group"].flatMap { string($0, "'group' of \(what())", nonEmpty: true) }
            let labels = fields["labels"].flatMap { stringList($0, "'labels' of \(what())") } ?? []
            if !fields.has("group") && !fields.has("labels") {
                report("\(what()) needs a 'group' or 'labels'", at: node, rule: "missing-key")
            }
            return RunsOn(labels: labels, group: group, at: location(node))
        }
        guard let labels = stringList(node, what()) else { return nil }
        if labels.isEmpty {
            report("\(what()) must name at least one runner label", at: node, rule: "value")
        }
        return RunsOn(labels: labels, at: location(node))
    }

    private mutating func environment(_ node: YAMLNode, _ what: @autoclosure () -> String) -> DeploymentEnvironment? {
        if case .scalar = node.kind {
            // An empty name is no environment (GitHub's parser takes any scalar as the name).
            return string(node, what()).flatMap { $0.value.isEmpty ? nil : DeploymentEnvironment(name: $0) }
        }
        guard let fields = fields(node, what(), allowed: ["name", "url", "deployment"], allowNull: false) else { return nil }
        require("name", in: fields, what())
        if let n = fields["deployment"] { _ = boolOrExpression(n, "'deployment' of \(what())") }
        guard let nameNode = fields["name"], let name = string(nameNode, "'name' of \(what())", nonEmpty: true) else { return nil }
        return DeploymentEnvironment(name: name, url: fields["url"].flatMap { string($0, "'url' of \(what())") })
    }

    mutating func defaults(_ node: YAMLNode, _ what: @autoclosure () -> String, expressions: Bool) -> RunDefaults? {
        guard let fields = fields(node, what(), allowed: ["run"]) else { return nil }
        guard let run = fields["run"] else { return nil }
        if expressions, isExpression(run), let text = run.scalar {
            var defaults = RunDefaults()
            defaults.expression = Located(text, at: location(run))
            return defaults
        }
        let runWhat = "'run' of \(what())"
        guard let runFields = self.fields(run, runWhat, allowed: ["shell", "working-directory"]) else { return nil }
        return RunDefaults(
            shell: runFields["shell"].flatMap { string($0, "'shell' of \(runWhat)", expressions: expressions, nonEmpty: true) },
            workingDirectory: runFields["working-directory"].flatMap {
                string($0, "'working-directory' of \(runWhat)", expressions: expressions, nonEmpty: true)
            })
    }

    mutating func concurrency(_ node: YAMLNode, _ what: @autoclosure () -> String, jobLevel: Bool) -> Concurrency? {
        if case .scalar = node.kind {
            return string(node, what(), nonEmpty: jobLevel).map { Concurrency(group: $0) }
        }
        guard let fields = fields(node, what(), allowed: ["group", "cancel-in-progress", "queue"], allowNull: false) else {
            return nil
        }
        require("group", in: fields, what())
        var queue: Located<String>?
        if let n = fields["queue"], let q = string(n, "'queue' of \(what())") {
            if q.value == "single" || q.value == "max" || q.value.hasExpressionMarker {
                queue = q
            } else {
                report("invalid 'queue' value '\(q.value)' in \(what()); expected 'single' or 'max'", at: n, rule: "value")
            }
        }
        let cancel = fields["cancel-in-progress"].flatMap { boolOrExpression($0, "'cancel-in-progress' of \(what())") }
        if case .value(true)? = cancel?.value, queue?.value == "max" {
            report("'queue: max' cannot be combined with 'cancel-in-progress: true' in \(what())", at: fields.keyNode("queue")!, rule: "value")
        }
        guard let groupNode = fields["group"], let group = string(groupNode, "'group' of \(what())", nonEmpty: true) else { return nil }
        return Concurrency(group: group, cancelInProgress: cancel, queue: queue)
    }

    /// The scopes' names in order, for messages.
    static let permissionScopeNames = permissionScopes.keys.sorted()

    static let permissionScopes: [String: [String]] = [
        "actions": ["read", "write", "none"],
        "artifact-metadata": ["read", "write", "none"],
        "attestations": ["read", "write", "none"],
        "checks": ["read", "write", "none"],
        "contents": ["read", "write", "none"],
        "copilot-requests": ["write", "none"],
        "deployments": ["read", "write", "none"],
        "discussions": ["read", "write", "none"],
        "id-token": ["write", "none"],
        "issues": ["read", "write", "none"],
        "models": ["read", "none"],
        "packages": ["read", "write", "none"],
        "pages": ["read", "write", "none"],
        "pull-requests": ["read", "write", "none"],
        "repository-projects": ["read", "write", "none"],
        "security-events": ["read", "write", "none"],
        "statuses": ["read", "write", "none"],
        "vulnerability-alerts": ["read", "none"],
    ]

    mutating func permissions(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Permissions? {
        if case .scalar = node.kind {
            guard let text = string(node, what(), expressions: false) else { return nil }
            guard text.value == "read-all" || text.value == "write-all" else {
                report("invalid value '\(text.value)' for \(what()); expected 'read-all', 'write-all' or a mapping of scopes", at: node, rule: "value")
                return nil
            }
            return .all(text)
        }
        guard let pairs = pairs(node, what(), allowNull: false) else { return nil }
        var scopes: [Permissions.Scope] = []
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            guard let levels = Self.permissionScopes[key] else {
                report(unexpectedKeyMessage(key, in: what(), allowed: Self.permissionScopeNames), at: pair.key, rule: "unexpected-key")
                continue
            }
            guard let level = string(pair.value, "permission '\(key)'", expressions: false) else { continue }
            if !levels.contains(level.value) && !level.value.hasExpressionMarker {
                report(
                    "invalid level '\(level.value)' for permission '\(key)'; expected "
                        + levels.map { "'\($0)'" }.joined(separator: ", "),
                    at: pair.value, rule: "value")
                continue
            }
            scopes.append(Permissions.Scope(name: Located(key, at: location(pair.key)), level: level))
        }
        return .scopes(scopes)
    }

    // MARK: strategy

    private mutating func strategy(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Strategy? {
        var strategy = Strategy(at: location(node))
        if isExpression(node), let text = node.scalar {
            strategy.expression = Located(text, at: location(node))
            return strategy
        }
        guard let fields = fields(node, what(), allowed: ["matrix", "fail-fast", "max-parallel"]) else { return nil }
        if let n = fields["fail-fast"] { strategy.failFast = boolOrExpression(n, "'fail-fast' of \(what())") }
        if let n = fields["max-parallel"] {
            // Any number, as the runner's WorkflowTemplateConverter reads it (AssertNumber, then a cast
            // to Int32); 0 or less sets no limit.
            strategy.maxParallel = numberOrExpression(n, "'max-parallel' of \(what())")
        }
        if let n = fields["matrix"] { strategy.matrix = matrix(n, "'matrix' of \(what())") }
        return strategy
    }

    private mutating func matrix(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Matrix? {
        if isExpression(node), let text = node.scalar {
            return .expression(Located(text, at: location(node)))
        }
        guard let pairs = pairs(node, what(), allowNull: false) else { return nil }
        var definition = MatrixDefinition(at: location(node))
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            let keyLocation = Located(key, at: location(pair.key))
            switch key {
            case "include", "exclude":
                let rows: MatrixRows?
                if isExpression(pair.value), let text = pair.value.scalar {
                    rows = .expression(Located(text, at: location(pair.value)))
                } else if case .sequence(let items) = pair.value.kind {
                    var values: [ValueNode] = []
                    for item in items {
                        if isExpression(item), let text = item.scalar {
                            values.append(ValueNode(.string(text), at: location(item)))
                        } else if case .mapping = item.kind {
                            values.append(value(item, "an item of '\(key)' in \(what())"))
                        } else {
                            typeMismatch("an item of '\(key)' in \(what())", expected: "a mapping", found: item)
                        }
                    }
                    rows = .literal(values)
                } else {
                    typeMismatch("'\(key)' of \(what())", expected: "a sequence of mappings", found: pair.value)
                    rows = nil
                }
                if key == "include" { definition.include = rows } else { definition.exclude = rows }
            default:
                if isExpression(pair.value), let text = pair.value.scalar {
                    definition.axes.append(MatrixAxis(key: keyLocation, values: .expression(Located(text, at: location(pair.value)))))
                } else if case .sequence(let items) = pair.value.kind {
                    if items.isEmpty {
                        report("matrix key '\(key)' has no values", at: pair.value, rule: "matrix")
                    }
                    definition.axes.append(
                        MatrixAxis(key: keyLocation, values: .literal(items.map { value($0, "matrix key '\(key)'") })))
                } else {
                    typeMismatch("matrix key '\(key)'", expected: "a sequence", found: pair.value)
                }
            }
        }
        if definition.axes.isEmpty && definition.include == nil {
            report("\(what()) has no keys and no 'include'; it would produce no job", at: node, rule: "matrix")
        }
        return .literal(definition)
    }

    // MARK: Reusable workflow calls

    private mutating func reusableWorkflowReference(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Located<String>? {
        guard let ref = string(node, what(), expressions: false, nonEmpty: true) else { return nil }
        let text = ref.value
        if text.hasExpressionMarker { return ref }
        // `./…` and, since 2026, `$/…` (the same repository at the same commit).
        if text.hasPrefix("./") || text.hasPrefix("$/") {
            let rest = text.dropFirst(2)
            if !(rest.hasPrefix(".github/workflows/") && (text.hasSuffix(".yml") || text.hasSuffix(".yaml"))) {
                report(
                    "invalid reusable workflow '\(text)': a local one is '\(text.prefix(2)).github/workflows/FILE.yml'",
                    at: node, rule: "action")
            }
            return ref
        }
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0].split(separator: "/", omittingEmptySubsequences: false)
        let valid =
            parts.count == 2 && !parts[1].isEmpty && path.count >= 5 && path[0].count > 0 && path[1].count > 0
            && path[2] == ".github" && path[3] == "workflows" && (parts[0].hasSuffix(".yml") || parts[0].hasSuffix(".yaml"))
        if !valid {
            report(
                "invalid reusable workflow '\(text)': references to workflows must be rooted in '.github/workflows'; "
                    + "expected 'OWNER/REPO/.github/workflows/FILE.yml@REF', './.github/workflows/FILE.yml' or '$/.github/workflows/FILE.yml'",
                at: node, rule: "action")
        }
        return ref
    }

    private mutating func reusableWith(_ node: YAMLNode, _ what: @autoclosure () -> String) -> [MappingEntry] {
        scalarMap(node, what()) ?? []
    }

    private mutating func reusableSecrets(_ node: YAMLNode, _ what: @autoclosure () -> String) -> ReusableWorkflowSecrets? {
        if case .scalar(let text, _) = node.kind, !node.isNull {
            if text == "inherit" { return .inherit(location(node)) }
            report("invalid value '\(text)' for \(what()); expected 'inherit' or a mapping of secrets", at: node, rule: "value")
            return nil
        }
        return scalarMap(node, what()).map { .mapping($0) }
    }

    private mutating func snapshot(_ node: YAMLNode, _ what: @autoclosure () -> String) {
        if case .scalar = node.kind {
            _ = string(node, what(), expressions: false, nonEmpty: true)
            return
        }
        guard let fields = fields(node, what(), allowed: ["image-name", "if", "version"], allowNull: false) else { return }
        require("image-name", in: fields, what())
        if let n = fields["image-name"] { _ = string(n, "'image-name' of \(what())", expressions: false, nonEmpty: true) }
        if let n = fields["version"] { _ = string(n, "'version' of \(what())", expressions: false, nonEmpty: true) }
        if let n = fields["if"] { _ = string(n, "'if' of \(what())") }
    }
}
