public import Foundation
import Synchronization

/// Finds test fixtures and the package's build products from a test file's `#filePath`.
public enum Fixtures {
    /// `Tests/<Target>/Fixtures` next to the calling test file.
    public static func directory(for testFile: String = #filePath) -> URL {
        URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// The package root (the folder holding `Package.swift`).
    public static func packageRoot(for testFile: String = #filePath) -> URL {
        var url = URL(fileURLWithPath: testFile).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        return url
    }

    /// Sorted names of the files in `directory` with one of the given extensions.
    public static func files(in directory: URL, extensions: [String]) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in extensions.contains { name.hasSuffix("." + $0) } }.sorted()
    }

    /// The built `gantry` executable: next to the running test bundle, else under `.build/debug`.
    public static func gantryExecutable(for testFile: String = #filePath) -> URL {
        var candidates: [URL] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("gantry"))
            dir.deleteLastPathComponent()
        }
        candidates.append(packageRoot(for: testFile).appendingPathComponent(".build/debug/gantry"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }
}

/// The result of running a command to completion.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// The state folder (`$GANTRY_STATE_DIR`) of the commands tests run when a test gives none: one per
/// test process, removed when it exits, so run histories, counters and queues of test runs do not pile
/// up in the home folder.
public let testStateDirectory: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-test-state-\(ProcessInfo.processInfo.processIdentifier)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: testStateDirectory) }
    return path
}()

/// Runs an executable with arguments in a directory and collects its output. One still running after
/// `timeout` seconds is killed (its result says so), so a hang fails its test instead of stopping the
/// whole suite.
public func runCommand(
    _ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
    timeout: Double = 300
) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var base = ProcessInfo.processInfo.environment
    if base["GANTRY_STATE_DIR"] == nil { base["GANTRY_STATE_DIR"] = testStateDirectory }
    process.environment = base.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = directory }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let timedOut = Mutex(false)
    let pid = process.processIdentifier
    let killer = DispatchWorkItem {
        timedOut.withLock { $0 = true }
        kill(pid, SIGKILL)
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer.cancel()
    var stderr = String(decoding: errData, as: UTF8.self)
    if timedOut.withLock({ $0 }) { stderr += "\n[killed by the test after \(Int(timeout)) s: \(([executable.path] + arguments).joined(separator: " "))]\n" }
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr)
}
