/// A lexing, parsing or evaluation error, with the 0-based position (in Unicode scalars) inside the
/// expression where GitHub reports it.
public struct ExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The phase that failed.
    public enum Kind: String, Hashable, Sendable {
        case lexing, parsing, evaluation
    }

    public var kind: Kind
    /// GitHub's message, e.g. `Unexpected symbol: ')'`.
    public var message: String
    /// 0-based offset in the expression, when the error has one.
    public var position: Int?
    /// The expression text.
    public var expression: String

    public init(_ kind: Kind, _ message: String, position: Int?, expression: String) {
        self.kind = kind
        self.message = message
        self.position = position
        self.expression = expression
    }

    /// GitHub's full form: `<message>. Located at position <n> within expression: <expr>`.
    public var description: String {
        if let position {
            return "\(message). Located at position \(position + 1) within expression: \(expression)"
        }
        return "\(message). Located within expression: \(expression)"
    }

    static let maxDepth = 50
    static let maxLength = 21_000
}
