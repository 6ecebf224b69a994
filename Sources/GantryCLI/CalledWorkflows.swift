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
