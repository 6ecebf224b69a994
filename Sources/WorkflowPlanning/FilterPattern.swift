/// GitHub's filter patterns for `branches`, `tags` and `paths` (the "filter pattern cheat sheet"):
/// `*` matches any characters but `/`; `**` any characters; `?` makes the preceding character optional;
/// `+` repeats it; `[a-z0-9]` is a character class; `\` escapes; a leading `!` negates.
public struct FilterPattern {
    public let text: String
    public let isNegated: Bool
    private let regex: Regex<AnyRegexOutput>?
    /// Why the pattern is invalid, if it is.
    public let problem: String?

    public init(_ text: String) {
        self.text = text
        isNegated = text.hasPrefix("!")
        let body = isNegated ? String(text.dropFirst()) : text
        switch Self.regexSource(body) {
        case .success(let source):
            regex = try? Regex(source)
            problem = regex == nil ? "cannot be compiled" : nil
        case .failure(let error):
            regex = nil
            problem = error.message
        }
    }

    /// Whether the pattern (ignoring its `!`) matches the whole of `value`.
    public func matches(_ value: String) -> Bool {
        guard let regex else { return false }
        return (try? regex.wholeMatch(in: value)) != nil
    }

    struct PatternError: Error {
        var message: String
    }

    /// Translates a pattern body to a regular expression.
    static func regexSource(_ pattern: String) -> Result<String, PatternError> {
        let chars = Array(pattern)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*":
                if i + 1 < chars.count, chars[i + 1] == "*" {
                    if i + 2 < chars.count, chars[i + 2] == "/" {
                        out += "(?:.+/)?"
                        i += 3
                    } else {
                        out += ".*"
                        i += 2
                    }
                } else {
                    out += "[^/]*"
                    i += 1
                }
            case "?", "+":
                // Applies to the preceding character; after `*`, `**`, `?`, `+` or at the start it is
                // an ordinary character (a quantifier there would change the meaning of the regex).
                if i > 0, !"*?+".contains(chars[i - 1]) {
                    out += String(c)
                } else {
                    out += "\\" + String(c)
                }
                i += 1
            case "[":
                i += 1
                guard i < chars.count, chars[i] != "]" else {
                    return .failure(PatternError(message: "empty brackets '[]'"))
                }
                var cls = "["
                let start = i
                while i < chars.count, chars[i] != "]" {
                    let d = chars[i]
                    if d == "-" {
                        guard i > start, i + 1 < chars.count, chars[i + 1] != "]" else {
                            return .failure(PatternError(message: "invalid range in '[...]'"))
                        }
                        let a = chars[i - 1], b = chars[i + 1]
                        let valid = a.isASCII && b.isASCII && a <= b
                            && ((a.isLowercase && b.isLowercase) || (a.isUppercase && b.isUppercase) || (a.isNumber && b.isNumber))
                        guard valid else {
                            return .failure(PatternError(message: "ranges can only include a-z, A-Z and 0-9"))
                        }
                        cls += "-" + String(b)
                        i += 2
                        continue
                    }
                    guard d.isASCII, d.isLetter || d.isNumber else {
                        return .failure(PatternError(message: "'[...]' can only hold letters, digits and ranges"))
                    }
                    cls += String(d)
                    i += 1
                }
                guard i < chars.count else { return .failure(PatternError(message: "missing ']' after '['")) }
                out += cls + "]"
                i += 1
            case "\\":
                guard i + 1 < chars.count else { return .failure(PatternError(message: "nothing after '\\'")) }
                out += escape(chars[i + 1])
                i += 2
            default:
                out += escape(c)
                i += 1
            }
        }
        return .success(out)
    }

    private static func escape(_ c: Character) -> String {
        "\\^$.|?*+()[]{}/-".contains(c) ? "\\" + String(c) : String(c)
    }
}

/// A list of patterns evaluated in order, later patterns overriding earlier ones.
public struct FilterList {
    public let patterns: [FilterPattern]

    public init(_ patterns: [String]) {
        self.patterns = patterns.map(FilterPattern.init)
    }

    /// Whether `value` is included: the last pattern that matches decides (a `!` pattern excludes).
    public func includes(_ value: String) -> Bool {
        var included = false
        for pattern in patterns where pattern.matches(value) {
            included = !pattern.isNegated
        }
        return included
    }
}
