public import WorkflowExpressions
import WorkflowModel

/// Renders a `Plan` as text for a terminal, or as JSON.
public enum PlanWriter {
    /// Job instances in order, each with what it needs, its matrix row, runner and backend, `if`,
    /// concurrency and timeout; then the workflows that do not take part and why.
    public static func text(_ plan: Plan) -> String {
        var out = "plan for '\(plan.event)'"
        if let ref = plan.ref { out += " on \(ref)" }
        if let sha = plan.sha { out += " at \(sha.prefix(12))" }
        let count = plan.instanceCount
        out += ": \(plan.workflows.count) workflow\(plan.workflows.count == 1 ? "" : "s"), \(count) job instance\(count == 1 ? "" : "s")\n"
        var n = 0
        for workflow in plan.workflows {
            out += "\n\(workflow.file) (\(workflow.name))\n"
            if let group = workflow.concurrencyGroup {
                out += "  concurrency: \(group)" + (workflow.cancelInProgress.map { " (cancel-in-progress: \($0))" } ?? "") + "\n"
            }
            for instance in workflow.instances {
                n += 1
                out += "  \(n). \(instance.id)\n"
                if instance.id != instance.job { out += "       job: \(instance.job)\n" }
                if !instance.needs.isEmpty { out += "       needs: \(instance.needs.joined(separator: ", "))\n" }
                if instance.matrixAtRunTime {
                    out += "       matrix: expanded at run time\n"
                } else if !instance.matrix.isEmpty {
                    out += "       matrix: " + instance.matrix.map { "\($0.key)=\($0.json)" }.joined(separator: ", ") + "\n"
                }
                if let uses = instance.uses {
                    out += "       uses: \(uses) (reusable workflow)\n"
                } else {
                    out += "       runs-on: \(instance.runsOn.isEmpty ? "(none)" : instance.runsOn.joined(separator: ", ")) -> \(instance.backend)\n"
                }
                if !instance.services.isEmpty { out += "       services: \(instance.services.joined(separator: ", ")) (docker)\n" }
                if let condition = instance.condition { out += "       if: \(condition)\n" }
                if let group = instance.concurrencyGroup {
                    out += "       concurrency: \(group)" + (instance.cancelInProgress.map { " (cancel-in-progress: \($0))" } ?? "") + "\n"
                }
                if instance.uses == nil { out += "       timeout: \(instance.timeoutMinutes) min\n" }
                if let c = instance.continueOnError { out += "       continue-on-error: \(c)\n" }
            }
        }
        if !plan.skipped.isEmpty {
            out += "\nnot taking part:\n"
            for skip in plan.skipped { out += "  \(skip.file) (\(skip.name)): \(skip.reason)\n" }
        }
        return out
    }

    /// The plan as pretty JSON (`schemaVersion` first).
    public static func json(_ plan: Plan) -> String {
        JSONText.pretty(value(plan)) + "\n"
    }

    static func value(_ plan: Plan) -> ExpressionValue {
        .object([
            ("schemaVersion", .number(Double(plan.schemaVersion))),
            ("event", .string(plan.event)),
            ("ref", plan.ref.map(ExpressionValue.string) ?? .null),
            ("sha", plan.sha.map(ExpressionValue.string) ?? .null),
            ("workflows", .array(plan.workflows.map { workflow in
                .object([
                    ("file", .string(workflow.file)),
                    ("name", .string(workflow.name)),
                    ("concurrencyGroup", workflow.concurrencyGroup.map(ExpressionValue.string) ?? .null),
                    ("cancelInProgress", workflow.cancelInProgress.map(ExpressionValue.string) ?? .null),
                    ("jobs", .array(workflow.instances.map(value))),
                ])
            })),
            ("skipped", .array(plan.skipped.map { .object([("file", .string($0.file)), ("name", .string($0.name)), ("reason", .string($0.reason))]) })),
        ])
    }

