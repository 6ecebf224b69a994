/// What a parse may refer to: the named contexts available and the functions beyond the built-in ones.
public struct ParseOptions: Sendable {
    /// Context names allowed (compared ignoring case); nil allows any name.
    public var contexts: Set<String>?
    /// Extra functions by lowercased name (e.g. `hashfiles`, `success`), with their argument counts.
    public var functions: [String: FunctionSignature]

    public init(contexts: Set<String>?, functions: [String: FunctionSignature] = [:]) {
        self.contexts = contexts.map { Set($0.map { $0.lowercased() }) }
        self.functions = functions
    }

    /// Every context name and every function, for tools such as `gantry eval`.
    public static let permissive = ParseOptions(contexts: nil, functions: FunctionSignature.runnerFunctions)
}

/// A function's name as written in messages and its allowed argument counts.
public struct FunctionSignature: Sendable, Hashable {
    public var name: String
    public var minArguments: Int
    public var maxArguments: Int

    public init(_ name: String, _ minArguments: Int, _ maxArguments: Int) {
        self.name = name
        self.minArguments = minArguments
        self.maxArguments = maxArguments
    }

    /// The functions every expression may call.
    public static let builtIn: [String: FunctionSignature] = [
        "case": FunctionSignature("case", 3, Int.max),
        "contains": FunctionSignature("contains", 2, 2),
        "endswith": FunctionSignature("endsWith", 2, 2),
        "format": FunctionSignature("format", 1, 255),
        "fromjson": FunctionSignature("fromJSON", 1, 1),
        "join": FunctionSignature("join", 1, 2),
        "startswith": FunctionSignature("startsWith", 2, 2),
        "tojson": FunctionSignature("toJSON", 1, 1),
    ]

    /// `hashFiles` (steps only).
    public static let hashFiles = ["hashfiles": FunctionSignature("hashFiles", 1, 255)]

    /// Status functions in a job-level `if` (`success` and `failure` take job ids there).
    public static let jobStatus: [String: FunctionSignature] = [
        "always": FunctionSignature("always", 0, 0),
        "cancelled": FunctionSignature("cancelled", 0, 0),
        "failure": FunctionSignature("failure", 0, Int.max),
        "success": FunctionSignature("success", 0, Int.max),
    ]

    /// Status functions in a step-level `if`.
    public static let stepStatus: [String: FunctionSignature] = [
        "always": FunctionSignature("always", 0, 0),
        "cancelled": FunctionSignature("cancelled", 0, 0),
        "failure": FunctionSignature("failure", 0, 0),
        "success": FunctionSignature("success", 0, 0),
    ]

    /// Everything the runner provides on top of the built-ins.
    public static let runnerFunctions = hashFiles.merging(jobStatus) { a, _ in a }

    /// Names of the status functions.
    public static let statusFunctionNames: Set<String> = ["always", "cancelled", "failure", "success"]
}

/// Parses expression text into `ExpressionSyntax` with GitHub's grammar, precedence and limits.
public struct ExpressionParser {
    private let tokens: [Token]
    private let text: String
    private let options: ParseOptions
    private var position = 0
    private var depth = 0

    /// Parses one expression (the text inside `${{ }}`). Returns nil for an empty expression.
    public static func parse(_ text: String, options: ParseOptions) throws(ExpressionError) -> ExpressionSyntax? {
        let tokens = try Lexer.tokenize(text)
        var parser = ExpressionParser(tokens: tokens, text: text, options: options)
        return try parser.parseAll()
    }

    private init(tokens: [Token], text: String, options: ParseOptions) {
        self.tokens = tokens
        self.text = text
        self.options = options
    }

    private mutating func parseAll() throws(ExpressionError) -> ExpressionSyntax? {
        if atEnd { return nil }
        let result = try expression()
        if !atEnd { throw error("Unexpected symbol", peek) }
        return result
    }

    // MARK: Grammar

    private mutating func expression() throws(ExpressionError) -> ExpressionSyntax {
        try enter()
        defer { depth -= 1 }
        return try logicalOr()
    }

    private mutating func logicalOr() throws(ExpressionError) -> ExpressionSyntax {
        let first = try logicalAnd()
        guard check(.or) else { return first }
        try enter()
        defer { depth -= 1 }
        var items = [first]
        while match(.or) { items.append(try logicalAnd()) }
        return .or(items)
    }

    private mutating func logicalAnd() throws(ExpressionError) -> ExpressionSyntax {
        let first = try equality()
        guard check(.and) else { return first }
        try enter()
        defer { depth -= 1 }
        var items = [first]
        while match(.and) { items.append(try equality()) }
        return .and(items)
    }

