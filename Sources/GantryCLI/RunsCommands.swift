import ArgumentParser
import GitSupport
import WorkflowExecution

/// How many runs `gantry run` keeps of each repository, and for how long: `GANTRY_RUNS_KEEP` (default
/// 20) and `GANTRY_RUNS_MAX_AGE` (default 30d).
struct RunsRetention {
    var keep = 20
    var maxAge: Double = 30 * 86400

    init(environment: [(String, String)]) {
        if let text = environment.last(where: { $0.0 == "GANTRY_RUNS_KEEP" })?.1, let n = Int(text), n >= 0 { keep = n }
        if let text = environment.last(where: { $0.0 == "GANTRY_RUNS_MAX_AGE" })?.1, let age = GantryCommand.Cache.Prune.seconds(text) { maxAge = age }
    }
}

extension GantryCommand {
    /// `gantry runs`: the runs kept of a repository, their logs and what they left.
    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "runs",
            abstract: "List, show and remove the runs kept of a repository (logs, plan, summary, artifacts).",
            discussion: """
                Each `gantry run` keeps its folder under $GANTRY_STATE_DIR/runs/ (else \
                $XDG_STATE_HOME/gantry/runs, else ~/.local/state/gantry/runs), one folder per repository; \
                the jobs' workspaces are removed when a run ends unless it ran with --keep-workspace. \
                After each run the newest $GANTRY_RUNS_KEEP runs (default 20) younger than \
                $GANTRY_RUNS_MAX_AGE (default 30d) are kept, and a killed run's workspaces are removed.
                """,
            subcommands: [List.self, Show.self, Remove.self, Prune.self]
        )
    }
}

/// Which repository's runs, shared by the `runs` subcommands.
struct RunsLocation: ParsableArguments {
    @Option(name: [.customShort("C"), .customLong("directory")], help: ArgumentHelp("The repository to work in.", valueName: "dir"))
    var directory: String?

    var history: RunHistory {
        let directory = self.directory ?? "."
        let repository = (try? RefReader.read(from: directory))?.repository ?? FileSystem.absolute(directory)
        return RunHistory(stateDirectory: GantryDirectories.state(environment: GantryCommand.Run.hostEnvironment()), repository: repository)
    }

    /// The runs named (a run's folder name, or a unique start of it).
    func find(_ names: [String]) throws -> [RunHistory.Entry] {
        let entries = history.entries()
        return try names.map { name in
            let matches = entries.filter { $0.name == name || $0.name.hasPrefix(name) }
            guard matches.count == 1 else {
                FileSystem.write("gantry: error: \(matches.isEmpty ? "no run is named '\(name)'" : "'\(name)' names \(matches.count) runs; give more of the name") (gantry runs ls lists them)\n", to: 2)
                throw ExitCode.failure
            }
            return matches[0]
        }
    }
}

enum RunsFormat {
    static func duration(_ record: RunHistory.Record) -> String {
        guard let finished = record.finished else { return "-" }
        return GantryCommand.Run.duration(finished - record.started)
    }

    static func json(_ entry: RunHistory.Entry) -> String {
        let record = entry.record
        func text(_ value: String?) -> String { value.map(JSON.quote) ?? "null" }
        let jobs = (record?.jobs ?? []).map { "{\"job\":\(JSON.quote($0.id)),\"result\":\"\($0.result)\",\"seconds\":\(Console.seconds($0.seconds))}" }
        var fields: [String] = []
        fields.append("\"run\":\(JSON.quote(entry.name))")
        fields.append("\"directory\":\(JSON.quote(entry.directory))")
        fields.append("\"state\":\(JSON.quote(record?.state ?? "unreadable"))")
        fields.append("\"event\":\(text(record?.event))")
        fields.append("\"ref\":\(text(record?.ref))")
        fields.append("\"sha\":\(text(record?.sha))")
        fields.append("\"started\":\(text(record.map { CacheFormat.time($0.started) }))")
        fields.append("\"finished\":\(text(record?.finished.map(CacheFormat.time)))")
        fields.append("\"bytes\":\(RunHistory.size(of: entry.directory))")
        fields.append("\"workspace\":\(entry.hasWorkspace)")
        fields.append("\"jobs\":[\(jobs.joined(separator: ","))]")
        return "{" + fields.joined(separator: ",") + "}"
    }
}

extension GantryCommand.Runs {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the runs kept, newest first.")
        @OptionGroup var location: RunsLocation
        @Option(help: "text or json.") var format: OutputFormat = .text

