import ArgumentParser
import Dispatch
import GitSupport
import WorkflowExpressions
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

/// Options of the commands that plan a run (`plan`, `graph`), spelled as act users know them.
struct PlanOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The event to plan for.", valueName: "event"))
    var event: String = "push"

    @Option(name: [.customShort("e"), .customLong("eventpath")], help: ArgumentHelp("A JSON file with the full event payload.", valueName: "file"))
    var eventPath: String?

    @Option(name: .customLong("input"), help: ArgumentHelp("A workflow_dispatch input (repeatable).", valueName: "name=value"))
    var inputs: [String] = []

    @Option(name: [.customShort("j"), .customLong("job")], help: ArgumentHelp("Only this job and what it needs (repeatable).", valueName: "job"))
    var jobs: [String] = []

    @Option(name: .customLong("matrix"), help: ArgumentHelp("Only matrix rows with this value (repeatable).", valueName: "key=value"))
    var matrix: [String] = []

    @Option(
        name: [.customShort("P"), .customLong("platform")],
        help: ArgumentHelp("Map a runs-on label to 'host' or 'docker://IMAGE' (repeatable).", valueName: "label=backend"))
    var platforms: [String] = []

    @Option(name: .customLong("var"), help: ArgumentHelp("A value of the vars context (repeatable).", valueName: "name=value"))
    var vars: [String] = []

    /// What the options say, as a plain value.
    var selection: PlanSelection {
        PlanSelection(event: event, eventPath: eventPath, inputs: inputs, jobs: jobs, matrix: matrix, platforms: platforms, vars: vars)
    }

    func validate() throws {
        try selection.check()
    }

    static func split(_ text: String) -> (String, String)? {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { return nil }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }
}

/// The event and selections a plan is made for: the values behind `PlanOptions`, also made without
/// ArgumentParser (`FastCommandLine`, `gantry serve`).
struct PlanSelection: Equatable, Sendable {
    var event = "push"
    var eventPath: String?
    var inputs: [String] = []
    var jobs: [String] = []
    var matrix: [String] = []
    var platforms: [String] = []
    var vars: [String] = []

    func check() throws(ValidationError) {
        for (flag, values) in [("--input", inputs), ("--matrix", matrix), ("-P", platforms), ("--var", vars)] {
            for value in values where PlanOptions.split(value) == nil {
                throw ValidationError("\(flag) expects name=value, got '\(value)'")
            }
        }
        for platform in platforms {
            let backend = PlanOptions.split(platform)!.1
            if backend != "host" && !backend.hasPrefix("docker://") {
                throw ValidationError("-P \(platform): the backend must be 'host' or 'docker://IMAGE'")
            }
        }
    }

}

/// Loads workflows and the repository's facts for the planning commands.
struct PlanningFrontend {
    var diagnostics: [Diagnostic] = []
    var problems: [String] = []
    var warnings: [String] = []
    var workflows: [Workflow] = []
    /// Where `OWNER/REPO/…@REF` reusable workflows are read (`--action-dir`; default: the cache's `actions/`).
    var actionDirectory: String?
    /// The reusable workflows the planned jobs call.
    var calledWorkflows: [Workflow] = []
    /// The event the last plan was made for, and the whole request.
    var lastEvent: PlanEvent?
    var lastRequest: PlanRequest?
    /// `workflow_dispatch` inputs from a file (`.input`): under `--input` values, and, as in an event
    /// payload, names a workflow does not declare are ignored rather than errors.
    var fileInputs: [(String, String)] = []
    /// The event's payload when it is not read from `--event-path` (`gantry serve`: the delivery's).
    var payload: ExpressionValue?

    /// Parses every workflow; workflows with errors are reported and left out of the plan.
    mutating func loadWorkflows(_ options: WorkflowSelection) {
        let outcome = ValidateFrontend.run(paths: options.workflowPaths(explicit: []))
        problems += outcome.problems
        diagnostics += outcome.diagnostics.filter { $0.severity == .error }
        workflows = outcome.workflows
    }


    /// Builds the plan request from the options; payload problems are reported.
    mutating func request(_ options: PlanSelection, git: GitFacts) -> PlanRequest? {
        var payload = self.payload
        if let path = options.eventPath {
            do {
                let bytes = try FileSystem.read(path)
                payload = try JSONText.parse(String(decoding: bytes, as: UTF8.self))
            } catch let error as FileSystem.Failure {
                problems.append(error.description)
                return nil
            } catch let error as JSONText.ParseError {
                problems.append("\(path): invalid JSON at byte \(error.offset + 1): \(error.message)")
                return nil
            } catch {
                problems.append("\(path): \(error)")
                return nil
            }
        }
        let inputs = options.inputs.compactMap(PlanOptions.split).map { (name: $0.0, value: $0.1) }
        var event = PlanEvent(name: options.event, git: git, payload: payload, inputs: inputs)
        if !fileInputs.isEmpty, event.name == "workflow_dispatch", case .object(let object) = event.payload {
            var given: [(String, ExpressionValue)] = fileInputs.map { ($0.0, .string($0.1)) }
            if case .object(let existing)? = object["inputs"] {
                for (name, value) in existing.pairs {
                    given.removeAll { $0.0 == name }
                    given.append((name, value))
                }
            }
            event.payload = event.payload(withInputs: .object(given)) ?? event.payload
        }
        return PlanRequest(
            event: event, jobs: options.jobs,
            matrixFilters: options.matrix.compactMap(PlanOptions.split).map { (key: $0.0, value: $0.1) },
            platforms: options.platforms.compactMap(PlanOptions.split).map { (label: $0.0, backend: $0.1) },
            vars: options.vars.compactMap(PlanOptions.split))
    }

