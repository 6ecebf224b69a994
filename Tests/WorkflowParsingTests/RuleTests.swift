import Testing
import WorkflowModel
@testable import WorkflowParsing

@Suite struct CronExpressionTests {
    @Test(
        "valid cron expressions",
        arguments: ["* * * * *", "0 3 * * 1", "*/15 0-6,18-23 1,15 JAN-MAR mon-fri", "59 23 31 12 6", "0 0 * * SUN", "5/10 * * * *"])
    func valid(_ text: String) {
        #expect(CronExpression.problem(in: text) == nil)
    }

    @Test(
        "invalid cron expressions say why",
        arguments: [
            ("$cron-weekly", "expected 5 fields (minute hour day-of-month month day-of-week), found 1"),
            ("60 * * * *", "'60' is not a valid minute (0-59)"),
            ("* 24 * * *", "'24' is not a valid hour (0-23)"),
            ("* * 0 * *", "'0' is not a valid day of month (1-31)"),
            ("* * * 13 *", "'13' is not a valid month (1-12 or a name such as 'JAN')"),
            ("* * * * 7", "'7' is not a valid day of week (0-6 or a name such as 'SUN')"),
            ("*/0 * * * *", "step '0' in the minute field must be a positive number"),
            ("5-1 * * * *", "range '5-1' in the minute field runs backwards"),
            ("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"),
            ("1,,2 * * * *", "'' is not a valid minute value"),
        ])
    func invalid(text: String, problem: String) {
        #expect(CronExpression.problem(in: text) == problem)
    }
}

@Suite struct SuggestionTests {
    @Test func closeNamesAreSuggested() {
        #expect(closestMatch(to: "runs_on", in: ["runs-on", "steps"]) == "runs-on")
        #expect(closestMatch(to: "Runs-On", in: ["runs-on", "steps"]) == "runs-on")
        #expect(closestMatch(to: "stpes", in: ["runs-on", "steps"]) == "steps")
        #expect(closestMatch(to: "biuld", in: ["build", "test"]) == "build")
        #expect(closestMatch(to: "deploy", in: ["build", "test"]) == nil)
    }

    @Test func editDistanceCountsTranspositionsOnce() {
        #expect(editDistance(Array("abcd".unicodeScalars), Array("acbd".unicodeScalars)) == 1)
        #expect(editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)) == 3)
        #expect(editDistance(Array("".unicodeScalars), Array("abc".unicodeScalars)) == 3)
    }
}

@Suite struct NeedsRuleTests {
    static func diagnostics(_ yaml: String) -> [String] {
        WorkflowParser.parse(yaml, file: "w.yml").diagnostics.map(\.description)
    }

    static func job(_ id: String, needs: String? = nil) -> String {
        "  \(id):\n" + (needs.map { "    needs: \($0)\n" } ?? "") + "    runs-on: x\n    steps:\n      - run: echo\n"
    }

    @Test func cycleStartsAtTheJobDeclaredFirstWhateverTheOrder() {
        let forward = "on: push\njobs:\n" + Self.job("a", needs: "c") + Self.job("b", needs: "a") + Self.job("c", needs: "b")
        #expect(Self.diagnostics(forward) == ["w.yml:3:3: error: cyclic dependency in 'needs': 'a' -> 'c' -> 'b' -> 'a' [job-needs]"])
        let shuffled = "on: push\njobs:\n" + Self.job("c", needs: "b") + Self.job("a", needs: "c") + Self.job("b", needs: "a")
        #expect(Self.diagnostics(shuffled) == ["w.yml:3:3: error: cyclic dependency in 'needs': 'c' -> 'b' -> 'a' -> 'c' [job-needs]"])
    }

    @Test func twoSeparateCyclesAreBothReported() {
        let yaml = "on: push\njobs:\n" + Self.job("a", needs: "b") + Self.job("b", needs: "a")
            + Self.job("x", needs: "[y, a]") + Self.job("y", needs: "x")
        #expect(Self.diagnostics(yaml) == [
            "w.yml:3:3: error: cyclic dependency in 'needs': 'a' -> 'b' -> 'a' [job-needs]",
            "w.yml:13:3: error: cyclic dependency in 'needs': 'x' -> 'y' -> 'x' [job-needs]",
        ])
    }

    @Test func aDiamondIsNotACycle() {
        let yaml = "on: push\njobs:\n" + Self.job("a") + Self.job("b", needs: "a") + Self.job("c", needs: "a")
            + Self.job("d", needs: "[b, c]")
        #expect(Self.diagnostics(yaml) == [])
    }

    @Test func needsCompareCaseInsensitively() {
        let yaml = "on: push\njobs:\n" + Self.job("Build") + Self.job("test", needs: "build")
        #expect(Self.diagnostics(yaml) == [])
    }

    @Test func longChainsDoNotOverflow() {
        var yaml = "on: push\njobs:\n" + Self.job("j0")
        for i in 1..<3000 { yaml += Self.job("j\(i)", needs: "j\(i - 1)") }
        #expect(Self.diagnostics(yaml) == [])
    }
}
