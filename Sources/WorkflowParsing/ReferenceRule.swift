import WorkflowExpressions
import WorkflowModel

/// What an expression at a given place of a workflow can refer to, for references that can never
/// resolve (checks beyond GitHub's parser, which leaves them empty at run time): `steps.<id>` of no
/// earlier step, `needs.<job>` not in `needs`, `needs.<job>.outputs.<name>` the job does not declare,
/// `matrix.<key>` the matrix has no row with, `inputs.<name>` the workflow does not declare, and
/// `jobs.<job>.outputs.<name>` in `workflow_call` outputs. A nil set is "not known here": no check.
struct ReferenceScope {
    /// Ids (lowercased) of the steps before this point, or of all steps for job outputs (`allSteps`).
    var steps: Set<String>?
    var allSteps = false
    /// The jobs in `needs` (lowercased ids) with their declared outputs (nil for a call of a reusable
    /// workflow, whose outputs are the callee's).
    var needs: [String: Set<String>?]?
    /// The matrix's keys (vectors and include keys); nil when an expression gives any part of it.
    var matrix: Set<String>?
    /// Declared `workflow_dispatch` and `workflow_call` inputs (lowercased).
    var inputs: Set<String>?
    /// Every job (lowercased) with its outputs, for `workflow_call` outputs.
    var jobs: [String: Set<String>?]?

    /// The scope of a workflow: its inputs and jobs.
    static func workflow(_ workflow: Workflow) -> ReferenceScope {
        var scope = ReferenceScope()
        let triggers = workflow.triggers.filter { ["workflow_dispatch", "workflow_call"].contains($0.event.value) }
        scope.inputs = Set(triggers.flatMap { $0.inputs.map { $0.id.value.lowercased() } })
        scope.jobs = Dictionary(workflow.jobs.map { (Workflow.foldedID($0.id.value), outputs(of: $0)) }, uniquingKeysWith: { a, _ in a })
        return scope
    }

    static func outputs(of job: Job) -> Set<String>? {
        job.isReusableWorkflowCall ? nil : Set(job.outputs.map { Workflow.foldedID($0.key.value) })
    }

    /// The keys a literal matrix gives its rows; nil when part of it is an expression.
    static func matrixKeys(_ job: Job) -> Set<String>? {
        guard let strategy = job.strategy else { return [] }
        if strategy.expression != nil { return nil }
        // A strategy without a readable matrix (only `fail-fast`, or a matrix the decoder refused): not known.
        guard case .literal(let definition)? = strategy.matrix else { return nil }
        var keys = Set<String>()
        for axis in definition.axes {
            if ExpressionTemplate.containsExpression(axis.key.value) { return nil }
            keys.insert(axis.key.value.lowercased())
        }
        switch definition.include {
        case .expression?: return nil
        case .literal(let rows)?:
            for row in rows {
                guard case .mapping(let entries) = row.kind else { return nil }
                for entry in entries {
                    if ExpressionTemplate.containsExpression(entry.key.value) { return nil }
                    keys.insert(entry.key.value.lowercased())
                }
            }
        case nil: break
        }
        return keys
    }

    /// The problems of one parsed expression: messages with the offset (in the expression) of the
    /// context they start at.
    func problems(in syntax: ExpressionSyntax) -> [(message: String, offset: Int)] {
        var found: [(message: String, offset: Int)] = []
        syntax.visit { node in
            guard case .index = node, Self.isChecked(node), let (context, offset, path) = Self.literalPath(node) else { return }
            let first = path[0].lowercased()
            switch (context, path.count) {
            case ("steps", 1):
                guard let steps, !steps.contains(first) else { return }
                let place = allSteps ? "no step of this job has the id '\(path[0])'" : "no step before this one has the id '\(path[0])'"
                found.append(("'steps.\(path[0])' never has a value here: " + place + Self.known(steps, label: allSteps ? "step ids" : "ids before it"), offset))
            case ("needs", 1):
                guard let needs, needs[first] == nil else { return }
                found.append(("'needs.\(path[0])' never has a value here: '\(path[0])' is not in this job's 'needs'" + Self.known(Set(needs.keys), label: "needs"), offset))
            case ("needs", 3) where path[1].lowercased() == "outputs":
                guard let needs, case .some(.some(let outputs)) = needs[first], !outputs.contains(path[2].lowercased()) else { return }
                found.append(("'needs.\(path[0]).outputs.\(path[2])' never has a value: job '\(path[0])' has no output '\(path[2])'" + Self.known(outputs, label: "its outputs"), offset))
            case ("matrix", 1):
                guard let matrix, !matrix.contains(first) else { return }
                let why = matrix.isEmpty ? "this job has no matrix" : "no row of this job's matrix has the key '\(path[0])'" + Self.known(matrix, label: "keys")
                found.append(("'matrix.\(path[0])' never has a value: " + why, offset))
            case ("inputs", 1):
                guard let inputs, !inputs.contains(first) else { return }
                found.append(("'inputs.\(path[0])' never has a value: the workflow declares no input '\(path[0])' in 'on.workflow_dispatch' or 'on.workflow_call'" + Self.known(inputs, label: "inputs"), offset))
            case ("jobs", 1):
                guard let jobs, jobs[first] == nil else { return }
                found.append(("'jobs.\(path[0])' never has a value: the workflow has no job '\(path[0])'", offset))
            case ("jobs", 3) where path[1].lowercased() == "outputs":
                guard let jobs, case .some(.some(let outputs)) = jobs[first], !outputs.contains(path[2].lowercased()) else { return }
                found.append(("'jobs.\(path[0]).outputs.\(path[2])' never has a value: job '\(path[0])' has no output '\(path[2])'" + Self.known(outputs, label: "its outputs"), offset))
            default: break
            }
        }
        return found.sorted { $0.offset < $1.offset }
    }

    private static func known(_ names: Set<String>, label: String = "ids before it") -> String {
        names.isEmpty ? "" : " (\(label): " + names.sorted().map { "'\($0)'" }.joined(separator: ", ") + ")"
    }

    /// Whether `node` is a literal path of a context and length checked above (`steps.x`,
    /// `needs.x.outputs.y`, ...), found without making the path: most paths (`github.*`, `env.*`,
    /// `secrets.*`) are not, and every prefix of a path is visited too.
    private static func isChecked(_ node: ExpressionSyntax) -> Bool {
        var keys = 0
        var current = node
        while true {
            switch current {
            case .index(let base, .expression(.literal(.string))):
                keys += 1
                current = base
            case .context(let name, _):
                switch (name, keys) {
                case ("steps", 1), ("needs", 1), ("needs", 3), ("matrix", 1), ("inputs", 1), ("jobs", 1), ("jobs", 3): return true
                default: return false
                }
            default:
                return false
            }
        }
    }

    /// `context.a.b['c']` as the context, where it is written, and the literal keys after it; nil when a
    /// key is `*` or computed.
    static func literalPath(_ node: ExpressionSyntax) -> (String, Int, [String])? {
        var keys: [String] = []
        var current = node
        while true {
            switch current {
            case .index(let base, .expression(.literal(.string(let key)))):
                keys.append(key)
                current = base
            case .context(let name, let offset):
                return keys.isEmpty ? nil : (name, offset, keys.reversed())
            default:
                return nil
            }
        }
    }
}
