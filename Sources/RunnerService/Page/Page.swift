import WebhookReading
import Mustache
public import WorkflowExecution
import WorkflowPlanning

/// A content-cache entry as the page lists it (`gantry cache ls`).
public struct PageCacheEntry: Sendable {
    public var key: String
    public var scope: String
    public var size: Int64
    public var lastUsed: Double

    public init(key: String, scope: String, size: Int64, lastUsed: Double) {
        self.key = key
        self.scope = scope
        self.size = size
        self.lastUsed = lastUsed
    }
}

/// The page's HTML, rendered from the store with the Mustache templates: the runs (filtered), a run
/// (graph, jobs, annotations, summaries), a job (steps, log), the runners and the queue, the cache.
struct Page: Sendable {
    let library: MustacheLibrary
    let store: any ServiceStore
    let runs: ServiceRuns
    let settings: ServerSettings

    init(store: any ServiceStore, runs: ServiceRuns, settings: ServerSettings) {
        var library = MustacheLibrary()
        for (name, text) in PageTemplates.all {
            // The templates are part of the binary and tested: one that does not parse is a bug.
            try! library.register(text, named: name)
        }
        self.library = library
        self.store = store
        self.runs = runs
        self.settings = settings
    }

    /// What every page's layout needs: the title and who is signed in.
    struct Viewer {
        var signedIn: Bool
        var csrf: String
    }

    func render(_ template: String, _ values: [String: Any], viewer: Viewer) -> String {
        var values = values
        values["signedIn"] = viewer.signedIn
        values["csrf"] = viewer.csrf
        return library.render(values, withTemplate: template) ?? ""
    }

    // MARK: Runs

    struct Filter {
        var repository = ""
        var branch = ""
        var status = ""

        var isEmpty: Bool { repository.isEmpty && branch.isEmpty && status.isEmpty }

        /// The filter as a query string (`?repository=…`), empty without one.
        var query: String {
            let pairs = [("repository", repository), ("branch", branch), ("status", status)].filter { !$0.1.isEmpty }
            return pairs.isEmpty ? "" : "?" + pairs.map { "\($0.0)=\(PageForm.percentEncode($0.1))" }.joined(separator: "&")
        }

        func matches(_ run: StoredRunRecord) -> Bool {
            if !repository.isEmpty && run.record.intake.repository.lowercased() != repository.lowercased() { return false }
            if !branch.isEmpty {
                let ref = run.record.intake.ref ?? ""
                if ref != branch && ref != "refs/heads/" + branch && ref != "refs/tags/" + branch { return false }
            }
            if !status.isEmpty && RunJSON.status(run) != status { return false }
            return true
        }
    }

    static let statuses = ["in_progress", "success", "failure"]

    func runRows(_ filter: Filter) async throws -> [[String: Any]] {
        let now = HostProcess.wallClock()
        return try await store.storedRuns(limit: 500, unfinishedOnly: false).filter(filter.matches).prefix(200).map { run in
            let record = run.record
            return [
                "id": run.id.value, "name": record.workflowName, "number": record.runNumber, "repository": record.intake.repository,
                "event": record.intake.event, "ref": Self.refName(record.intake.ref), "sha": String(record.sha.prefix(7)),
                "status": RunJSON.status(run), "duration": Self.duration((run.finished ?? now) - run.created),
                "rerun": record.attempt != nil, "attempt": record.attempt ?? 1,
            ] as [String: Any]
        }
    }

    func rows(_ filter: Filter) async throws -> String {
        library.render(["runs": try await runRows(filter), "filtered": !filter.isEmpty], withTemplate: "rows") ?? ""
    }

    func runsPage(_ filter: Filter, viewer: Viewer) async throws -> String {
        render("runs", [
            "title": "Runs", "runs": try await runRows(filter), "filtered": !filter.isEmpty, "branch": filter.branch, "query": filter.query,
            "repositories": settings.repositories.sorted().map { ["name": $0, "selected": $0.lowercased() == filter.repository.lowercased()] },
            "statuses": Self.statuses.map { ["name": $0, "selected": $0 == filter.status] },
        ], viewer: viewer)
    }

