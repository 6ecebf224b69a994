import WorkflowModel

extension WorkflowDecoder {
    /// `on:` as a string, a sequence of strings, or a mapping of events to their configuration.
    mutating func triggers(_ node: YAMLNode) -> [Trigger] {
        switch node.kind {
        case .scalar:
            guard let name = string(node, "'on'", expressions: false, nonEmpty: true),
                let event = eventName(name, node: node)
            else { return [] }
            warnUnconfiguredSchedule(event)
            return [Trigger(event: event)]
        case .sequence(let items):
            if items.isEmpty {
                report("'on' must name at least one event", at: node, rule: "events")
            }
            var seen = Set<String>()
            var result: [Trigger] = []
            for item in items {
                guard let name = string(item, "an event in 'on'", expressions: false, nonEmpty: true),
                    let event = eventName(name, node: item)
                else { continue }
                warnUnconfiguredSchedule(event)
                if !seen.insert(event.value).inserted {
                    report("event '\(event.value)' is listed twice in 'on'", at: item, rule: "events")
                    continue
                }
                result.append(Trigger(event: event))
            }
            return result
        case .mapping:
            guard let pairs = pairs(node, "'on'") else { return [] }
            if pairs.isEmpty {
                report("'on' must name at least one event", at: node, rule: "events")
            }
            var result: [Trigger] = []
            for pair in pairs {
                guard let name = pair.key.scalar, let event = eventName(Located(name, at: location(pair.key)), node: pair.key)
                else { continue }
                result.append(trigger(event, config: pair.value))
            }
            return result
        }
    }

    /// `on: schedule` without a mapping is accepted by GitHub's schema but can never trigger.
    private mutating func warnUnconfiguredSchedule(_ event: Located<String>) {
        if event.value == "schedule" {
            report(
                "event 'schedule' without '- cron:' entries never triggers; write 'schedule:' with a list of '- cron:' entries",
                at: event.location, rule: "events", severity: .warning)
        }
    }

