import ArgumentParser
import DockerEngine
import WorkflowExecution
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

#if canImport(Glibc)
import Glibc
#endif

extension GantryCommand {
    /// `gantry _job`: runs one job ticket in this process, as a node other than the one that planned
    /// the run would. Not for everyday use (hidden from help): it shows, and tests, that a ticket
    /// carries everything a job needs.
    struct JobCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "_job",
            abstract: "Run one job ticket (as `gantry run --ticket-dir` writes them) and write its outcome as JSON.",
            discussion: """
                The workflow file is read again from the repository (-C); secrets are taken from this \
                process's environment by the names the ticket lists; the job's lines go to standard \
                output. Exit status: 0 when the job succeeded, 1 otherwise.
                """,
            shouldDisplay: false
        )

        @Argument(help: "The ticket file.")
        var ticket: String

        @Option(help: ArgumentHelp("Where the outcome is written as JSON.", valueName: "file"))
        var outcome: String

        @Option(name: .customShort("C"), help: ArgumentHelp("The repository the ticket's workflow file is read from.", valueName: "dir"))
        var directory = "."

        @Option(help: ArgumentHelp("Where OWNER/REPO@REF actions are found (default: the cache root's actions/).", valueName: "dir"))
        var actionDir: String?

        func run() throws {
            let bytes: [UInt8]
            do throws(FileSystem.Failure) {
                bytes = try FileSystem.read(self.ticket)
            } catch {
                FileSystem.write("gantry: error: \(error)\n", to: 2)
                throw ExitCode.failure
            }
            let ticket: JobTicket
            do {
                ticket = try CodableJSON.decode(JobTicket.self, from: String(decoding: bytes, as: UTF8.self))
            } catch {
                FileSystem.write("gantry: error: \(self.ticket) is not a job ticket: \(error)\n", to: 2)
                throw ExitCode.failure
            }
            let file = ticket.workflowFile.hasPrefix("/") ? ticket.workflowFile : directory + "/" + ticket.workflowFile
            let parsed: WorkflowParser.Result
            do throws(FileSystem.Failure) {
                parsed = WorkflowParser.parse(try FileSystem.read(file), file: ticket.workflowFile)
            } catch {
                FileSystem.write("gantry: error: \(error)\n", to: 2)
                throw ExitCode.failure
            }
            guard let workflow = parsed.workflow, let job = workflow.job(ticket.job.job) else {
                FileSystem.write("gantry: error: \(file) has no job '\(ticket.job.job)'\n", to: 2)
                throw ExitCode.failure
            }
            let environment = Run.hostEnvironment()
            let root = Run.runDirectory()
            var node = NodeServices(
                root: root, hostEnvironment: environment, secret: { name in environment.last { $0.0 == name }?.1 },
                runLabel: ticket.run.value)
            let cacheRoot = GantryDirectories.cache(environment: environment, repository: FileSystem.absolute(directory))
            node.actions = ActionSupport.host(
                repository: directory, source: ticket.checkoutCommitted ? .head : .worktree, actionDirectory: actionDir ?? cacheRoot + "/actions")
            node.cacheRoot = cacheRoot
            node.containerEngine = DockerEngine(environment: environment)
            let context = RunContext(ticket: ticket, node: node)
            let runner = JobRunner(
                workflow: workflow, job: job, instance: ticket.job, context: context, needs: ticket.needs,
                output: Console(root: root), folderKey: ticket.displayName)
            let result = runner.run()
            // The ticket's folders are this process's alone: they go with it.
            defer { Files.removeTree(root) }
            let fd = open(outcome, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                FileSystem.write("gantry: error: cannot write \(outcome): \(FileSystem.lastError())\n", to: 2)
                throw ExitCode.failure
            }
            FileSystem.write(CodableJSON.encode(result), to: fd)
            close(fd)
            if result.result != .success { throw ExitCode.failure }
        }
    }
}
