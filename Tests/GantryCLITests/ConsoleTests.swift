import Foundation
import Testing
@testable import GantryCLI

/// A run's logs on disk, as `gantry run` and every `gantry serve` node write them.
@Suite struct ConsoleTests {
    /// On a cluster one run's logs are written by several processes at once, each through its own
    /// `Console`: the node that accepted the run (which starts the logs) and those that run its jobs or
    /// note a lost one (which continue them). Every line lands after the ones before it, whoever wrote
    /// them; the accepting node's descriptor once wrote at its own offset, over the others' lines
    /// (ServeClusterTests then read a run log that was no longer UTF-8).
    @Test func writersThatStartAndContinueOneRunsLogsAppendEveryLine() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-console-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "an earlier run's log\n".write(toFile: root + "/log.txt", atomically: true, encoding: .utf8)

        let accepting = Console(root: root, echo: false, append: false)
        accepting.line("one", "first")
        let joining = Console(root: root, echo: false, append: true)
        joining.line("one", "second: é → ü")
        accepting.line("one", "third")
        joining.line("two", "fourth")

        #expect(try String(contentsOfFile: root + "/log.txt", encoding: .utf8)
            == "[one] first\n[one] second: é → ü\n[one] third\n[two] fourth\n")
        #expect(try String(contentsOfFile: root + "/logs/one.log", encoding: .utf8) == "first\nsecond: é → ü\nthird\n")
        #expect(try String(contentsOfFile: root + "/logs/two.log", encoding: .utf8) == "fourth\n")
    }
}
