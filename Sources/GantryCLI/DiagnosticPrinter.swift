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

extension DiagnosticPrinter {
    /// SARIF 2.1.0 (for code scanning): one run of the `gantry` tool, one result per diagnostic, each
    /// rule id listed once.
    public static func sarif(_ diagnostics: [Diagnostic]) -> String {
        var rules: [String] = []
        for d in diagnostics where !rules.contains(d.rule) { rules.append(d.rule) }
        let ruleObjects = rules.map { "{\"id\": \(JSON.quote($0))}" }
        let results = diagnostics.map { d in
            "{\"ruleId\": \(JSON.quote(d.rule)), \"level\": \(JSON.quote(d.severity == .error ? "error" : "warning")), "
                + "\"message\": {\"text\": \(JSON.quote(d.message))}, \"locations\": [{\"physicalLocation\": {"
                + "\"artifactLocation\": {\"uri\": \(JSON.quote(d.location.file))}, "
                + "\"region\": {\"startLine\": \(max(1, d.location.line)), \"startColumn\": \(max(1, d.location.column))}}}]}"
        }
        return "{\"version\": \"2.1.0\", \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", \"runs\": [{"
            + "\"tool\": {\"driver\": {\"name\": \"gantry\", \"rules\": [\(ruleObjects.joined(separator: ", "))]}}, "
            + "\"results\": [\(results.joined(separator: ", "))]}]}\n"
    }

    /// GitHub's workflow commands (`::error file=…,line=…,col=…,title=…::message`): run inside a
    /// workflow, each diagnostic becomes an annotation on its line.
    public static func github(_ diagnostics: [Diagnostic]) -> String {
        func data(_ s: String) -> String { s.replacing("%", with: "%25").replacing("\r", with: "%0D").replacing("\n", with: "%0A") }
        func property(_ s: String) -> String { data(s).replacing(":", with: "%3A").replacing(",", with: "%2C") }
        return diagnostics.map { d in
            "::\(d.severity == .error ? "error" : "warning") file=\(property(d.location.file)),line=\(d.location.line),col=\(d.location.column),title=\(property(d.rule))::\(data(d.message))\n"
        }.joined()
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
