public import WorkflowModel

/// Reads workflow files: YAML text in, a `Workflow` and every diagnostic out. Pure: no file system.
public enum WorkflowParser {
    /// What parsing one file produced.
    public struct Result: Sendable {
        /// The workflow, or nil when the file is not YAML at all or not a mapping.
        public var workflow: Workflow?
        /// Every problem found, sorted by position.
        public var diagnostics: [Diagnostic]
    }

    static let rootKeys = ["name", "description", "run-name", "on", "permissions", "env", "defaults", "concurrency", "cache-mode", "jobs"]

    /// Parses one workflow file.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents (UTF-8).
    ///   - file: the path to print in diagnostics.
    public static func parse(_ bytes: [UInt8], file: String) -> Result {
        var decoder = WorkflowDecoder(file: file)
        let root: YAMLNode?
        switch YAMLLoader.document(bytes, file: file) {
        case .root(let node): root = node
        case .syntaxError(let diagnostic): return Result(workflow: nil, diagnostics: [diagnostic])
        }
        guard let root, !root.isNull else {
            decoder.report("workflow file is empty; it needs at least 'on' and 'jobs'", at: SourceLocation(file: file, line: 1, column: 1), rule: "missing-key")
            return Result(workflow: nil, diagnostics: decoder.diagnostics)
        }
        let workflow = decoder.workflow(root)
        if let workflow {
            decoder.diagnostics += NeedsRule.check(workflow)
            decoder.diagnostics += ExpressionRule.check(workflow, source: bytes)
        }
        return Result(workflow: workflow, diagnostics: decoder.diagnostics.sorted())
    }

    /// Parses a workflow given as a string.
    public static func parse(_ text: String, file: String) -> Result {
        parse(Array(text.utf8), file: file)
    }
}

extension WorkflowDecoder {
    mutating func workflow(_ root: YAMLNode) -> Workflow? {
        guard let fields = fields(root, "the workflow", allowed: WorkflowParser.rootKeys, allowNull: false) else { return nil }
        var workflow = Workflow(file: file)
        if !fields.has("on") {
            report("the workflow is missing required key 'on': which events should trigger it?", at: root, rule: "missing-key")
        }
        if !fields.has("jobs") {
            report("the workflow is missing required key 'jobs'", at: root, rule: "missing-key")
        }
        for pair in fields.pairs {
            let value = pair.value
            switch pair.key.scalar ?? "" {
            case "name": workflow.name = string(value, "'name'", expressions: false)
            case "description": _ = string(value, "'description'", expressions: false)
            case "run-name": workflow.runName = string(value, "'run-name'")
            case "on": workflow.triggers = triggers(value)
            case "permissions": workflow.permissions = permissions(value, "'permissions'")
            case "env": workflow.env = environment(value, "'env'")
            case "defaults": workflow.defaults = defaults(value, "'defaults'", expressions: false)
            case "concurrency": workflow.concurrency = concurrency(value, "'concurrency'", jobLevel: false)
            case "cache-mode": workflow.cacheMode = cacheMode(value, "'cache-mode'")
            case "jobs": workflow.jobs = jobs(value)
            default: break
            }
        }
        return workflow
    }
}

extension YAMLLoader {
    /// The file's root node (nil for an empty file), or its YAML syntax error as a diagnostic.
    enum Document {
        case root(YAMLNode?)
        case syntaxError(Diagnostic)
    }

    static func document(_ bytes: [UInt8], file: String) -> Document {
        do {
            return .root(try load(bytes))
        } catch {
            return .syntaxError(Diagnostic(.error, error.message, at: SourceLocation(file: file, line: error.line, column: error.column), rule: "syntax"))
        }
    }
}
