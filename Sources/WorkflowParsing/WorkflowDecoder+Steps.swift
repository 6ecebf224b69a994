import WorkflowModel

extension WorkflowDecoder {
    static let runStepKeys = [
        "name", "id", "if", "timeout-minutes", "run", "continue-on-error", "env", "working-directory", "shell",
    ]
    static let usesStepKeys = ["name", "id", "if", "continue-on-error", "timeout-minutes", "uses", "with", "env"]
    /// What a job's step may hold besides the keys of run and uses steps (workflow-v1.0.json, 2026:
    /// `run-step`/`regular-step` take `background`; `wait-step`, `wait-all-step` and `cancel-step` take
    /// only `name`, `id` and `continue-on-error` besides their own key; a `parallel` group only its list).
    static let controlStepKeys = ["name", "id", "continue-on-error"]
    /// A job's run and uses steps, which may also run in the background.
    static let backgroundRunStepKeys = runStepKeys + ["background"]
    static let backgroundUsesStepKeys = usesStepKeys + ["background"]
    /// The keys that decide what a step is, in the order messages name them.
    static let stepKinds = ["run", "uses", "wait", "wait-all", "cancel", "parallel"]

    /// The ids seen so far in a list of steps (a `wait` or `cancel` may name only an earlier one),
    /// and which of them run in the background.
    struct StepIDs {
        var all: [String: Located<String>] = [:]
        var background: Set<String> = []
    }

    /// A job's steps (`composite: false`) or a composite action's: background steps, control steps and
    /// `parallel` groups belong to jobs only, as GitHub's action schema has none of them.
    mutating func steps(_ node: YAMLNode, jobWhat: String, composite: Bool = false) -> [Step] {
        guard case .sequence(let items) = node.kind else {
            typeMismatch("'steps' of \(jobWhat)", expected: "a sequence of steps", found: node)
            return []
        }
        var result: [Step] = []
        result.reserveCapacity(items.count)
        var ids = StepIDs()
        for (index, item) in items.enumerated() {
            guard let step = step(item, what: "step \(index + 1) of \(jobWhat)", jobWhat: jobWhat, composite: composite, ids: &ids) else { continue }
            result.append(step)
        }
        return result
    }

    /// Notes a step's id, reporting one already used in the job.
    private mutating func note(_ step: Step, in ids: inout StepIDs, jobWhat: String) {
        guard let id = step.id else { return }
        let folded = id.value.lowercased()
        if let first = ids.all[folded] {
            report(
                "step id '\(id.value)' is already used in \(jobWhat) at line \(first.location.line), column \(first.location.column); step ids must be unique within a job",
                at: id.location, rule: "id")
        } else {
            ids.all[folded] = id
            if step.background || step.parallel != nil { ids.background.insert(folded) }
        }
    }

