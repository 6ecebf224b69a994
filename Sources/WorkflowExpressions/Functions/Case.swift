extension Evaluator {
    /// `case(pred1, val1, …, default)`: the value of the first predicate that is `true`; predicates must
    /// be booleans; values are evaluated only when chosen.
    mutating func caseFunction(_ args: [ExpressionSyntax]) throws(ExpressionError) -> ExpressionValue {
        var i = 0
        while i + 1 < args.count {
            guard case .bool(let chosen) = try eval(args[i]) else {
                throw failure("case predicate must evaluate to a boolean value")
            }
            if chosen { return try eval(args[i + 1]) }
            i += 2
        }
        return try eval(args[args.count - 1])
    }
}
