import Foundation
import Testing
import _GantryTestSupport

/// Runs are kept per repository under $GANTRY_STATE_DIR/runs: logs, plan and summary stay, the jobs'
/// workspaces go when a run ends (unless --keep-workspace), old runs are pruned, killed runs' leftovers
/// are removed.
@Suite(.ownThread) struct RunHistoryTests {
    static let workflow = """
        on: push
        jobs:
          j:
            runs-on: ubuntu-latest
            steps:
              - run: echo made > file.txt; echo "done"
        """

    static func directory(_ result: CommandResult) -> String {
        result.stdout.split(separator: "\n").first { $0.hasPrefix("run directory: ") }.map { String($0.dropFirst("run directory: ".count)) } ?? "?"
    }

    @Test func runsAreKeptWithoutTheirWorkspacesListedShownAndRemoved() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        let state = scratch.url.appendingPathComponent("state").path
        let environment = ["GANTRY_STATE_DIR": state]
        let first = try scratch.run(environment: environment)
        let second = try scratch.run(["--keep-workspace"], environment: environment)
        #expect(first.status == 0 && second.status == 0)
        let one = Self.directory(first), two = Self.directory(second)
        #expect(one.hasPrefix(state + "/runs/"))
        #expect(FileManager.default.fileExists(atPath: one + "/log.txt"))
        #expect(FileManager.default.fileExists(atPath: one + "/plan.json"))
        #expect(!FileManager.default.fileExists(atPath: one + "/work"))
        #expect((try? String(contentsOfFile: two + "/work/j/file.txt", encoding: .utf8)) == "made\n")

        func gantry(_ arguments: [String]) throws -> CommandResult {
            try runCommand(RunCommandTests.gantry, arguments, in: scratch.url, environment: environment)
        }
        let list = try gantry(["runs", "ls"])
        let rows = list.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["RUN", "STARTED", "EVENT", "REF", "RESULT", "TIME", "SIZE", "WORKSPACE"])
        // Newest first; the second run kept its workspace.
        #expect(rows.dropFirst().map { [$0[0], $0[3], $0[5], $0.last!] } == [
            [URL(fileURLWithPath: two).lastPathComponent, "push", "success", "kept"],
            [URL(fileURLWithPath: one).lastPathComponent, "push", "success", "-"],
        ])
        let show = try gantry(["runs", "show", "latest"])
        #expect(show.stdout.contains("result:     success\nevent:      push\n"))
        #expect(show.stdout.contains("log:        \(two)/log.txt\n"))
        #expect(show.stdout.contains("\nJOB  RESULT   TIME\nj    success  "))
        let json = try #require(JSONSerialization.jsonObject(with: Data(try gantry(["runs", "ls", "--format", "json"]).stdout.utf8)) as? [[String: Any]])
        #expect(json.map { $0["state"] as? String } == ["success", "success"])
        #expect(json.map { $0["workspace"] as? Bool } == [true, false])

        let pruned = try gantry(["runs", "prune", "--keep", "1"])
        #expect(pruned.stdout.hasPrefix("removed \(URL(fileURLWithPath: one).lastPathComponent)\n1 run removed, "))
        #expect(!FileManager.default.fileExists(atPath: one))
        let missing = try gantry(["runs", "rm", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "gantry: error: no run is named 'nope' (gantry runs ls lists them)\n")
        let all = try gantry(["runs", "rm", "--all"])
        #expect(all.stdout == "removed \(URL(fileURLWithPath: two).lastPathComponent)\n1 run removed\n")
        #expect(try gantry(["runs", "ls"]).stdout.hasPrefix("no runs kept for this repository"))
    }

    @Test func eachRunKeepsTheNewestRunsAndAKilledRunsWorkspaceIsPruned() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        let state = scratch.url.appendingPathComponent("state").path
        let environment = ["GANTRY_STATE_DIR": state, "GANTRY_RUNS_KEEP": "2"]
        let runs = try (1...3).map { _ in Self.directory(try scratch.run(environment: environment)) }
        #expect(!FileManager.default.fileExists(atPath: runs[0]))
        #expect(FileManager.default.fileExists(atPath: runs[1]) && FileManager.default.fileExists(atPath: runs[2]))

        // A run killed with SIGKILL: run.json without an end, its process gone, its workspace left.
        let killed = try Background(scratch.url, ["run", "-W", "w.yml"], environment: environment.merging(["DIR": scratch.url.path]) { $1 }, workflow: """
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: echo started; while [ ! -e "$DIR/stop" ]; do sleep 0.05; done
            """)
        try killed.waitFor("] started")
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: runs[2]).deletingLastPathComponent().path)
            .sorted().last)
        kill(killed.process.processIdentifier, SIGKILL)
        // The step outlives gantry (its own process group): let it end, then gantry is reaped.
        #expect(FileManager.default.createFile(atPath: scratch.url.appendingPathComponent("stop").path, contents: nil))
        killed.process.waitUntilExit()
        let list = try runCommand(RunCommandTests.gantry, ["runs", "ls"], in: scratch.url, environment: environment)
        #expect(list.stdout.split(separator: "\n").dropFirst().first?.contains(" killed ") == true, "\(list.stdout)")
        let pruned = try runCommand(RunCommandTests.gantry, ["runs", "prune"], in: scratch.url, environment: environment)
        #expect(pruned.stdout.hasPrefix("removed the workspaces of killed run \(folder)\nremoved "), "\(pruned.stdout)")
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: runs[2]).deletingLastPathComponent().path + "/\(folder)/work"))
    }

    /// A `gantry run` of another workflow file in the background.
    final class Background {
        let process = Process()
        let output: URL

        init(_ directory: URL, _ arguments: [String], environment: [String: String], workflow: String) throws {
            try workflow.write(to: directory.appendingPathComponent("w.yml"), atomically: true, encoding: .utf8)
            output = directory.appendingPathComponent("background.out")
            #expect(FileManager.default.createFile(atPath: output.path, contents: nil))
            process.executableURL = RunCommandTests.gantry
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = ProcessInfo.processInfo.environment.merging(["GANTRY_STATE_DIR": testStateDirectory].merging(environment) { $1 }) { $1 }
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func waitFor(_ text: String) throws {
            let deadline = Date().addingTimeInterval(20)
            while !((try? String(contentsOf: output, encoding: .utf8)) ?? "").contains(text) {
                guard Date() < deadline else { throw CocoaError(.fileReadUnknown) }
                usleep(20_000)
            }
        }
    }
}
