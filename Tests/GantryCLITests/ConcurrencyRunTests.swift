import Foundation
import Testing
import _GantryTestSupport

/// Concurrency groups in `gantry run`: within one run and across several `gantry run` processes sharing
/// a state directory. The runs are sequenced by files the steps wait for, not by sleeps.
@Suite(.ownThread) struct ConcurrencyRunTests {
    /// A `gantry run` in the background, its standard output collected into a file.
    final class Background {
        let process = Process()
        let outputURL: URL

        init(in directory: URL, name: String, arguments: [String], environment: [String: String]) throws {
            outputURL = directory.appendingPathComponent("\(name).out")
            #expect(FileManager.default.createFile(atPath: outputURL.path, contents: nil))
            process.executableURL = RunCommandTests.gantry
            process.arguments = ["run", "-W", "w.yml"] + arguments
            process.currentDirectoryURL = directory
            process.environment = ProcessInfo.processInfo.environment.merging(["GANTRY_STATE_DIR": testStateDirectory].merging(environment) { $1 }) { $1 }
            process.standardOutput = try FileHandle(forWritingTo: outputURL)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

        /// Waits (at most 20 s) until the output holds `text`.
        func waitFor(_ text: String) throws {
            let deadline = Date().addingTimeInterval(20)
            while !output.contains(text) {
                guard Date() < deadline, process.isRunning || output.contains(text) else {
                    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "never saw \(text.debugDescription) in:\n\(output)"])
                }
                usleep(20_000)
            }
        }

        /// Waits for the end; the exit status and the console lines of jobs and of gantry.
        func finish() -> (Int32, [String]) {
            process.waitUntilExit()
            return (process.terminationStatus, output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") })
        }
    }

    static let workflow = """
        on: push
        concurrency:
          group: Deploy-${{ github.event_name }}
          cancel-in-progress: ${{ vars.CANCEL == 'yes' }}
        jobs:
          j:
            runs-on: ubuntu-latest
            steps:
              - run: echo "start $RUN"; while [ ! -e "$DIR/release-$RUN" ]; do sleep 0.02; done; echo "end $RUN"
              - if: cancelled()
                run: echo "cleanup $RUN"
        """

