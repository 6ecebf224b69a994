extension Evaluator {
    /// `contains(search, item)`: element equality for an array, else a case-insensitive substring test.
    static func contains(_ search: ExpressionValue, _ item: ExpressionValue) -> ExpressionValue {
        switch search {
        case .array(let array):
            return .bool(array.items.contains { ExpressionValue.looselyEqual(item, $0) })
        case .object:
            return .bool(false)
        default:
            guard item.isPrimitive else { return .bool(false) }
            return .bool(StringComparison.contains(search.stringValue, item.stringValue))
        }
    }
}
