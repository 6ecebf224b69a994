import Foundation
import Testing
import WorkflowPlanning
import _GantryTestSupport

/// The dotenv dialect of `.secrets`, `.vars`, `.env` and `.input` (godotenv's, as act reads it).
@Suite struct DotEnvTests {
    func parse(_ text: String) throws -> [String] {
        try DotEnv.parse(text, file: ".env").map { "\($0.0)=\($0.1)" }
    }

    func failure(_ text: String) -> String? {
        do {
            _ = try DotEnv.parse(text, file: ".env")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func bareQuotedAndMultiLineValues() throws {
        let text = """
            # a comment

            PLAIN=value with spaces   # trailing comment
            export EXPORTED=yes
              INDENTED = spaced\t
            EMPTY=
            HASH=a#b
            SINGLE='literal $HOME \\n'
            DOUBLE="tab\\tquote\\" dollar\\$ back\\\\ other\\q"
            MULTI="line one
            line two"
            SINGLE_MULTI='x
            y' # after
            COLON: yaml-style
            EQUALS=a=b=c
            TABBED=value\t# comment after a tab
            """
        #expect(try parse(text) == [
            "PLAIN=value with spaces", "EXPORTED=yes", "INDENTED=spaced", "EMPTY=", "HASH=a#b",
            "SINGLE=literal $HOME \\n", "DOUBLE=tab\tquote\" dollar$ back\\ other\\q", "MULTI=line one\nline two",
            "SINGLE_MULTI=x\ny", "COLON=yaml-style", "EQUALS=a=b=c", "TABBED=value",
        ])
    }

    /// Found by `bench/fuzz.sh` (fuzz-dotenv, a 10 s timeout): values that refer to themselves again
    /// and again double on every line. They now stop at 1 MiB a value with a positioned error.
    @Test func selfReferringValuesStopAtTheSizeLimit() throws {
        let doubling = "A=0123456789abcdef\n" + String(repeating: "A=$A$A\n", count: 30)
        #expect(failure(doubling) == ".env:18:3: error: the value of 'A' expands to more than 1 MiB; does a variable refer to itself again and again? [dotenv]")
        let quoted = "B=x\n" + String(repeating: "B=\"${B}${B}\"\n", count: 30)
        #expect(failure(quoted)?.hasPrefix(".env:22:3: error: the value of 'B' expands to more than 1 MiB") == true, "\(failure(quoted) ?? "")")
        // The fuzzer's own input, kept as it was found.
        let found = try Data(contentsOf: Fixtures.directory().appendingPathComponent("fuzz/dotenv-timeout-39faecd9"))
        #expect(failure(String(decoding: found, as: UTF8.self))?.contains("expands to more than") == true)
    }

    @Test func windowsLineEnds() throws {
        #expect(try parse("A=1\r\nB=\"x\"\r\nC='two\r\nlines'\r\n") == ["A=1", "B=x", "C=two\nlines"])
    }

    @Test func variablesExpandFromEarlierLinesThenTheEnvironment() throws {
        let text = """
            BASE=/opt
            BIN=$BASE/bin
            BRACED="${BASE}/lib:${HOME}"
            ESCAPED="\\$BASE"
            LITERAL='$BASE'
            MISSING=[$NOT_SET]
            LONE=cost $ 5 and ${ not a name}
            """
        let pairs = try DotEnv.parse(text, file: ".env", environment: [("HOME", "/home/me"), ("BASE", "ignored")])
        #expect(pairs.map { "\($0.0)=\($0.1)" } == [
            "BASE=/opt", "BIN=/opt/bin", "BRACED=/opt/lib:/home/me", "ESCAPED=$BASE", "LITERAL=$BASE", "MISSING=[]",
            "LONE=cost $ 5 and ${ not a name}",
        ])
    }

    @Test func laterDuplicatesAreKeptInOrder() throws {
        #expect(try parse("A=1\nB=2\nA=3\n") == ["A=1", "B=2", "A=3"])
    }

    @Test func malformedLinesNameTheirPlace() {
        #expect(failure("A=1\nnot a pair\n") == ".env:2:5: error: expected '=' after 'not' [dotenv]")
        #expect(failure("A=1\n  =value\n") == ".env:2:3: error: expected NAME=value [dotenv]")
        #expect(failure("1A=x") == ".env:1:1: error: expected NAME=value [dotenv]")
        #expect(failure("A=1\nB=\"open\nstill open\n") == ".env:2:3: error: unterminated quoted value of 'B' [dotenv]")
        #expect(failure("B='x' y") == ".env:1:7: error: unexpected text after the closing quote of 'B' [dotenv]")
    }
}