    /// Checks an event name against GitHub's list.
    private mutating func eventName(_ name: Located<String>, node: YAMLNode) -> Located<String>? {
        guard EventSpec.all[name.value] != nil else {
            var message = "unknown event '\(name.value)'"
            if let suggestion = closestMatch(to: name.value, in: EventSpec.names) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; see https://docs.github.com/actions/using-workflows/events-that-trigger-workflows"
            }
            report(message, at: node, rule: "events")
            return nil
        }
        return name
    }

    private mutating func trigger(_ event: Located<String>, config: YAMLNode) -> Trigger {
        var trigger = Trigger(event: event)
        let spec = EventSpec.all[event.value]!
        let what = "event '\(event.value)'"
        if event.value == "schedule" {
            trigger.schedules = schedules(config)
            return trigger
        }
        if config.isNull { return trigger }
        // GitHub accepts and ignores settings an event does not take (`create: tags:`, `branches` under
        // `workflow_dispatch` or `release`): a warning that they have no effect, not an error.
        if spec.keys.isEmpty {
            report(
                "\(what) takes no configuration; GitHub ignores what is written under it, so it has no effect", at: config, rule: "events",
                severity: .warning)
            return trigger
        }
        let ignored = ["workflow_dispatch", "release"].contains(event.value)
        guard let fields = fields(config, what, allowed: spec.keys, ignoredByGitHub: ignored) else { return trigger }
        for pair in fields.pairs {
            let key = pair.key.scalar ?? ""
            let value = pair.value
            lazy var keyWhat = "'\(key)' of \(what)"
            switch key {
            case "types":
                // One string is one type, for `repository_dispatch` too (GitHub accepts it).
                trigger.types = stringList(value, keyWhat, expressions: false)
                if let allowed = spec.types {
                    for type in trigger.types ?? [] where !allowed.contains(type.value) {
                        var message = "activity type '\(type.value)' is not valid for \(what)"
                        if let suggestion = closestMatch(to: type.value, in: allowed) {
                            message += "; did you mean '\(suggestion)'?"
                        } else {
                            message += "; expected one of " + allowed.map { "'\($0)'" }.joined(separator: ", ")
                        }
                        report(message, at: type.location, rule: "events")
                    }
                }
            case "branches": trigger.branches = stringList(value, keyWhat, expressions: false)
            case "branches-ignore": trigger.branchesIgnore = stringList(value, keyWhat, expressions: false)
            case "tags": trigger.tags = stringList(value, keyWhat, expressions: false)
            case "tags-ignore": trigger.tagsIgnore = stringList(value, keyWhat, expressions: false)
            case "paths": trigger.paths = stringList(value, keyWhat, expressions: false)
            case "paths-ignore": trigger.pathsIgnore = stringList(value, keyWhat, expressions: false)
            case "workflows": trigger.workflows = stringList(value, keyWhat, expressions: false)
            case "names": trigger.names = stringList(value, keyWhat, expressions: false)
            case "versions": trigger.versions = stringList(value, keyWhat, expressions: false)
            case "inputs": trigger.inputs = inputs(value, event: event.value)
            case "outputs": trigger.outputs = callOutputs(value)
            case "secrets": trigger.secrets = callSecrets(value)
            default: break
            }
        }
        for (filter, ignore) in [("branches", "branches-ignore"), ("tags", "tags-ignore"), ("paths", "paths-ignore")]
        where fields.has(filter) && fields.has(ignore) {
            report(
                "\(what) cannot have both '\(filter)' and '\(ignore)'; use '!' patterns in '\(filter)' instead",
                at: fields.keyNode(ignore)!, rule: "events")
        }
        return trigger
    }

    // MARK: schedule

    private mutating func schedules(_ node: YAMLNode) -> [Schedule] {
        guard case .sequence(let items) = node.kind else {
            typeMismatch("event 'schedule'", expected: "a sequence of '- cron:' entries", found: node)
            return []
        }
        if items.isEmpty {
            report("event 'schedule' needs at least one '- cron:' entry", at: node, rule: "events")
        }
        var result: [Schedule] = []
        for item in items {
            guard let fields = fields(item, "a 'schedule' entry", allowed: ["cron", "timezone"], allowNull: false) else { continue }
            require("cron", in: fields, "a 'schedule' entry")
            guard let cronNode = fields["cron"],
                let cron = string(cronNode, "'cron'", expressions: false, nonEmpty: true)
            else { continue }
            if let problem = CronExpression.problem(in: cron.value) {
                report("invalid cron expression '\(cron.value)': \(problem)", at: cronNode, rule: "cron")
            }
            var schedule = Schedule(cron: cron)
            if let tz = fields["timezone"] {
                schedule.timezone = string(tz, "'timezone'", expressions: false, nonEmpty: true)
                if let zone = schedule.timezone, !Self.looksLikeTimeZone(zone.value) {
                    report("'\(zone.value)' is not an IANA time zone name such as 'Europe/Berlin' or 'UTC'", at: tz, rule: "cron")
                }
            }
            result.append(schedule)
        }
        return result
    }

    /// IANA names are `Area/Location` (letters, digits, `_`, `-`, `+`, `/`) or a few bare names.
    private static func looksLikeTimeZone(_ name: String) -> Bool {
        if ["UTC", "GMT", "Etc/UTC", "Zulu", "Universal"].contains(name) { return true }
        let allowed = name.unicodeScalars.allSatisfy {
            ($0 >= "A" && $0 <= "Z") || ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || "_-+/".unicodeScalars.contains($0)
        }
        guard allowed, let first = name.unicodeScalars.first, first >= "A" && first <= "Z" else { return false }
        return name.contains("/") || name.count <= 5
    }

    // MARK: workflow_dispatch / workflow_call

    private mutating func inputs(_ node: YAMLNode, event: String) -> [WorkflowInput] {
        let isCall = event == "workflow_call"
        let what = "inputs of '\(event)'"
        guard let pairs = pairs(node, what) else { return [] }
        if !isCall, pairs.count > 25 {
            report("'workflow_dispatch' can have at most 25 inputs, found \(pairs.count)", at: node, rule: "events")
        }
        let allowed =
            isCall ? ["description", "required", "default", "type"] : ["description", "required", "default", "type", "options"]
        let allowedTypes: [String] =
            isCall ? ["string", "boolean", "number"] : ["string", "boolean", "number", "choice", "environment"]
        var result: [WorkflowInput] = []
        for pair in pairs {
            let id = Located(pair.key.scalar ?? "", at: location(pair.key))
            let inputWhat = "input '\(id.value)' of '\(event)'"
            var input = WorkflowInput(id: id)
            guard let fields = fields(pair.value, inputWhat, allowed: allowed, ignoredByGitHub: !isCall) else { continue }
            if isCall { require("type", in: fields, inputWhat, at: pair.key) }
            if let n = fields["description"] { input.description = string(n, "'description' of \(inputWhat)", expressions: false) }
            if let n = fields["required"] { input.required = bool(n, "'required' of \(inputWhat)") ?? false }
            if let n = fields["type"], let text = string(n, "'type' of \(inputWhat)", expressions: false) {
                if allowedTypes.contains(text.value), let type = WorkflowInput.InputType(rawValue: text.value) {
                    input.type = Located(type, at: text.location)
                } else {
                    report(
                        "invalid type '\(text.value)' for \(inputWhat); expected one of "
                            + allowedTypes.map { "'\($0)'" }.joined(separator: ", "),
                        at: n, rule: "value")
                }
            }
            if let n = fields["options"] { input.options = sequenceOfStrings(n, "'options' of \(inputWhat)", expressions: false) ?? [] }
            if let n = fields["default"] {
                if case .scalar = n.kind {
                    input.defaultValue = value(n, "'default' of \(inputWhat)")
                    if !isCall, isExpression(n) {
                        report("an expression is not allowed in 'default' of \(inputWhat)", at: n, rule: "expression")
                    }
                } else {
                    typeMismatch("'default' of \(inputWhat)", expected: "a string, number or boolean", found: n)
                }
            }
            checkInputDefault(input, what: inputWhat, fields: fields)
            result.append(input)
        }
        return result
    }

    private mutating func checkInputDefault(_ input: WorkflowInput, what: String, fields: Fields) {
        guard let type = input.type?.value else { return }
        if type == .choice {
            if !fields.has("options") || fields["options"]?.isNull == true {
                report("\(what) has type 'choice' but no 'options'", at: fields.keyNode("type")!, rule: "value")
            } else if case .sequence(let items)? = fields["options"]?.kind, items.isEmpty {
                report("'options' of \(what) must list at least one option", at: fields["options"]!, rule: "value")
            }
            var seen = Set<String>()
            for option in input.options where !seen.insert(option.value).inserted {
                report("option '\(option.value)' is listed twice in \(what)", at: option.location, rule: "value")
            }
        } else if let optionsKey = fields.keyNode("options") {
            report("'options' is only valid for inputs of type 'choice'", at: optionsKey, rule: "value")
        }
        guard let def = input.defaultValue, let defNode = fields["default"], !isExpression(defNode) else { return }
        switch type {
        case .choice:
            if let text = def.scalarText, !input.options.isEmpty, !input.options.contains(where: { $0.value == text }) {
                report("default '\(text)' of \(what) is not one of its options", at: defNode, rule: "value")
            }
        case .boolean:
            if case .bool = def.kind { break }
            if case .string(let text) = def.kind, text == "true" || text == "false" { break }
            report("default of boolean \(what) must be true or false, found \(def.kindDescription)", at: defNode, rule: "type")
        case .number:
            if case .number = def.kind { break }
            report("default of number \(what) must be a number, found \(def.kindDescription)", at: defNode, rule: "type")
        case .string, .environment:
            break
        }
    }

    private mutating func callOutputs(_ node: YAMLNode) -> [WorkflowCallOutput] {
        guard let pairs = pairs(node, "outputs of 'workflow_call'") else { return [] }
        var result: [WorkflowCallOutput] = []
        for pair in pairs {
            let id = Located(pair.key.scalar ?? "", at: location(pair.key))
            let what = "output '\(id.value)' of 'workflow_call'"
            guard let fields = fields(pair.value, what, allowed: ["description", "value"]) else { continue }
            require("value", in: fields, what, at: pair.key)
            guard let valueNode = fields["value"], let value = string(valueNode, "'value' of \(what)") else { continue }
            let description = fields["description"].flatMap { string($0, "'description' of \(what)", expressions: false) }
            result.append(WorkflowCallOutput(id: id, description: description, value: value))
        }
        return result
    }

    private mutating func callSecrets(_ node: YAMLNode) -> [WorkflowCallSecret] {
        guard let pairs = pairs(node, "secrets of 'workflow_call'") else { return [] }
        var result: [WorkflowCallSecret] = []
        for pair in pairs {
            let id = Located(pair.key.scalar ?? "", at: location(pair.key))
            let what = "secret '\(id.value)' of 'workflow_call'"
            guard let fields = fields(pair.value, what, allowed: ["description", "required"]) else { continue }
            var secret = WorkflowCallSecret(id: id)
            if let n = fields["description"] { secret.description = string(n, "'description' of \(what)", expressions: false) }
            if let n = fields["required"] { secret.required = bool(n, "'required' of \(what)") ?? false }
            result.append(secret)
        }
        return result
    }
}
