import WorkflowModel

extension WorkflowDecoder {
    static let runStepKeys = [
        "name", "id", "if", "timeout-minutes", "run", "continue-on-error", "env", "working-directory", "shell",
    ]
    static let usesStepKeys = ["name", "id", "if", "continue-on-error", "timeout-minutes", "uses", "with", "env"]

    mutating func steps(_ node: YAMLNode, jobWhat: String) -> [Step] {
        guard case .sequence(let items) = node.kind else {
            typeMismatch("'steps' of \(jobWhat)", expected: "a sequence of steps", found: node)
            return []
        }
        var result: [Step] = []
        var ids: [String: Located<String>] = [:]
        for (index, item) in items.enumerated() {
            guard let step = step(item, number: index + 1, jobWhat: jobWhat) else { continue }
            if let id = step.id {
                let folded = id.value.lowercased()
                if let first = ids[folded] {
                    report(
                        "step id '\(id.value)' is already used in \(jobWhat) at line \(first.location.line), column \(first.location.column); step ids must be unique within a job",
                        at: id.location, rule: "id")
                } else {
                    ids[folded] = id
                }
            }
            result.append(step)
        }
        return result
    }

    private mutating func step(_ node: YAMLNode, number: Int, jobWhat: String) -> Step? {
        let what = "step \(number) of \(jobWhat)"
        guard let pairs = pairs(node, what, allowNull: false) else { return nil }
        let hasRun = pairs.contains { $0.key.scalar == "run" }
        let hasUses = pairs.contains { $0.key.scalar == "uses" }
        if hasRun && hasUses {
            report("\(what) has both 'run' and 'uses'; a step either runs a script or uses an action", at: node, rule: "step")
        } else if !hasRun && !hasUses {
            report("\(what) needs either 'run' or 'uses'", at: node, rule: "step")
        }
        let allowed = hasUses && !hasRun ? Self.usesStepKeys : hasRun && !hasUses ? Self.runStepKeys : Self.runStepKeys + ["uses", "with"]
        var step = Step(at: location(node))
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            let value = pair.value
            lazy var keyWhat = "'\(key)' of \(what)"
            guard allowed.contains(key) else {
                if Self.runStepKeys.contains(key) || Self.usesStepKeys.contains(key) {
                    let kind = hasUses ? "a step that uses an action" : "a 'run' step"
                    let reason =
                        key == "with" ? "'with' passes inputs to an action" : "'\(key)' only applies to 'run' steps"
                    report("'\(key)' is not allowed in \(kind): \(reason)", at: pair.key, rule: "unexpected-key")
                } else {
                    report(unexpectedKeyMessage(key, in: what, allowed: Self.runStepKeys + ["uses", "with"]), at: pair.key, rule: "unexpected-key")
                }
                continue
            }
            switch key {
            case "id":
                if let id = string(value, keyWhat, expressions: false, nonEmpty: true) {
                    if !Self.isValidIdentifier(id.value) && !id.value.hasExpressionMarker {
                        report(
                            "invalid step id '\(id.value)': an id must start with a letter or '_' and contain only letters, digits, '-' and '_'",
                            at: value, rule: "id")
                    } else if id.value.hasPrefix("__") {
                        // Reserved for the names the runner gives steps without an id (`__run`, `__run_2`, …).
                        report("invalid step id '\(id.value)': ids starting with '__' are reserved", at: value, rule: "id")
                    }
                    step.id = id
                }
            case "if": step.condition = string(value, keyWhat)
            case "name": step.name = string(value, keyWhat)
            case "uses":
                step.uses = string(value, keyWhat, expressions: false, nonEmpty: true)
                if let uses = step.uses { checkActionReference(uses, node: value) }
            case "run": step.run = string(value, keyWhat, nonEmpty: true)
            case "shell": step.shell = string(value, keyWhat, expressions: false, nonEmpty: true)
            case "with":
                if isExpression(value), let text = value.scalar {
                    step.withExpression = Located(text, at: location(value))
                } else {
                    step.with = scalarMap(value, keyWhat) ?? []
                }
            case "env": step.env = environment(value, keyWhat)
            case "continue-on-error": step.continueOnError = boolOrExpression(value, keyWhat)
            case "timeout-minutes": step.timeoutMinutes = timeout(value, keyWhat)
            // Nothing after the key is null, which GitHub reads as an empty string: the default folder.
            case "working-directory": step.workingDirectory = value.isNull ? nil : string(value, keyWhat, nonEmpty: true)
            default: break
            }
        }
        return step
    }

    /// `./path`, `docker://image`, or `owner/repo[/path]@ref`.
    private mutating func checkActionReference(_ uses: Located<String>, node: YAMLNode) {
        let text = uses.value
        if text.hasPrefix("./") || text.hasPrefix("../") || text.hasExpressionMarker { return }
        if text.hasPrefix("docker://") {
            if text.count == "docker://".count {
                report("'uses: docker://' needs an image name", at: node, rule: "action")
            }
            return
        }
        // OWNER/REPO[/PATH]@REF, checked on the bytes (this runs for every step of every file).
        let bytes = Array(text.utf8)
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at + 1 < bytes.count else {
            let name = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)[0]
            report("action '\(text)' needs a version: write '\(name)@REF' (a tag, branch or commit)", at: node, rule: "action")
            return
        }
        var segments = 1
        var emptySegment = at == 0 || bytes[0] == UInt8(ascii: "/")
        for i in 0..<at where bytes[i] == UInt8(ascii: "/") {
            segments += 1
            if i + 1 == at || bytes[i + 1] == UInt8(ascii: "/") { emptySegment = true }
        }
        if segments < 2 || emptySegment {
            report("invalid action '\(text)': expected 'OWNER/REPO@REF', 'OWNER/REPO/PATH@REF', './PATH' or 'docker://IMAGE'", at: node, rule: "action")
        }
    }
}
