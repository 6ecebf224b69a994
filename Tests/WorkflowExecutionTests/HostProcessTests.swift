import Foundation
import Synchronization
import Testing
import WorkflowExecution

/// Processes on the host: output, exit codes, timeouts and GitHub's SIGINT → SIGTERM → SIGKILL sequence.
@Suite struct HostProcessTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ stream: HostProcess.Stream, _ line: String) {
            lines.withLock { $0.append((stream == .stdout ? "out: " : "err: ") + line) }
        }
        var all: [String] { lines.withLock { $0 } }
    }

    static let environment = [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("GREETING", "hello")]

    /// Waits up to two seconds for a process group to be gone (killed processes take a moment to go).
    static func groupGone(_ group: Int32) -> Bool {
        for _ in 0..<40 {
            if !HostProcess.groupIsAlive(group) { return true }
            usleep(50_000)
        }
        return false
    }

    static func sh(_ script: String, timeout: Double? = nil, cwd: String? = nil) -> HostProcess {
        HostProcess(arguments: ["sh", "-c", script], environment: environment, workingDirectory: cwd, timeout: timeout)
    }

    @Test func streamsLinesAndReportsTheExitCode() throws {
        let lines = Lines()
        let result = try Self.sh("echo \"$GREETING\"; echo oops >&2; printf 'no newline'; exit 3").run(onLine: lines.add)
        #expect(result.exitCode == 3)
        #expect(result.signal == nil)
        #expect(!result.succeeded)
        #expect(Set(lines.all) == ["out: hello", "err: oops", "out: no newline"])
    }

    @Test func workingDirectoryAndEnvironment() throws {
        let lines = Lines()
        let result = try Self.sh("pwd; env | grep -c . >/dev/null; echo ${HOME:-no-home}", cwd: "/tmp").run(onLine: lines.add)
        #expect(result.succeeded)
        #expect(lines.all == ["out: /tmp", "out: no-home"])
        #expect(throws: HostProcess.Failure(message: "working directory '/nonexistent' does not exist")) {
            try Self.sh("true", cwd: "/nonexistent").run { _, _ in }
        }
        #expect(throws: HostProcess.Failure(message: "cannot start 'no-such-program-x': No such file or directory")) {
            try HostProcess(arguments: ["no-such-program-x"], environment: Self.environment).run { _, _ in }
        }
    }

    @Test func timeoutInterruptsTheWholeProcessTree() throws {
        let start = Date()
        let result = try Self.sh("sleep 30 & sleep 30 & wait", timeout: 0.3).run { _, _ in }
        #expect(result.timedOut)
        #expect(!result.cancelled)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(Self.groupGone(result.processGroup))
    }

    @Test func interruptLetsAScriptCleanUp() throws {
        let lines = Lines()
        let handle = HostProcess.Handle()
        // Cancel once the trap is in place (the script says so), not after a guessed delay.
        let result = try Self.sh("trap 'echo cleaning up; exit 7' INT; echo ready; while true; do sleep 0.05; done")
            .run(handle: handle) { stream, line in
                lines.add(stream, line)
                if line == "ready" { handle.cancel() }
            }
        #expect(result.cancelled)
        #expect(result.exitCode == 7)
        #expect(lines.all == ["out: ready", "out: cleaning up"])
    }

    @Test func processesIgnoringInterruptAndTerminateAreKilled() throws {
        var process = Self.sh("trap '' INT TERM; sleep 30")
        process.timeout = 0.2
        process.interruptGrace = 0.2
        process.terminateGrace = 0.2
        let start = Date()
        let result = try process.run { _, _ in }
        #expect(result.timedOut)
        #expect(result.signal == SIGKILL)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func backgroundProcessesOutliveTheStepUntilTheJobCleansUp() throws {
        let lines = Lines()
        let start = Date()
        let resources = RunResources()
        var process = Self.sh("sleep 30 & echo started")
        process.resources = resources
        let result = try process.run(onLine: lines.add)
        #expect(result.succeeded)
        #expect(lines.all == ["out: started"])
        #expect(Date().timeIntervalSince(start) < 3)
        #expect(HostProcess.groupIsAlive(result.processGroup))
        #expect(resources.groups == [result.processGroup])
        resources.stopNow(runLabel: "test")
        #expect(Self.groupGone(result.processGroup))
    }

    @Test func stoppingOneRunAtOnceLeavesAnotherRunsProcessesAlone() throws {
        let mine = RunResources(), theirs = RunResources()
        var first = Self.sh("sleep 30 &")
        first.resources = mine
        var second = Self.sh("sleep 30 &")
        second.resources = theirs
        let a = try first.run(onLine: { _, _ in })
        let b = try second.run(onLine: { _, _ in })
        mine.stopNow(runLabel: "mine")
        #expect(Self.groupGone(a.processGroup))
        #expect(HostProcess.groupIsAlive(b.processGroup))
        theirs.stopNow(runLabel: "theirs")
        #expect(Self.groupGone(b.processGroup))
    }
}

