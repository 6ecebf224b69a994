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

    /// Explicit tags as GitHub's YamlObjectReader reads them (actions/runner, YamlObjectReader.cs
    /// `AllowLiteral`): typed core tags need a plain value of their type; `!!str` and every other tag are
    /// refused; `tag:yaml.org,2002:string` is a string.
    @Test(
        "explicit YAML tags",
        arguments: [
            ("!!bool true", nil), ("!!bool FALSE", nil), ("!!int 42", nil), ("!!int -7", nil), ("!!int 0x1F", nil), ("!!int 0o17", nil),
            ("!!float 1.5", nil), ("!!float 1", nil), ("!!float .inf", nil), ("!!float 2e10", nil), ("!!null ~", nil), ("!!null", nil),
            ("!<tag:yaml.org,2002:string> 12", nil), ("!<tag:yaml.org,2002:string> 'quoted'", nil),
            ("!!bool yes", "the value 'yes' is invalid for the type '!!bool'"),
            ("!!int 1.5", "the value '1.5' is invalid for the type '!!int'"),
            ("!!int 0x1FFFFFFFF", "the value '0x1FFFFFFFF' is invalid for the type '!!int'"),
            ("!!float 1e", "the value '1e' is invalid for the type '!!float'"),
            ("!!null 0", "the value '0' is invalid for the type '!!null'"),
            ("!!bool \"true\"", "the YAML tag '!!bool' is not valid on a double-quoted value: GitHub reads tags on plain values only"),
            ("!!int '5'", "the YAML tag '!!int' is not valid on a single-quoted value: GitHub reads tags on plain values only"),
            ("!!str text", "unsupported YAML tag '!!str': GitHub reads only '!!bool', '!!int', '!!float' and '!!null'; GitHub does not read '!!str': quote the value instead"),
            ("!!timestamp 2001-12-14", "unsupported YAML tag '!!timestamp': GitHub reads only '!!bool', '!!int', '!!float' and '!!null'"),
            ("!custom x", "unsupported YAML tag '!custom'; a value that starts with '!' must be quoted, and a condition such as '!cancelled()' written as '${{ !cancelled() }}'"),
        ] as [(String, String?)])
    func explicitTags(value: String, error: String?) {
        let result = WorkflowParser.parse("on: push\njobs:\n  j:\n    runs-on: x\n    name: \(value)\n    steps: [{run: echo}]\n", file: "t.yml")
        #expect(result.diagnostics.map(\.description) == (error.map { ["t.yml:5:11: error: \($0) [syntax]"] } ?? []))
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

    /// The reader copies runs of printable ASCII at once (Sources/CYAML/README.md): what it does not
    /// copy still meets libyaml's checks, at the same offsets, and text on both sides of a run of
    /// other characters, CR LF line ends and tabs read as before.
    @Test func theReadersASCIIRunsKeepLibyamlsChecks() throws {
        let root = try #require(try YAMLLoader.load(Array("a: x\tyé名🚀z\r\nb: \"q\"\r\n".utf8)))
        guard case .mapping(let pairs) = root.kind else {
            Issue.record("expected a mapping")
            return
        }
        #expect(pairs.map(\.value.scalar) == ["x\tyé名🚀z", "q"])
        #expect(pairs.map(\.value.line) == [1, 2])
        // libyaml gives these a byte offset, no mark: the loader counts their line and column.
        let refused: [([UInt8], String, Int, Int)] = [
            (Array("a: b\u{01}c\n".utf8), "control characters are not allowed (U+0001)", 1, 5),
            (Array("é: \u{7F}\n".utf8), "control characters are not allowed (U+007F)", 1, 4),
            (Array("on: push\njobs:\n  j:\n    steps:\n      - run: \"echo \u{1B}\"\n".utf8), "control characters are not allowed (U+001B)", 5, 20),
            (Array("a: b".utf8) + [0xC3, 0x28] + Array("\n".utf8), "invalid trailing UTF-8 octet (byte 0x28)", 1, 6),
        ]
        for (bytes, message, line, column) in refused {
            do {
                _ = try YAMLLoader.load(bytes)
                Issue.record("expected a failure for \(bytes)")
            } catch {
                #expect(error.message == "could not parse as YAML: " + message)
                #expect([error.line, error.column] == [line, column], "\(message)")
            }
        }
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
