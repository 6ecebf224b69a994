import Testing

@testable import WorkflowExpressions

/// `ExpressionSyntax.visit`: every node once, each before the nodes below it and those last to first,
/// recursively near the top and with an explicit stack deeper down, in one order.
@Suite struct SyntaxVisitTests {
    /// A short name for each node, to compare orders.
    static func names(_ syntax: ExpressionSyntax) -> [String] {
        var out: [String] = []
        syntax.visit { node in
            switch node {
            case .literal(let value): out.append("lit:\(value)")
            case .context(let name, _): out.append("ctx:\(name)")
            case .index: out.append("index")
            case .call(let name, _, _): out.append("call:\(name)")
            case .not: out.append("not")
            case .comparison(let op, _, _): out.append("cmp:\(op.rawValue)")
            case .and: out.append("and")
            case .or: out.append("or")
            case .group: out.append("group")
            }
        }
        return out
    }

    @Test func shortExpressionsAreVisitedInTheDocumentedOrder() throws {
        let syntax = try #require(try ExpressionParser.parse("github.ref == format('{0}', env.A) && !(inputs.x)", options: .permissive))
        #expect(Self.names(syntax) == [
            "and", "not", "group", "index", "lit:\"x\"", "ctx:inputs",
            "cmp:==", "call:format", "index", "lit:\"A\"", "ctx:env", "lit:\"{0}\"", "index", "lit:\"ref\"", "ctx:github",
        ])
    }

    /// 20 nested `!(…)` (40 levels) cross from the recursive visit to the stack at depth 32: still
    /// every node, in order, outermost first.
    @Test func deepExpressionsCrossToTheStackInTheSameOrder() throws {
        let text = String(repeating: "!(", count: 20) + "github.ref" + String(repeating: ")", count: 20)
        let syntax = try #require(try ExpressionParser.parse(text, options: .permissive))
        #expect(Self.names(syntax) == Array(repeating: ["not", "group"], count: 20).flatMap { $0 } + ["index", "lit:\"ref\"", "ctx:github"])
    }

    /// A chain of 3,000 comparisons nests 2,999 deep: visited without exhausting the stack, right
    /// operand before left at every level.
    @Test func longComparisonChainsAreVisited() throws {
        let text = Array(repeating: "1", count: 3000).joined(separator: " == ")
        let syntax = try #require(try ExpressionParser.parse(text, options: .permissive))
        #expect(Self.names(syntax) == Array(repeating: ["cmp:==", "lit:1"], count: 2999).flatMap { $0 } + ["lit:1"])
    }
}
