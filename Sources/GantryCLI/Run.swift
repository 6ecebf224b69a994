import ArgumentParser
import Dispatch
import DockerEngine
import Synchronization
import WorkflowExecution
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

extension GantryCommand {
    /// `gantry run`: runs the workflows an event triggers, here, on the host.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run the workflows an event triggers, on this machine.",
            discussion: """
                Jobs start as soon as the jobs they need have finished. Steps with 'run:' run on the host \
                with GitHub's shells, contexts, file and workflow commands and masking. Actions: local \
                ('./path') composite and JavaScript actions (on the host's node), the built-in \
                actions/checkout (copies this repository's working tree, or HEAD with --checkout head, \
                into the job's workspace) and actions/upload-artifact and download-artifact (kept in \
                the run directory), and OWNER/REPO@REF read from --action-dir (gantry never \
                downloads). Through a Docker or Podman engine ($DOCKER_HOST, else /var/run/docker.sock): \
                jobs with 'container:' (or runs-on mapped by -P label=docker://IMAGE) run their steps in \
                a container, 'services:' start first and are waited for until healthy, and Docker actions \
                run; gantry never pulls images. Everything a job creates is removed when it ends \
                ('gantry docker prune' removes what a killed run left). Exit status: 0 when every job succeeded, 1 otherwise, 64 for bad \
                usage. Ctrl-C cancels: running steps get SIGINT, then SIGTERM, then SIGKILL, and \
                'always()' steps still run.
                """
        )

        @OptionGroup var workflows: WorkflowOptions
        @OptionGroup var options: PlanOptions

        @Option(name: .customLong("jobs"), help: "At most this many jobs at once (default: the number of CPUs).")
        var maxJobs: Int?

        @OptionGroup var inputs: RunInputOptions

        @Option(help: ArgumentHelp("What actions/checkout copies: the working tree with uncommitted changes, or the HEAD commit.", valueName: "worktree|head"))
        var checkout: CheckoutSource = .worktree

        @Option(help: ArgumentHelp("Where OWNER/REPO@REF actions are found, as OWNER/REPO@REF folders (default: the cache root's actions/).", valueName: "dir"))
        var actionDir: String?

        @Option(help: ArgumentHelp("The network of job and service containers: the host's (services on 127.0.0.1), or a bridge network per job (services by their ids, as on GitHub).", valueName: "host|bridge"))
        var network: ContainerNetwork = .host

        @Flag(help: "Show the plan and stop.")
        var dryRun = false

        @Option(help: ArgumentHelp("Write each job's ticket and outcome there as JSON, as it starts and ends (`gantry _job TICKET` runs one again).", valueName: "dir"))
        var ticketDir: String?

        @Flag(help: "Print the run as JSON lines: line, step-started, step-finished, job-started, job-finished, run-finished.")
        var json = false

        @Flag(help: "Keep the jobs' workspaces in the run's folder after it ends (they are removed by default).")
        var keepWorkspace = false

        @Flag(help: "Show ::debug:: lines and unfold ::group:: output (the run's log.txt always has it).")
        var verbose = false

        func validate() throws {
            if let maxJobs, maxJobs < 1 { throw ValidationError("--jobs must be at least 1") }
        }

        func run() throws {
            let hostEnvironment = Self.hostEnvironment()
            let given = inputs.load(workflows.selection, vars: self.options.vars, environment: hostEnvironment)
            if !given.problems.isEmpty {
                FileSystem.write(given.problems.map { "gantry: error: \($0)\n" }.joined(), to: 2)
                throw ExitCode.failure
            }
            var options = self.options.selection
            options.vars = given.vars.map { "\($0.0)=\($0.1)" }
            var frontend = PlanningFrontend()
            frontend.fileInputs = given.fileInputs
            frontend.actionDirectory = actionDir
            let plan = frontend.plan(options, workflows.selection, commitDetails: true)
            let failed = frontend.reportProblems()
            guard let plan, !failed else { throw ExitCode.failure }
            if dryRun {
                FileSystem.write(json ? PlanWriter.json(plan) : PlanWriter.text(plan), to: 1)
                return
            }
            if plan.workflows.isEmpty {
                // Nothing to run: the plan says why (the workflows the event does not trigger).
                FileSystem.write(
                    json ? "{\"type\":\"run-finished\",\"success\":true,\"directory\":null,\"summary\":null,\"jobs\":[]}\n" : PlanWriter.text(plan), to: 1)
                return
            }
            frontend.prewarmCheckout()
            // The run's folder in the repository's run history ($GANTRY_STATE_DIR/runs/…).
            let facts = frontend.lastEvent!.git
            let repository = facts.repository ?? FileSystem.absolute(workflows.directory ?? ".")
            let history = RunHistory(stateDirectory: GantryDirectories.state(environment: hostEnvironment), repository: repository)
            var record = RunHistory.Record(
                id: "", repository: repository, event: frontend.lastEvent!.name, ref: facts.ref, sha: facts.sha,
                workflows: plan.workflows.map(\.file), started: Self.now(), keptWorkspace: keepWorkspace)
            let root = history.create(&record, now: record.started)
            let console = Console(root: root, json: json)
            writeRunFile(root + "/plan.json", PlanWriter.json(plan))
            var context = RunContext(
                event: frontend.lastEvent!, root: root, hostEnvironment: hostEnvironment,
                secrets: given.secrets, vars: given.vars, env: given.env, verbose: verbose)
            let cacheRoot = GantryDirectories.cache(environment: hostEnvironment, repository: frontend.lastEvent!.git.workspace)
            context.actions = ActionSupport.host(
                repository: workflows.directory ?? ".", source: checkout, actionDirectory: actionDir ?? cacheRoot + "/actions")
            context.cacheRoot = cacheRoot
            if let limit = hostEnvironment.last(where: { $0.0 == "GANTRY_CACHE_MAX_SIZE" })?.1, !limit.isEmpty {
                guard let bytes = ByteSize.parse(limit) else {
                    FileSystem.write("gantry: error: GANTRY_CACHE_MAX_SIZE '\(limit)' is not a size (e.g. 10G, 500M, 1048576)\n", to: 2)
                    throw ExitCode(64)
                }
                context.cacheLimit = bytes
            }
            context.checkoutCommitted = checkout == .head
            context.containerEngine = DockerEngine(environment: hostEnvironment)
            context.containerNetwork = network.rawValue
            context.runID = RunIdentity.make()
            // Concurrency groups are per repository, shared by every gantry run on this machine.
            context.concurrency = ConcurrencyStore(
                directory: GantryDirectories.state(environment: hostEnvironment) + "/concurrency", scope: repository)
            // One scheduler for every mode: the run's machine in a store, this process as its worker.
            // Each workflow run gets its own github.run_id and the next github.run_number of its workflow.
            let numbers = RunNumbers(directory: GantryDirectories.state(environment: hostEnvironment))
            let contexts = plan.workflows.map { planned in
                var workflowContext = context.forWorkflow(planned)
                if let next = numbers.next(repository: repository, workflow: planned.file) {
                    workflowContext.event.runID = String(next.id)
                    workflowContext.event.runNumber = String(next.number)
                }
                return workflowContext
            }
            let allWorkflows = frontend.workflows + frontend.calledWorkflows
            let definition = RunDefinition(run: RunID(context.runID), plan: plan, workflows: allWorkflows, runContexts: contexts)
            let executor = RunDriver(
                definition: definition, workflows: allWorkflows, contexts: contexts, store: InMemoryRunStore(),
                capacity: maxJobs ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), output: console, request: frontend.lastRequest,
                ticketDirectory: ticketDir.map(FileSystem.absolute))
            // Ctrl-C (or SIGTERM, SIGHUP) cancels the run the way GitHub cancels a workflow; a second one
            // kills every step's process group and stops at once.
            let count = Atomic<Int>(0)
            let runID = context.runID
            let resources = context.resources
            var sources: [any DispatchSourceSignal] = []
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    if count.add(1, ordering: .sequentiallyConsistent).newValue == 1 {
                        console.line("gantry", "cancelling (Ctrl-C again to stop at once)")
                        executor.cancel()
                    } else {
                        resources.stopNow(runLabel: runID)
                        Glibc.exit(130)
                    }
                }
                source.resume()
                sources.append(source)
            }
            let summary = RunBlocking.wait { await executor.run() }
            sources.forEach { $0.cancel() }
            var text = "\n"
            let width = min(60, summary.jobs.map { $0.id.count }.max() ?? 3)
            text += "JOB" + String(repeating: " ", count: max(1, width - 1)) + "RESULT     TIME\n"
            for job in summary.jobs {
                text += job.id + String(repeating: " ", count: max(1, width - job.id.count + 2))
                text += job.result.rawValue + String(repeating: " ", count: 11 - job.result.rawValue.count)
                text += job.seconds > 0 ? Self.duration(job.seconds) : "-"
                text += "\n"
            }
            if !summary.summaries.isEmpty {
                var markdown = ""
                for entry in summary.summaries { markdown += "## \(entry.job)\n\n\(entry.text)\n" }
                writeRunFile(root + "/summary.md", markdown)
                text += "\njob summaries: \(root)/summary.md\n"
            }
            text += "run directory: \(root)\n"
            text += summary.success ? "run succeeded\n" : "run failed\n"
            let jobs = summary.jobs.map {
                "{\"job\":\(JSON.quote($0.id)),\"result\":\"\($0.result.rawValue)\",\"seconds\":\(Console.seconds($0.seconds))}"
            }
            console.plain(
                text,
                json: "{\"type\":\"run-finished\",\"success\":\(summary.success),\"directory\":\(JSON.quote(root)),"
                    + "\"summary\":\(summary.summaries.isEmpty ? "null" : JSON.quote(root + "/summary.md")),\"jobs\":[\(jobs.joined(separator: ","))]}")
            record.finished = Self.now()
            record.success = summary.success
            record.jobs = summary.jobs.map { RunHistory.Record.Job(id: $0.id, result: $0.result.rawValue, seconds: $0.seconds) }
            history.finish(record, in: root)
            // The default retention: the newest runs of this repository, none too old.
            let retention = RunsRetention(environment: hostEnvironment)
            _ = history.prune(keep: retention.keep, maxAge: retention.maxAge, now: Self.now())
            if !summary.success { throw ExitCode.failure }
        }

        static func duration(_ seconds: Double) -> String {
            seconds < 1 ? "\(Int(seconds * 1000)) ms" : "\(Int(seconds * 10) / 10).\(Int(seconds * 10) % 10) s"
        }

        static func now() -> Double { HostProcess.wallClock() }

        static func runDirectory() -> String {
            let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
            var template = Array("\(base)/gantry-run-XXXXXX".utf8CString)
            return template.withUnsafeMutableBufferPointer { buffer in
                mkdtemp(buffer.baseAddress!).map { String(cString: $0) } ?? "\(base)/gantry-run-\(getpid())"
            }
        }

        /// Only the named variables that are set, in the order given: for the short commands, which
        /// need two or three (reading every variable into strings was a tenth of `gantry validate` of
        /// one workflow).
        static func hostEnvironment(_ names: [String]) -> [(String, String)] {
            names.compactMap { name in getenv(name).map { (name, String(cString: $0)) } }
        }

        static func hostEnvironment() -> [(String, String)] {
            var out: [(String, String)] = []
            var pointer = environ
            while let entry = pointer.pointee {
                let text = String(cString: entry)
                if let eq = text.utf8.firstIndex(of: UInt8(ascii: "=")) {
                    out.append((String(text[..<eq]), String(text[text.index(after: eq)...])))
                }
                pointer += 1
            }
            return out
        }

        func writeRunFile(_ path: String, _ text: String) {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { return }
            FileSystem.write(text, to: fd)
            close(fd)
        }
    }
}

