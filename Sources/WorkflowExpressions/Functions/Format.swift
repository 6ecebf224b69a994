extension Evaluator {
    /// `format(fmt, args…)`: `{N}` placeholders, `{{` and `}}` for literal braces.
    func format(_ args: [ExpressionValue]) throws(ExpressionError) -> ExpressionValue {
        let fmt = args[0].stringValue
        let chars = Array(fmt.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func invalid() -> ExpressionError { failure("The following format string is invalid: \(fmt)") }
        while i < chars.count {
            let c = chars[i]
            if c == "{" {
                if i + 1 < chars.count, chars[i + 1] == "{" {
                    out.append("{")
                    i += 2
                    continue
                }
                var j = i + 1
                var index = 0
                var digits = 0
                while j < chars.count, chars[j] >= "0", chars[j] <= "9" {
                    index = index &* 10 &+ Int(chars[j].value - 48)
                    if index > 1_000_000 { index = 1_000_000 }
                    j += 1
                    digits += 1
                }
                guard digits > 0, j < chars.count, chars[j] == "}" else { throw invalid() }
                guard index + 1 < args.count else {
                    throw failure("The following format string references more arguments than were supplied: \(fmt)")
                }
                out.append(contentsOf: args[index + 1].stringValue.unicodeScalars)
                i = j + 1
            } else if c == "}" {
                guard i + 1 < chars.count, chars[i + 1] == "}" else { throw invalid() }
                out.append("}")
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return .string(String(out))
    }
}
