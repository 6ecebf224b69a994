public import WebhookReading
public import Hummingbird
public import Logging
import HTTPTypes
import NIOCore
import UnixSignals
import Prometheus
import ServiceLifecycle
public import WorkflowExecution

/// How `gantry serve` listens and whom it trusts.
public struct ServerSettings: Sendable {
    public var host: String
    /// 0 picks a free port (the chosen address is logged).
    public var port: Int
    /// The webhook secret; nil only with `--insecure-no-webhook-secret`.
    public var webhookSecret: [UInt8]?
    public var tokens: TokenFile
    public var drainTimeout: Double
    /// Repositories (`owner/name`, compared ignoring case) the service runs; deliveries for others get 404.
    public var repositories: [String]
    /// The largest body read (GitHub's payload cap).
    public var maxBody = 25 * 1024 * 1024
    /// The events that may start runs of a repository (`owner/name` lowercased) from webhooks, when
    /// its configuration limits them; the API's dispatches are not limited.
    public var events: [String: [String]] = [:]
    /// The clock `schedule` triggers fire by.
    public var scheduleClock = ScheduleClock()
    /// Where each run's folder is (`<folder>/<id>`: `log.txt`, `logs/<job>.log`).
    public var runsDirectory: String?
    /// The content cache's entries, for the page.
    public var cacheEntries: @Sendable () -> [PageCacheEntry] = { [] }
    /// Who may read the page.
    public var page: PageAccess = .private

    public init(host: String, port: Int, webhookSecret: [UInt8]?, tokens: TokenFile, drainTimeout: Double, repositories: [String]) {
        self.host = host
        self.port = port
        self.webhookSecret = webhookSecret
        self.tokens = tokens
        self.drainTimeout = drainTimeout
        self.repositories = repositories
    }
}

/// The HTTP side of `gantry serve` (Hummingbird): probes, metrics, webhooks and the REST API, in front
/// of the node's `ServiceRuns`. SIGTERM drains: `/ready` answers 503, no job starts, running jobs get
/// the drain timeout, then the server stops.
public struct RunnerServer: Sendable {
    let settings: ServerSettings
    let runs: ServiceRuns
    let store: any ServiceStore
    let metrics: ServiceMetrics
    let statuses: StatusReporter?
    let logger: Logger

