public import WorkflowModel

/// Reads an action's metadata (`action.yml`): YAML text in, `ActionMetadata` and diagnostics out. Pure.
///
/// Keys GitHub's runner does not use (`author`, `description`, `branding`, an input's `description`) are
/// read past; a missing or wrong `runs` is an error, as it is on GitHub.
public enum ActionParser {
    /// What parsing one metadata file produced.
    public struct Result: Sendable {
        /// The metadata, or nil when an error leaves nothing runnable.
        public var action: ActionMetadata?
        public var diagnostics: [Diagnostic]
    }

    /// The `runs.using` values Gantry runs: JavaScript on the host's `node`, composite, docker.
    public static let nodeRuntimes = ["node12", "node16", "node20", "node24"]

    public static func parse(_ bytes: [UInt8], file: String) -> Result {
        var decoder = WorkflowDecoder(file: file)
        let root: YAMLNode?
        switch YAMLLoader.document(bytes, file: file) {
        case .root(let node): root = node
        case .syntaxError(let diagnostic): return Result(action: nil, diagnostics: [diagnostic])
        }
        guard let root, !root.isNull else {
            decoder.report("action metadata is empty; it needs at least 'runs'", at: SourceLocation(file: file, line: 1, column: 1), rule: "missing-key")
            return Result(action: nil, diagnostics: decoder.diagnostics)
        }
        let action = decoder.action(root)
        let failed = decoder.diagnostics.contains { $0.severity == .error }
        return Result(action: failed ? nil : action, diagnostics: decoder.diagnostics.sorted())
    }

    /// Parses metadata given as a string.
    public static func parse(_ text: String, file: String) -> Result {
        parse(Array(text.utf8), file: file)
    }
}

extension WorkflowDecoder {
    mutating func action(_ root: YAMLNode) -> ActionMetadata? {
        guard let pairs = pairs(root, "the action metadata", allowNull: false) else { return nil }
        var name: String?
        var inputs: [ActionMetadata.Input] = []
        var outputs: [ActionMetadata.Output] = []
        var runs: ActionMetadata.Runs?
        for pair in pairs {
            switch pair.key.scalar ?? "" {
            case "name": name = string(pair.value, "'name'", expressions: false)?.value
            case "inputs": inputs = actionInputs(pair.value)
            case "outputs": outputs = actionOutputs(pair.value)
            case "runs": runs = actionRuns(pair.value)
            default: break
            }
        }
        guard let runs else {
            if !pairs.contains(where: { $0.key.scalar == "runs" }) {
                report("the action metadata is missing required key 'runs'", at: root, rule: "missing-key")
            }
            return nil
        }
        return ActionMetadata(file: file, name: name, inputs: inputs, outputs: outputs, runs: runs)
    }

    private mutating func actionInputs(_ node: YAMLNode) -> [ActionMetadata.Input] {
        guard let pairs = pairs(node, "'inputs'") else { return [] }
        return pairs.compactMap { pair in
            guard let id = string(pair.key, "an input name", expressions: false, nonEmpty: true) else { return nil }
            var input = ActionMetadata.Input(id: id)
            for field in self.pairs(pair.value, "input '\(id.value)'") ?? [] {
                switch field.key.scalar ?? "" {
                case "default": input.defaultValue = string(field.value, "'default' of input '\(id.value)'")?.value
                case "required":
                    // Written as a bool or a string ("true"); GitHub does not enforce it.
                    input.required = field.value.scalar.map { $0.lowercased() == "true" } ?? false
                case "deprecationMessage": input.deprecationMessage = string(field.value, "'deprecationMessage'")?.value
                default: break
                }
            }
            return input
        }
    }

    private mutating func actionOutputs(_ node: YAMLNode) -> [ActionMetadata.Output] {
        guard let pairs = pairs(node, "'outputs'") else { return [] }
        return pairs.compactMap { pair in
            guard let id = string(pair.key, "an output name", expressions: false, nonEmpty: true) else { return nil }
            var output = ActionMetadata.Output(id: id)
            for field in self.pairs(pair.value, "output '\(id.value)'") ?? [] where field.key.scalar == "value" {
                output.value = string(field.value, "'value' of output '\(id.value)'")
            }
            return output
        }
    }

    private mutating func actionRuns(_ node: YAMLNode) -> ActionMetadata.Runs? {
        guard let pairs = pairs(node, "'runs'", allowNull: false) else { return nil }
        func text(_ key: String) -> Located<String>? {
            guard let value = pairs.first(where: { $0.key.scalar == key })?.value else { return nil }
            return string(value, "'runs.\(key)'")
        }
        guard let using = text("using") else {
            report("'runs' is missing required key 'using' (composite, node20, node24 or docker)", at: node, rule: "missing-key")
            return nil
        }
        let runtime = using.value.lowercased()
        switch runtime {
        case "composite":
            guard let stepsNode = pairs.first(where: { $0.key.scalar == "steps" })?.value else {
                report("a composite action needs 'runs.steps'", at: node, rule: "missing-key")
                return nil
            }
            return .composite(steps: steps(stepsNode, jobWhat: "the composite action", composite: true))
        case "docker":
            guard let image = text("image") else {
                report("a docker action needs 'runs.image'", at: node, rule: "missing-key")
                return nil
            }
            var docker = ActionMetadata.Docker(
                image: image.value, entrypoint: text("entrypoint")?.value, preEntrypoint: text("pre-entrypoint")?.value,
                preIf: text("pre-if")?.value, postEntrypoint: text("post-entrypoint")?.value, postIf: text("post-if")?.value)
            if let argsNode = pairs.first(where: { $0.key.scalar == "args" })?.value, !argsNode.isNull {
                if case .sequence(let items) = argsNode.kind {
                    docker.args = items.compactMap { string($0, "an entry of 'runs.args'")?.value }
                } else {
                    report("'runs.args' must be a sequence of strings", at: argsNode, rule: "type")
                }
            }
            if let envNode = pairs.first(where: { $0.key.scalar == "env" })?.value {
                for pair in self.pairs(envNode, "'runs.env'") ?? [] {
                    guard let name = string(pair.key, "an env name", expressions: false, nonEmpty: true) else { continue }
                    docker.env.append((name.value, string(pair.value, "'runs.env.\(name.value)'")?.value ?? ""))
                }
            }
            return .docker(docker)
        case _ where ActionParser.nodeRuntimes.contains(runtime):
            guard let main = text("main") else {
                report("a JavaScript action needs 'runs.main'", at: node, rule: "missing-key")
                return nil
            }
            return .node(ActionMetadata.Node(
                using: runtime, main: main.value, pre: text("pre")?.value, preIf: text("pre-if")?.value,
                post: text("post")?.value, postIf: text("post-if")?.value))
        default:
            report(
                "unknown 'runs.using' value '\(using.value)': expected composite, docker or one of \(ActionParser.nodeRuntimes.joined(separator: ", "))",
                at: using.location, rule: "action")
            return nil
        }
    }
}