        func run() throws {
            let entries = Array(location.history.entries().reversed())
            if format == .json {
                FileSystem.write("[" + entries.map(RunsFormat.json).joined(separator: ",") + "]\n", to: 1)
                return
            }
            guard !entries.isEmpty else {
                FileSystem.write("no runs kept for this repository (in \(location.history.root))\n", to: 1)
                return
            }
            var rows = [["RUN", "STARTED", "EVENT", "REF", "RESULT", "TIME", "SIZE", "WORKSPACE"]]
            for entry in entries {
                let record = entry.record
                rows.append([
                    entry.name, record.map { CacheFormat.time($0.started) } ?? "-", record?.event ?? "-", record?.ref ?? "-",
                    record?.state ?? "unreadable", record.map(RunsFormat.duration) ?? "-", ByteSize.format(RunHistory.size(of: entry.directory)),
                    entry.hasWorkspace ? "kept" : "-",
                ])
            }
            FileSystem.write(CacheFormat.table(rows), to: 1)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one run: what ran, its jobs, its files.")
        @OptionGroup var location: RunsLocation
        @Argument(help: ArgumentHelp("The run (its name, or a unique start of it; `latest` for the newest).", valueName: "run")) var name: String
        @Option(help: "text or json.") var format: OutputFormat = .text

        func run() throws {
            let entry: RunHistory.Entry
            if name == "latest" {
                guard let newest = location.history.entries().last else {
                    FileSystem.write("gantry: error: no runs kept for this repository\n", to: 2)
                    throw ExitCode.failure
                }
                entry = newest
            } else {
                entry = try location.find([name])[0]
            }
            if format == .json {
                FileSystem.write(RunsFormat.json(entry) + "\n", to: 1)
                return
            }
            guard let record = entry.record else {
                FileSystem.write("gantry: error: \(entry.directory)/run.json cannot be read\n", to: 2)
                throw ExitCode.failure
            }
            var text = "run:        \(entry.name)\nresult:     \(record.state)\nevent:      \(record.event)\n"
            text += "ref:        \(record.ref ?? "-")\nsha:        \(record.sha ?? "-")\nworkflows:  \(record.workflows.joined(separator: ", "))\n"
            text += "started:    \(CacheFormat.time(record.started))\ntime:       \(RunsFormat.duration(record))\n"
            text += "folder:     \(entry.directory) (\(ByteSize.format(RunHistory.size(of: entry.directory))))\n"
            for (label, file) in [("log:", "log.txt"), ("plan:", "plan.json"), ("summary:", "summary.md"), ("artifacts:", "artifacts"), ("workspace:", "work")]
            where FileSystem.exists(entry.directory + "/" + file) {
                text += label.padding(12) + entry.directory + "/" + file + "\n"
            }
            if !record.jobs.isEmpty {
                var rows = [["JOB", "RESULT", "TIME"]]
                for job in record.jobs { rows.append([job.id, job.result, job.seconds > 0 ? GantryCommand.Run.duration(job.seconds) : "-"]) }
                text += "\n" + CacheFormat.table(rows)
            }
            FileSystem.write(text, to: 1)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove runs (not one that is running).")
        @OptionGroup var location: RunsLocation
        @Argument(help: "The runs to remove.") var runs: [String] = []
        @Flag(help: "Remove every run of the repository that is not running.") var all = false

        func validate() throws {
            if runs.isEmpty && !all { throw ValidationError("give the runs to remove, or --all") }
        }

        func run() throws {
            let history = location.history
            let entries = all ? history.entries() : try location.find(runs)
            var text = ""
            var refused = false
            for entry in entries {
                if history.remove(entry) {
                    text += "removed \(entry.name)\n"
                } else {
                    FileSystem.write("gantry: error: run \(entry.name) is still running\n", to: 2)
                    refused = true
                }
            }
            FileSystem.write(text + "\(text.split(separator: "\n").count) run\(text.split(separator: "\n").count == 1 ? "" : "s") removed\n", to: 1)
            if refused { throw ExitCode.failure }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune", abstract: "Keep the newest --keep runs younger than --max-age; remove what killed runs left.")
        @OptionGroup var location: RunsLocation
        @Option(help: "How many runs to keep (default: $GANTRY_RUNS_KEEP, else 20).") var keep: Int?
        @Option(help: ArgumentHelp("Age limit since a run started (e.g. 30d, 12h; default: $GANTRY_RUNS_MAX_AGE, else 30d).", valueName: "age"))
        var maxAge: String?

        func run() throws {
            let defaults = RunsRetention(environment: GantryCommand.Run.hostEnvironment())
            if let keep, keep < 0 { throw ValidationError("--keep must be 0 or more") }
            var age = defaults.maxAge
            if let maxAge {
                guard let seconds = GantryCommand.Cache.Prune.seconds(maxAge) else { throw ValidationError("--max-age '\(maxAge)' is not an age (e.g. 30d, 12h)") }
                age = seconds
            }
            let report = location.history.prune(keep: keep ?? defaults.keep, maxAge: age, now: GantryCommand.Run.now())
            var text = report.removedWorkspaces.map { "removed the workspaces of killed run \($0)\n" }.joined()
            text += report.removedRuns.map { "removed \($0)\n" }.joined()
            text += "\(report.removedRuns.count) run\(report.removedRuns.count == 1 ? "" : "s") removed, \(ByteSize.format(report.freedBytes)) freed\n"
            FileSystem.write(text, to: 1)
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
