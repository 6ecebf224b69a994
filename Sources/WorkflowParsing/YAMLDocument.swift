public import WorkflowModel

/// Any YAML file read with the workflow parser's rules (libyaml, the core schema, positions), as
/// untyped positioned values: for files that are not workflows, such as `gantry serve`'s configuration.
public enum YAMLDocument {
    /// Why a file could not be read, with its position.
    public struct Problem: Error, Sendable {
        public var diagnostic: Diagnostic
    }

    /// The file's root value (nil for an empty file).
    public static func parse(_ bytes: [UInt8], file: String) throws(Problem) -> ValueNode? {
        let root: YAMLNode?
        switch YAMLLoader.document(bytes, file: file) {
        case .root(let node): root = node
        case .syntaxError(let diagnostic): throw Problem(diagnostic: diagnostic)
        }
        guard let root, !root.isNull else { return nil }
        var decoder = WorkflowDecoder(file: file)
        let value = decoder.value(root, "the file")
        if let problem = decoder.diagnostics.sorted().first(where: { $0.severity == .error }) { throw Problem(diagnostic: problem) }
        return value
    }
}
