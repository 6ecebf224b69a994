import Foundation
import Testing
import WorkflowModel
import WorkflowParsing
import _GantryTestSupport

/// Bad input never crashes the parser and always gets a positioned diagnostic.
@Suite struct RobustnessTests {
    /// Every prefix of a real workflow (cut at each line) parses to a workflow or to diagnostics whose
    /// positions lie inside the text.
    @Test func everyTruncationIsHandled() throws {
        let url = Fixtures.directory().appendingPathComponent("ok/whole-syntax.yml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var failures = 0
        for cut in 0..<lines.count {
            let prefix = lines[0..<cut].joined(separator: "\n")
            let result = WorkflowParser.parse(prefix, file: "cut.yml")
            for d in result.diagnostics {
                #expect(d.location.line >= 1 && d.location.line <= cut + 1)
                #expect(d.location.column >= 1)
            }
            if result.diagnostics.containsErrors { failures += 1 }
        }
        // Most prefixes lack `jobs` or end mid-job, so most are errors; the full text is not.
        #expect(failures > lines.count / 2)
        #expect(WorkflowParser.parse(text, file: "w.yml").diagnostics.isEmpty)
    }

    @Test(
        "garbage input gets one clear syntax error",
        arguments: [
            ([0x6F, 0x6E, 0x3A, 0x20, 0xFF, 0x0A] as [UInt8], "could not parse as YAML: invalid leading UTF-8 octet"),
            (Array("on: push\njobs: {a: [}\n".utf8), "could not parse as YAML"),
            (Array("\t- x\n".utf8), "could not parse as YAML"),
            (Array("key: !!binary [\n".utf8), "could not parse as YAML"),
        ])
    func garbage(bytes: [UInt8], message: String) {
        let result = WorkflowParser.parse(bytes, file: "g.yml")
        #expect(result.workflow == nil)
        #expect(result.diagnostics.count == 1)
        #expect(result.diagnostics.first?.message.hasPrefix(message) == true)
        #expect(result.diagnostics.first?.rule == "syntax")
    }

    @Test(
        "scalars, sequences and nulls where mappings belong are type errors",
        arguments: ["42", "'text'", "[1, 2]", "null", "on: 5\njobs: 5", "on: push\njobs: [a]", "on: {}\njobs:\n  a: 1"])
    func wrongShapes(text: String) {
        let result = WorkflowParser.parse(text, file: "s.yml")
        #expect(result.diagnostics.containsErrors)
        #expect(result.diagnostics.allSatisfy { !$0.message.isEmpty && !$0.rule.isEmpty })
    }

    @Test func hostileNestingIsRefusedNotACrash() {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let depth = 100_000
            let text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@v1\n        with:\n          x: "
                + String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth) + "\n"
            let result = WorkflowParser.parse(text, file: "deep.yml")
            #expect(result.diagnostics.map(\.message) == ["Maximum object depth exceeded: GitHub allows 50 nested mappings and sequences"])
            #expect(result.diagnostics.first?.location.line == 8)
        }
    }

    /// GitHub counts every mapping and sequence entered, the document's own included, and fails the
    /// 51st (actions/runner: `WorkflowParser/ParseOptions.cs` MaxDepth = 50; `ObjectTemplating/
    /// TemplateMemory.cs` IncrementDepth throws `Maximum object depth exceeded`).
    @Test func fiftyNestedCollectionsAreReadAndTheFiftyFirstIsGitHubsError() {
        // The document, jobs, a, strategy and matrix are 5: the matrix value `k` adds the rest.
        func workflow(_ nested: Int) -> String {
            "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        k: "
                + String(repeating: "[", count: nested) + "1" + String(repeating: "]", count: nested) + "\n    steps:\n      - run: x\n"
        }
        #expect(WorkflowParser.parse(workflow(45), file: "d.yml").diagnostics.map(\.message) == [])
        let deep = WorkflowParser.parse(workflow(46), file: "d.yml").diagnostics
        #expect(deep.map(\.message) == ["Maximum object depth exceeded: GitHub allows 50 nested mappings and sequences"])
        // At the 51st: the 46th `[` after `        k: `.
        #expect(deep.first.map { [$0.location.line, $0.location.column] } == [7, 57])
    }

    @Test func aliasesCannotNestPastTheLimit() {
        // Each anchor nests 120 levels and holds the previous alias: 60 of them would be 7,200 levels.
        var items = ["&a0 " + String(repeating: "[", count: 120) + "x" + String(repeating: "]", count: 120)]
        for k in 1..<60 {
            items.append("&a\(k) " + String(repeating: "[", count: 119) + "*a\(k - 1)" + String(repeating: "]", count: 119))
        }
        let text = "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        k: [" + items.joined(separator: ", ")
            + "]\n    steps:\n      - run: x\n"
        let result = WorkflowParser.parse(text, file: "alias.yml")
        #expect(result.diagnostics.map(\.message) == ["Maximum object depth exceeded: GitHub allows 50 nested mappings and sequences"])
    }

    @Test func manyExpressionsInOneValueStayLinear() throws {
        // 5,000 expressions in one run: with quadratic offset counting this took minutes.
        let run = String(repeating: "${{ github.sha }} ", count: 5_000) + "${{ nope( }}"
        let text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: " + run + "\n"
        let result = WorkflowParser.parse(text, file: "many.yml")
        #expect(result.diagnostics.map(\.description) == ["many.yml:6:\(14 + 18 * 5_000 + 8): error: unexpected end of expression: '(' [expression]"])
    }
}
