import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
public import WorkflowModel
import WorkflowParsing

extension GantryCommand {
    /// `gantry validate`: parses workflows and prints every problem with its `file:line:col`.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check workflow files and print every problem with its file:line:col.",
            discussion: """
                Exit status: 0 when no errors were found (warnings allowed), 1 when any error was found, \
                64 for bad usage.
                """
        )

        @OptionGroup var options: WorkflowOptions

        @Flag(help: "Leave out warnings (advisories and what GitHub ignores); errors still count.")
        var noWarnings = false

        @Option(help: "Output format: text, json, sarif (SARIF 2.1.0, for code scanning) or github (annotations as workflow commands).")
        var format: DiagnosticFormat = .text

        @Argument(help: ArgumentHelp("Workflow files or directories (default: .github/workflows).", valueName: "path"))
        var paths: [String] = []

        /// What the line asks for, as a plain value (`FastCommandLine` makes the same).
        struct Request: Equatable {
            var selection: WorkflowSelection
            var noWarnings: Bool
            var format: DiagnosticFormat
            var paths: [String]
        }

        var request: Request { Request(selection: options.selection, noWarnings: noWarnings, format: format, paths: paths) }

        func run() throws {
            try Self.perform(request)
        }

        static func perform(_ request: Request) throws {
            let (noWarnings, format) = (request.noWarnings, request.format)
            var outcome = ValidateFrontend.run(
                paths: request.selection.workflowPaths(explicit: request.paths),
                actionDirectory: GantryDirectories.cache(environment: GantryCommand.Run.hostEnvironment(GantryDirectories.cacheVariables)) + "/actions", advisories: !noWarnings,
                keepWorkflows: false, early: true)
            if noWarnings { outcome.diagnostics.removeAll { $0.severity == .warning } }
            switch format {
            case .text: FileSystem.write(DiagnosticPrinter.text(outcome.diagnostics), to: 1)
            case .json: FileSystem.write(DiagnosticPrinter.json(outcome.diagnostics), to: 1)
            case .sarif: FileSystem.write(DiagnosticPrinter.sarif(outcome.diagnostics), to: 1)
            case .github: FileSystem.write(DiagnosticPrinter.github(outcome.diagnostics), to: 1)
            }
            var stderr = ""
            for problem in outcome.problems { stderr += "gantry: error: \(problem)\n" }
            if format == .text { stderr += outcome.summary + "\n" }
            FileSystem.write(stderr, to: 2)
            if outcome.failed { throw ExitCode.failure }
        }
    }
}

/// The work behind `gantry validate`, apart from printing, so tests can call it.
public enum ValidateFrontend {
    /// What validating a set of paths found.
    public struct Outcome: Sendable {
        public var files: [String] = []
        public var diagnostics: [Diagnostic] = []
        /// Paths that could not be read.
        public var problems: [String] = []
        /// The workflows that parsed without errors, in file order.
        public var workflows: [Workflow] = []

        public var errorCount: Int { diagnostics.count { $0.severity == .error } }
        public var warningCount: Int { diagnostics.count { $0.severity == .warning } }
        public var failed: Bool { errorCount > 0 || !problems.isEmpty }

        /// One line for a person: how many files, errors and warnings.
        public var summary: String {
            let fileWord = files.count == 1 ? "file" : "files"
            if diagnostics.isEmpty && problems.isEmpty { return "\(files.count) workflow \(fileWord) checked: no problems" }
            var parts = ["\(errorCount) error\(errorCount == 1 ? "" : "s")"]
            if warningCount > 0 { parts.append("\(warningCount) warning\(warningCount == 1 ? "" : "s")") }
            let failedFiles = Set(diagnostics.map(\.location.file)).count
            return "\(files.count) workflow \(fileWord) checked: " + parts.joined(separator: ", ")
                + " in \(failedFiles) file\(failedFiles == 1 ? "" : "s")"
        }
    }