    // MARK: A run

    func runPage(_ id: RunID, viewer: Viewer) async throws -> String? {
        guard let run = try await store.storedRun(id) else { return nil }
        let machine = try await store.machine(id)
        let record = run.record
        var jobs: [[String: Any]] = []
        var annotations: [[String: Any]] = []
        var summaries: [[String: Any]] = []
        if let machine {
            for (index, instance) in machine.order.enumerated() where machine.job(instance.job)?.call == nil {
                let name = machine.row(of: instance)?.instance.id ?? instance.job.id
                let outcome = machine.outcome(of: instance)
                let status = RunJSON.status(of: instance, in: machine)
                jobs.append([
                    "run": id.value, "index": index, "name": name, "status": status,
                    "runsOn": (machine.row(of: instance)?.instance.runsOn ?? []).joined(separator: ", "),
                    "time": outcome.map { Self.duration($0.steps.reduce(0) { $0 + $1.seconds }) } ?? "",
                    "waiting": status == "queued" ? waitingReason(machine.row(of: instance)?.instance.runsOn ?? []) as Any : false,
                ])
                for annotation in outcome?.annotations ?? [] {
                    var place = annotation.file ?? ""
                    if let line = annotation.line { place += ":\(line)" + (annotation.column.map { ":\($0)" } ?? "") }
                    annotations.append([
                        "run": id.value, "index": index, "job": name, "level": annotation.level.rawValue, "message": annotation.message,
                        "title": annotation.title ?? false, "place": place.isEmpty ? false : place,
                    ])
                }
                if let summary = outcome?.summary, !summary.isEmpty { summaries.append(["job": name, "html": Markdown.html(summary)]) }
            }
        }
        let running = run.finished == nil
        return render("run", [
            "title": "\(record.workflowName) #\(record.runNumber)", "id": id.value, "name": record.workflowName, "number": record.runNumber,
            "status": RunJSON.status(run), "repository": record.intake.repository, "event": record.intake.event,
            "ref": Self.refName(record.intake.ref), "sha": String(record.sha.prefix(12)), "rerun": record.attempt != nil,
            "attempt": record.attempt ?? 1, "first": record.firstRun?.value ?? "",
            "duration": Self.duration((run.finished ?? HostProcess.wallClock()) - run.created) + (running ? " so far" : ""),
            "running": running, "graph": machine.map { RunGraph(run: id.value, machine: $0).svg() } ?? "",
            "jobs": jobs, "annotations": annotations, "hasAnnotations": !annotations.isEmpty, "summaries": summaries,
            "hasSummaries": !summaries.isEmpty,
        ], viewer: viewer)
    }

    /// What a queued job waits for.
    func waitingReason(_ runsOn: [String]) -> String {
        let worker = runs.settings.worker
        guard !worker.accepts(runsOn) else { return "a free runner" }
        return "a runner with the labels \(runsOn.map { $0.lowercased() }.sorted().joined(separator: ", "))"
    }

    // MARK: A job

    /// A job's log file, by its display name (as the run's console names it).
    func logPath(_ id: RunID, job: String) -> String? {
        settings.runsDirectory.map { RunHistory.logFile(root: $0 + "/" + id.value, job: job) }
    }

