public import WorkflowExpressions
public import WorkflowModel

/// The rows of `gantry list`.
public enum JobList {
    public struct Row: Sendable, Equatable {
        public var workflow: String
        public var file: String
        public var job: String
        public var name: String
        public var events: [String]
        /// The number of matrix rows; nil for "expanded at run time" or an invalid matrix; 1 without a
        /// matrix.
        public var matrixSize: Int?
        /// Why the matrix cannot be expanded, when it is invalid.
        public var matrixError: String?
    }

    public static func rows(_ workflows: [Workflow]) -> [Row] {
        workflows.flatMap { workflow in
            workflow.jobs.map { job in
                let size = matrixSize(job)
                return Row(
                    workflow: workflow.name?.value ?? workflow.file, file: workflow.file, job: job.id.value,
                    name: job.name?.value ?? job.id.value, events: workflow.triggers.map(\.event.value),
                    matrixSize: size.rows, matrixError: size.error)
            }
        }
    }

    /// Why a job's literal matrix (one without expressions) fails GitHub's rules: an `exclude` key
    /// the matrix does not have, an empty vector, more than 256 rows; nil when it expands (or holds
    /// expressions, known only when the job runs).
    public static func literalMatrixFailure(_ job: Job) -> MatrixExpansion.Failure? {
        guard case .literal(let definition)? = job.strategy?.matrix else { return nil }
        // A key, include or exclude given as an expression is known only when the job runs.
        if hasExpressions(definition) { return nil }
        do throws(MatrixExpansion.Failure) {
            _ = try MatrixExpansion.expand(definition) { (node) throws(MatrixExpansion.Failure) -> ExpressionValue in
                if case .string(let s) = node.kind, ExpressionTemplate.containsExpression(s) {
                    throw MatrixExpansion.Failure(message: "", location: node.location)
                }
                return node.expressionValue
            }
            return nil
        } catch {
            return error.message.isEmpty ? nil : error
        }
    }

    /// Whether a key, `include` or `exclude` of the matrix is an expression.
    static func hasExpressions(_ definition: MatrixDefinition) -> Bool {
        definition.axes.contains { if case .expression = $0.values { return true } else { return false } }
            || { if case .expression? = definition.include { return true } else { return false } }()
            || { if case .expression? = definition.exclude { return true } else { return false } }()
    }

    static func matrixSize(_ job: Job) -> (rows: Int?, error: String?) {
        guard let strategy = job.strategy else { return (1, nil) }
        if strategy.expression != nil { return (nil, nil) }
        switch strategy.matrix {
        case nil: return (1, nil)
        case .expression: return (nil, nil)
        case .literal(let definition):
            let rows: [MatrixExpansion.Row]?
            do {
                rows = try MatrixExpansion.expand(definition) { (node) throws(MatrixExpansion.Failure) -> ExpressionValue in
                    if case .string(let s) = node.kind, ExpressionTemplate.containsExpression(s) {
                        throw MatrixExpansion.Failure(message: "", location: node.location)
                    }
                    return node.expressionValue
                }
            } catch {
                // An expression value is only known at run time; any other failure is an error.
                if !error.message.isEmpty { return (nil, error.message) }
                rows = nil
            }
            return (hasExpressions(definition) ? nil : rows.map(\.count), nil)
        }
    }

    public static func table(_ rows: [Row]) -> String {
        let header = ["WORKFLOW", "JOB ID", "NAME", "EVENTS", "MATRIX"]
        let cells = rows.map { row in
            [row.workflow, row.job, row.name, row.events.joined(separator: ","),
             row.matrixError != nil ? "invalid" : row.matrixSize.map(String.init) ?? "runtime"]
        }
        let cellWidths = ([header] + cells).map { $0.map(TextLines.width) }
        var widths = cellWidths[0]
        for row in cellWidths.dropFirst() { for (i, w) in row.enumerated() { widths[i] = max(widths[i], w) } }
        var out = TextLines()
        for (values, valueWidths) in zip([header] + cells, cellWidths) {
            for (i, v) in values.enumerated() {
                out.append(v)
                if i < values.count - 1 { out.pad(widths[i] - valueWidths[i] + 2) }
            }
            out.append("\n")
        }
        return out.text
    }

    public static func json(_ rows: [Row]) -> String {
        JSONText.pretty(.array(rows.map { row in
            .object([
                ("workflow", .string(row.workflow)), ("file", .string(row.file)), ("job", .string(row.job)),
                ("name", .string(row.name)), ("events", .array(row.events.map(ExpressionValue.string))),
                ("matrixSize", row.matrixError != nil ? .string("invalid") : row.matrixSize.map { .number(Double($0)) } ?? .string("runtime")),
                ("matrixError", row.matrixError.map(ExpressionValue.string) ?? .null),
            ])
        })) + "\n"
    }
}
