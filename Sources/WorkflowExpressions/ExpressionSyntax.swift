/// A parsed expression.
public indirect enum ExpressionSyntax: Sendable {
    /// `null`, `true`, a number or a string literal.
    case literal(ExpressionValue)
    /// A named context such as `github` (lowercased name, and where it was written).
    case context(String, offset: Int)
    /// `base[index]`, `base.name`, `base.*` and `base[*]`.
    case index(ExpressionSyntax, IndexSyntax)
    /// A function call, with the name lowercased.
    case call(String, [ExpressionSyntax], offset: Int)
    /// `!operand`.
    case not(ExpressionSyntax)
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    case comparison(ComparisonOperator, ExpressionSyntax, ExpressionSyntax)
    /// `a && b && …` (returns the first falsy operand, else the last).
    case and([ExpressionSyntax])
    /// `a || b || …` (returns the first truthy operand, else the last).
    case or([ExpressionSyntax])
    /// `( … )`.
    case group(ExpressionSyntax)

    /// What follows a base in an index access.
    public enum IndexSyntax: Sendable {
        case star
        case expression(ExpressionSyntax)
    }

    /// The comparison operators.
    public enum ComparisonOperator: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// Every function called anywhere in the expression (lowercased names).
    public var calledFunctions: Set<String> {
        var names = Set<String>()
        visit { if case .call(let name, _, _) = $0 { names.insert(name) } }
        return names
    }

    /// Every context named anywhere in the expression (lowercased).
    public var namedContexts: Set<String> {
        var names = Set<String>()
        visit { if case .context(let name, _) = $0 { names.insert(name) } }
        return names
    }

    /// Calls `body` on this node and every node below it: each node before those below it, and the
    /// nodes below a node last to first. Recursive for the first levels (no allocation for the usual
    /// short expression), then with an explicit stack: a chain of thousands of comparisons nests that
    /// deep. Both visit in the same order.
    public func visit(_ body: (ExpressionSyntax) -> Void) {
        visit(body, depth: 0)
    }

    private func visit(_ body: (ExpressionSyntax) -> Void, depth: Int) {
        guard depth < 32 else { return visitWithStack(body) }
        body(self)
        switch self {
        case .literal, .context: break
        case .index(let base, let index):
            if case .expression(let e) = index { e.visit(body, depth: depth + 1) }
            base.visit(body, depth: depth + 1)
        case .call(_, let args, _):
            for arg in args.reversed() { arg.visit(body, depth: depth + 1) }
        case .not(let e), .group(let e):
            e.visit(body, depth: depth + 1)
        case .comparison(_, let l, let r):
            r.visit(body, depth: depth + 1)
            l.visit(body, depth: depth + 1)
        case .and(let items), .or(let items):
            for item in items.reversed() { item.visit(body, depth: depth + 1) }
        }
    }

    private func visitWithStack(_ body: (ExpressionSyntax) -> Void) {
        var stack: [ExpressionSyntax] = [self]
        while let node = stack.popLast() {
            body(node)
            switch node {
            case .literal, .context: break
            case .index(let base, let index):
                stack.append(base)
                if case .expression(let e) = index { stack.append(e) }
            case .call(_, let args, _): stack += args
            case .not(let e), .group(let e): stack.append(e)
            case .comparison(_, let l, let r):
                stack.append(l)
                stack.append(r)
            case .and(let items), .or(let items): stack += items
            }
        }
    }
}
