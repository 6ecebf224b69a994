extension Evaluator {
    /// `startsWith(searchString, searchValue)`: case-insensitive; false unless both are primitives.
    static func startsWith(_ string: ExpressionValue, _ prefix: ExpressionValue) -> ExpressionValue {
        guard string.isPrimitive, prefix.isPrimitive else { return .bool(false) }
        return .bool(StringComparison.hasPrefix(string.stringValue, prefix.stringValue))
    }
}
