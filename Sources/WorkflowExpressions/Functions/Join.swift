extension Evaluator {
    /// `join(array, separator = ',')`: a primitive is just converted to a string; an object gives ''.
    static func join(_ args: [ExpressionValue]) -> ExpressionValue {
        switch args[0] {
        case .array(let array):
            var separator = ","
            if args.count > 1, args[1].isPrimitive { separator = args[1].stringValue }
            return .string(array.items.map(\.stringValue).joined(separator: separator))
        case .object:
            return .string("")
        default:
            return .string(args[0].stringValue)
        }
    }
}
