import Foundation
import Testing
import _GantryTestSupport

/// `gantry eval` as a workflow author runs it.
@Suite(.ownThread) struct EvalCommandTests {
    static let gantry = Fixtures.gantryExecutable()

    static func contextFile(_ json: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-eval-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func evaluatesAgainstAContextFile() throws {
        let file = try Self.contextFile(#"{"github": {"ref": "refs/heads/main", "event": {"commits": [{"id": "a1"}, {"id": "b2"}]}}, "matrix": {"os": "linux"}}"#)
        defer { try? FileManager.default.removeItem(at: file) }
        let bare = try runCommand(Self.gantry, ["eval", "github.ref == 'refs/heads/main' && matrix.os", "--context", file.path])
        #expect(bare.status == 0)
        #expect(bare.stdout == "\"linux\"\n")
        let filtered = try runCommand(Self.gantry, ["eval", "github.event.commits.*.id", "--context", file.path])
        #expect(filtered.stdout == "[\n  \"a1\",\n  \"b2\"\n]\n")
        let template = try runCommand(Self.gantry, ["eval", "build-${{ matrix.os }}-${{ github.event.commits[1].id }}", "--context", file.path, "--compact"])
        #expect(template.stdout == "\"build-linux-b2\"\n")
    }

    @Test func missingStandardContextsAreNull() throws {
        let result = try runCommand(Self.gantry, ["eval", "toJSON(github.ref)"])
        #expect(result.status == 0)
        #expect(result.stdout == "\"null\"\n")
    }

    @Test func statusOptionAnswersStatusFunctions() throws {
        let result = try runCommand(Self.gantry, ["eval", "failure() && 'cleanup'", "--status", "failure"])
        #expect(result.stdout == "\"cleanup\"\n")
    }

    @Test(
        "errors print GitHub's message with the position and exit 1",
        arguments: [
            ("1 < )", "gantry: error: parsing error: Unexpected symbol: ')'. Located at position 5 within expression: 1 < )\n"),
            ("foo.bar", "gantry: error: parsing error: Unrecognized named-value: 'foo'. Located at position 1 within expression: foo.bar\n"),
            ("format('{0')", "gantry: error: evaluation error: The following format string is invalid: {0. Located within expression: format('{0')\n"),
            ("a ${{ 'x }}", "gantry: error: parsing error: the expression is not closed: an unescaped '${{' was found, but the closing '}}' was not. Located at position 3 within expression: a ${{ 'x }}\n"),
            ("'a' + 'b'", "gantry: error: lexing error: Unexpected symbol: '+'. Located at position 5 within expression: 'a' + 'b'\n"),
        ])
    func errors(expression: String, stderr: String) throws {
        let result = try runCommand(Self.gantry, ["eval", expression])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == stderr)
    }

    @Test func badContextFiles() throws {
        let notObject = try Self.contextFile("[1, 2]")
        let broken = try Self.contextFile("{\"a\": ")
        defer {
            try? FileManager.default.removeItem(at: notObject)
            try? FileManager.default.removeItem(at: broken)
        }
        let a = try runCommand(Self.gantry, ["eval", "1", "--context", notObject.path])
        #expect(a.status == 1)
        #expect(a.stderr == "gantry: error: \(notObject.path): the context file must hold a JSON object of named contexts\n")
        let b = try runCommand(Self.gantry, ["eval", "1", "--context", broken.path])
        #expect(b.status == 1)
        #expect(b.stderr == "gantry: error: \(broken.path): invalid JSON at byte 7: unexpected end of JSON input\n")
        let usage = try runCommand(Self.gantry, ["eval"])
        #expect(usage.status == 64)
    }
}
