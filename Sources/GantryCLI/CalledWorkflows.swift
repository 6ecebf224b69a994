import WorkflowExpressions
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

/// Reads the reusable workflows that jobs call (`jobs.<id>.uses`), and those they call in turn: a
/// `./` or `$/` path from the repository (or, inside a remote workflow, from that workflow's own
/// repository), `OWNER/REPO/PATH@REF` from the action directory as `OWNER/REPO@REF/PATH` (never
/// downloaded). What cannot be read is kept as a one-line reason; the plan reports it only where
/// the call takes part.
enum CalledWorkflows {
    struct Outcome {
        var workflows: [String: Workflow] = [:]
        var problems: [String: String] = [:]
    }

    static func load(for roots: [Workflow], resolve: (String) -> String, actionDirectory: String) -> Outcome {
        var outcome = Outcome()
        var parsed: [String: Result<Workflow, Unreadable>] = [:]
        // (workflow, the folder its `./` paths start from; nil: the repository)
        var queue: [(Workflow, String?)] = roots.map { ($0, nil) }
        while !queue.isEmpty {
            let (workflow, base) = queue.removeFirst()
            for job in workflow.jobs {
                guard let uses = job.uses?.value else { continue }
                let key = ReusableWorkflows.key(caller: workflow.file, uses: uses)
                guard outcome.workflows[key] == nil, outcome.problems[key] == nil else { continue }
                let path: String
                let nestedBase: String?
                switch ReusableWorkflows.reference(uses) {
                case .local(let inner)?:
                    path = base.map { $0 + "/" + inner } ?? resolve(inner)
                    nestedBase = base
                case .remote(let owner, let repo, let inner, let ref)?:
                    let repository = actionDirectory + "/" + owner + "/" + repo + "@" + ref
                    guard FileSystem.isDirectory(repository) else {
                        outcome.problems[key] = "the reusable workflow '\(uses)' is not in the action directory: gantry runs offline and looks for it in \(repository); "
                            + "provide it with `git clone --depth 1 --branch \(ref) https://github.com/\(owner)/\(repo) \(repository)` or point --action-dir elsewhere"
                        continue
                    }
                    path = repository + "/" + inner
                    nestedBase = repository
                case nil:
                    outcome.problems[key] = "'\(uses)' is not a reusable workflow reference: expected ./.github/workflows/FILE, $/.github/workflows/FILE or OWNER/REPO/.github/workflows/FILE@REF"
                    continue
                }
                if parsed[path] == nil { parsed[path] = parse(path) }
                switch parsed[path]! {
                case .success(let callee):
                    guard callee.trigger("workflow_call") != nil else {
                        outcome.problems[key] = "'\(uses)' is not a reusable workflow: \(path) has no 'workflow_call' under 'on'"
                        continue
                    }
                    outcome.workflows[key] = callee
                    queue.append((callee, nestedBase))
                case .failure(let reason):
                    outcome.problems[key] = "the reusable workflow '\(uses)' cannot be used: \(reason.message)"
                }
            }
        }
        return outcome
    }

    /// Why a called workflow's file could not be used.
    struct Unreadable: Error {
        var message: String
    }

    private static func parse(_ path: String) -> Result<Workflow, Unreadable> {
        let bytes: [UInt8]
        do throws(FileSystem.Failure) {
            bytes = try FileSystem.read(path)
        } catch {
            return .failure(Unreadable(message: error.description))
        }
        let result = WorkflowParser.parse(bytes, file: path)
        if let error = result.diagnostics.first(where: { $0.severity == .error }) {
            return .failure(Unreadable(message: "\(error.location.file):\(error.location.line):\(error.location.column): \(error.message)"))
        }
        guard let workflow = result.workflow else { return .failure(Unreadable(message: "\(path) is not a workflow")) }
        return .success(workflow)
    }
}