    public init(
        settings: ServerSettings, runs: ServiceRuns, store: any ServiceStore, metrics: ServiceMetrics, statuses: StatusReporter? = nil, logger: Logger
    ) {
        self.settings = settings
        self.runs = runs
        self.store = store
        self.metrics = metrics
        self.statuses = statuses
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT, then drains; `listening` gets the bound address.
    public func run(listening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let router = Router(context: BasicRequestContext.self)
        routes(router)
        let logger = self.logger
        let app = Application(
            router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "gantry"),
            onServerRunning: { channel in
                let address = "\(channel.localAddress?.ipAddress ?? "?"):\(channel.localAddress?.port ?? 0)"
                logger.info("listening", metadata: ["address": .string(address)])
                listening(address)
            },
            logger: Logger(label: "gantry.http", factory: { _ in SwiftLogNoOpLogHandler() }))
        let drain = DrainService(runs: runs, timeout: settings.drainTimeout, statuses: statuses, logger: logger)
        let scheduled = settings.repositories.filter { settings.events[$0.lowercased()]?.contains("schedule") ?? true }
        let schedules = ScheduleService(repositories: scheduled, runs: runs, clock: settings.scheduleClock, logger: logger)
        // A graceful shutdown goes through the services last to first: schedules stop, the drain ends,
        // then the server.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: drain), .init(service: schedules)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    // MARK: Routes

    func routes(_ router: Router<BasicRequestContext>) {
        router.get("health") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        router.get("ready") { _, _ in
            if await runs.draining { return Self.json(.serviceUnavailable, #"{"status":"draining"}"#) }
            if let reason = await store.unavailable() {
                return Self.json(.serviceUnavailable, #"{"status":"unavailable","reason":\#(ServiceLogHandler.quote(reason))}"#)
            }
            return Self.json(.ok, #"{"status":"ready"}"#)
        }
        router.get("metrics") { _, _ in
            let text = await metrics.render(runs: runs, store: store)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.post("webhooks/:forge") { request, context in
            await webhook(request, forge: context.parameters.get("forge") ?? "")
        }
        let api = router.group("api/v1")
        api.get("runs") { request, _ in
            try await authorized(request) { try await runList(request) }
        }
        api.post("runs") { request, _ in
            try await authorized(request) { try await dispatch(request) }
        }
        api.get("runs/:id") { request, context in
            try await authorized(request) { try await runDetail(RunID(context.parameters.get("id") ?? "")) }
        }
        api.post("runs/:id/cancel") { request, context in
            try await authorized(request) {
                let id = RunID(context.parameters.get("id") ?? "")
                guard try await store.storedRun(id) != nil else { return Self.error(.notFound, "no run \(id)") }
                guard await runs.cancel(id) else { return Self.error(.conflict, "run \(id) is not running") }
                logger.info("run cancelled", metadata: ["run": .string(id.value)])
                return Self.json(.accepted, #"{"run":\#(ServiceLogHandler.quote(id.value)),"cancelling":true}"#)
            }
        }
        api.get("runs/:id/log") { request, context in
            try await authorized(request) { try await log(request, run: RunID(context.parameters.get("id") ?? "")) }
        }
        for (path, failedOnly) in [("rerun", false), ("rerun-failed-jobs", true)] {
            api.post("runs/:id/\(path)") { request, context in
                try await authorized(request) {
                    let id = RunID(context.parameters.get("id") ?? "")
                    do {
                        let rerun = try await runs.rerun(id, failedOnly: failedOnly)
                        logger.info("run re-run", metadata: ["run": .string(id.value), "rerun": .string(rerun.value), "failed_only": .stringConvertible(failedOnly)])
                        return Self.json(.created, #"{"runs":[\#(ServiceLogHandler.quote(rerun.value))]}"#)
                    } catch let failure as LaunchFailure {
                        return Self.error(HTTPResponse.Status(code: failure.status), failure.message)
                    }
                }
            }
        }
        api.get("runners") { request, _ in
            try await authorized(request) { try await runnerList() }
        }
        if settings.page != .off { pageRoutes(router) }
    }

    // MARK: Webhooks

    func webhook(_ request: Request, forge name: String) async -> Response {
        let requestID = request.headers[HTTPField.Name("X-GitHub-Delivery")!] ?? "-"
        var log = logger
        log[metadataKey: "request"] = .string(requestID)
        func refuse(_ status: HTTPResponse.Status, _ result: String, _ message: String) -> Response {
            metrics.delivery(result)
            log.warning("webhook refused", metadata: ["status": .stringConvertible(status.code), "reason": .string(message)])
            return Self.error(status, message)
        }
        guard let forge = Forge(rawValue: name) else { return refuse(.notFound, "unknown_forge", "no webhook endpoint '\(name)' (github, gitea, forgejo)") }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: settings.maxBody)
        } catch is NIOTooManyBytesError {
            return refuse(.contentTooLarge, "too_large", "the body is larger than \(settings.maxBody) bytes")
        } catch {
            return refuse(.badRequest, "bad_request", "the body could not be read: \(error)")
        }
        let body = Array(buffer.readableBytesView)
        let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        if let secret = settings.webhookSecret {
            guard WebhookSignature.verify(body, secret: secret, headers: headers, forge: forge) else {
                return refuse(.unauthorized, "unauthorized", "the signature is missing or wrong")
            }
        }
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.filter { $0 != " " }.lowercased() }
        guard type == "application/json" else {
            return refuse(.badRequest, "bad_request", "the content type must be application/json (set it in the webhook's settings)")
        }
        switch WebhookReader.read(forge: forge, headers: headers, body: body) {
        case .failure(let refusal):
            return refuse(HTTPResponse.Status(code: refusal.status), "bad_request", refusal.message)
        case .success(.ignored(let reason)):
            metrics.delivery("ignored")
            log.info("webhook ignored", metadata: ["reason": .string(reason)])
            return Self.json(.accepted, #"{"ignored":\#(ServiceLogHandler.quote(reason))}"#)
        case .success(.run(let intake)):
            guard settings.repositories.contains(where: { $0.lowercased() == intake.repository.lowercased() }) else {
                return refuse(.notFound, "unknown_repository", "repository '\(intake.repository)' is not configured here")
            }
            if let allowed = settings.events[intake.repository.lowercased()], !allowed.contains(intake.event) {
                let reason = "event '\(intake.event)' is not enabled for \(intake.repository)"
                metrics.delivery("ignored")
                log.info("webhook ignored", metadata: ["reason": .string(reason)])
                return Self.json(.accepted, #"{"ignored":\#(ServiceLogHandler.quote(reason))}"#)
            }
            do {
                let (ids, duplicate) = try await runs.intake(intake)
                metrics.delivery(duplicate ? "duplicate" : "accepted")
                log.info(
                    duplicate ? "webhook redelivered" : "webhook accepted",
                    metadata: ["event": .string(intake.event), "repository": .string(intake.repository), "runs": .string(ids.map(\.value).joined(separator: ","))])
                let list = ids.map { ServiceLogHandler.quote($0.value) }.joined(separator: ",")
                return Self.json(.accepted, #"{"runs":[\#(list)],"duplicate":\#(duplicate)}"#)
            } catch let failure as LaunchFailure {
                return refuse(HTTPResponse.Status(code: failure.status), failure.status == 404 ? "unknown_repository" : "error", failure.message)
            } catch let error as RunStoreError where error.unavailable {
                // Nothing was stored: the forge delivers again.
                return refuse(.serviceUnavailable, "unavailable", "the run store is unavailable; deliver again later (\(error))")
            } catch {
                return refuse(.internalServerError, "error", "the delivery could not be stored: \(error)")
            }
        }
    }

    // MARK: API

    func authorized(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            settings.tokens.accepts(String(header.dropFirst(7)))
        else {
            return Self.error(.unauthorized, "a valid bearer token is required (gantry serve token create)")
        }
        do {
            return try await body()
        } catch let error as RunStoreError where error.unavailable {
            return Self.error(.serviceUnavailable, "the run store is unavailable; try again later (\(error))")
        } catch let error as RunStoreError {
            return Self.error(.internalServerError, "\(error)")
        }
    }

    /// A run asked for through the API: planned and stored like a delivery's, answered 201 with its ids.
    func dispatch(_ request: Request) async throws -> Response {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: settings.maxBody) else {
            return Self.error(.contentTooLarge, "the body is larger than \(settings.maxBody) bytes")
        }
        let intake: Intake
        switch DispatchReader.read(Array(buffer.readableBytesView)) {
        case .failure(let refusal): return Self.error(HTTPResponse.Status(code: refusal.status), refusal.message)
        case .success(let read): intake = read
        }
        guard settings.repositories.contains(where: { $0.lowercased() == intake.repository.lowercased() }) else {
            return Self.error(.notFound, "repository '\(intake.repository)' is not configured here")
        }
        do {
            let (ids, _) = try await runs.intake(intake)
            guard !ids.isEmpty else {
                return Self.error(.unprocessableContent, "no workflow of \(intake.repository) runs on \(intake.event) at \(intake.sha ?? intake.ref ?? "HEAD")")
            }
            logger.info("run dispatched", metadata: ["repository": .string(intake.repository), "runs": .string(ids.map(\.value).joined(separator: ","))])
            return Self.json(.created, #"{"runs":[\#(ids.map { ServiceLogHandler.quote($0.value) }.joined(separator: ","))]}"#)
        } catch let failure as LaunchFailure {
            return Self.error(HTTPResponse.Status(code: failure.status), failure.message)
        }
    }

    func runList(_ request: Request) async throws -> Response {
        let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 100
        let stored = try await store.storedRuns(limit: max(1, min(limit, 1000)), unfinishedOnly: false)
        var items: [String] = []
        for run in stored { items.append(await RunJSON.summary(run, machine: try await store.machine(run.id))) }
        return Self.json(.ok, #"{"runs":[\#(items.joined(separator: ","))]}"#)
    }

    func runDetail(_ id: RunID) async throws -> Response {
        guard let run = try await store.storedRun(id) else { return Self.error(.notFound, "no run \(id)") }
        return Self.json(.ok, RunJSON.detail(run, machine: try await store.machine(id), worker: runs.settings.worker))
    }

    /// A run's log (`?job=NAME`: one job's), as text; with `?follow=1` it streams what is written until
    /// the run has ended or the service drains (chunked), as `tail -f` would.
    func log(_ request: Request, run id: RunID) async throws -> Response {
        guard try await store.storedRun(id) != nil, let folder = settings.runsDirectory else { return Self.error(.notFound, "no run \(id)") }
        let query = request.uri.queryParameters
        let job = query.get("job")
        let path = job.map { RunHistory.logFile(root: folder + "/" + id.value, job: $0) } ?? folder + "/" + id.value + "/log.txt"
        let follow = ["1", "true"].contains(query.get("follow") ?? "")
        let headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        guard follow else {
            guard Files.exists(path) || job == nil else { return Self.error(.notFound, "run \(id) has no log of job '\(job ?? "")'") }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Files.readBytes(path))))
        }
        let store = self.store
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var offset = 0
            while true {
                // Whether the run had ended is read before the file: what it wrote last is still sent.
                // A draining service, or a run no driver here carries on, ends the stream too.
                let going = store.isShared ? !(await runs.draining) : await runs.isDriving(id)
                let ended = (try? await store.storedRun(id))?.finished != nil || !going
                let chunk = Files.readBytes(path, from: offset, limit: 64 * 1024)
                if !chunk.isEmpty {
                    try await writer.write(ByteBuffer(bytes: chunk))
                    offset += chunk.count
                    continue
                }
                if ended { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await writer.finish(nil)
        })
    }

    func runnerList() async throws -> Response {
        let worker = runs.settings.worker
        guard let nodes = try await store.runners() else {
            let busy = await runs.slots.busy
            let labels = (worker.labels ?? []).map(ServiceLogHandler.quote).joined(separator: ",")
            let body = #"{"runners":[{"name":\#(ServiceLogHandler.quote(worker.name)),"labels":[\#(labels)],"capacity":\#(runs.settings.capacity),"busy":\#(busy),"draining":\#(await runs.draining)}]}"#
            return Self.json(.ok, body)
        }
        // Every node of the shared store; one whose heartbeat is older than the window is offline.
        let now = HostProcess.wallClock()
        let items = nodes.map { node in
            let labels = (node.labels ?? []).map(ServiceLogHandler.quote).joined(separator: ",")
            let online = now - node.seen <= ServiceRuns.heartbeatWindow
            return #"{"name":\#(ServiceLogHandler.quote(node.name)),"labels":[\#(labels)],"capacity":\#(node.capacity),"busy":\#(node.busy),"draining":\#(node.draining),"online":\#(online),"seen":\#(Int(node.seen))}"#
        }
        return Self.json(.ok, #"{"runners":[\#(items.joined(separator: ","))]}"#)
    }

    // MARK: Answers

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(status, #"{"error":\#(ServiceLogHandler.quote(message))}"#)
    }
}

/// Waits for the graceful shutdown, then drains the node's runs (and sends their last commit
/// statuses, for at most 10 s) before the server stops.
struct DrainService: Service {
    let runs: ServiceRuns
    let timeout: Double
    let statuses: StatusReporter?
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("draining", metadata: ["timeout": .stringConvertible(timeout)])
        let clean = await runs.drain(timeout: timeout)
        await statuses?.flush(timeout: 10)
        logger.info(clean ? "drained" : "drained after cancelling running jobs")
    }
}
