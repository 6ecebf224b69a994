/// A token of the expression language, with its offset (in Unicode scalars) in the expression.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case leftParen, rightParen, leftBracket, rightBracket, comma, dot
        case bang, bangEqual, equalEqual, greater, greaterEqual, less, lessEqual, and, or
        case star, number, string, identifier, `true`, `false`, null
        case end
    }

    var kind: Kind
    /// The text as written.
    var lexeme: String
    var number: Double = 0
    /// The unquoted value of a string literal.
    var string: String = ""
    var offset: Int

    /// How GitHub shows a token in an error message.
    var display: String {
        switch kind {
        case .end: return "EOF"
        case .string: return string
        default: return lexeme
        }
    }
}

/// Splits an expression into tokens exactly as GitHub's lexer does: runs of non-boundary characters
/// become one symbol, so a bad character reports the whole run (`Unexpected symbol: 'b@r'`).
struct Lexer {
    /// The text's scalars; empty for ASCII text, which is read from `utf8` (no second array to make).
    private let scalars: [Unicode.Scalar]
    /// How many scalars the text has.
    private let count: Int
    private let text: String
    /// The text's UTF-8 bytes, and for each scalar index the offset of its first byte (plus one entry
    /// for the end), so a lexeme is one cheap decode. Nil for ASCII text, where the two are the same.
    private let utf8: [UInt8]
    private let utf8Offsets: [Int]?
    private var offset = 0
    private var start = 0
    private(set) var tokens: [Token] = []

    init(_ text: String) {
        self.text = text
        let utf8 = Array(text.utf8)
        self.utf8 = utf8
        tokens.reserveCapacity(8)
        if !utf8.contains(where: { $0 >= 0x80 }) {
            self.scalars = []
            self.count = utf8.count
            self.utf8Offsets = nil
            return
        }
        self.scalars = Array(text.unicodeScalars)
        self.count = scalars.count
        var offsets = [Int]()
        offsets.reserveCapacity(scalars.count + 1)
        var byte = 0
        for scalar in scalars {
            offsets.append(byte)
            byte += UTF8.width(scalar)
        }
        offsets.append(byte)
        self.utf8Offsets = offsets
    }

    /// The scalar at `index`.
    private func scalar(_ index: Int) -> Unicode.Scalar {
        utf8Offsets == nil ? Unicode.Scalar(utf8[index]) : scalars[index]
    }

    /// The offset in `utf8` of the scalar at `index`.
    private func byteOffset(_ index: Int) -> Int {
        utf8Offsets?[index] ?? index
    }

    static func tokenize(_ text: String) throws(ExpressionError) -> [Token] {
        var lexer = Lexer(text)
        try lexer.run()
        return lexer.tokens
    }

    private mutating func run() throws(ExpressionError) {
        if count > ExpressionError.maxLength {
            throw ExpressionError(
                .lexing, "Exceeded max expression length \(ExpressionError.maxLength)", position: nil, expression: text)
        }
        while offset < count {
            start = offset
            let c = scalar(offset)
            offset += 1
            switch c {
            case "(": add(.leftParen)
            case ")": add(.rightParen)
            case "[": add(.leftBracket)
            case "]": add(.rightBracket)
            case ",": add(.comma)
            case ".":
                switch previous {
                case .identifier, .rightBracket, .rightParen, .star: add(.dot)
                default: try number()
                }
            case "-", "+": try number()
            case "!": add(match("=") ? .bangEqual : .bang)
            case "=":
                if match("=") { add(.equalEqual) } else { try identifier() }
            case "<": add(match("=") ? .lessEqual : .less)
            case ">": add(match("=") ? .greaterEqual : .greater)
            case "&":
                if match("&") { add(.and) } else { try identifier() }
            case "|":
                if match("|") { add(.or) } else { try identifier() }
            case "*": add(.star)
            case " ", "\t", "\r", "\n", "\u{0B}", "\u{0C}": break
            case "'": try string()
            default:
                if c >= "0" && c <= "9" {
                    try number()
                } else if c.value >= 0x80, c.properties.isWhitespace {
                    break
                } else {
                    try identifier()
                }
            }
        }
        tokens.append(Token(kind: .end, lexeme: "", offset: count))
    }

    private var previous: Token.Kind? { tokens.last?.kind }

    private mutating func match(_ expected: Unicode.Scalar) -> Bool {
        guard offset < count, scalar(offset) == expected else { return false }
        offset += 1
        return true
    }

    private var lexeme: String {
        String(decoding: utf8[byteOffset(start)..<byteOffset(offset)], as: UTF8.self)
    }

    private mutating func add(_ kind: Token.Kind) {
        tokens.append(Token(kind: kind, lexeme: lexeme, offset: start))
    }

    private func unexpected(_ symbol: String) -> ExpressionError {
        ExpressionError(.lexing, "Unexpected symbol: '\(symbol)'", position: start, expression: text)
    }

    private mutating func number() throws(ExpressionError) {
        while offset < count, !Self.isBoundary(scalar(offset)) || scalar(offset) == "." {
            offset += 1
        }
        let text = lexeme
        guard let value = ExpressionNumber.parseLiteral(Substring(text)) else { throw unexpected(text) }
        var token = Token(kind: .number, lexeme: text, offset: start)
        token.number = value
        tokens.append(token)
    }

    private mutating func string() throws(ExpressionError) {
        var value = String.UnicodeScalarView()
        while true {
            guard offset < count else {
                throw unexpected(String(decoding: utf8[byteOffset(start)...], as: UTF8.self))
            }
            let c = scalar(offset)
            if c == "'" {
                if offset + 1 < count, scalar(offset + 1) == "'" {
                    value.append("'")
                    offset += 2
                    continue
                }
                offset += 1
                break
            }
            value.append(c)
            offset += 1
        }
        var token = Token(kind: .string, lexeme: lexeme, offset: start)
        token.string = String(value)
        tokens.append(token)
    }

    private mutating func identifier() throws(ExpressionError) {
        while offset < count, !Self.isBoundary(scalar(offset)) {
            offset += 1
        }
        let text = lexeme
        var kind = Token.Kind.identifier
        var number = 0.0
        if previous != .dot {
            switch text {
            case "true": kind = .true
            case "false": kind = .false
            case "null": kind = .null
            case "NaN": kind = .number; number = .nan
            case "Infinity": kind = .number; number = .infinity
            default: break
            }
        }
        guard Self.isLegalIdentifier(text) else { throw unexpected(text) }
        var token = Token(kind: kind, lexeme: text, offset: start)
        token.number = number
        tokens.append(token)
    }

    static func isBoundary(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "(", "[", ")", "]", ",", ".", "!", ">", "<", "=", "&", "|", " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}":
            return true
        default:
            return c.value >= 0x80 && c.properties.isWhitespace
        }
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z")
    }

    static func isLegalIdentifier(_ s: String) -> Bool {
        var scalars = s.unicodeScalars.makeIterator()
        guard let first = scalars.next(), isLetter(first) || first == "_" else { return false }
        while let c = scalars.next() {
            guard isLetter(c) || (c >= "0" && c <= "9") || c == "_" || c == "-" else { return false }
        }
        return true
    }
}
