import WebhookReading
import ArgumentParser
import ContentCache
import DockerEngine
import GitSupport
public import RunnerService
public import WorkflowExecution
import WorkflowExpressions
import WorkflowModel
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

/// Fetches one mirror at a time per repository (libgit2 on a thread of its own).
actor MirrorFetches {
    private var busy = Set<String>()
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func fetch(_ mirror: Mirror) async throws {
        while busy.contains(mirror.path) { await withCheckedContinuation { waiting[mirror.path, default: []].append($0) } }
        busy.insert(mirror.path)
        defer {
            busy.remove(mirror.path)
            for waiter in waiting.removeValue(forKey: mirror.path) ?? [] { waiter.resume() }
        }
        let result: Result<Void, GitError> = await withCheckedContinuation { continuation in
            startThread {
                do throws(GitError) {
                    try mirror.fetch()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }
}

/// `gantry serve`'s `RunLauncher`: the repository's mirror is fetched, the commit's tree exported once
/// under `<data>/commits/<sha>`, its workflows parsed and planned for the event with the git facts of
/// the payload, exactly as `gantry run` plans; each planned workflow becomes a run with its own folder
/// `<data>/runs/<id>` (logs, workspaces) whose checkout writes the commit from the mirror.
struct ServeLauncher: RunLauncher {
    let data: String
    /// Where runs (logs, artifacts, workspaces), the cache and concurrency groups live: `data`, or the
    /// folder every node of a shared store mounts (`--shared-dir`).
    let shared: String
    /// `owner/name` lowercased → its URL and own settings.
    let repositories: [String: ServeSettings.Repository]
    let hostEnvironment: [(String, String)]
    let secrets: [(String, String)]
    let vars: [(String, String)]
    let platforms: [String]
    let fetches = MirrorFetches()
    let store: any ServiceStore
    /// This node's name (`--name`): the jobs' `runner.name`.
    let name: String
    /// The cache's index when the store is shared (PostgreSQL): the packs are in `shared/cache`.
    let cacheIndex: (any CacheIndex)?

    func mirror(_ repository: String) -> Mirror? {
        repositories[repository.lowercased()].map { Mirror(path: data + "/mirrors/" + repository.lowercased() + ".git", url: $0.url) }
    }

    func plan(_ intake: Intake, runID: @Sendable () async throws -> String) async throws -> [(ServiceRunRecord, PreparedRun)] {
        guard let mirror = mirror(intake.repository) else {
            throw LaunchFailure(status: 404, "repository '\(intake.repository)' is not configured here")
        }
        do {
            try await fetches.fetch(mirror)
        } catch let error as GitError {
            throw LaunchFailure(status: 502, "cannot fetch \(intake.repository): \(error)")
        }
        let sha = try commit(of: intake, in: mirror)
        let (frontend, plan) = try planned(intake, sha: sha, mirror: mirror)
        var out: [(ServiceRunRecord, PreparedRun)] = []
        let chosen = plan.workflows.filter { intake.workflow == nil || relative($0.file, sha: sha) == intake.workflow }
        if let wanted = intake.workflow, chosen.isEmpty {
            throw LaunchFailure(status: 422, "workflow '\(wanted)' is not triggered by \(intake.event) at \(sha)")
        }
        for workflow in chosen {
            let id = RunID(try await runID())
            let number = try await store.next("number:\(intake.repository.lowercased()):\(relative(workflow.file, sha: sha))")
            let record = ServiceRunRecord(
                intake: intake, sha: sha, workflow: relative(workflow.file, sha: sha),
                workflowName: workflow.name == workflow.file ? relative(workflow.file, sha: sha) : workflow.name, runNumber: number)
            out.append((record, prepared(record, run: id, frontend: frontend, plan: plan, mirror: mirror, append: false)))
        }
        return out
    }

    func prepare(_ record: ServiceRunRecord, run: RunID) async throws -> PreparedRun {
        guard let mirror = mirror(record.intake.repository) else {
            throw LaunchFailure(status: 404, "repository '\(record.intake.repository)' is no longer configured")
        }
        // A run another node accepted may be at a commit this node's mirror has not fetched yet.
        if !FileSystem.exists(data + "/commits/" + record.sha), (try? mirror.open().resolve(record.sha)) == nil {
            do {
                try await fetches.fetch(mirror)
            } catch let error as GitError {
                throw LaunchFailure(status: 502, "cannot fetch \(record.intake.repository): \(error)")
            }
        }
        let (frontend, plan) = try planned(record.intake, sha: record.sha, mirror: mirror)
        return prepared(record, run: run, frontend: frontend, plan: plan, mirror: mirror, append: true)
    }

    /// The commit an intake runs: its sha, else the head of its ref in the mirror.
    private func commit(of intake: Intake, in mirror: Mirror) throws -> String {
        do throws(GitError) {
            return try mirror.open().resolve(intake.sha ?? intake.ref ?? "HEAD")
        } catch {
            throw LaunchFailure(status: 422, "\(intake.repository) has no commit \(intake.sha ?? intake.ref ?? "HEAD"): \(error.message)")
        }
    }

    /// The service's values with the repository's own over them (by name).
    private func values(_ repository: String) -> (secrets: [(String, String)], vars: [(String, String)]) {
        let own = repositories[repository.lowercased()]
        func merged(_ base: [(String, String)], _ over: [(String, String)]) -> [(String, String)] {
            base.filter { entry in !over.contains { $0.0 == entry.0 } } + over
        }
        return (merged(secrets, own?.secrets ?? []), merged(vars, own?.vars ?? []))
    }

    func schedules(_ repository: String) async throws -> ScheduleSnapshot {
        guard let mirror = mirror(repository) else { throw LaunchFailure(status: 404, "repository '\(repository)' is not configured here") }
        do {
            try await fetches.fetch(mirror)
        } catch let error as GitError {
            throw LaunchFailure(status: 502, "cannot fetch \(repository): \(error)")
        }
        let ref: String
        let sha: String
        do throws(GitError) {
            ref = try mirror.defaultBranch()
            sha = try mirror.open().resolve(ref)
        } catch {
            throw LaunchFailure(status: 422, "\(repository) has no default branch: \(error.message)")
        }
        let source = try exported(sha, from: mirror)
        let options = WorkflowSelection(directory: source)
        var frontend = PlanningFrontend()
        frontend.loadWorkflows(options)
        var entries: [ScheduleSnapshot.Entry] = []
        for workflow in frontend.workflows {
            for schedule in workflow.trigger("schedule")?.schedules ?? [] {
                entries.append(.init(workflow: relative(workflow.file, sha: sha), cron: schedule.cron.value, timezone: schedule.timezone?.value))
            }
        }
        return ScheduleSnapshot(ref: ref, sha: sha, entries: entries)
    }

    /// The commit's tree under `<data>/commits/<sha>`, exported once.
    private func exported(_ sha: String, from mirror: Mirror) throws -> String {
        let source = data + "/commits/" + sha
        if !FileSystem.exists(source) {
            // Exported next to it, then renamed: a half-written tree is never taken for the commit.
            let partial = source + ".partial"
            Files.removeTree(partial)
            Files.makeDirectory(partial)
            do throws(GitError) {
                try mirror.open().export(.commit(sha), to: partial)
            } catch {
                throw LaunchFailure(status: 422, "cannot read commit \(sha): \(error)")
            }
            if rename(partial, source) != 0 { Files.removeTree(partial) }  // another intake exported it first
        }
        return source
    }

    private func planned(_ intake: Intake, sha: String, mirror: Mirror) throws -> (PlanningFrontend, Plan) {
        let source = try exported(sha, from: mirror)
        guard case .object(let payload) = (try? JSONText.parse(intake.payload)) ?? .null else {
            throw LaunchFailure(status: 400, "the payload is not a JSON object")
        }
        var git = GitFacts(sha: sha, ref: intake.ref, repository: intake.repository, workspace: source)
        func text(_ value: ExpressionValue?) -> String? {
            guard let value, value.isPrimitive, case .string(let s) = value else { return nil }
            return s
        }
        if case .object(let sender)? = payload["sender"] { git.actor = text(sender["login"]) }
        if case .object(let repository)? = payload["repository"] { git.defaultBranch = text(repository["default_branch"]) }
        if case .object(let head)? = payload["head_commit"] {
            git.commitMessage = text(head["message"])
            if case .object(let author)? = head["author"] { (git.authorName, git.authorEmail) = (text(author["name"]), text(author["email"])) }
        }
        if git.actor == nil, case .object(let pusher)? = payload["pusher"] { git.actor = text(pusher["name"]) }
        if case .array(let commits)? = payload["commits"] {
            func paths(_ commit: ExpressionObject, _ key: String) -> [String] {
                guard case .array(let list)? = commit[key] else { return [] }
                return list.items.compactMap { text($0) }
            }
            for case .object(let commit) in commits.items {
                for path in paths(commit, "added") where !git.added.contains(path) { git.added.append(path) }
                for path in paths(commit, "removed") where !git.removed.contains(path) { git.removed.append(path) }
                for path in paths(commit, "modified") where !git.modified.contains(path) { git.modified.append(path) }
            }
            git.changedPaths = Array(Set(git.added + git.removed + git.modified)).sorted()
        }
        // The same values `gantry run` takes from its options (an event name cannot start with '-').
        let workflowOptions = WorkflowSelection(directory: source)
        let options = PlanSelection(
            event: intake.event, platforms: platforms, vars: values(intake.repository).vars.map { "\($0.0)=\($0.1)" })
        guard !intake.event.hasPrefix("-"), (try? options.check()) != nil else {
            throw LaunchFailure(status: 400, "the event '\(intake.event)' cannot be planned")
        }
        var frontend = PlanningFrontend()
        frontend.actionDirectory = data + "/actions"
        frontend.loadWorkflows(workflowOptions)
        frontend.payload = .object(payload)
        // Workflows with errors are left out of the plan, as `gantry run` leaves them out.
        guard let plan = frontend.plan(options, workflowOptions, git: git, workdir: source) else {
            throw LaunchFailure(status: 422, "the workflows of \(sha) cannot be planned: \(frontend.problems.joined(separator: "; "))")
        }
        return (frontend, plan)
    }

    private func prepared(
        _ record: ServiceRunRecord, run: RunID, frontend: PlanningFrontend, plan: Plan, mirror: Mirror, append: Bool
    ) -> PreparedRun {
        let root = shared + "/runs/" + run.value
        Files.makeDirectory(root)
        var single = plan
        single.workflows = plan.workflows.filter { relative($0.file, sha: record.sha) == record.workflow }.map { planned in
            // A workflow without a name is called by its path in the repository, not in the data folder.
            var named = planned
            if named.name == named.file { named.name = record.workflow }
            return named
        }
        let event = frontend.lastEvent!
        // A pull request from a fork gets no secrets, as on GitHub.
        let fromFork = record.intake.event == "pull_request" && Self.isFork(record.intake.payload)
        let (secrets, vars) = values(record.intake.repository)
        var context = RunContext(event: event, root: root, hostEnvironment: hostEnvironment, secrets: fromFork ? [] : secrets, vars: vars)
        context.actions = ActionSupport.mirror(mirror.path, commit: record.sha, actionDirectory: data + "/actions")
        context.cacheRoot = shared + "/cache"
        context.cacheIndex = cacheIndex
        context.runnerName = name
        context.checkoutCommitted = true
        context.containerEngine = DockerEngine(environment: hostEnvironment)
        context.runID = run.value
        context.concurrency = ConcurrencyStore(directory: shared + "/concurrency", scope: record.intake.repository.lowercased())
        let contexts = single.workflows.map { planned in
            var workflowContext = context.forWorkflow(planned)
            workflowContext.event.runID = (record.firstRun ?? run).value
            workflowContext.event.runNumber = String(record.runNumber)
            workflowContext.event.runAttempt = String(record.attempt ?? 1)
            return workflowContext
        }
        let workflows = frontend.workflows + frontend.calledWorkflows
        let definition = RunDefinition(run: run, plan: single, workflows: workflows, runContexts: contexts)
        return PreparedRun(
            definition: definition, workflows: workflows, contexts: contexts, request: frontend.lastRequest,
            output: Console(root: root, echo: false, append: append))
    }

    /// A workflow's path in its repository (`.github/workflows/ci.yml`).
    private func relative(_ file: String, sha: String) -> String {
        let prefix = data + "/commits/" + sha + "/"
        return file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : file
    }

    static func isFork(_ payload: String) -> Bool {
        guard case .object(let object)? = try? JSONText.parse(payload), case .object(let pull)? = object["pull_request"],
            case .object(let head)? = pull["head"], case .object(let repo)? = head["repo"]
        else { return false }
        return repo["fork"]?.isTruthy == true
    }
}