@Suite struct ShellTests {
    static func resolve(_ shell: String?, bash: Bool = true, python: Bool = false) throws -> [String] {
        try ShellInvocation.resolve(shell, scriptPath: "/tmp/s") { name in
            name == "bash" ? bash : name == "python" ? python : name == "python3"
        }.arguments
    }

    @Test func githubsShellTable() throws {
        #expect(try Self.resolve(nil) == ["bash", "-e", "/tmp/s"])
        #expect(try Self.resolve(nil, bash: false) == ["sh", "-e", "/tmp/s"])
        #expect(try Self.resolve("bash") == ["bash", "--noprofile", "--norc", "-eo", "pipefail", "/tmp/s"])
        #expect(try Self.resolve("sh") == ["sh", "-e", "/tmp/s"])
        #expect(try Self.resolve("python") == ["python3", "/tmp/s"])
        #expect(try Self.resolve("python", python: true) == ["python", "/tmp/s"])
        #expect(try Self.resolve("pwsh") == ["pwsh", "-command", ". '/tmp/s'"])
        #expect(try Self.resolve("perl -w {0}") == ["perl", "-w", "/tmp/s"])
        #expect(try Self.resolve("bash -c 'source {0}'") == ["bash", "-c", "source /tmp/s"])
    }

    @Test func unusableShells() {
        #expect(throws: ShellInvocation.Failure.self) { try Self.resolve("cmd") }
        #expect(throws: ShellInvocation.Failure.self) { try Self.resolve("perl -w") }
        #expect(throws: ShellInvocation.Failure.self) { try Self.resolve("sh -c 'unterminated {0}") }
    }
}

/// The one cancellation sequence host and container steps share.
@Suite struct CancellationLadderTests {
    @Test func aCancelClimbsFromInterruptToKillWithGitHubsGraces() {
        var ladder = CancellationLadder(start: 100, timeout: nil)
        #expect(ladder.deadline == nil)
        #expect(ladder.climb(now: 101, cancelRequested: false) == nil)
        #expect(ladder.climb(now: 101, cancelRequested: true) == SIGINT)
        #expect(ladder.deadline == 108.5)
        // Asking again does not skip a rung; the grace does.
        #expect(ladder.climb(now: 102, cancelRequested: true) == nil)
        #expect(ladder.climb(now: 108.5, cancelRequested: true) == SIGTERM)
        #expect(ladder.deadline == 111)
        #expect(ladder.climb(now: 111, cancelRequested: false) == SIGKILL)
        #expect(ladder.rung == .killed && ladder.deadline == nil && !ladder.timedOut)
        #expect(ladder.climb(now: 500, cancelRequested: true) == nil)
    }

    @Test func theTimeLimitStartsTheSameLadderAndSaysSo() {
        var ladder = CancellationLadder(start: 0, timeout: 60, interruptGrace: 1, terminateGrace: 1)
        #expect(ladder.deadline == 60)
        #expect(ladder.climb(now: 59.9, cancelRequested: false) == nil)
        #expect(ladder.climb(now: 60, cancelRequested: false) == SIGINT)
        #expect(ladder.timedOut)
        #expect(CancellationLadder.name(SIGINT) == "INT" && CancellationLadder.name(SIGTERM) == "TERM" && CancellationLadder.name(SIGKILL) == "KILL")
    }
}