/// Prints job lines as `[job] text` (or, with `--json`, every line and event as a JSON object per line)
/// and keeps the text in the run's log.
final class Console: RunOutput, Sendable {
    private struct Files {
        var log: Int32 = -1
        /// Each job's own log, `logs/<job>.log`, opened at its first line.
        var jobs: [String: Int32] = [:]
        var names = Set<String>()
    }
    private let files = Mutex<Files>(Files())
    private let json: Bool
    private let root: String
    private let echo: Bool
    private let append: Bool

    /// Logs go to `root/log.txt` (everything) and `root/logs/<job>.log` (each job's lines, unprefixed);
    /// `echo: false` writes nothing to standard output (`gantry serve`), `append` continues the logs
    /// of a run an earlier process began.
    init(root: String, json: Bool = false, echo: Bool = true, append: Bool = false) {
        self.json = json
        self.root = root
        self.echo = echo
        self.append = append
        mkdir(root + "/logs", 0o755)
        // Always O_APPEND: on a cluster several nodes write one run's logs (the node that accepted it,
        // those that run its jobs, the one that notes a lost job), each through its own descriptor. One
        // opened without it wrote at its own offset, over the others' lines (a multibyte character cut
        // that way left a log that is not UTF-8).
        let fd = open(root + "/log.txt", O_WRONLY | O_CREAT | O_APPEND | (append ? 0 : O_TRUNC) | O_CLOEXEC, 0o644)
        files.withLock { $0.log = fd }
    }

