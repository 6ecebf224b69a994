extension Evaluator {
    /// `fromJSON(text)`: parses JSON into a value; empty text and invalid JSON are errors.
    func fromJSON(_ value: ExpressionValue) throws(ExpressionError) -> ExpressionValue {
        let text = value.stringValue
        if ExpressionNumber.trimWhitespace(text).isEmpty { throw failure("empty input") }
        do {
            return try JSONText.parse(text)
        } catch {
            throw failure("Error parsing fromJson: \(error.message)")
        }
    }
}
