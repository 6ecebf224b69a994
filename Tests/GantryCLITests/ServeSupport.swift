import Foundation
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `gantry serve` process on 127.0.0.1 (port 0: it logs the port it got), its JSON log lines
/// collected, and a real HTTP client (curl) to talk to it.
final class ServeProcess: ServeEndpoint {
    let process = Process()
    /// The service's standard output and error go to this file (not a pipe: a file holds everything
    /// written once the process has ended, with nothing left in flight).
    private let output = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-serve-log-\(UUID().uuidString)")
    private(set) var port = 0

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = RunCommandTests.gantry
        process.arguments = ["serve", "--listen", "127.0.0.1:0"] + arguments
        var base = ProcessInfo.processInfo.environment
        if base["GANTRY_STATE_DIR"] == nil { base["GANTRY_STATE_DIR"] = testStateDirectory }
        process.environment = base.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
        let listening = try waitForLine { $0.contains(#""message":"listening""#) }
        guard let range = listening.range(of: #""address":"127.0.0.1:"#),
            let port = Int(listening[range.upperBound...].prefix { $0.isNumber })
        else { throw ServeError("no port in \(listening)") }
        self.port = port
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: output)
    }

    var log: [String] {
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// The first log line matching, waited for at most `timeout` seconds.
    @discardableResult
    func waitForLine(timeout: Double = 60, _ match: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = log.first(where: match) { return line }
            if !process.isRunning, let line = log.first(where: match) { return line }
            if !process.isRunning { throw ServeError("gantry serve exited (\(process.terminationStatus)):\n" + log.joined(separator: "\n")) }
            usleep(20_000)
        }
        throw ServeError("no such log line within \(timeout) s:\n" + log.joined(separator: "\n"))
    }

    /// Sends a signal and waits for the process to end; its exit status.
    func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        return waitForExit()
    }

    /// Waits for the process to end; its exit status.
    @discardableResult
    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A `gantry serve` answering on 127.0.0.1:`port` (a process of the tests', or a container's), and
/// its log, which a failure shows.
protocol ServeEndpoint {
    var port: Int { get }
    var log: [String] { get }
}

struct ServeAnswer {
    var status: Int
    var body: String
}

extension ServeEndpoint {
    /// An HTTP request with curl; the status and body.
    func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil, bodyFile: String? = nil
    ) throws -> ServeAnswer {
        var arguments = ["curl", "-s", "-S", "--max-time", "60", "-X", method, "-o", "-", "-w", "\n%{http_code}"]
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
        var temporary: URL?
        if let body {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-body-\(UUID().uuidString)")
            try body.write(to: url)
            temporary = url
            arguments += ["--data-binary", "@" + url.path]
        }
        if let bodyFile { arguments += ["--data-binary", "@" + bodyFile] }
        defer { temporary.map { try? FileManager.default.removeItem(at: $0) } }
        let result = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), arguments + ["http://127.0.0.1:\(port)\(path)"])
        guard let newline = result.stdout.lastIndex(of: "\n"), let status = Int(result.stdout[result.stdout.index(after: newline)...]) else {
            throw ServeError("curl failed: \(result.stderr)")
        }
        // Every JSON answer ends with a newline: the body is compared without it.
        var body = String(result.stdout[..<newline])
        if body.hasSuffix("\n") { body.removeLast() }
        return ServeAnswer(status: status, body: body)
    }

    /// A webhook delivery, signed with `secret` unless nil.
    func deliver(
        _ event: String, _ payload: String, delivery: String, secret: String?, forge: String = "github", contentType: String = "application/json"
    ) throws -> ServeAnswer {
        var headers = ["Content-Type": contentType, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery]
        if let secret { headers["X-Hub-Signature-256"] = "sha256=" + ServeFixture.signature(Data(payload.utf8), secret: secret) }
        return try request("POST", "/webhooks/" + forge, headers: headers, body: Data(payload.utf8))
    }

    /// Polls a run through the API until its status is no longer `in_progress`; its JSON.
    func finishedRun(_ id: String, token: String, timeout: Double = 60) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let answer = try request("GET", "/api/v1/runs/\(id)", headers: ["Authorization": "Bearer \(token)"])
            if answer.status == 200, let run = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
                run["status"] as? String != "in_progress"
            {
                return run
            }
            usleep(50_000)
        }
        throw ServeError("run \(id) did not finish within \(timeout) s:\n" + log.joined(separator: "\n"))
    }
}

struct ServeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A repository served by a real `git daemon`, a data folder, a secret file and an API token.
final class ServeFixture {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-serve-\(UUID().uuidString)")
    let origin: ScratchRepository
    let daemon: GitDaemon
    let secret = "It's a Secret to Everybody"

    init(workflow: String) throws {
        origin = try ScratchRepository()
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try origin.write(".github/workflows/ci.yml", workflow)
        try origin.write("README.md", "hello\n")
        try origin.git("add", ".")
        try origin.git("commit", "-q", "-m", "first")
        daemon = try GitDaemon(base: origin.url.deletingLastPathComponent().path)
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        try "TOKEN=hunter2-value\n".write(toFile: root.path + "/secrets.env", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    var data: String { root.path + "/data" }
    var secretFile: String { root.path + "/secret" }
    var sha: String { (try? origin.git("rev-parse", "HEAD")) ?? "" }

    /// The arguments of a service for this repository (as `octo/app`).
    func arguments(_ extra: [String] = []) -> [String] {
        [
            "--data", data, "--repo", "octo/app=" + daemon.url(origin.url.lastPathComponent), "--webhook-secret-file", secretFile,
            "--secret-file", root.path + "/secrets.env",
        ] + extra
    }

    func token() throws -> String {
        let made = try runCommand(RunCommandTests.gantry, ["serve", "token", "create", "tests", "--data", data])
        guard made.status == 0 else { throw ServeError(made.stderr) }
        return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A push payload for the origin's HEAD on main, as GitHub sends it (the fields Gantry reads).
    func push(ref: String = "refs/heads/main", deleted: Bool = false) -> String {
        let after = deleted ? String(repeating: "0", count: 40) : sha
        return """
            {"ref":"\(ref)","before":"\(String(repeating: "0", count: 40))","after":"\(after)","deleted":\(deleted),\
            "repository":{"full_name":"octo/app","default_branch":"main"},"pusher":{"name":"mona"},"sender":{"login":"mona"},\
            "head_commit":{"id":"\(after)","message":"first","author":{"name":"Mona Lisa","email":"mona@example.com"}},\
            "commits":[{"id":"\(after)","added":["README.md"],"removed":[],"modified":[]}]}
            """
    }

    /// HMAC-SHA256 as hex, computed by Python's hmac module (not by the code under test).
    static func signature(_ body: Data, secret: String) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-sign-\(UUID().uuidString)")
        try? body.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try? runCommand(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", "-c", "import hmac,hashlib,sys;print(hmac.new(sys.argv[1].encode(),open(sys.argv[2],'rb').read(),hashlib.sha256).hexdigest())",
             secret, url.path])
        return result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}