    /// The logs are closed when the run's last user lets go (`gantry serve` makes one per run).
    deinit {
        files.withLock { files in
            if files.log >= 0 { Glibc.close(files.log) }
            for fd in files.jobs.values where fd >= 0 { Glibc.close(fd) }
        }
    }

    /// Writes `text` to the logs (the run's, and `job`'s own when given) and `console` to standard output.
    private func emit(log text: String?, console: String?, job: String? = nil) {
        files.withLock { files in
            if echo, let console { FileSystem.write(console, to: 1) }
            guard let text else { return }
            if files.log >= 0 { FileSystem.write(text, to: files.log) }
            guard let job, job != "gantry" else { return }
            if files.jobs[job] == nil {
                let name = RunHistory.logName(job, taken: files.names)
                files.names.insert(name)
                // Which job has which file, for readers of the run (gantry serve's page and API).
                let index = open(root + "/logs/index.tsv", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                if index >= 0 {
                    FileSystem.write(name + "\t" + job.filter { $0 != "\n" && $0 != "\t" } + "\n", to: index)
                    close(index)
                }
                let fd = open(root + "/logs/" + name, O_WRONLY | O_CREAT | O_APPEND | (append ? 0 : O_TRUNC) | O_CLOEXEC, 0o644)
                if fd < 0 { FileSystem.write("gantry: warning: cannot write \(root)/logs/\(name): \(FileSystem.lastError())\n", to: 2) }
                files.jobs[job] = fd
            }
            // The job's own log leaves out the `[job] ` prefix every line there would share.
            if let fd = files.jobs[job], fd >= 0 { FileSystem.write(String(text.dropFirst(job.count + 3)), to: fd) }
        }
    }

    private func rendered(_ instance: String, _ text: String) -> String { "[\(instance)] \(text)\n" }

    private func jsonLine(_ instance: String, _ text: String, folded: Bool = false) -> String {
        "{\"type\":\"line\",\"job\":\(JSON.quote(instance)),\"text\":\(JSON.quote(text))\(folded ? ",\"folded\":true" : "")}\n"
    }

    func line(_ instance: String, _ text: String) {
        let line = rendered(instance, text)
        emit(log: line, console: json ? jsonLine(instance, text) : line, job: instance)
    }

    func line(_ instance: String, _ text: String, to destination: OutputDestination) {
        let line = rendered(instance, text)
        switch destination {
        // With --json every line is streamed once, folded ones marked, so the replay after a failed
        // step is left out.
        case .console: if !json { emit(log: nil, console: line) }
        // The end of a group is a mark in the log files only (a page folds the group there).
        case .log: emit(log: line, console: json && text != RunHistory.groupEnd ? jsonLine(instance, text, folded: true) : nil, job: instance)
        }
    }

    func event(_ event: RunEvent) {
        let text = event.text.map { rendered(event.job, $0) }
        emit(log: text, console: json ? Self.json(event) : text, job: event.job)
    }

    /// Text for the console and the log; with `--json` the console gets `object` (one JSON line) instead.
    func plain(_ text: String, json object: @autoclosure () -> String) {
        emit(log: text, console: json ? object() + "\n" : text)
    }

    static func seconds(_ value: Double) -> String { String((value * 1000).rounded() / 1000) }

    static func json(_ event: RunEvent) -> String {
        let fields: String
        switch event {
        case .jobStarted(let job):
            fields = "\"type\":\"job-started\",\"job\":\(JSON.quote(job))"
        case .jobFinished(let job, let result, let seconds):
            fields = "\"type\":\"job-finished\",\"job\":\(JSON.quote(job)),\"result\":\"\(result.rawValue)\",\"seconds\":\(Self.seconds(seconds))"
        case .stepStarted(let job, let step):
            fields = "\"type\":\"step-started\",\"job\":\(JSON.quote(job)),\"step\":\(JSON.quote(step))"
        case .stepFinished(let job, let step, let outcome, let conclusion, let seconds):
            fields = "\"type\":\"step-finished\",\"job\":\(JSON.quote(job)),\"step\":\(JSON.quote(step)),\"outcome\":\"\(outcome.rawValue)\",\"conclusion\":\"\(conclusion.rawValue)\",\"seconds\":\(Self.seconds(seconds))"
        }
        return "{" + fields + "}\n"
    }
}
