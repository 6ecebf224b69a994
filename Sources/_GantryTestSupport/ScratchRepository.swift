public import Foundation

/// A git repository in a temporary folder, made with the `git` command and removed when released.
public final class ScratchRepository {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main")
        try git("config", "user.name", "Mona Lisa")
        try git("config", "user.email", "mona@example.com")
        try git("config", "commit.gpgsign", "false")
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public var path: String { url.path }

    /// Runs git in the repository; its trimmed standard output, or an error holding its standard error.
    @discardableResult
    public func git(_ args: String...) throws -> String {
        try git(args)
    }

    @discardableResult
    public func git(_ args: [String]) throws -> String {
        let result = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["git"] + args, in: url)
        guard result.status == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a file (making its folders); `executable` sets mode 755.
    public func write(_ path: String, _ text: String, executable: Bool = false) throws {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
    }

    public func read(_ path: String) throws -> String {
        try String(contentsOf: url.appendingPathComponent(path), encoding: .utf8)
    }
}