/// What `validate` checks of each call against the workflow it calls: that it can be read and has
/// `on: workflow_call`, that every input given is declared, every required input and secret is given,
/// no undeclared secret is mapped, and literal values have the declared type (messages as GitHub's
/// parser words them). A `./` path is looked up from the repository that holds the workflow (its
/// `.github/workflows/` folder); a workflow file outside one, or a remote workflow that is not in the
/// action directory, is not checked (nothing says where it would be).
enum CallChecks {
    static func diagnostics(_ workflow: Workflow, actionDirectory: String) -> [Diagnostic] {
        guard workflow.jobs.contains(where: { $0.uses != nil }) else { return [] }
        var out: [Diagnostic] = []
        let root = repositoryRoot(of: workflow.file)
        let called = CalledWorkflows.load(for: [workflow], resolve: { path in root.map { $0 + "/" + path } ?? path }, actionDirectory: actionDirectory)
        for job in workflow.jobs {
            guard let uses = job.uses else { continue }
            let key = ReusableWorkflows.key(caller: workflow.file, uses: uses.value)
            if let callee = called.workflows[key] {
                out += check(job, uses: uses, against: callee)
            } else if let problem = called.problems[key] {
                switch ReusableWorkflows.reference(uses.value) {
                case .local? where root == nil: continue
                case .remote? where problem.containsUTF8("is not in the action directory"): continue
                case nil: continue  // the parser reports a malformed reference
                default: out.append(Diagnostic(.error, problem, at: uses.location, rule: "reusable-workflow"))
                }
            }
        }
        return out
    }

    /// The folder above `.github/workflows/` of a workflow file, if it is in one.
    static func repositoryRoot(of file: String) -> String? {
        if file.hasPrefix(".github/workflows/") { return "." }
        let marker = Array("/.github/workflows/".utf8)
        let bytes = Array(file.utf8)
        guard bytes.count > marker.count else { return nil }
        for start in stride(from: bytes.count - marker.count, through: 0, by: -1) where Array(bytes[start..<start + marker.count]) == marker {
            return String(decoding: bytes[..<start], as: UTF8.self)
        }
        return nil
    }

    static func check(_ job: Job, uses: Located<String>, against callee: Workflow) -> [Diagnostic] {
        guard let trigger = callee.trigger("workflow_call") else { return [] }
        var out: [Diagnostic] = []
        func error(_ message: String, at location: SourceLocation) {
            out.append(Diagnostic(.error, message, at: location, rule: "reusable-workflow"))
        }
        // A `${{ insert }}` key gives inputs known only when the call runs (GitHub's parser then skips
        // its required-property check too).
        let inserts = job.with.contains { ExpressionTemplate.isInsertDirective($0.key.value) }
        for given in job.with where !trigger.inputs.contains(where: { $0.id.value.lowercased() == given.key.value.lowercased() })
            && !ExpressionTemplate.isInsertDirective(given.key.value) {
            error("Invalid input, \(given.key.value) is not defined in the referenced workflow '\(uses.value)'", at: given.key.location)
        }
        for input in trigger.inputs {
            guard let given = job.with.last(where: { $0.key.value.lowercased() == input.id.value.lowercased() }) else {
                if input.required && input.defaultValue == nil && !inserts {
                    error("Input \(input.id.value) is required, but not provided while calling '\(uses.value)'", at: uses.location)
                }
                continue
            }
            // Expressions are typed when the call runs; literals now.
            if case .string(let text) = given.value.kind, ExpressionTemplate.containsExpression(text) { continue }
            switch (input.type?.value, given.value.kind) {
            case (.boolean?, .bool), (.number?, .number), (.string?, _), (nil, _), (.choice?, _), (.environment?, _): break
            case (.boolean?, _), (.number?, _):
                error(
                    "Input \(input.id.value) of '\(uses.value)' is a \(input.type!.value.rawValue); got \(given.value.kindDescription) '\(given.value.scalarText ?? "")'",
                    at: given.value.location)
            }
        }
        switch job.secrets {
        case .inherit?: break
        case .mapping(let entries)?:
            for entry in entries where !trigger.secrets.contains(where: { $0.id.value.lowercased() == entry.key.value.lowercased() }) {
                error("Invalid secret, \(entry.key.value) is not defined in the referenced workflow '\(uses.value)'", at: entry.key.location)
            }
            for secret in trigger.secrets where secret.required && !entries.contains(where: { $0.key.value.lowercased() == secret.id.value.lowercased() }) {
                error("Secret \(secret.id.value) is required, but not provided while calling '\(uses.value)'", at: uses.location)
            }
        case nil:
            for secret in trigger.secrets where secret.required {
                error("Secret \(secret.id.value) is required, but not provided while calling '\(uses.value)'", at: uses.location)
            }
        }
        return out
    }
}

/// What `validate` checks of each literal matrix with GitHub's MatrixBuilder rules (the planner's):
/// `exclude` keys the matrix does not have, empty vectors and include rows, and more than 256 rows.
/// A matrix with expressions is checked when it is expanded.
enum MatrixChecks {
    static func diagnostics(_ workflow: Workflow) -> [Diagnostic] {
        workflow.jobs.compactMap { job in
            JobList.literalMatrixFailure(job).map { Diagnostic(.error, $0.message, at: $0.location, rule: "matrix") }
        }
    }
}