    func jobPage(_ id: RunID, index: Int, viewer: Viewer) async throws -> String? {
        guard let run = try await store.storedRun(id), let machine = try await store.machine(id), machine.order.indices.contains(index) else {
            return nil
        }
        let instance = machine.order[index]
        let name = machine.row(of: instance)?.instance.id ?? instance.job.id
        let status = RunJSON.status(of: instance, in: machine)
        var bytes = logPath(id, job: name).map(Files.readBytes) ?? []
        let done = machine.result(of: instance) != nil
        // While the job runs, the page shows whole lines: the stream goes on after the last one.
        if !done, let newline = bytes.lastIndex(of: 10) { bytes.removeSubrange((newline + 1)...) } else if !done { bytes = [] }
        let offset = bytes.count
        // A long log shows its end (with its line numbers); the whole of it is at the API's log.
        var skipped = 0
        var firstLine = 0
        if bytes.count > Self.logLimit, let start = bytes[(bytes.count - Self.logLimit)...].firstIndex(of: 10) {
            skipped = start + 1
            firstLine = bytes[..<skipped].lazy.filter { $0 == 10 }.count
            bytes.removeSubrange(..<skipped)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let steps: [[String: Any]] = (machine.outcome(of: instance)?.steps ?? []).map { step in
            ["name": step.name, "conclusion": step.conclusion.rawValue, "tolerated": step.outcome != step.conclusion, "time": Self.duration(step.seconds)]
        }
        let log = LogHTML.render(text, firstLine: firstLine)
        return render("job", [
            "title": name, "run": id.value, "runName": run.record.workflowName, "number": run.record.runNumber, "index": index, "name": name,
            "status": status, "waiting": status == "queued" ? waitingReason(machine.row(of: instance)?.instance.runsOn ?? []) as Any : false,
            "steps": steps, "hasSteps": !steps.isEmpty, "log": log.html, "lines": firstLine + log.lines, "live": !done, "offset": offset,
            "skipped": skipped > 0 ? ByteSize.format(Int64(skipped)) as Any : false,
        ], viewer: viewer)
    }

    /// The most of a job's log the page shows (its end).
    static let logLimit = 8 << 20

    // MARK: Runners and the cache

    func runnersPage(viewer: Viewer) async throws -> String {
        let worker = runs.settings.worker
        let draining = await runs.draining
        var groups: [String: (count: Int, runsOn: [String])] = [:]
        for job in try await store.queued() {
            let key = job.runsOn.map { $0.lowercased() }.sorted().joined(separator: ", ")
            groups[key, default: (0, job.runsOn)].count += 1
        }
        return render("runners", [
            "title": "Runners",
            "runners": [[
                "name": worker.name, "labels": (worker.labels ?? []).joined(separator: ", "), "capacity": runs.settings.capacity,
                "busy": await runs.slots.busy, "state": draining ? "draining" : "ready",
            ]],
            "queue": groups.keys.sorted().map { key in
                ["labels": key.isEmpty ? "(none)" : key, "count": groups[key]!.count, "reason": waitingReason(groups[key]!.runsOn)]
            },
        ], viewer: viewer)
    }

    func cachePage(viewer: Viewer) -> String {
        let entries = settings.cacheEntries()
        return render("cache", [
            "title": "Cache", "count": entries.count, "total": ByteSize.format(entries.reduce(0) { $0 + $1.size }),
            "entries": entries.map { ["key": $0.key, "scope": $0.scope, "size": ByteSize.format($0.size), "lastUsed": Self.time($0.lastUsed)] },
        ], viewer: viewer)
    }

    func message(_ title: String, _ text: String, viewer: Viewer) -> String {
        render("message", ["title": title, "text": text], viewer: viewer)
    }

    func signInPage(problem: String?, viewer: Viewer) -> String {
        render("signin", ["title": "Sign in", "problem": problem ?? false, "public": settings.page == .public], viewer: viewer)
    }

    // MARK: Formats

    static func refName(_ ref: String?) -> String {
        guard let ref else { return "" }
        for prefix in ["refs/heads/", "refs/tags/"] where ref.hasPrefix(prefix) { return String(ref.dropFirst(prefix.count)) }
        return ref
    }

    /// As a commit status says it (`12s`, `3m 5s`), or in milliseconds under a second.
    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? "\(max(0, Int(seconds * 1000))) ms" : CommitStatus.duration(seconds)
    }

    /// `2026-11-22 03:04Z`.
    static func time(_ seconds: Double) -> String {
        var value = Int(seconds)
        let minute = value / 60 % 60
        let hour = value / 3600 % 24
        value /= 86400
        // Days since 1970 to a civil date (Howard Hinnant's algorithm).
        let z = value + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(hour)):\(two(minute))Z"
    }
}
