import WorkflowExpressions
import WorkflowModel

/// What an expression's value is, as far as the workflow tells before it runs: the contexts' real
/// shapes (GitHub's docs, "Contexts reference"), the functions' results and the operators'. `any`
/// is "not known": nothing is reported about it. Only what is certain is typed, so the checks built
/// on it (rule `expression-type`) report bugs, never a workflow that works.
indirect enum ValueShape: Equatable, Sendable {
    case null, bool, number, string
    case array
    /// An object with the shapes of the properties known by name (lowercased: GitHub's property
    /// names compare case-insensitively) and the shape of every other property.
    case object([String: ValueShape], other: ValueShape)
    case any

    /// A map of strings, as `env`, `vars`, `secrets` and `outputs` are.
    static let strings = ValueShape.object([:], other: .string)
    static let anyObject = ValueShape.object([:], other: .any)

    /// "a string", "an object": for messages.
    var described: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        case .any: "a value"
        }
    }

    var isScalar: Bool { self == .bool || self == .number || self == .string }
    var isContainer: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
    }

    /// The shape of `self.key`.
    func property(_ key: String) -> ValueShape {
        switch self {
        case .object(let known, let other): known[key.lowercased()] ?? other
        case .null, .bool, .number, .string: .null
        case .array, .any: .any
        }
    }

    /// Two shapes an expression may have either of (`a || b`): the shape when they agree.
    func joined(_ other: ValueShape) -> ValueShape { self == other ? self : .any }
}

/// The contexts' shapes at one place of a workflow.
struct ContextShapes {
    var contexts: [String: ValueShape]

    /// The shapes every place shares: GitHub's documented contexts. `inputs` comes from the
    /// workflow's declarations.
    static func workflow(_ workflow: Workflow) -> ContextShapes {
        var inputs: [String: ValueShape] = [:]
        for trigger in workflow.triggers where trigger.event.value == "workflow_dispatch" || trigger.event.value == "workflow_call" {
            for input in trigger.inputs {
                let shape: ValueShape
                switch input.type?.value {
                case .boolean?: shape = .bool
                // A workflow_dispatch number arrives as a string when the workflow is dispatched
                // from the API or a form, so only workflow_call's numbers are certain.
                case .number?: shape = trigger.event.value == "workflow_call" ? .number : .any
                case .string?, .choice?, .environment?: shape = .string
                case nil: shape = .any
                }
                let key = input.id.value.lowercased()
                inputs[key] = inputs[key].map { $0.joined(shape) } ?? shape
            }
        }
        var shapes = documented
        shapes.contexts["inputs"] = .object(inputs, other: .any)
        return shapes
    }

    /// GitHub's documented contexts, built once a process: every workflow starts from them.
    static let documented: ContextShapes = {
        let steps = ValueShape.object(["outputs": .strings, "outcome": .string, "conclusion": .string], other: .any)
        let jobResults = ValueShape.object(["outputs": .strings, "result": .string], other: .any)
        return ContextShapes(contexts: [
            "github": .object(
                Dictionary(uniqueKeysWithValues: githubStrings.map { ($0, ValueShape.string) }).merging(["event": .anyObject]) { $1 },
                other: .any),
            "env": .strings, "vars": .strings, "secrets": .strings,
            "inputs": .anyObject,
            "steps": .object([:], other: steps),
            "needs": .object([:], other: jobResults),
            "jobs": .object([:], other: jobResults),
            "strategy": .object(["fail-fast": .bool, "job-index": .number, "job-total": .number, "max-parallel": .number], other: .any),
            "runner": .object(Dictionary(uniqueKeysWithValues: ["name", "os", "arch", "temp", "tool_cache", "debug", "environment"].map { ($0, .string) }), other: .any),
            "job": .object(["status": .string, "container": .anyObject, "services": .anyObject], other: .any),
        ])
    }()