    static func value(_ i: JobInstance) -> ExpressionValue {
        func optional(_ s: String?) -> ExpressionValue { s.map(ExpressionValue.string) ?? .null }
        let matrix: ExpressionValue = .object(i.matrix.map { ($0.key, (try? JSONText.parse($0.json)) ?? .string($0.json)) })
        return .object([
            ("id", .string(i.id)), ("job", .string(i.job)), ("name", .string(i.name)),
            ("matrix", matrix), ("matrixAtRunTime", .bool(i.matrixAtRunTime)),
            ("needs", .array(i.needs.map(ExpressionValue.string))),
            ("runsOn", .array(i.runsOn.map(ExpressionValue.string))),
            ("backend", .string(i.backend)), ("container", optional(i.container)),
            ("services", .array(i.services.map(ExpressionValue.string))),
            ("if", optional(i.condition)), ("concurrencyGroup", optional(i.concurrencyGroup)),
            ("cancelInProgress", optional(i.cancelInProgress)), ("timeoutMinutes", .string(i.timeoutMinutes)),
            ("continueOnError", optional(i.continueOnError)), ("uses", optional(i.uses)),
            ("failFast", optional(i.failFast)), ("maxParallel", optional(i.maxParallel)),
        ])
    }
}

/// Renders the job graph: one node per job instance, one edge per dependency between instances (a job
/// that needs a matrix job depends on each of its rows).
public enum GraphWriter {
    /// Each instance with the instances it needs, in plan order.
    public static func text(_ plan: Plan) -> String {
        var out = TextLines()
        for (w, workflow) in plan.workflows.enumerated() {
            if w > 0 { out.append("\n") }
            out.append("\(workflow.name) (\(workflow.file))\n")
            let widths = workflow.instances.map { TextLines.width($0.id) }
            let width = min(48, widths.max() ?? 0)
            for (instance, idWidth) in zip(workflow.instances, widths) {
                out.append("  ")
                out.append(instance.id)
                if !instance.needs.isEmpty {
                    out.pad(max(1, width - idWidth + 1))
                    out.append("<- ")
                    for (i, need) in instance.needs.enumerated() {
                        if i > 0 { out.append(", ") }
                        out.append(need)
                    }
                }
                out.append("\n")
            }
        }
        if plan.workflows.isEmpty { out.append("no workflow takes part in '\(plan.event)'\n") }
        return out.text
    }

    /// Graphviz DOT: a cluster per workflow.
    public static func dot(_ plan: Plan) -> String {
        var out = "digraph gantry {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
        for (w, workflow) in plan.workflows.enumerated() {
            out += "  subgraph \"cluster_\(w)\" {\n    label=\(quote(workflow.name + " (" + workflow.file + ")"));\n"
            for instance in workflow.instances {
                out += "    \(quote(nodeID(w, instance.id))) [label=\(quote(instance.id))];\n"
            }
            out += "  }\n"
            for instance in workflow.instances {
                for need in instance.needs {
                    out += "  \(quote(nodeID(w, need))) -> \(quote(nodeID(w, instance.id)));\n"
                }
            }
        }
        return out + "}\n"
    }

    /// A Mermaid flowchart: a subgraph per workflow.
    public static func mermaid(_ plan: Plan) -> String {
        var out = "flowchart LR\n"
        for (w, workflow) in plan.workflows.enumerated() {
            var ids: [String: String] = [:]
            out += "  subgraph w\(w)[\(mermaidText(workflow.name))]\n"
            for (n, instance) in workflow.instances.enumerated() {
                let id = "w\(w)n\(n)"
                ids[instance.id] = id
                out += "    \(id)[\(mermaidText(instance.id))]\n"
            }
            out += "  end\n"
            for instance in workflow.instances {
                for need in instance.needs {
                    if let from = ids[need], let to = ids[instance.id] { out += "  \(from) --> \(to)\n" }
                }
            }
        }
        return out
    }

    /// Nodes and edges as JSON.
    public static func json(_ plan: Plan) -> String {
        let value = ExpressionValue.object([
            ("schemaVersion", .number(Double(plan.schemaVersion))),
            ("event", .string(plan.event)),
            ("workflows", .array(plan.workflows.map { workflow in
                .object([
                    ("file", .string(workflow.file)),
                    ("name", .string(workflow.name)),
                    ("nodes", .array(workflow.instances.map { .object([("id", .string($0.id)), ("job", .string($0.job))]) })),
                    ("edges", .array(workflow.instances.flatMap { instance in
                        instance.needs.map { ExpressionValue.object([("from", .string($0)), ("to", .string(instance.id))]) }
                    })),
                ])
            })),
        ])
        return JSONText.pretty(value) + "\n"
    }

    private static func nodeID(_ workflow: Int, _ id: String) -> String { "w\(workflow):\(id)" }

    private static func quote(_ s: String) -> String {
        "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    private static func mermaidText(_ s: String) -> String {
        "\"" + s.replacing("\"", with: "#quot;") + "\""
    }
}