    private mutating func equality() throws(ExpressionError) -> ExpressionSyntax {
        var expr = try comparison()
        while true {
            let op: ExpressionSyntax.ComparisonOperator
            if match(.equalEqual) { op = .equal } else if match(.bangEqual) { op = .notEqual } else { break }
            expr = .comparison(op, expr, try comparison())
        }
        return expr
    }

    private mutating func comparison() throws(ExpressionError) -> ExpressionSyntax {
        var expr = try unary()
        while true {
            let op: ExpressionSyntax.ComparisonOperator
            if match(.greater) {
                op = .greater
            } else if match(.greaterEqual) {
                op = .greaterOrEqual
            } else if match(.less) {
                op = .less
            } else if match(.lessEqual) {
                op = .lessOrEqual
            } else {
                break
            }
            expr = .comparison(op, expr, try unary())
        }
        return expr
    }

    private mutating func unary() throws(ExpressionError) -> ExpressionSyntax {
        if match(.bang) {
            try enter()
            defer { depth -= 1 }
            return .not(try unary())
        }
        return try index()
    }

    private mutating func index() throws(ExpressionError) -> ExpressionSyntax {
        var (expr, indexable) = try call()
        guard indexable else { return expr }
        var entered = 0
        defer { depth -= entered }
        while true {
            if match(.leftBracket) {
                let index: ExpressionSyntax.IndexSyntax = match(.star) ? .star : .expression(try expression())
                try consume(.rightBracket)
                try enter()
                entered += 1
                expr = .index(expr, index)
            } else if match(.dot) {
                try enter()
                entered += 1
                if match(.identifier) {
                    expr = .index(expr, .expression(.literal(.string(previous.lexeme))))
                } else if match(.star) {
                    expr = .index(expr, .star)
                } else {
                    throw error("Unexpected symbol", peek)
                }
            } else {
                return expr
            }
        }
    }

    /// A function call or a named context (both indexable), or a primary.
    private mutating func call() throws(ExpressionError) -> (ExpressionSyntax, indexable: Bool) {
        guard check(.identifier) else { return try primary() }
        let identifier = advance()
        let name = identifier.lexeme.lowercased()
        guard match(.leftParen) else {
            if let contexts = options.contexts, !contexts.contains(name) {
                throw error("Unrecognized named-value", identifier)
            }
            return (.context(name, offset: identifier.offset), true)
        }
        var args: [ExpressionSyntax] = []
        while !match(.rightParen) {
            args.append(try expression())
            if !check(.rightParen) { try consume(.comma) }
        }
        guard let signature = FunctionSignature.builtIn[name] ?? options.functions[name] else {
            throw error("Unrecognized function", identifier)
        }
        if args.count < signature.minArguments { throw error("Too few parameters supplied", identifier) }
        if args.count > signature.maxArguments { throw error("Too many parameters supplied", identifier) }
        if name == "case", args.count % 2 == 0 {
            throw error("Even number of parameters supplied, requires an odd number of parameters", identifier)
        }
        return (.call(name, args, offset: identifier.offset), true)
    }

    private mutating func primary() throws(ExpressionError) -> (ExpressionSyntax, indexable: Bool) {
        if match(.false) { return (.literal(.bool(false)), false) }
        if match(.true) { return (.literal(.bool(true)), false) }
        if match(.null) { return (.literal(.null), false) }
        if match(.number) { return (.literal(.number(previous.number)), false) }
        if match(.string) { return (.literal(.string(previous.string)), false) }
        if match(.leftParen) {
            let expr = try expression()
            if atEnd { throw error("Unexpected end of expression", previous) }
            try consume(.rightParen)
            return (.group(expr), true)
        }
        if atEnd { throw error("Unexpected end of expression", previous) }
        throw error("Unexpected symbol", peek)
    }

    // MARK: Tokens

    private var peek: Token { tokens[position] }
    private var previous: Token { tokens[max(0, position - 1)] }
    private var atEnd: Bool { peek.kind == .end }

    private func check(_ kind: Token.Kind) -> Bool { !atEnd && peek.kind == kind }

    private mutating func match(_ kind: Token.Kind) -> Bool {
        guard check(kind) else { return false }
        position += 1
        return true
    }

    @discardableResult
    private mutating func advance() -> Token {
        if !atEnd { position += 1 }
        return previous
    }

    private mutating func consume(_ kind: Token.Kind) throws(ExpressionError) {
        guard check(kind) else { throw error("Unexpected symbol", peek) }
        position += 1
    }

    private mutating func enter() throws(ExpressionError) {
        depth += 1
        if depth > ExpressionError.maxDepth {
            throw error("Exceeded max expression depth \(ExpressionError.maxDepth)", peek)
        }
    }

    private func error(_ description: String, _ token: Token) -> ExpressionError {
        ExpressionError(.parsing, "\(description): '\(token.display)'", position: token.offset, expression: text)
    }
}