    /// The `github` context's properties that are strings (the run's ids and numbers included:
    /// GitHub gives `run_id`, `run_number` and `run_attempt` as strings).
    static let githubStrings = [
        "action", "action_path", "action_ref", "action_repository", "action_status", "actor", "actor_id", "api_url", "base_ref",
        "env", "event_name", "event_path", "graphql_url", "head_ref", "job", "path", "ref", "ref_name", "ref_type",
        "repository", "repository_id", "repository_owner", "repository_owner_id", "repositoryurl", "retention_days", "run_id",
        "run_number", "run_attempt", "secret_source", "server_url", "sha", "token", "triggering_actor", "workflow", "workflow_ref",
        "workflow_sha", "workspace",
    ]

    // MARK: Shapes of expressions

    /// The shape of an expression's value.
    func shape(of node: ExpressionSyntax) -> ValueShape {
        switch node {
        case .literal(let value):
            switch value {
            case .null: return .null
            case .bool: return .bool
            case .number: return .number
            case .string: return .string
            case .array: return .array
            case .object: return .anyObject
            }
        case .context(let name, _):
            return contexts[name.lowercased()] ?? .any
        case .index(let base, .expression(.literal(.string(let key)))):
            return shape(of: base).property(key)
        case .index:
            // `*` filters, and a computed key may be anything.
            return .any
        case .call(let name, _, _):
            switch name.lowercased() {
            case "contains", "startswith", "endswith", "success", "always", "cancelled", "failure": return .bool
            case "format", "join", "tojson", "hashfiles": return .string
            default: return .any
            }
        case .not, .comparison:
            return .bool
        case .and(let items), .or(let items):
            return items.dropFirst().reduce(items.first.map(shape(of:)) ?? .any) { $0.joined(shape(of: $1)) }
        case .group(let inner):
            return shape(of: inner)
        }
    }

    /// What can never work: a property of a string, number or boolean (always null), and `==` or
    /// `!=` between an object or array and a string, number or boolean (GitHub turns both into
    /// numbers: the object's is NaN, so they never compare equal). Messages with the offset (in the
    /// expression) they belong at.
    func problems(in syntax: ExpressionSyntax) -> [(message: String, offset: Int)] {
        var found: [(message: String, offset: Int)] = []
        syntax.visit { node in
            switch node {
            case .index(let base, .expression(.literal(.string(let key)))):
                let receiver = shape(of: base)
                guard receiver.isScalar, let offset = Self.offset(of: base) else { return }
                let name = Self.text(of: base)
                found.append(("'\(name).\(key)' is always null: '\(name)' is \(receiver.described), which has no properties", offset))
            case .comparison(let op, let left, let right) where op == .equal || op == .notEqual:
                let (l, r) = (shape(of: left), shape(of: right))
                guard (l.isContainer && r.isScalar) || (l.isScalar && r.isContainer) else { return }
                let container = l.isContainer ? left : right
                guard let offset = Self.offset(of: container) else { return }
                let always = op == .equal ? "false" : "true"
                found.append((
                    "this '\(op.rawValue)' is always \(always): '\(Self.text(of: container))' is \((l.isContainer ? l : r).described) "
                        + "and the other side \((l.isContainer ? r : l).described), and GitHub compares such values as numbers, which never match",
                    offset))
            default: break
            }
        }
        return found.sorted { $0.offset < $1.offset }
    }

    /// Where a value is written: its first context or function call.
    static func offset(of node: ExpressionSyntax) -> Int? {
        var offsets: [Int] = []
        node.visit { inner in
            switch inner {
            case .context(_, let offset), .call(_, _, let offset): offsets.append(offset)
            default: break
            }
        }
        return offsets.min()
    }

    /// `github.event.inputs`, or "this value" for what is not a plain path.
    static func text(of node: ExpressionSyntax) -> String {
        if case .context(let name, _) = node { return name }
        guard let (context, _, path) = ReferenceScope.literalPath(node) else { return "this value" }
        return ([context] + path).joined(separator: ".")
    }
}
