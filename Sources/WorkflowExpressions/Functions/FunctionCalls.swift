extension Evaluator {
    /// Calls a function by lowercased name. Arguments are evaluated in order, except `case`, whose
    /// values are evaluated only when chosen.
    mutating func call(_ name: String, _ args: [ExpressionSyntax]) throws(ExpressionError) -> ExpressionValue {
        switch name {
        case "case": return try caseFunction(args)
        case "always", "success", "failure", "cancelled": return try statusFunction(name, args)
        default: break
        }
        var values: [ExpressionValue] = []
        values.reserveCapacity(args.count)
        for arg in args { values.append(try eval(arg)) }
        let result: ExpressionValue
        switch name {
        case "contains": result = Self.contains(values[0], values[1])
        case "startswith": result = Self.startsWith(values[0], values[1])
        case "endswith": result = Self.endsWith(values[0], values[1])
        case "format": result = try format(values)
        case "join": result = Self.join(values)
        case "tojson": result = .string(JSONText.pretty(values[0]))
        case "fromjson": result = try fromJSON(values[0])
        case "hashfiles": result = try hashFiles(values)
        default: throw failure("Unrecognized function: '\(name)'")
        }
        if case .string(let s) = result { try account(s) }
        return result
    }
}
