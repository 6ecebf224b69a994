import Foundation

/// A real PostgreSQL server from Debian's packages, made for one test suite: `initdb` in a temporary
/// folder, listening on 127.0.0.1 only, trust authentication for the user `gantry`; stopped and
/// removed when the value goes away. As root (CI), the server runs as the `postgres` user.
public final class PostgresServer: @unchecked Sendable {
    public let port: Int
    public let folder: String
    private let binaries: String

    /// The newest `/usr/lib/postgresql/<version>/bin`, when PostgreSQL is installed.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }

    /// Whether tests can start a server (PostgreSQL installed, and a user other than root to run it).
    public static var available: Bool { binaries != nil }

    public init() throws {
        guard let binaries = Self.binaries else { throw TestFailure("PostgreSQL is not installed (apt-get install postgresql)") }
        self.binaries = binaries
        port = freeLoopbackPort()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try? runCommand(URL(fileURLWithPath: "/bin/chown"), ["postgres:postgres", folder]) }
        let made = try asServerUser("initdb", ["-D", folder + "/data", "-U", "gantry", "--auth=trust", "-E", "UTF8", "--no-sync"])
        guard made.status == 0 else { throw TestFailure("initdb failed: \(made.stderr)") }
        try start()
    }

    deinit {
        _ = try? asServerUser("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `postgres://gantry@127.0.0.1:PORT/postgres`
    public var url: String { "postgres://gantry@127.0.0.1:\(port)/postgres" }

    public func start() throws {
        // With system(3), not Process: the server keeps what pg_ctl inherited, and Foundation's Process
        // would wait for it to end.
        let user = getuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : ""
        let command = user + "\(binaries)/pg_ctl -D \(folder)/data -l \(folder)/log -w -t 30 "
            + "-o '-h 127.0.0.1 -p \(port) -k \(folder) -c max_connections=300 -c fsync=off' start >/dev/null 2>&1 </dev/null"
        guard system(command) == 0 else {
            throw TestFailure("pg_ctl start failed: \((try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? "")")
        }
    }

    /// Stops the server at once (`-m immediate`: as if it crashed; clients see their connections drop).
    public func stop() throws {
        let stopped = try asServerUser("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        guard stopped.status == 0 else { throw TestFailure("pg_ctl stop failed: \(stopped.stderr)") }
    }

    /// Runs SQL with psql; its output (unaligned, tuples only).
    public func sql(_ statement: String) throws -> String {
        let result = try runCommand(
            URL(fileURLWithPath: "/usr/bin/psql"), ["-h", "127.0.0.1", "-p", "\(port)", "-U", "gantry", "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", statement])
        guard result.status == 0 else { throw TestFailure("psql: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func asServerUser(_ tool: String, _ arguments: [String]) throws -> CommandResult {
        if getuid() == 0 {
            return try runCommand(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", binaries + "/" + tool] + arguments, timeout: 60)
        }
        return try runCommand(URL(fileURLWithPath: binaries + "/" + tool), arguments, timeout: 60)
    }
}

/// A test's set-up that could not be made.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
