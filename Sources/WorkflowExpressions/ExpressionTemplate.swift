import WorkflowModel

/// A string that mixes literal text with `${{ }}` expressions, as workflow values do.
public struct ExpressionTemplate: Sendable {
    /// One piece of a template.
    public enum Segment: Sendable {
        case text(String)
        /// The expression text between `${{` and `}}`, and its offset (in Unicode scalars) in the
        /// template.
        case expression(String, offset: Int)
    }

    /// A template that cannot be split, with the offset of the problem.
    public struct SyntaxError: Error, Sendable, Hashable {
        public var message: String
        public var offset: Int

        public init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }
    }

    public var segments: [Segment]

    /// True when the text holds at least one `${{`.
    public static func containsExpression(_ text: String) -> Bool {
        text.containsUTF8("${{")
    }

    /// Splits `text` into literal text and expressions. The closing `}}` is the first one outside a
    /// single-quoted string, so `${{ format('}}') }}` is one expression.
    public static func parse(_ text: String) throws(SyntaxError) -> ExpressionTemplate {
        // Works on UTF-8 bytes (the markers are ASCII); offsets are converted to Unicode scalars.
        let bytes = Array(text.utf8)
        // Scalar offsets are counted incrementally: offsets only grow as the scan moves on.
        var countedBytes = 0
        var countedScalars = 0
        func scalarOffset(_ byte: Int) -> Int {
            while countedBytes < byte {
                if bytes[countedBytes] & 0xC0 != 0x80 { countedScalars += 1 }
                countedBytes += 1
            }
            return countedScalars
        }
        var segments: [Segment] = []
        var literalStart = 0
        var i = 0
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "{"), close = UInt8(ascii: "}"), quote = UInt8(ascii: "'")
        while i + 2 < bytes.count {
            guard bytes[i] == dollar, bytes[i + 1] == open, bytes[i + 2] == open else {
                i += 1
                continue
            }
            var j = i + 3
            var inString = false
            var end: Int?
            while j < bytes.count {
                let c = bytes[j]
                if c == quote {
                    inString.toggle()
                } else if !inString, c == close, j + 1 < bytes.count, bytes[j + 1] == close {
                    end = j
                    break
                }
                j += 1
            }
            guard let end else {
                throw SyntaxError(
                    message: "the expression is not closed: an unescaped '${{' was found, but the closing '}}' was not",
                    offset: scalarOffset(i))
            }
            let inner = bytes[(i + 3)..<end]
            if inner.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
                throw SyntaxError(message: "an expression was expected between '${{' and '}}'", offset: scalarOffset(i))
            }
            if literalStart < i {
                segments.append(.text(String(decoding: bytes[literalStart..<i], as: UTF8.self)))
            }
            segments.append(.expression(String(decoding: inner, as: UTF8.self), offset: scalarOffset(i + 3)))
            i = end + 2
            literalStart = i
        }
        if literalStart < bytes.count {
            segments.append(.text(String(decoding: bytes[literalStart...], as: UTF8.self)))
        }
        return ExpressionTemplate(segments: segments)
    }

    /// The expression when the template is exactly one `${{ }}` and nothing else, whose value keeps its
    /// type; nil otherwise. Even whitespace around it makes the template a string, as on GitHub.
    public var singleExpression: (text: String, offset: Int)? {
        guard segments.count == 1, case .expression(let text, let offset) = segments[0] else { return nil }
        return (text, offset)
    }

    /// GitHub's `${{ insert }}` directive (actions/runner TemplateReader, languageservices'
    /// `matchDirective`): a mapping key whose value, a mapping, is spliced into the mapping it stands in.
    public static func isInsertDirective(_ text: String) -> Bool {
        guard text.containsUTF8("insert"), let single = (try? parse(text))?.singleExpression else { return false }
        return single.text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) == ["insert"]
    }

    /// Whether `text` is exactly one `${{ }}` (a sequence item that is one expression yielding an array
    /// is spliced into the sequence, as the runner's TemplateUnraveler does).
    public static func isSingleExpression(_ text: String) -> Bool {
        guard containsExpression(text) else { return false }
        return (try? parse(text))?.singleExpression != nil
    }

    /// Evaluates the template: one expression keeps its value's type; otherwise the pieces are joined
    /// as strings (arrays as `Array`, objects as `Object`).
    public func evaluate(in context: EvaluationContext, options: ParseOptions = .permissive) throws(ExpressionError) -> ExpressionValue {
        if let single = singleExpression {
            return try Evaluator.evaluate(single.text, in: context, options: options)
        }
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let t): out += t
            case .expression(let e, _): out += try Evaluator.evaluate(e, in: context, options: options).stringValue
            }
        }
        return .string(out)
    }
}

/// A job or step `if:` as GitHub reads it.
///
/// The condition may omit `${{ }}`. A value that is exactly one `${{ }}` is that expression; a value
/// that mixes `${{ }}` with other text is a string, hence truthy when not empty (GitHub documents that
/// `if: true && ${{ false }}` is true). Unless the condition calls a status function, it runs as
/// `success() && (<condition>)`; an empty condition is `success()`.
public struct IfCondition: Sendable {
    /// The expression to evaluate, after the `success() && (…)` rewrite (just `success()` for a mixed
    /// template, which is then and-ed with the template's string value).
    public var expression: String
    /// The condition's own text when it came from a mixed template (evaluated as a string).
    public var template: ExpressionTemplate?

    public init(_ raw: String?, options: ParseOptions) throws(ExpressionError) {
        let raw = raw ?? ""
        let text = String(ExpressionNumber.trimWhitespace(raw))
        if text.isEmpty {
            expression = "success()"
            return
        }
        var condition = text
        if ExpressionTemplate.containsExpression(raw) {
            // Not trimmed: text around the one `${{ }}` (even a block scalar's newline) makes a string.
            let text = raw
            let parsed: ExpressionTemplate
            do {
                parsed = try ExpressionTemplate.parse(text)
            } catch {
                throw ExpressionError(.parsing, error.message, position: error.offset, expression: text)
            }
            if let single = parsed.singleExpression {
                condition = single.text
            } else {
                template = parsed
                expression = "success()"
                return
            }
        }
        let syntax = try ExpressionParser.parse(condition, options: options)
        let usesStatus = !(syntax?.calledFunctions.isDisjoint(with: FunctionSignature.statusFunctionNames) ?? true)
        expression = usesStatus ? condition : "success() && (\(condition))"
    }

    /// Evaluates the condition to a boolean.
    public func evaluate(in context: EvaluationContext, options: ParseOptions) throws(ExpressionError) -> Bool {
        if let template {
            // success() && ('<the template as a string>')
            guard try Evaluator.evaluate(expression, in: context, options: options).isTruthy else { return false }
            return try template.evaluate(in: context, options: options).isTruthy
        }
        return try Evaluator.evaluate(expression, in: context, options: options).isTruthy
    }
}
