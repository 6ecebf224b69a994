import AsyncHTTPClient
import NIOCore
import NIOHTTP1
public import RunnerService
public import WebhookReading

/// What a forge's REST API answered when it did not take a request.
public struct ForgeError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}

/// A JSON POST over AsyncHTTPClient: the status and at most 64 KiB of the answer. Nothing here logs a
/// header, so a token given to it stays out of every log.
public enum ForgeHTTP {
    public static func post(_ url: String, headers: [(String, String)], json: String, timeout: Double = 30) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "gantry")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        var body = try await response.body.collect(upTo: 64 * 1024)
        return (Int(response.status.code), body.readString(length: body.readableBytes) ?? "")
    }
}

extension ForgeHTTP {
    /// A GET: the status, or nil when nothing answered within `timeout` seconds.
    public static func status(of url: String, timeout: Double) async -> Int? {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "gantry")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000))) else { return nil }
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}

/// Sends commit statuses to a forge's REST API: GitHub's (`Authorization: Bearer`, its media type and
/// API version) or Gitea's and Forgejo's (`Authorization: token`), at `base` (GitHub's API root, e.g.
/// `https://api.github.com`, or a Gitea's `https://HOST/api/v1`).
public struct ForgeStatusClient: StatusSink {
    let base: String
    let token: String
    /// The API shape, when configured; else the one of the forge that sent the run's delivery.
    let api: Forge?

    public init(base: String, token: String, api: Forge?) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.token = token
        self.api = api
    }

    public func send(_ status: CommitStatus) async throws {
        let headers: [(String, String)]
        switch api ?? status.forge {
        case .github:
            headers = [("Authorization", "Bearer \(token)"), ("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]
        case .gitea, .forgejo:
            headers = [("Authorization", "token \(token)"), ("Accept", "application/json")]
        }
        let answer: (status: Int, body: String)
        do {
            answer = try await ForgeHTTP.post(base + status.path, headers: headers, json: status.json)
        } catch {
            throw ForgeError("\(base) cannot be reached: \(error)")
        }
        guard (200..<300).contains(answer.status) else {
            let message = "\(base) answered \(answer.status): \(answer.body.prefix(200))"
            // A client error stays one (a bad token, an unknown repository), except a timeout and rate limits.
            let transient = answer.status >= 500 || answer.status == 408 || answer.status == 429
                || (answer.status == 403 && answer.body.lowercased().contains("rate limit"))
            if transient { throw ForgeError(message) }
            throw StatusRefused(message)
        }
    }
}
