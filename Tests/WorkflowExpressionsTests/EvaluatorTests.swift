import Testing
import WorkflowExpressions

/// Behaviour beyond the vectors: templates, `if` rewriting, hooks, limits, JSON and numbers.
@Suite struct EvaluatorTests {
    static func eval(_ text: String, _ contexts: [(String, ExpressionValue)] = []) throws -> ExpressionValue {
        try Evaluator.evaluate(text, in: EvaluationContext(contexts: ExpressionObject(contexts)))
    }

    @Test(
        "numbers print as GitHub prints them",
        arguments: [
            (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-2.5, "-2.5"), (123456.789, "123456.789"),
            (0.84551240822557006, "0.84551240822557"), (1e15, "1E+15"), (1e-7, "1E-07"), (123456789012345.0, "123456789012345"),
            (Double.infinity, "Infinity"), (-Double.infinity, "-Infinity"), (Double.nan, "NaN"),
        ])
    func numberFormatting(value: Double, text: String) {
        #expect(ExpressionNumber.format(value) == text)
    }

    @Test(
        "strings become numbers with GitHub's rules",
        arguments: [
            ("", 0.0), ("  42 ", 42), ("0x1F", 31), ("0o17", 15), ("1e3", 1000), ("-.5", -0.5), ("1.", 1), (" +7 ", 7),
            ("Infinity", Double.infinity), ("-Infinity", -Double.infinity),
        ])
    func numberParsing(text: String, value: Double) {
        #expect(ExpressionNumber.parse(text) == value)
    }

    @Test("unparseable strings are NaN", arguments: ["abc", "0x", "1e", "--1", "0b101", "1_000", "-0x1"])
    func notANumber(text: String) {
        #expect(ExpressionNumber.parse(text).isNaN)
    }

    @Test func andOrReturnOperands() throws {
        #expect(JSONText.compact(try Self.eval("true && 'a' || 'b'")) == "\"a\"")
        #expect(JSONText.compact(try Self.eval("false && 'a' || 'b'")) == "\"b\"")
        #expect(JSONText.compact(try Self.eval("null || 0 || ''")) == "\"\"")
    }

    @Test func templatesKeepTypeOnlyForOneWholeExpression() throws {
        let context = EvaluationContext(contexts: ExpressionObject([("matrix", .object([("n", .number(3)), ("on", .bool(true))]))]))
        #expect(JSONText.compact(try ExpressionTemplate.parse("${{ matrix.n }}").evaluate(in: context)) == "3")
        #expect(JSONText.compact(try ExpressionTemplate.parse("${{ matrix.on }}").evaluate(in: context)) == "true")
        #expect(JSONText.compact(try ExpressionTemplate.parse(" ${{ matrix.n }}").evaluate(in: context)) == "\" 3\"")
        #expect(JSONText.compact(try ExpressionTemplate.parse("n=${{ matrix.n }}, all=${{ matrix }}").evaluate(in: context)) == "\"n=3, all=Object\"")
        #expect(JSONText.compact(try ExpressionTemplate.parse("${{ format('}}{0}', 1) }}").evaluate(in: context)) == "\"}1\"")
    }

