/// The status functions, answered by whoever runs the job.
public enum StatusFunction: String, Sendable {
    case success, failure, cancelled, always
}

/// What an evaluation may read: named contexts and the runner's hooks.
public struct EvaluationContext: Sendable {
    /// Named contexts (`github`, `matrix`, …), looked up ignoring case.
    public var contexts: ExpressionObject
    /// Computes `hashFiles(patterns…)`; nil when hashing is not available here.
    public var hashFiles: (@Sendable ([String]) throws -> String)?
    /// Answers a status function; `arguments` are the job ids given to `success(…)`/`failure(…)`.
    public var status: (@Sendable (StatusFunction, [String]) -> Bool)?

    public init(
        contexts: ExpressionObject = ExpressionObject([]),
        hashFiles: (@Sendable ([String]) throws -> String)? = nil,
        status: (@Sendable (StatusFunction, [String]) -> Bool)? = nil
    ) {
        self.contexts = contexts
        self.hashFiles = hashFiles
        self.status = status
    }
}

/// Evaluates parsed expressions with GitHub's semantics.
public struct Evaluator {
    /// Bytes of string results one evaluation may produce (GitHub's limit is 1 MiB; strings count
    /// two bytes a character, as in .NET).
    public static let maxMemory = 1_048_576

    let context: EvaluationContext
    let text: String
    private var memory = 0

    /// Evaluates `syntax`, the parse of `text` (used for error messages).
    public static func evaluate(
        _ syntax: ExpressionSyntax?, text: String, in context: EvaluationContext
    ) throws(ExpressionError) -> ExpressionValue {
        guard let syntax else { return .null }
        var evaluator = Evaluator(context: context, text: text)
        return try evaluator.eval(syntax)
    }

    /// Parses and evaluates one expression.
    public static func evaluate(
        _ text: String, in context: EvaluationContext, options: ParseOptions = .permissive
    ) throws(ExpressionError) -> ExpressionValue {
        let syntax = try ExpressionParser.parse(text, options: options)
        return try evaluate(syntax, text: text, in: context)
    }

    init(context: EvaluationContext, text: String) {
        self.context = context
        self.text = text
    }

    func failure(_ message: String) -> ExpressionError {
        ExpressionError(.evaluation, message, position: nil, expression: text)
    }

    mutating func account(_ s: String) throws(ExpressionError) {
        memory += 2 * s.utf16.count + 32
        if memory > Self.maxMemory { throw failure("The maximum allowed memory size was exceeded") }
    }

    mutating func eval(_ node: ExpressionSyntax) throws(ExpressionError) -> ExpressionValue {
        switch node {
        case .literal(let value):
            return value
        case .context(let name, _):
            return context.contexts[name] ?? .null
        case .group(let inner):
            return try eval(inner)
        case .not(let operand):
            return .bool(!(try eval(operand)).isTruthy)
        case .comparison:
            // `a == b == c …` nests to the left; walk the spine iteratively so a long chain cannot
            // exhaust the stack.
            var spine: [(ExpressionSyntax.ComparisonOperator, ExpressionSyntax)] = []
            var leftmost = node
            while case .comparison(let op, let l, let r) = leftmost {
                spine.append((op, r))
                leftmost = l
            }
            var value = try eval(leftmost)
            for (op, r) in spine.reversed() {
                value = .bool(Self.compare(op, value, try eval(r)))
            }
            return value
        case .and(let items):
            var result = ExpressionValue.null
            for item in items {
                result = try eval(item)
                if !result.isTruthy { break }
            }
            return result
        case .or(let items):
            var result = ExpressionValue.null
            for item in items {
                result = try eval(item)
                if result.isTruthy { break }
            }
            return result
        case .index(let base, let index):
            return try evalIndex(base, index)
        case .call(let name, let args, _):
            return try call(name, args)
        }
    }

    static func compare(_ op: ExpressionSyntax.ComparisonOperator, _ lhs: ExpressionValue, _ rhs: ExpressionValue) -> Bool {
        switch op {
        case .equal: return ExpressionValue.looselyEqual(lhs, rhs)
        case .notEqual: return !ExpressionValue.looselyEqual(lhs, rhs)
        case .less: return ExpressionValue.lessThan(lhs, rhs)
        case .lessOrEqual: return ExpressionValue.looselyEqual(lhs, rhs) || ExpressionValue.lessThan(lhs, rhs)
        case .greater: return ExpressionValue.greaterThan(lhs, rhs)
        case .greaterOrEqual: return ExpressionValue.looselyEqual(lhs, rhs) || ExpressionValue.greaterThan(lhs, rhs)
        }
    }

    // MARK: Index access

    /// An index evaluated once: its string form (primitives only) and its whole, non-negative integer
    /// form (when it has one).
    private struct Index {
        var star = false
        var string: String?
        var integer: Int?

        init(star: Bool) { self.star = star }

        init(_ value: ExpressionValue) {
            if value.isPrimitive { string = value.stringValue }
            let n = value.numberValue
            if !n.isNaN, n.isFinite, n >= 0 { integer = n < 9e18 ? Int(n.rounded(.down)) : Int.max }
        }
    }

    private mutating func evalIndex(_ base: ExpressionSyntax, _ indexSyntax: ExpressionSyntax.IndexSyntax) throws(ExpressionError) -> ExpressionValue {
        let index: Index
        switch indexSyntax {
        case .star: index = Index(star: true)
        case .expression(let e): index = Index(try eval(e))
        }
        let object = try eval(base)
        switch object {
        case .array(let array) where array.isFiltered:
            var result: [ExpressionValue] = []
            for item in array.items {
                switch item {
                case .object(let o):
                    if index.star {
                        result += o.values
                    } else if let key = index.string, let v = o[key] {
                        result.append(v)
                    }
                case .array(let a):
                    if index.star {
                        result += a.items
                    } else if let i = index.integer, i < a.items.count {
                        result.append(a.items[i])
                    }
                default: break
                }
            }
            return .array(ExpressionArray(result, filtered: true))
        case .array(let array):
            if index.star { return .array(ExpressionArray(array.items, filtered: true)) }
            if let i = index.integer, i < array.items.count { return array.items[i] }
            return .null
        case .object(let o):
            if index.star { return .array(ExpressionArray(o.values, filtered: true)) }
            if let key = index.string, let v = o[key] { return v }
            return .null
        default:
            return index.star ? .array(ExpressionArray([], filtered: true)) : .null
        }
    }
}
