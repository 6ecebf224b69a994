import Testing
import WorkflowModel
@testable import WorkflowParsing

@Suite struct YAMLLoaderTests {
    @Test(
        "plain scalars resolve with the YAML 1.2 core schema",
        arguments: [
            ("~", "null"), ("null", "null"), ("", "null"), ("NULL", "null"),
            ("true", "bool"), ("False", "bool"), ("TRUE", "bool"),
            ("yes", "string"), ("no", "string"), ("on", "string"), ("off", "string"), ("y", "string"),
            ("42", "number"), ("-7", "number"), ("+3", "number"), ("3.10", "number"), (".5", "number"), ("1e3", "number"),
            ("0x1F", "number"), ("0o17", "number"), (".inf", "number"), ("-.Inf", "number"), (".NaN", "number"),
            ("0x", "string"), ("0o8", "string"), ("1.2.3", "string"), ("1e", "string"), ("v1", "string"), ("1_000", "string"),
            ("0b101", "string"), ("12:30", "string"),
        ])
    func scalarResolution(text: String, kind: String) {
        let resolved: String
        switch resolvePlainScalar(text) {
        case .null: resolved = "null"
        case .bool: resolved = "bool"
        case .number: resolved = "number"
        case .string: resolved = "string"
        }
        #expect(resolved == kind)
    }

    @Test func columnsCountUnicodeScalars() throws {
        let root = try #require(try YAMLLoader.load(Array("a: \"🚀é\"\nb: [x, 名前, z]\n".utf8)))
        guard case .mapping(let pairs) = root.kind, case .sequence(let items) = pairs[1].value.kind else {
            Issue.record("expected a mapping with a sequence")
            return
        }
        #expect(items.map(\.column) == [5, 8, 12])
        #expect(items.map(\.line) == [2, 2, 2])
    }

    @Test func quotedScalarsStayStrings() throws {
        let result = WorkflowParser.parse("on: push\nenv:\n  A: 'true'\n  B: \"1\"\n  C: true\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: echo\n", file: "q.yml")
        let env = try #require(result.workflow?.env?.entries)
        #expect(env.map(\.value.kind) == [.string("true"), .string("1"), .bool(true)])
    }

    @Test func syntaxErrorsCarryTheProblemPosition() {
        #expect(throws: YAMLLoader.Failure.self) { try YAMLLoader.load(Array("a: [1, 2\n".utf8)) }
        do {
            _ = try YAMLLoader.load(Array("key: value: other\n".utf8))
            Issue.record("expected a failure")
        } catch {
            #expect(error.message == "could not parse as YAML: mapping values are not allowed in this context")
            #expect(error.line == 1)
            #expect(error.column == 11)
        }
    }

    @Test func aliasBombsAreRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...8 {
            text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        do {
            _ = try YAMLLoader.load(Array(text.utf8))
            Issue.record("expected the expansion limit to stop loading")
        } catch {
            #expect(error.message == "aliases expand to more than 1000000 nodes")
        }
    }

    @Test func recursiveAliasIsAnError() {
        do {
            _ = try YAMLLoader.load(Array("a: &x\n  b: *x\n".utf8))
            Issue.record("expected a failure")
        } catch {
            #expect(error.message.hasPrefix("recursive alias '*x'"))
            #expect((error.line, error.column) == (2, 6))
        }
    }

    @Test func emptyStreamHasNoDocument() throws {
        #expect(try YAMLLoader.load([]) == nil)
        #expect(try YAMLLoader.load(Array("# only a comment\n".utf8)) == nil)
    }
}