    /// Plans, reporting unknown `-j` jobs and planning diagnostics. Refs come from `.git` directly; the
    /// commit's author, message and changed paths (libgit2) are awaited only when `commitDetails` is
    /// true or a workflow filters this event by `paths`.
    mutating func plan(_ options: PlanSelection, _ workflowOptions: WorkflowSelection, commitDetails alwaysDetails: Bool) -> Plan? {
        let directory = workflowOptions.directory ?? "."
        var refs: RefFacts?
        var details: CommitDetailsLoader?
        do {
            refs = try RefReader.read(from: directory)
            // `plan` and `run` always need the commit: read it now, on the other core.
            if alwaysDetails, let refs { details = CommitDetailsLoader(refs: refs, directory: directory) }
        } catch {
            warnings.append("'\(directory)' is not in a git repository (\(error.message)); github.sha, github.ref and changed paths are empty")
        }
        loadWorkflows(workflowOptions)
        var git = GitFacts()
        if let refs {
            git = GitFacts(
                sha: refs.sha, ref: refs.ref, repository: refs.repository, actor: refs.userName,
                defaultBranch: refs.defaultBranch, workspace: refs.workdir)
            let filtersPaths = workflows.contains { workflow in
                guard let trigger = workflow.trigger(options.event) else { return false }
                return trigger.paths != nil || trigger.pathsIgnore != nil
            }
            if alwaysDetails || filtersPaths || refs.needsTagPeeling {
                switch (details ?? CommitDetailsLoader(refs: refs, directory: directory)).wait() {
                case .success(let commit):
                    git.actor = git.actor ?? commit.authorName
                    git.commitMessage = commit.commitMessage
                    git.changedPaths = commit.changedPaths
                    (git.added, git.removed, git.modified) = (commit.added, commit.removed, commit.modified)
                    (git.authorName, git.authorEmail) = (commit.authorName, commit.authorEmail)
                    git.parentSha = commit.parentSha
                    if git.ref == nil, let tag = commit.tag { git.ref = "refs/tags/" + tag }
                case .failure(let error):
                    warnings.append("cannot read the HEAD commit (\(error)); changed paths are empty")
                }
            }
        }
        return plan(options, workflowOptions, git: git, workdir: refs?.workdir)
    }

    /// Plans the loaded workflows with git facts given (`gantry serve` takes them from the event).
    mutating func plan(_ options: PlanSelection, _ workflowOptions: WorkflowSelection, git: GitFacts, workdir: String?) -> Plan? {
        guard var request = request(options, git: git) else { return nil }
        let called = CalledWorkflows.load(
            for: workflows, resolve: workflowOptions.resolve,
            actionDirectory: actionDirectory ?? GantryDirectories.cache(environment: GantryCommand.Run.hostEnvironment(GantryDirectories.cacheVariables), repository: workdir) + "/actions")
        request.calledWorkflows = called.workflows
        request.calledWorkflowProblems = called.problems
        calledWorkflows = Array(called.workflows.values)
        lastEvent = request.event
        lastRequest = request
        let unknown = Planner.unknownJobs(options.jobs, in: workflows)
        if !unknown.isEmpty {
            let known = workflows.flatMap { $0.jobs.map(\.id.value) }
            problems.append(
                "no workflow has job \(unknown.map { "'\($0)'" }.joined(separator: ", ")); jobs are: \(known.joined(separator: ", "))")
            return nil
        }
        let (plan, planDiagnostics) = Planner.plan(workflows, request)
        diagnostics += planDiagnostics
        return plan
    }

    /// actions/checkout copies the repository through libgit2: when a workflow has such a step, the
    /// library is loaded now, on the other core, while the first jobs start.
    func prewarmCheckout() {
        let checksOut = workflows.contains { workflow in
            workflow.jobs.contains { job in job.flattenedSteps.contains { $0.uses?.value.lowercased().hasPrefix("actions/checkout@") == true } }
        }
        if checksOut { GitLibrary.prewarm() }
    }

    /// Prints warnings, problems and diagnostics to standard error; true when anything was an error.
    func reportProblems() -> Bool {
        var text = ""
        for warning in warnings { text += "gantry: warning: \(warning)\n" }
        for problem in problems { text += "gantry: error: \(problem)\n" }
        text += DiagnosticPrinter.text(diagnostics.sorted())
        FileSystem.write(text, to: 2)
        return !problems.isEmpty || diagnostics.containsErrors
    }
}

/// Reads HEAD's commit details on a background thread, so that overlaps parsing the workflows: from
/// the object files directly, or through libgit2 where that reader cannot (SHA-256 objects, version 1
/// pack indexes, a broken object).
/// `@unchecked Sendable`: the result is written once by the background thread before it signals,
/// and read only after `wait()` has seen that signal.
final class CommitDetailsLoader: @unchecked Sendable {
    private var result: Result<CommitDetails, GitError>?
    private let done = DispatchSemaphore(value: 0)

    init(refs: RefFacts, directory: String) {
        DispatchQueue.global().async { [self] in
            do throws(GitError) {
                result = .success(try CommitReader.details(of: refs))
            } catch {
                do throws(GitError) {
                    result = .success(try Repository(discoveringFrom: directory).commitDetails())
                } catch {
                    result = .failure(error)
                }
            }
            done.signal()
        }
    }

    func wait() -> Result<CommitDetails, GitError> {
        done.wait()
        return result!
    }
}
