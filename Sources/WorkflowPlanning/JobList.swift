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
        /// The number of matrix rows; nil for "expanded at run time"; 1 without a matrix.
        public var matrixSize: Int?
    }

    public static func rows(_ workflows: [Workflow]) -> [Row] {
        workflows.flatMap { workflow in
            workflow.jobs.map { job in
                Row(
                    workflow: workflow.name?.value ?? workflow.file, file: workflow.file, job: job.id.value,
                    name: job.name?.value ?? job.id.value, events: workflow.triggers.map(\.event.value),
                    matrixSize: matrixSize(job))
            }
        }
    }

    static func matrixSize(_ job: Job) -> Int? {
        guard let strategy = job.strategy else { return 1 }
        if strategy.expression != nil { return nil }
        switch strategy.matrix {
        case nil: return 1
        case .expression: return nil
        case .literal(let definition):
            let rows = try? MatrixExpansion.expand(definition) { (node) throws(MatrixExpansion.Failure) -> ExpressionValue in
                if case .string(let s) = node.kind, ExpressionTemplate.containsExpression(s) {
                    throw MatrixExpansion.Failure(message: "runtime", location: node.location)
                }
                return node.expressionValue
            }
            let hasExpressions = definition.axes.contains { if case .expression = $0.values { return true } else { return false } }
            return hasExpressions ? nil : rows.map { max($0.count, 1) }
        }
    }

    public static func table(_ rows: [Row]) -> String {
        let header = ["WORKFLOW", "JOB ID", "NAME", "EVENTS", "MATRIX"]
        let cells = rows.map { row in
            [row.workflow, row.job, row.name, row.events.joined(separator: ","), row.matrixSize.map(String.init) ?? "runtime"]
        }
        var widths = header.map(\.count)
        for cell in cells { for (i, c) in cell.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ values: [String]) -> String {
            values.enumerated().map { i, v in i == values.count - 1 ? v : v + String(repeating: " ", count: widths[i] - v.count) }
                .joined(separator: "  ") + "\n"
        }
        return line(header) + cells.map(line).joined()
    }

    public static func json(_ rows: [Row]) -> String {
        JSONText.pretty(.array(rows.map { row in
            .object([
                ("workflow", .string(row.workflow)), ("file", .string(row.file)), ("job", .string(row.job)),
                ("name", .string(row.name)), ("events", .array(row.events.map(ExpressionValue.string))),
                ("matrixSize", row.matrixSize.map { .number(Double($0)) } ?? .string("runtime")),
            ])
        })) + "\n"
    }
}
