import ArgumentParser
import Foundation
import Testing
@testable import GantryCLI

/// `FastCommandLine` fills the same command values ArgumentParser does, or leaves the line to it.
@Suite struct FastCommandLineTests {
    /// What ArgumentParser makes of a line, as the request its command runs.
    static func parsedByArgumentParser(_ line: [String]) throws -> FastCommandLine.Parsed? {
        switch try GantryCommand.parseAsRoot(line) {
        case let command as GantryCommand.Validate: return .validate(command.request)
        case let command as GantryCommand.List: return .list(command.request)
        case let command as GantryCommand.Graph: return .graph(command.request)
        default: return nil
        }
    }

    static let directory = FileManager.default.temporaryDirectory.path

    /// Lines both readers take, with the same result.
    static let plainLines: [[String]] = [
        ["validate"],
        ["validate", "ci.yml", "other/"],
        ["validate", "-C", directory, "-W", "a.yml", "--workflows", "b.yml", "--workflows=c.yml"],
        ["validate", "--no-warnings", "--format", "sarif", "x.yml"],
        ["validate", "--format=github", "--directory=\(directory)"],
        ["validate", "x.yml", "--format", "json", "y.yml"],
        ["list"],
        ["list", "-C", directory, "--format", "json"],
        ["list", "-W", "flow.yml", "--format=text"],
        ["graph"],
        ["graph", "pull_request", "--format", "dot"],
        ["graph", "-C", directory, "workflow_dispatch", "--input", "a=b", "--input=c=d", "-j", "build", "--job", "test"],
        ["graph", "--matrix", "os=linux", "-P", "ubuntu-latest=docker://debian", "--platform", "x=host", "--var", "A=1", "-e", "payload.json"],
        ["graph", "--eventpath=p.json", "--format", "mermaid", "push"],
    ]

    @Test("plain lines give what ArgumentParser gives", arguments: plainLines)
    func sameAsArgumentParser(_ line: [String]) throws {
        let fast = try #require(FastCommandLine.parse(line), "the fast reader left \(line) to ArgumentParser")
        #expect(fast == (try Self.parsedByArgumentParser(line)))
    }

    /// Lines left to ArgumentParser: help, completion, unknown options and values, repeats, what
    /// `validate()` refuses, other commands.
    static let otherLines: [[String]] = [
        [], ["--help"], ["-h"], ["help", "validate"], ["validate", "--help"], ["validate", "-h"],
        ["--generate-completion-script", "bash"], ["--version", "x"], ["validate", "--version"],
        ["validate", "--format", "xml"], ["validate", "--format"], ["validate", "--bogus"],
        ["validate", "--format", "json", "--format", "text"], ["validate", "--no-warnings=yes"],
        ["validate", "--no-warnings", "--no-warnings"],
        ["validate", "-C", "/nonexistent-gantry-dir"], ["validate", "-C"], ["validate", "-C", "-W"],
        ["validate", "--", "-x.yml"], ["validate", "-Wflow.yml"],
        ["list", "extra"], ["list", "--format", "dot"], ["list", "--no-warnings"],
        ["graph", "push", "pull_request"], ["graph", "--input", "novalue"], ["graph", "-P", "x=vm"],
        ["graph", "-e", "a.json", "-e", "b.json"], ["graph", "--format", "sarif"],
        ["plan"], ["run"], ["serve", "start"], ["eval", "1"],
    ]

    @Test("other lines are left to ArgumentParser", arguments: otherLines)
    func leftToArgumentParser(_ line: [String]) {
        #expect(FastCommandLine.parse(line) == nil)
    }

    @Test func versionAlone() {
        guard case .version? = FastCommandLine.parse(["--version"]) else {
            Issue.record("--version alone is read without ArgumentParser")
            return
        }
    }

    /// Every option the fast reader takes is one ArgumentParser declares for that command.
    @Test func everyOptionItTakesIsDeclared() {
        let usage = [
            "validate": GantryCommand.Validate.helpMessage(columns: 1000),
            "list": GantryCommand.List.helpMessage(columns: 1000),
            "graph": GantryCommand.Graph.helpMessage(columns: 1000),
        ]
        let taken = [
            "validate": ["-W", "--workflows", "-C", "--directory", "--no-warnings", "--format"],
            "list": ["-W", "--workflows", "-C", "--directory", "--format"],
            "graph": ["-W", "--workflows", "-C", "--directory", "--format", "-e", "--eventpath", "--input", "-j", "--job",
                      "--matrix", "-P", "--platform", "--var"],
        ]
        for (command, names) in taken {
            for name in names {
                #expect(usage[command]!.contains(name + " ") || usage[command]!.contains(name + ","), "\(command) \(name)")
            }
        }
    }
}
