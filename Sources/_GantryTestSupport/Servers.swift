import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// True once something accepts connections on 127.0.0.1:`port` (tried for at most `timeout` seconds).
public func waitForLoopbackPort(_ port: Int, timeout: Double = 20) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if connected == 0 { return true }
        usleep(20_000)
    }
    return false
}

/// A real `git daemon` on 127.0.0.1 serving every repository below `base` read-only
/// (`git://127.0.0.1:PORT/NAME`), stopped when the value goes away.
public final class GitDaemon {
    public let port: Int
    private let process: Process

    public init(base: String) throws {
        port = freeLoopbackPort()
        process = Process()
        // git-daemon itself, not `git daemon`: the `git` wrapper does not pass SIGTERM on.
        let execPath = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git", "--exec-path"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.executableURL = URL(fileURLWithPath: execPath + "/git-daemon")
        process.arguments = [
            "--reuseaddr", "--export-all", "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(base)", base,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForLoopbackPort(port) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "git daemon did not start on port \(port)"])
        }
    }

    /// The URL of the repository at `base/name`.
    public func url(_ name: String) -> String { "git://127.0.0.1:\(port)/\(name)" }

    deinit {
        // SIGKILL: a test process may pass SIGTERM on ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A forge's REST API stand-in on 127.0.0.1 (no forge is reachable here): Python's `http.server`
/// answering every POST with 201 (the first `failures` with 500) and recording each request, with its
/// path, `Authorization` and `X-GitHub-Api-Version` headers, JSON body and answer, as a JSON line.
public final class RecordingServer {
    public let port: Int
    private let process: Process
    private let file: URL

    static let script = #"""
        import http.server, json, sys
        log, failures = open(sys.argv[1], "a"), [int(sys.argv[2])]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                status = 500 if failures[0] > 0 else 201
                failures[0] -= 1
                log.write(json.dumps({"path": self.path, "authorization": self.headers.get("Authorization"),
                    "version": self.headers.get("X-GitHub-Api-Version"), "body": json.loads(body), "status": status}) + "\n")
                log.flush()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[3])), Handler)
        server.serve_forever()
        """#

    public init(failures: Int = 0) throws {
        port = freeLoopbackPort()
        file = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-recorded-\(UUID().uuidString).jsonl")
        FileManager.default.createFile(atPath: file.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, file.path, String(failures), String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitForLoopbackPort(port) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the recording server did not start on port \(port)"])
        }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: file)
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// The requests so far, oldest first.
    public var requests: [[String: Any]] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