    /// - Parameter actionDirectory: where remote reusable workflows are looked for when calls are
    ///   checked against the workflows they call; nil checks no call (`run` and `plan` check calls
    ///   when they plan them).
    /// - Parameter keepWorkflows: whether the outcome keeps the parsed workflows (planning needs them;
    ///   `validate` does not, and letting each go once checked keeps its memory in use for the next).
    /// - Parameter early: start the threads that share the files before looking for them
    ///   (EarlyWorkers.swift), when there may be enough files to share: `validate` of a repository's
    ///   workflows. Planning, which usually reads a few, does not.
    public static func run(
        paths: [String], actionDirectory: String? = nil, advisories: Bool = false, keepWorkflows: Bool = true, early: Bool = false
    ) -> Outcome {
        let workers = early && (paths.count >= ParallelParser.threshold || paths.contains(where: FileSystem.isDirectory))
            ? EarlyWorkers(threads: ParallelParser.cores - 1, prepare: RuntimeWarmUp.run) : nil
        let discovery = WorkflowFiles.discover(paths)
        var outcome = Outcome(files: discovery.files, problems: discovery.problems)
        // Each workflow's checks run on the thread that parsed it: they look at that workflow (and the
        // workflows it calls) only.
        let results = ParallelParser.parse(discovery.files, workers: workers) { parsed in
            guard let workflow = parsed.workflow, !parsed.diagnostics.containsErrors else { return parsed }
            var checked = parsed
            if let actionDirectory { checked.diagnostics += CallChecks.diagnostics(workflow, actionDirectory: actionDirectory) }
            checked.diagnostics += MatrixChecks.diagnostics(workflow)
            if advisories { checked.diagnostics += AdvisoryChecks.diagnostics(workflow) }
            if !keepWorkflows { checked.workflow = nil }
            return checked
        }
        for result in results {
            if let problem = result.problem { outcome.problems.append(problem) }
            guard let parsed = result.parsed else { continue }
            outcome.diagnostics += parsed.diagnostics
            if let workflow = parsed.workflow, !parsed.diagnostics.containsErrors { outcome.workflows.append(workflow) }
        }
        outcome.diagnostics.sort()
        return outcome
    }
}

/// Generic types the Swift runtime builds on their first use, made by an early worker while `validate`
/// still looks for files (it would only wait otherwise). Building one means finding a conformance
/// (`String: Hashable`, `Int: Comparable`) by reading every conformance record of this binary, about
/// 12,000, a tenth of a millisecond or more each time; made later they fall on the threads that parse,
/// or on the sort of the diagnostics after them.
enum RuntimeWarmUp {
    /// Read nowhere; written so that the values below are made.
    nonisolated(unsafe) private static var sink = 0

    @Sendable static func run() {
        // A `Set<String>`'s storage: every workflow's checks make sets of names.
        var names = Set<String>()
        names.insert("")
        // An array of ranges: the standard library's stable sort keeps its runs in one.
        var runs: [Range<Int>] = []
        runs.append(0..<1)
        sink &+= names.count &+ runs.count
    }
}

/// Reads, parses and checks files on every core; files are independent, and results keep the input
/// order.
enum ParallelParser {
    /// Below this many files a second thread costs more than it saves.
    static let threshold = 16

    /// One file's outcome: what parsing and checking found, or why it could not be read.
    ///
    /// Plain structs and a plain class here, not `Result` and tuples: the first use of a generic type
    /// whose parameters must conform to a protocol (`Result`'s `Failure: Error`) makes the runtime
    /// search every conformance record of this large binary, about 0.15 ms each (bench/startup.sh).
    struct FileResult {
        /// Nil when the file could not be read.
        var parsed: WorkflowParser.Result?
        var problem: String?
    }

    /// The cores this process may run on.
    static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    static func parse(
        _ files: [String], workers: EarlyWorkers? = nil, then check: @escaping @Sendable (WorkflowParser.Result) -> WorkflowParser.Result
    ) -> [FileResult] {
        let results = ResultSlots(count: files.count)
        let work: @Sendable (Int) -> Void = { index in
            let file = files[index]
            do throws(FileSystem.Failure) {
                let bytes = try FileSystem.read(file)
                results.store(FileResult(parsed: check(WorkflowParser.parse(bytes, file: file))), at: index)
            } catch {
                results.store(FileResult(problem: error.description), at: index)
            }
        }
        if files.count < threshold {
            workers?.cancel()
            for index in files.indices { work(index) }
        } else {
            (workers ?? EarlyWorkers(threads: cores - 1)).run(count: files.count, work)
        }
        return results.values()
    }

    /// One slot per file, each written by exactly one iteration, read after all have finished.
    /// `@unchecked Sendable`: no slot is written by two threads, and none is read before the
    /// concurrent loop that writes them has returned.
    private final class ResultSlots: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<FileResult>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: FileResult())
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }

        func store(_ value: FileResult, at index: Int) {
            slots[index] = value
        }

        func values() -> [FileResult] {
            Array(slots)
        }
    }
}