    private mutating func step(
        _ node: YAMLNode, what: @autoclosure () -> String, jobWhat: String, composite: Bool, ids: inout StepIDs, inParallel: Bool = false
    ) -> Step? {
        guard let pairs = pairs(node, what(), allowNull: false) else { return nil }
        let kinds = Self.stepKinds.filter { kind in pairs.contains { $0.key.scalar == kind } }
        let controlKinds = ["wait", "wait-all", "cancel", "parallel"]
        let kind: String
        if composite || inParallel {
            // A composite action's steps and a parallel group's run a script or an action.
            for pair in pairs {
                guard let key = pair.key.scalar, controlKinds.contains(key) || key == "background" else { continue }
                let place = composite ? "a composite action's steps" : "a step in a 'parallel' group"
                let reason =
                    composite ? "background steps, control steps and parallel groups belong to a workflow's jobs"
                    : key == "background" ? "every step of the group already runs in the background, and the group waits for all of them"
                    : key == "parallel" ? "parallel groups do not nest"
                    : "a group holds 'run' and 'uses' steps; a control step goes after the group"
                report("'\(key)' is not allowed in \(place): \(reason)", at: pair.key, rule: "unexpected-key")
            }
            let own = kinds.filter { !controlKinds.contains($0) }
            if own.count == 2 {
                report("\(what()) has both 'run' and 'uses'; a step either runs a script or uses an action", at: node, rule: "step")
            } else if own.isEmpty && kinds.isEmpty {
                report("\(what()) needs either 'run' or 'uses'", at: node, rule: "step")
            }
            kind = own.count == 1 ? own[0] : "both"
        } else if kinds == ["run", "uses"] {
            report("\(what()) has both 'run' and 'uses'; a step either runs a script or uses an action", at: node, rule: "step")
            kind = "both"
        } else if kinds.count > 1 {
            let named = kinds.map { "'\($0)'" }
            report(
                "\(what()) has \(named.dropLast().joined(separator: ", ")) and \(named.last!); a step does one of: run a script, use an action, wait for or cancel background steps, or run a parallel group",
                at: node, rule: "step")
            kind = kinds[0]
        } else if let only = kinds.first {
            kind = only
        } else {
            report("\(what()) needs one of 'run', 'uses', 'wait', 'wait-all', 'cancel' or 'parallel'", at: node, rule: "step")
            kind = "both"
        }
        let allowed: [String]
        let inGroup = composite || inParallel
        switch kind {
        case "run": allowed = inGroup ? Self.runStepKeys : Self.backgroundRunStepKeys
        case "uses": allowed = inGroup ? Self.usesStepKeys : Self.backgroundUsesStepKeys
        case "wait", "wait-all", "cancel": allowed = Self.controlStepKeys + [kind]
        case "parallel": allowed = ["parallel"]
        default: allowed = Self.runStepKeys + ["uses", "with"] + (inGroup ? [] : ["background"])
        }
        var step = Step(at: location(node))
        var parallelNode: YAMLNode?
        var controlNode: (key: YAMLNode, value: YAMLNode)?
        for pair in pairs {
            let key = pair.key.scalar ?? ""
            let value = pair.value
            lazy var keyWhat = "'\(key)' of \(what())"
            guard allowed.contains(key) else {
                // Reported above: a key of a kind this step cannot be, or a second kind.
                if (composite || inParallel) && (controlKinds.contains(key) || key == "background") { continue }
                if kinds.count > 1 && Self.stepKinds.contains(key) { continue }
                if ["wait", "wait-all", "cancel"].contains(kind) && (Self.runStepKeys + Self.usesStepKeys).contains(key) {
                    report(
                        "'\(key)' is not allowed in a '\(kind)' step: a control step always runs and takes only 'name', 'id' and 'continue-on-error'",
                        at: pair.key, rule: "unexpected-key")
                } else if kind == "parallel" {
                    report(
                        "'\(key)' is not allowed beside 'parallel': a parallel group holds only its list of steps; give '\(key)' to the steps in it",
                        at: pair.key, rule: "unexpected-key")
                } else if Self.runStepKeys.contains(key) || Self.usesStepKeys.contains(key) {
                    let kindName = kind == "uses" ? "a step that uses an action" : "a 'run' step"
                    let reason =
                        key == "with" ? "'with' passes inputs to an action" : "'\(key)' only applies to 'run' steps"
                    report("'\(key)' is not allowed in \(kindName): \(reason)", at: pair.key, rule: "unexpected-key")
                } else {
                    report(unexpectedKeyMessage(key, in: what(), allowed: allowed), at: pair.key, rule: "unexpected-key")
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
            // The schema's `step-background` is a boolean with no expression context.
            case "background": step.background = bool(value, keyWhat) ?? false
            case "wait", "wait-all", "cancel": controlNode = (pair.key, value)
            case "parallel": parallelNode = value
            default: break
            }
        }
        if let (keyNode, value) = controlNode {
            step.control = control(keyNode, value, what: what(), own: step.id, ids: ids)
        }
        if let parallelNode {
            step.parallel = parallelSteps(parallelNode, what: what(), ids: &ids, jobWhat: jobWhat)
        } else if !inParallel {
            // A parallel group's steps are noted by the group, as background steps.
            note(step, in: &ids, jobWhat: jobWhat)
        }
        return step
    }

    /// The control of a `wait`, `wait-all` or `cancel` step, its targets checked as GitHub's parser checks
    /// them (an earlier step's id, not the step's own) and, beyond it, that they name background steps.
    private mutating func control(
        _ keyNode: YAMLNode, _ value: YAMLNode, what: String, own: Located<String>?, ids: StepIDs
    ) -> StepControl? {
        let key = keyNode.scalar ?? ""
        let keyWhat = "'\(key)' of \(what)"
        let targets: [Located<String>]
        switch key {
        case "wait-all":
            // The schema takes the bare key or a boolean; `false` says nothing the parser can run.
            if value.isNull { return .waitAll }
            guard let flag = bool(value, keyWhat) else { return nil }
            if !flag { report("the value of 'wait-all' must be true or omitted", at: value, rule: "type") }
            return .waitAll
        case "wait":
            guard let list = stringList(value, keyWhat, expressions: false) else { return nil }
            if list.isEmpty, case .sequence = value.kind { report("\(keyWhat) must name at least one step id", at: value, rule: "type") }
            targets = list
        default:
            guard let id = string(value, keyWhat, expressions: false, nonEmpty: true) else { return nil }
            targets = [id]
        }
        for target in targets {
            let folded = target.value.lowercased()
            if folded == own?.value.lowercased() {
                report("step '\(target.value)' cannot reference itself in '\(key)'", at: target.location, rule: "background-step")
            } else if target.value.hasPrefix("__") {
                report("invalid step id '\(target.value)' in '\(key)': ids starting with '__' are reserved", at: target.location, rule: "id")
            } else if ids.all[folded] == nil {
                report(
                    "'\(key)' references unknown step ID '\(target.value)'; it must name the id of an earlier step", at: target.location,
                    rule: "background-step")
            } else if !ids.background.contains(folded) {
                // GitHub's parser accepts it and the runner skips it: the step has long finished.
                report(
                    "'\(key)' names step '\(target.value)', which does not run in the background, so it has no effect",
                    at: target.location, rule: "background-step", severity: .warning)
            }
        }
        return key == "wait" ? .wait(targets) : .cancel(targets[0])
    }

    /// The steps of a `parallel` group: run and uses steps, their ids known to later steps.
    private mutating func parallelSteps(_ node: YAMLNode, what: String, ids: inout StepIDs, jobWhat: String) -> [Step] {
        guard case .sequence(let items) = node.kind else {
            typeMismatch("'parallel' of \(what)", expected: "a sequence of steps", found: node)
            return []
        }
        if items.isEmpty { report("'parallel' of \(what) must hold at least one step", at: node, rule: "type") }
        var steps: [Step] = []
        for (index, item) in items.enumerated() {
            guard var step = step(
                item, what: "step \(index + 1) in the parallel group of \(what)", jobWhat: jobWhat, composite: false, ids: &ids, inParallel: true) else { continue }
            step.background = true
            note(step, in: &ids, jobWhat: jobWhat)
            steps.append(step)
        }
        return steps
    }

    /// `./path`, `docker://image`, or `owner/repo[/path]@ref`.
    private mutating func checkActionReference(_ uses: Located<String>, node: YAMLNode) {
        let text = uses.value
        if text.hasPrefix("./") || text.hasPrefix("../") || text.hasExpressionMarker { return }
        // `$/PATH`: this repository at the workflow's commit (GitHub's 2026 form, actions/runner#4457),
        // with no `@ref` of its own; a bare `$/` names no action.
        if text.hasPrefix("$/") {
            if text.dropFirst(2).allSatisfy({ $0 == "/" }) {
                report("'uses: $/' needs the path of an action in this repository, such as '$/.github/actions/setup'", at: node, rule: "action")
            }
            return
        }
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