    @Test func templateSyntaxErrorsHaveOffsets() {
        #expect(throws: ExpressionTemplate.SyntaxError(
            message: "the expression is not closed: an unescaped '${{' was found, but the closing '}}' was not", offset: 4)) {
            try ExpressionTemplate.parse("abc ${{ 'x }}")
        }
        #expect(throws: ExpressionTemplate.SyntaxError(message: "an expression was expected between '${{' and '}}'", offset: 0)) {
            try ExpressionTemplate.parse("${{   }}")
        }
    }

    @Test(
        "if conditions get the success() rewrite unless they call a status function",
        arguments: [
            ("", "success()"),
            ("github.ref == 'x'", "success() && (github.ref == 'x')"),
            ("${{ github.ref == 'x' }}", "success() && ( github.ref == 'x' )"),
            ("always() && github.ref == 'x'", "always() && github.ref == 'x'"),
            ("${{ !cancelled() }}", " !cancelled() "),
            ("FAILURE()", "FAILURE()"),
            ("contains(github.ref, 'success()')", "success() && (contains(github.ref, 'success()'))"),
        ])
    func ifRewrite(raw: String, expression: String) throws {
        #expect(try IfCondition(raw, options: .permissive).expression == expression)
    }

    @Test func mixedTemplateConditionIsAlwaysTrueUnlessTheJobFailed() throws {
        let condition = try IfCondition("true && ${{ false }}", options: .permissive)
        let succeeded = EvaluationContext(status: { f, _ in f == .success })
        let failed = EvaluationContext(status: { f, _ in f == .failure })
        #expect(try condition.evaluate(in: succeeded, options: .permissive))
        #expect(try !condition.evaluate(in: failed, options: .permissive))
    }

    @Test func statusFunctionsUseTheHookWithJobIds() throws {
        let context = EvaluationContext(status: { f, ids in f == .failure && ids == ["build", "test"] })
        #expect(try Evaluator.evaluate("failure('build', 'test')", in: context).isTruthy)
        #expect(try !Evaluator.evaluate("failure()", in: context).isTruthy)
        #expect(try Evaluator.evaluate("always()", in: EvaluationContext()).isTruthy)
    }

    @Test func hashFilesUsesTheHook() throws {
        let context = EvaluationContext(hashFiles: { patterns in "hash-of-" + patterns.joined(separator: "+") })
        #expect(JSONText.compact(try Evaluator.evaluate("hashFiles('**/go.sum', '!x')", in: context)) == "\"hash-of-**/go.sum+!x\"")
        #expect(throws: ExpressionError.self) { try Evaluator.evaluate("hashFiles('x')", in: EvaluationContext()) }
    }

    @Test func caseEvaluatesOnlyTheChosenValue() throws {
        // The unchosen branch would fail (bad format string) if it were evaluated.
        #expect(JSONText.compact(try Self.eval("case(true, 'yes', format('{'))")) == "\"yes\"")
        #expect(throws: ExpressionError.self) { try Self.eval("case('true', 'yes', 'no')") }
    }

    @Test func limits() throws {
        let deep = String(repeating: "(", count: 60) + "1" + String(repeating: ")", count: 60)
        #expect(throws: ExpressionError.self) { try Self.eval(deep) }
        let long = "'" + String(repeating: "a", count: 21_001) + "'"
        do {
            _ = try Evaluator.evaluate(long, in: EvaluationContext())
            Issue.record("expected the length limit")
        } catch {
            #expect(error.message == "Exceeded max expression length 21000")
        }
    }

    @Test func errorPositionsCountUnicodeScalars() {
        do {
            _ = try Evaluator.evaluate("'é😊' == x", in: EvaluationContext(), options: ParseOptions(contexts: []))
            Issue.record("expected an unrecognized named-value")
        } catch {
            #expect(error.description == "Unrecognized named-value: 'x'. Located at position 9 within expression: 'é😊' == x")
        }
    }

    @Test func toJSONPrettyPrintsLikeGitHub() throws {
        let value = ExpressionValue.object([("a", .array([.number(1), .string("x\"y")])), ("b", .object([])), ("c", .null)])
        #expect(JSONText.pretty(value) == "{\n  \"a\": [\n    1,\n    \"x\\\"y\"\n  ],\n  \"b\": {},\n  \"c\": null\n}")
    }

    @Test func fromJSONRoundTripsAndRejectsBadInput() throws {
        let parsed = try JSONText.parse("{\"k\": [true, null, -1.5e2, \"\\u00e9\\ud83d\\ude0a\"], \"K\": 2}")
        #expect(JSONText.compact(parsed) == "{\"k\":[true,null,-150,\"é😊\"]}")
        for bad in ["", "[1,]", "{\"a\" 1}", "tru", "01", "\"\\x\"", "[1] 2"] {
            #expect(throws: JSONText.ParseError.self) { try JSONText.parse(bad) }
        }
    }

    @Test func referenceEqualityForArraysAndObjects() throws {
        let shared = ExpressionValue.array([.number(1)])
        #expect(try Self.eval("a == a", [("a", shared)]).isTruthy)
        #expect(try !Self.eval("a == b", [("a", shared), ("b", .array([.number(1)]))]).isTruthy)
        #expect(try !Self.eval("fromJSON('{}') == fromJSON('{}')").isTruthy)
    }

    @Test func caseInsensitivityMapsOneCharacterAtATime() throws {
        #expect(try !Self.eval("'ß' == 'SS'").isTruthy)
        #expect(try Self.eval("'ς' == 'Σ'").isTruthy)
        #expect(try Self.eval("'Straße' == 'STRAßE'").isTruthy)
        #expect(try !Self.eval("'ı' == 'I'").isTruthy)
    }

    @Test func loneHighSurrogateKeepsTheNextCharacter() throws {
        #expect(JSONText.compact(try JSONText.parse("\"\\ud800\\u0041\"")) == "\"\u{FFFD}A\"")
    }

    @Test func textAroundTheOneExpressionOfAConditionMakesAString() throws {
        let condition = try IfCondition("${{ false }}\n", options: .permissive)
        #expect(condition.template != nil)
        #expect(try condition.evaluate(in: EvaluationContext(status: { f, _ in f == .success }), options: .permissive))
        #expect(try IfCondition("  github.ref == 'x'\n", options: .permissive).expression == "success() && (github.ref == 'x')")
    }

    @Test func allWhitespaceSeparatesTokens() throws {
        #expect(JSONText.compact(try Self.eval("1\u{0B}==\u{0C}1\u{00A0}&&\u{2003}true")) == "true")
    }
}
