#if canImport(Glibc)
import Glibc
#endif

/// The runs kept for one repository, one folder each under `$GANTRY_STATE_DIR/runs/<repository>/`,
/// named so that names sort by start time (`20261204-185500-1234-1`). A run's folder holds
/// `run.json` (what ran, when, how it ended), `plan.json`, `log.txt`, `logs/`, `summary.md`,
/// `artifacts/` and, while it runs, the jobs' `work/` and `temp/` folders; those two are removed
/// when it ends unless asked to keep them. A run whose process died (killed) keeps `run.json`
/// without an end, and `prune` removes what it left.
public struct RunHistory: Sendable {
    public let root: String

    /// What a run's `run.json` says.
    public struct Record: Sendable, Codable, Equatable {
        public struct Job: Sendable, Codable, Equatable {
            public var id: String
            public var result: String
            public var seconds: Double

            public init(id: String, result: String, seconds: Double) {
                self.id = id
                self.result = result
                self.seconds = seconds
            }
        }

        public var id: String
        public var repository: String
        public var event: String
        public var ref: String?
        public var sha: String?
        public var workflows: [String]
        public var started: Double
        public var finished: Double?
        public var success: Bool?
        public var jobs: [Job]
        public var keptWorkspace: Bool
        /// The gantry process and its start (clock ticks since boot): a run whose process is gone
        /// and that never finished was killed.
        public var pid: Int32
        public var pidStart: UInt64

        public init(
            id: String, repository: String, event: String, ref: String?, sha: String?, workflows: [String], started: Double,
            keptWorkspace: Bool
        ) {
            self.id = id
            self.repository = repository
            self.event = event
            self.ref = ref
            self.sha = sha
            self.workflows = workflows
            self.started = started
            self.jobs = []
            self.keptWorkspace = keptWorkspace
            pid = getpid()
            pidStart = ConcurrencyStore.processStart(getpid())
        }

        /// Still running: not finished, and its process is alive.
        public var isRunning: Bool {
            finished == nil && kill(pid, 0) == 0 && ConcurrencyStore.processStart(pid) == pidStart
        }

        /// `success`, `failure`, `running` or `killed`.
        public var state: String {
            if let success { return success ? "success" : "failure" }
            return isRunning ? "running" : "killed"
        }
    }

    /// One run's folder and what its `run.json` says (nil when it cannot be read).
    public struct Entry: Sendable {
        public var directory: String
        public var name: String
        public var record: Record?

        /// Whether the jobs' workspaces are still there.
        public var hasWorkspace: Bool { Files.isDirectory(directory + "/work") }
    }

    /// What `prune` removed.
    public struct PruneReport: Sendable, Equatable {
        public var removedRuns: [String] = []
        /// Runs whose workspaces were removed (killed runs).
        public var removedWorkspaces: [String] = []
        public var freedBytes: Int64 = 0
    }

