import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import WorkflowExecution
import WorkflowPlanning

/// Who may read the page: anyone (`public`), signed-in users (`private`, the default: the service must
/// be reachable by the forge, and logs of private repositories are masked but still private), or nobody
/// (`off`: no page at all).
public enum PageAccess: String, Sendable, CaseIterable {
    case `public`, `private`, off
}

/// The page's routes. Cancelling and re-running need a signed-in user, and so does reading unless the
/// page is public: the sign-in form takes an API token and keeps it in an HttpOnly, SameSite=Strict
/// cookie, and every form that changes something carries a CSRF value derived from that token, which
/// another site cannot read. Every HTML answer forbids scripts, styles and frames from anywhere but the
/// service itself.
extension RunnerServer {
    static let cookieName = "gantry_token"

    func pageRoutes(_ router: Router<BasicRequestContext>) {
        let page = Page(store: store, runs: runs, settings: settings)
        router.get("/") { request, _ in
            if let refusal = unreadable(request) { return refusal }
            let query = request.uri.queryParameters
            let filter = Page.Filter(
                repository: query.get("repository") ?? "", branch: query.get("branch") ?? "", status: query.get("status") ?? "")
            return Self.html(.ok, try await page.runsPage(filter, viewer: viewer(request)))
        }
        router.get("style.css") { _, _ in Self.asset(PageAssets.style, type: "text/css; charset=utf-8") }
        router.get("page.js") { _, _ in Self.asset(PageAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("events") { request, _ in
            if let refusal = unreadable(request) { return refusal }
            let query = request.uri.queryParameters
            let filter = Page.Filter(
                repository: query.get("repository") ?? "", branch: query.get("branch") ?? "", status: query.get("status") ?? "")
            return Self.eventStream { writer in
                var last = ""
                var quiet = 0
                let began = HostProcess.wallClock()
                // At most an hour a connection (the browser connects again), and none while draining.
                while !(await runs.draining), HostProcess.wallClock() - began < 3600 {
                    let rows = try await page.rows(filter)
                    if rows != last {
                        try await writer.write(ByteBuffer(string: Self.event("runs", rows)))
                        last = rows
                        quiet = 0
                    } else if quiet >= 30 {
                        try await writer.write(ByteBuffer(string: ": still here\n\n"))
                        quiet = 0
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    quiet += 1
                }
            }
        }
        router.get("runs/:id") { request, context in
            if let refusal = unreadable(request) { return refusal }
            let id = RunID(context.parameters.get("id") ?? "")
            guard let html = try await page.runPage(id, viewer: viewer(request)) else { return notFound(page, request, "No run \(id.value).") }
            return Self.html(.ok, html)
        }
        router.get("runs/:id/jobs/:index") { request, context in
            if let refusal = unreadable(request) { return refusal }
            let id = RunID(context.parameters.get("id") ?? "")
            guard let index = context.parameters.get("index").flatMap({ Int($0) }), let html = try await page.jobPage(id, index: index, viewer: viewer(request))
            else { return notFound(page, request, "Run \(id.value) has no such job.") }
            return Self.html(.ok, html)
        }
        router.get("runs/:id/jobs/:index/events") { request, context in
            if let refusal = unreadable(request) { return refusal }
            let id = RunID(context.parameters.get("id") ?? "")
            let query = request.uri.queryParameters
            guard let index = context.parameters.get("index").flatMap({ Int($0) }), let machine = try await store.machine(id),
                machine.order.indices.contains(index)
            else { return Self.error(.notFound, "run \(id.value) has no such job") }
            let instance = machine.order[index]
            guard let path = page.logPath(id, job: machine.row(of: instance)?.instance.id ?? instance.job.id) else {
                return Self.error(.notFound, "no logs here")
            }
            let start = query.get("from").flatMap { Int($0) } ?? 0
            let firstLine = query.get("line").flatMap { Int($0) } ?? 0
            let limit = 64 * 1024
            return Self.eventStream { writer in
                var offset = start
                var number = firstLine
                var quiet = 0
                while true {
                    // Whether the job had ended is read before the file: its last lines are still sent.
                    // A draining service, or a run no driver here carries on, ends the stream too.
                    let going = await runs.isDriving(id)
                    let ended = try await store.machine(id)?.result(of: instance) != nil || !going
                    var chunk = Files.readBytes(path, from: offset, limit: limit)
                    if let end = chunk.lastIndex(of: 10) {
                        chunk.removeSubrange((end + 1)...)
                    } else if chunk.count < limit && !(ended && !chunk.isEmpty) {
                        // Nothing whole yet: wait (a line longer than the window goes out in pieces; the
                        // last line without a newline goes out when the job has ended).
                        if ended {
                            try await writer.write(ByteBuffer(string: Self.event("end", "")))
                            return
                        }
                        quiet += 1
                        if quiet >= 75 {
                            // A comment now and then: a reader that left is noticed when it fails.
                            try await writer.write(ByteBuffer(string: ": still here\n\n"))
                            quiet = 0
                        }
                        try await Task.sleep(for: .milliseconds(200))
                        continue
                    }
                    quiet = 0
                    offset += chunk.count
                    let lines = chunk.split(separator: 10, omittingEmptySubsequences: false)
                    for line in chunk.last == 10 ? lines.dropLast() : lines[...] {
                        let text = String(decoding: line, as: UTF8.self)
                        guard text != RunHistory.groupEnd else { continue }
                        number += 1
                        try await writer.write(ByteBuffer(string: Self.event("line", LogHTML.line(text, number: number))))
                    }
                }
            }
        }
        router.get("runners") { request, _ in
            if let refusal = unreadable(request) { return refusal }
            return Self.html(.ok, try await page.runnersPage(viewer: viewer(request)))
        }
        router.get("cache") { request, _ in
            if let refusal = unreadable(request) { return refusal }
            return Self.html(.ok, page.cachePage(viewer: viewer(request)))
        }
        router.get("sign-in") { request, _ in Self.html(.ok, page.signInPage(problem: nil, viewer: viewer(request))) }
        router.post("sign-in") { request, _ in
            let form = try await Self.form(request)
            let token = form["token"] ?? ""
            guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 59 && $0 != 44 && $0 != 34 && $0 != 92 }),
                settings.tokens.accepts(token)
            else {
                return Self.html(.unauthorized, page.signInPage(problem: "That token is not valid here.", viewer: Page.Viewer(signedIn: false, csrf: "")))
            }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(Cookie(name: Self.cookieName, value: token, path: "/", httpOnly: true, sameSite: .strict))
            logger.info("signed in on the page")
            return response
        }
        router.post("sign-out") { request, _ in
            guard try await allowed(request) != nil else { return forbidden(page) }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        router.post("runs/:id/cancel") { request, context in
            let id = RunID(context.parameters.get("id") ?? "")
            guard try await allowed(request) != nil else { return forbidden(page) }
            guard await runs.cancel(id) else { return Self.html(.conflict, page.message("Not running", "Run \(id.value) is not running.", viewer: viewer(request))) }
            logger.info("run cancelled", metadata: ["run": .string(id.value), "from": "page"])
            return Response.redirect(to: "/runs/\(id.value)", type: .normal)
        }
        for (path, failedOnly) in [("rerun", false), ("rerun-failed-jobs", true)] {
            router.post("runs/:id/\(path)") { request, context in
                let id = RunID(context.parameters.get("id") ?? "")
                guard try await allowed(request) != nil else { return forbidden(page) }
                do {
                    let rerun = try await runs.rerun(id, failedOnly: failedOnly)
                    logger.info("run re-run", metadata: ["run": .string(id.value), "rerun": .string(rerun.value), "from": "page"])
                    return Response.redirect(to: "/runs/\(rerun.value)", type: .normal)
                } catch let failure as LaunchFailure {
                    return Self.html(HTTPResponse.Status(code: failure.status), page.message("Not re-run", failure.message, viewer: viewer(request)))
                }
            }
        }
    }

    /// A private page sends whoever is not signed in to the sign-in form.
    func unreadable(_ request: Request) -> Response? {
        guard settings.page == .private, !viewer(request).signedIn else { return nil }
        return Response.redirect(to: "/sign-in", type: .normal)
    }

    /// Who is looking: signed in when the cookie holds a valid token.
    func viewer(_ request: Request) -> Page.Viewer {
        guard let token = request.cookies[Self.cookieName]?.value, !token.isEmpty, settings.tokens.accepts(token) else {
            return Page.Viewer(signedIn: false, csrf: "")
        }
        return Page.Viewer(signedIn: true, csrf: Self.csrf(token))
    }

    /// A form post that may change something: the signed-in user's token, when the form's CSRF value
    /// is the one derived from it.
    func allowed(_ request: Request) async throws -> String? {
        guard let token = request.cookies[Self.cookieName]?.value, !token.isEmpty, settings.tokens.accepts(token) else { return nil }
        let form = try await Self.form(request)
        let expected = Array(Self.csrf(token).utf8)
        guard WebhookSignature.constantTimeEqual(Array((form["csrf"] ?? "").utf8), expected) else { return nil }
        return token
    }

    static func csrf(_ token: String) -> String { TokenFile.hash("csrf\n" + token) }

    func forbidden(_ page: Page) -> Response {
        Self.html(.forbidden, page.message("Not allowed", "Sign in first, then use the page's own buttons.", viewer: Page.Viewer(signedIn: false, csrf: "")))
    }

    func notFound(_ page: Page, _ request: Request, _ text: String) -> Response {
        Self.html(.notFound, page.message("Not found", text, viewer: viewer(request)))
    }

    /// A form body (`application/x-www-form-urlencoded`, at most 64 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        return PageForm.decode(String(buffer: body))
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        // A page holds the signed-in user's CSRF value: no cache keeps it.
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A server-sent event: each line of `data` on a `data:` line of its own (a carriage return would
    /// end a line too, so it goes).
    static func event(_ name: String, _ data: String) -> String {
        "event: \(name)\n" + data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0.filter { $0 != "\r" })\n" }.joined()
            + "\n"
    }

    static func eventStream(_ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await write(&writer)
                try await writer.finish(nil)
            })
    }
}

/// `application/x-www-form-urlencoded`, both ways.
enum PageForm {
    static func decode(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            out[percentDecode(parts[0])] = parts.count > 1 ? percentDecode(parts[1]) : ""
        }
        return out
    }

    static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.first {
            utf8 = utf8.dropFirst()
            if byte == UInt8(ascii: "+") {
                bytes.append(32)
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || "-._~".utf8.contains(byte) {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