    @Test func aRunWaitsForTheRunningOneAndANewerPendingRunReplacesTheOlder() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        let environment = ["GANTRY_STATE_DIR": scratch.url.appendingPathComponent("state").path, "DIR": scratch.url.path]
        func start(_ run: String, _ extra: [String] = []) throws -> Background {
            try Background(in: scratch.url, name: run, arguments: extra, environment: environment.merging(["RUN": run]) { $1 })
        }
        let a = try start("A")
        try a.waitFor("start A")
        let b = try start("B")
        try b.waitFor("waits")
        // The group's name is compared ignoring case: deploy-push is the same group.
        let c = try start("C", ["--var", "IGNORED=1"])
        try c.waitFor("waits")
        try b.waitFor("took this run's place")
        #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("release-A").path, contents: nil))
        #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("release-C").path, contents: nil))
        let (aStatus, aLines) = a.finish()
        let (bStatus, bLines) = b.finish()
        let (cStatus, cLines) = c.finish()
        #expect(aStatus == 0)
        #expect(aLines.filter { !$0.contains("▶") && !$0.contains("✓") } == ["[j] start A", "[j] end A", "[j] skipped: Run echo \"cleanup $RUN\""])
        #expect(bStatus == 1)
        #expect(bLines == [
            "[gantry] w.yml waits: concurrency group 'Deploy-push' has a run in progress",
            "[j] cancelled: a newer run of concurrency group 'Deploy-push' took this run's place",
        ])
        #expect(cStatus == 0)
        #expect(cLines.filter { !$0.contains("▶") && !$0.contains("✓") } == [
            "[gantry] w.yml waits: concurrency group 'Deploy-push' has a run in progress",
            "[j] start C", "[j] end C", "[j] skipped: Run echo \"cleanup $RUN\"",
        ])
        // A never overlapped C: C started after A ended.
        #expect(try String(contentsOf: scratch.url.appendingPathComponent("state/concurrency").appendingPathComponent(Self.onlyFile(scratch.url.appendingPathComponent("state/concurrency"))), encoding: .utf8) == "")
    }

    /// `workflow` with a step that says when SIGINT reaches it. A bash waiting for `sleep` that gets
    /// SIGINT just as `sleep` exits by itself carries on (bash lets the child decide), so the step was
    /// sometimes killed only by the SIGTERM 7.5 s later (CI saw "killed by signal 15"); a trap on INT
    /// runs as soon as the child ends, whichever way.
    static let interruptible = workflow.replacingOccurrences(
        of: #"- run: echo "start $RUN";"#, with: #"- run: trap 'echo "interrupted $RUN"; exit 130' INT; echo "start $RUN";"#)

    @Test func cancelInProgressCancelsTheRunningRunWhoseAlwaysStepsStillRun() throws {
        #expect(Self.interruptible != Self.workflow)
        let scratch = try RunCommandTests.Scratch(Self.interruptible)
        let environment = ["GANTRY_STATE_DIR": scratch.url.appendingPathComponent("state").path, "DIR": scratch.url.path]
        let a = try Background(in: scratch.url, name: "A", arguments: [], environment: environment.merging(["RUN": "A"]) { $1 })
        try a.waitFor("start A")
        let b = try Background(in: scratch.url, name: "B", arguments: ["--var", "CANCEL=yes"], environment: environment.merging(["RUN": "B"]) { $1 })
        let (aStatus, aLines) = a.finish()
        #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("release-B").path, contents: nil))
        let (bStatus, bLines) = b.finish()
        #expect(aStatus == 1)
        #expect(aLines.filter { !$0.contains("▶") && !$0.contains("✓") && !$0.contains("⊘") } == [
            "[j] start A",
            "[gantry] cancelling w.yml: a newer run of concurrency group 'Deploy-push' has cancel-in-progress",
            "[j] interrupted A",
            "[j] error: process completed with exit code 130",
            "[j] cleanup A",
        ])
        #expect(bStatus == 0)
        #expect(bLines.filter { !$0.contains("▶") && !$0.contains("✓") }.suffix(3) == ["[j] start B", "[j] end B", "[j] skipped: Run echo \"cleanup $RUN\""])
    }

    @Test func jobGroupsInOneRunSingleAndMaxQueues() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              single:
                strategy:
                  matrix:
                    n: [1, 2, 3]
                concurrency: one-at-a-time
                runs-on: ubuntu-latest
                steps:
                  - run: echo "start ${{ matrix.n }}"; while [ ! -e "$DIR/go-${{ matrix.n }}" ]; do sleep 0.02; done; echo "end ${{ matrix.n }}"
              queued:
                needs: single
                if: always()
                strategy:
                  matrix:
                    n: [1, 2, 3]
                concurrency:
                  group: queue-${{ github.workflow }}
                  queue: max
                runs-on: ubuntu-latest
                steps:
                  - run: echo "q-start ${{ matrix.n }}"; sleep 0.1; echo "q-end ${{ matrix.n }}"
            """)
        let environment = ["GANTRY_STATE_DIR": scratch.url.appendingPathComponent("state").path, "DIR": scratch.url.path]
        let run = try Background(in: scratch.url, name: "run", arguments: ["--jobs", "3"], environment: environment)
        // All three rows start at once: one runs, one is pending, the third replaces the pending one.
        try run.waitFor("took this job's place")
        // The running row has started its step before anything is released.
        try run.waitFor("] start ")
        for n in ["1", "2", "3"] {
            #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("go-\(n)").path, contents: nil))
        }
        let (status, lines) = run.finish()
        #expect(status == 1)
        let single = lines.filter { $0.hasPrefix("[single") && ($0.contains("start") || $0.contains("end") || $0.contains("cancelled")) && !$0.contains("▶") && !$0.contains("✓") }
        #expect(single.count == 5, "\(single)")
        #expect(single.filter { $0.contains("cancelled: a newer job of concurrency group 'one-at-a-time' took this job's place") }.count == 1)
        // queue: max: every row ran, one after the other.
        let queued = lines.filter { $0.hasPrefix("[queued") && !$0.contains("▶") && !$0.contains("✓") && ($0.hasSuffix("q-start 1") || $0.hasSuffix("q-start 2") || $0.hasSuffix("q-start 3") || $0.contains("q-end")) }
        #expect(queued.count == 6)
        for pair in stride(from: 0, to: queued.count, by: 2) {
            let n = queued[pair].suffix(1)
            #expect(queued[pair].hasSuffix("q-start \(n)") && queued[pair + 1].hasSuffix("q-end \(n)"), "\(queued)")
        }
        #expect(!lines.contains { $0.hasPrefix("[queued") && $0.contains("cancelled") })
    }

    @Test func ctrlCWhileWaitingSaysSoAndLeavesTheGroup() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        let environment = ["GANTRY_STATE_DIR": scratch.url.appendingPathComponent("state").path, "DIR": scratch.url.path]
        let a = try Background(in: scratch.url, name: "A", arguments: [], environment: environment.merging(["RUN": "A"]) { $1 })
        try a.waitFor("start A")
        let b = try Background(in: scratch.url, name: "B", arguments: [], environment: environment.merging(["RUN": "B"]) { $1 })
        try b.waitFor("waits")
        kill(b.process.processIdentifier, SIGINT)
        let (bStatus, bLines) = b.finish()
        #expect(bStatus == 1)
        #expect(bLines.last == "[j] cancelled (Ctrl-C) while waiting for concurrency group 'Deploy-push'")
        // B left the queue: a third run is the one pending now, and runs once A is done.
        let c = try Background(in: scratch.url, name: "C", arguments: [], environment: environment.merging(["RUN": "C"]) { $1 })
        try c.waitFor("waits")
        #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("release-A").path, contents: nil))
        #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("release-C").path, contents: nil))
        #expect(a.finish().0 == 0)
        #expect(c.finish().0 == 0)
    }

    @Test func aDeadlockOrAnUnusableStateDirectoryEndsTheJobWithOneLine() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            concurrency: g
            jobs:
              a:
                runs-on: ubuntu-latest
                concurrency: G
                steps:
                  - run: echo never
            """)
        let state = scratch.url.appendingPathComponent("state")
        let deadlock = try scratch.run(environment: ["GANTRY_STATE_DIR": state.path])
        #expect(deadlock.status == 1)
        #expect(deadlock.stdout.hasPrefix("[a] cancelled: a deadlock for concurrency group 'G' was detected between the top level workflow and 'a'\n"))
        // A file where the state folder should be.
        let file = scratch.url.appendingPathComponent("not-a-folder")
        #expect(FileManager.default.createFile(atPath: file.path, contents: Data()))
        let unusable = try scratch.run(environment: ["GANTRY_STATE_DIR": file.path])
        #expect(unusable.status == 1)
        #expect(unusable.stdout.hasPrefix("[a] error: concurrency group 'g' cannot be used: cannot open \(file.path)/concurrency/"))
        #expect(unusable.stdout.contains(": Not a directory (GANTRY_STATE_DIR names the folder)\n"))
    }

    @Test func aJobWaitingForItsGroupLeavesItsSlotToOthers() throws {
        // --jobs 2: a and b share a group (which one gets it first is arbitrary, as on GitHub); c has
        // none. Whoever holds the group ends only once c has run. Were the waiting job holding a slot, c
        // would never start and the run would hang.
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                concurrency: shared
                steps:
                  - run: echo a-start; while [ ! -e "$DIR/c-ran" ]; do sleep 0.02; done; echo a-end
              b:
                runs-on: ubuntu-latest
                concurrency: shared
                steps:
                  - run: echo b-start; while [ ! -e "$DIR/c-ran" ]; do sleep 0.02; done; echo b-end
              c:
                runs-on: ubuntu-latest
                steps:
                  - run: touch "$DIR/c-ran"; echo c-ran
            """)
        let environment = ["GANTRY_STATE_DIR": scratch.url.appendingPathComponent("state").path, "DIR": scratch.url.path]
        let run = try Background(in: scratch.url, name: "run", arguments: ["--jobs", "2"], environment: environment)
        try run.waitFor("run succeeded")
        let (status, lines) = run.finish()
        #expect(status == 0)
        let events = lines.filter { !$0.contains("▶") && !$0.contains("✓") && ($0.hasSuffix("-start") || $0.hasSuffix("-end") || $0 == "[c] c-ran") }
        let first = events.first { $0.hasSuffix("-start") }.map { String($0.dropLast("-start".count).suffix(1)) } ?? "?"
        let second = first == "a" ? "b" : "a"
        // The group's two holders never overlap. That the run ended at all shows c ran while the first
        // held the group (its step waits for c's file); console order across jobs is not causal.
        #expect(events.filter { $0 != "[c] c-ran" } == ["[\(first)] \(first)-start", "[\(first)] \(first)-end", "[\(second)] \(second)-start", "[\(second)] \(second)-end"])
        #expect(events.contains("[c] c-ran"))
        #expect(lines.contains("[\(second)] waiting: concurrency group 'shared' has a job in progress"))
    }

    static func onlyFile(_ directory: URL) throws -> String {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).first ?? "?"
    }
}
