import Foundation
import Testing
import _GantryTestSupport

/// `gantry validate` run as a user runs it: the built executable, its stdout, stderr and exit status.
@Suite(.ownThread) struct ValidateCommandTests {
    static let gantry = Fixtures.gantryExecutable()
    static let repo = Fixtures.directory().appendingPathComponent("repo")

    @Test func defaultPathIsGithubWorkflowsOfTheRepository() throws {
        let result = try runCommand(Self.gantry, ["validate"], in: Self.repo)
        #expect(result.status == 1)
        #expect(result.stdout == """
            .github/workflows/broken.yaml:4:12: error: job 'deploy' needs job 'biuld', which does not exist in this workflow [job-needs]

            """)
        #expect(result.stderr == "2 workflow files checked: 1 error in 1 file\n")
    }

    @Test func directoryOptionResolvesPathsAgainstTheRepository() throws {
        let result = try runCommand(Self.gantry, ["validate", "-C", Self.repo.path, ".github/workflows/ci.yml"])
        #expect(result.status == 0)
        #expect(result.stdout == "")
        #expect(result.stderr == "1 workflow file checked: no problems\n")
    }

    @Test func workflowsOptionNamesAFile() throws {
        let result = try runCommand(Self.gantry, ["validate", "-W", ".github/workflows/broken.yaml", "--format", "json"], in: Self.repo)
        #expect(result.status == 1)
        #expect(result.stdout == """
            [
              {"file": ".github/workflows/broken.yaml", "line": 4, "column": 12, "severity": "error", "message": "job 'deploy' needs job 'biuld', which does not exist in this workflow", "rule": "job-needs"}
            ]

            """)
        #expect(result.stderr == "")
    }

    @Test func cleanJSONIsAnEmptyArray() throws {
        let result = try runCommand(Self.gantry, ["validate", "--format=json", ".github/workflows/ci.yml"], in: Self.repo)
        #expect(result.status == 0)
        #expect(result.stdout == "[]\n")
    }

    @Test func missingPathIsReportedAndFails() throws {
        let result = try runCommand(Self.gantry, ["validate", "nope.yml", ".github/workflows/ci.yml"], in: Self.repo)
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == """
            gantry: error: cannot read 'nope.yml': No such file or directory
            1 workflow file checked: 0 errors in 0 files

            """)
    }

    @Test func noWorkflowDirectoryIsReported() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try runCommand(Self.gantry, ["validate"], in: empty)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("gantry: error: cannot read '.github/workflows': No such file or directory\n"))
    }

    @Test(
        "bad usage exits 64 with one clear line",
        arguments: [
            (["validate", "--format", "xml"], "The value 'xml' is invalid for '--format <format>'"),
            (["validate", "--frobnicate"], "Unknown option '--frobnicate'"),
            (["validate", "-C", "/definitely/not/here"], "'/definitely/not/here' given with -C is not a directory"),
            (["frobnicate"], "Unexpected argument 'frobnicate'"),
        ])
    func badUsage(arguments: [String], message: String) throws {
        let result = try runCommand(Self.gantry, arguments, in: Self.repo)
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: \(message)"))
        #expect(result.stdout == "")
    }

    @Test func versionAndHelp() throws {
        let version = try runCommand(Self.gantry, ["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "0.1.0\n")
        let help = try runCommand(Self.gantry, ["validate", "--help"])
        #expect(help.status == 0)
        let outcome = GoldenFile.check(help.stdout, against: Fixtures.directory().appendingPathComponent("validate-help.txt").path)
        #expect(outcome == .match, "\(outcome.failureMessage ?? "")")
    }
}

/// Many files are parsed in parallel; the output must equal the serial, per-file golden results.
@Suite(.ownThread) struct ParallelValidateTests {
    static let errDirectory = Fixtures.packageRoot().appendingPathComponent("Tests/WorkflowParsingTests/Fixtures/err")

    @Test func parallelOutputEqualsTheGoldenFilesInOrder() throws {
        let names = Fixtures.files(in: Self.errDirectory, extensions: ["yml", "yaml"])
        #expect(names.count >= 16, "enough files to take the parallel path")
        let expected = try names.map { name in
            try String(
                contentsOf: Self.errDirectory.appendingPathComponent((name as NSString).deletingPathExtension + ".out"),
                encoding: .utf8)
        }.joined()
        let result = try runCommand(Fixtures.gantryExecutable(), ["validate"] + names, in: Self.errDirectory)
        #expect(result.status == 1)
        #expect(result.stdout == expected)
    }

    @Test func okFixturesAreCleanThroughTheCommand() throws {
        let ok = Fixtures.packageRoot().appendingPathComponent("Tests/WorkflowParsingTests/Fixtures/ok")
        let count = Fixtures.files(in: ok, extensions: ["yml", "yaml"]).count
        // Advisories (old action versions and runner labels in these real workflows) are left out:
        // the fixtures are valid, which is what this checks.
        let result = try runCommand(Fixtures.gantryExecutable(), ["validate", "--no-warnings", ok.path])
        #expect(result.status == 0)
        #expect(result.stdout == "")
        #expect(result.stderr == "\(count) workflow files checked: no problems\n")
    }
}
