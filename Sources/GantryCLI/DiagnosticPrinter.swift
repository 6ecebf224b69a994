public import WorkflowModel
import WorkflowExpressions

/// Renders diagnostics for people (`text`) or machines (`json`).
public enum DiagnosticPrinter {
    /// One diagnostic per line: `path:line:col: severity: message [rule]`.
    public static func text(_ diagnostics: [Diagnostic]) -> String {
        var out = ""
        for diagnostic in diagnostics {
            out += diagnostic.description
            out += "\n"
        }
        return out
    }

    /// A JSON array of objects with `file`, `line`, `column`, `severity`, `message` and `rule`.
    public static func json(_ diagnostics: [Diagnostic]) -> String {
        if diagnostics.isEmpty { return "[]\n" }
        var out = "[\n"
        for (i, d) in diagnostics.enumerated() {
            out += "  {\"file\": \(JSON.quote(d.location.file)), \"line\": \(d.location.line), \"column\": \(d.location.column), "
            out += "\"severity\": \(JSON.quote(d.severity.rawValue)), \"message\": \(JSON.quote(d.message)), \"rule\": \(JSON.quote(d.rule))}"
            out += i == diagnostics.count - 1 ? "\n" : ",\n"
        }
        out += "]\n"
        return out
    }
}

/// JSON string literals for the printers, escaped as the expression engine's `toJSON` escapes them.
enum JSON {
    static func quote(_ s: String) -> String {
        var out = ""
        JSONText.quote(s, into: &out)
        return out
    }
}
