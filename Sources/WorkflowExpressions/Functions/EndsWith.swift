extension Evaluator {
    /// `endsWith(searchString, searchValue)`: case-insensitive; false unless both are primitives.
    static func endsWith(_ string: ExpressionValue, _ suffix: ExpressionValue) -> ExpressionValue {
        guard string.isPrimitive, suffix.isPrimitive else { return .bool(false) }
        return .bool(StringComparison.hasSuffix(string.stringValue, suffix.stringValue))
    }
}
