/// One problem found in a workflow, with where it is and which rule found it.
public struct Diagnostic: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// How bad a diagnostic is.
    public enum Severity: String, Hashable, Sendable, Codable {
        case error
        case warning
        case note
    }

    public var location: SourceLocation
    public var severity: Severity
    /// Lowercase, no trailing period, identifiers in single quotes.
    public var message: String
    /// A kebab-case rule id such as `job-needs` or `syntax`.
    public var rule: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation, rule: String) {
        self.severity = severity
        self.message = message
        self.location = location
        self.rule = rule
    }

    /// `path:line:col: severity: message [rule]`
    public var description: String {
        "\(location): \(severity.rawValue): \(message) [\(rule)]"
    }

    /// Ordered by file, line, column, then message, so output never depends on hashing order.
    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        if lhs.location != rhs.location { return lhs.location < rhs.location }
        if lhs.message != rhs.message { return lhs.message < rhs.message }
        return lhs.rule < rhs.rule
    }
}

extension Sequence where Element == Diagnostic {
    /// Whether any diagnostic is an error.
    @inlinable public var containsErrors: Bool { contains { $0.severity == .error } }
}