    /// The history of `repository` (an `owner/name`, or a path) under `stateDirectory`.
    public init(stateDirectory: String, repository: String) {
        let readable = repository.split(separator: "/").suffix(2).joined(separator: "_")
        let safe = String(readable.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        root = stateDirectory + "/runs/" + safe + "-" + String(ConcurrencyStore.fnv1a(repository).prefix(8))
    }

    /// Makes the folder of a new run and writes its first `run.json`.
    public func create(_ record: inout Record, now: Double) -> String {
        Files.makeDirectory(root)
        var parts = tm()
        var seconds = time_t(now)
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let stamp = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        var n = 1
        var name = "\(stamp)-\(getpid())-\(n)"
        while mkdir(root + "/" + name, 0o755) != 0 {
            guard errno == EEXIST, n < 1000 else { break }
            n += 1
            name = "\(stamp)-\(getpid())-\(n)"
        }
        record.id = name
        let directory = root + "/" + name
        write(record, to: directory)
        return directory
    }

    public func write(_ record: Record, to directory: String) {
        Files.write(directory + "/run.json.tmp", CodableJSON.encode(record) + "\n")
        rename(directory + "/run.json.tmp", directory + "/run.json")
    }

    /// Records the end of a run; its workspaces go unless it keeps them.
    public func finish(_ record: Record, in directory: String) {
        write(record, to: directory)
        if !record.keptWorkspace {
            Files.removeTree(directory + "/work")
            Files.removeTree(directory + "/temp")
        }
    }

    /// The runs, oldest first: by the start their record gives (names sort by it only to the second:
    /// two runs started in one second are told apart by pid, which says nothing of their order).
    public func entries() -> [Entry] {
        Files.directoryEntries(root).filter { Files.isDirectory(root + "/" + $0) }.map { name in
            let directory = root + "/" + name
            let record = try? CodableJSON.decode(Record.self, from: Files.read(directory + "/run.json"))
            return Entry(directory: directory, name: name, record: record)
        }.sorted { ($0.record?.started ?? 0, $0.name) < ($1.record?.started ?? 0, $1.name) }
    }

    /// The bytes a run's folder takes.
    public static func size(of directory: String) -> Int64 { Files.size(of: directory) }

    /// Removes one run's folder (not one still running).
    public func remove(_ entry: Entry) -> Bool {
        guard entry.record?.isRunning != true else { return false }
        Files.removeTree(entry.directory)
        return true
    }

    /// Keeps the newest `keep` finished runs that are younger than `maxAge` seconds, and removes the
    /// workspaces killed runs left. Running runs are never touched.
    public func prune(keep: Int, maxAge: Double, now: Double) -> PruneReport {
        var report = PruneReport()
        var kept = 0
        for entry in entries().reversed() {
            guard let record = entry.record else { continue }
            if record.isRunning { continue }
            if record.finished == nil, entry.hasWorkspace {
                // Killed: its workspaces are leftovers.
                report.freedBytes += Files.size(of: entry.directory + "/work") + Files.size(of: entry.directory + "/temp")
                Files.removeTree(entry.directory + "/work")
                Files.removeTree(entry.directory + "/temp")
                report.removedWorkspaces.append(entry.name)
            }
            kept += 1
            if kept > keep || now - record.started > maxAge {
                report.freedBytes += Files.size(of: entry.directory)
                Files.removeTree(entry.directory)
                report.removedRuns.append(entry.name)
            }
        }
        report.removedRuns.reverse()
        report.removedWorkspaces.reverse()
        return report
    }
}

extension RunHistory {
    /// How a log marks a `::group::` (`▸ title`) and its `::endgroup::` (a line of its own, in the log
    /// only).
    public static let groupStart = "▸ "
    public static let groupEnd = "◂"

    /// Where a run's job log is (`root/logs/NAME.log`): the file the run's console noted for the job in
    /// `logs/index.tsv` (two jobs whose names clean up alike get ` #2`…), else the name `logName` gives.
    public static func logFile(root: String, job: String) -> String {
        let index = String(decoding: Files.readBytes(root + "/logs/index.tsv"), as: UTF8.self)
        for line in index.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 1)
            if fields.count == 2, fields[1] == job { return root + "/logs/" + fields[0] }
        }
        return root + "/logs/" + logName(job, taken: [])
    }

    /// A job's log file name: its display name with characters other than letters, digits, `-`, `_`,
    /// `.` and spaces made `_`, at most 200 bytes, and ` #2`, ` #3`… when another job already has it.
    public static func logName(_ job: String, taken: Set<String>) -> String {
        var base = String(job.map { $0.isLetter || $0.isNumber || "-_. ".contains($0) ? $0 : "_" })
        while base.utf8.count > 200 { base.removeLast() }
        if base.isEmpty || base.hasPrefix(".") { base = "_" + base }
        var name = base + ".log"
        var n = 1
        while taken.contains(name) {
            n += 1
            name = base + " #\(n).log"
        }
        return name
    }
}
