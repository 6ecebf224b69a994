public import WorkflowExpressions
import WorkflowModel

/// The pure rules `RunStateMachine` applies when a job becomes ready: how the results and outputs of a
/// matrix merge into `needs.<id>`, and what a job's `if` decides. No I/O, no clock.
public enum JobDecisions {
    /// One finished row of a needed job, in the order the rows finished.
    public struct FinishedRow: Sendable, Equatable {
        public var result: JobResult
        public var continueOnError: Bool
        public var outputs: [NamedValue]

        public init(result: JobResult, continueOnError: Bool = false, outputs: [NamedValue] = []) {
            self.result = result
            self.continueOnError = continueOnError
            self.outputs = outputs
        }
    }

    /// `needs.<id>.result` of a job from its rows: failure if any row failed (a failure under
    /// `continue-on-error` counts as success, as on GitHub), else cancelled if any was, else skipped if
    /// every row was, else success. A job with no finished rows (outside the plan) counts as success.
    public static func result(of rows: [FinishedRow]) -> JobResult {
        let results = rows.map { $0.result == .failure && $0.continueOnError ? .success : $0.result }
        if results.contains(.failure) { return .failure }
        if results.contains(.cancelled) { return .cancelled }
        if !results.isEmpty && results.allSatisfy({ $0 == .skipped }) { return .skipped }
        return .success
    }

    /// `needs.<id>.outputs` of a job from its rows in completion order: a later row's non-empty value
    /// replaces an earlier one's, as the runner merges matrix outputs.
    public static func outputs(of rows: [FinishedRow]) -> [NamedValue] {
        var merged: [NamedValue] = []
        for row in rows {
            for output in row.outputs where !output.value.isEmpty {
                merged.removeAll { $0.name == output.name }
                merged.append(output)
            }
        }
        return merged
    }

    /// The `needs` context of a job from what it needs.
    public static func needsContext(_ needs: [NeedResult]) -> ExpressionValue {
        .object(needs.map { need in
            (need.job, .object([
                ("result", .string(need.result.rawValue)),
                ("outputs", .object(need.outputs.map { ($0.name, .string($0.value)) })),
            ]))
        })
    }

    /// What a job's `if` decided.
    public enum Condition: Sendable, Equatable {
        case run
        /// `if` was false: skipped, with the line that says why.
        case skip(String)
        /// `if` was false after the run (or its workflow) was cancelled: cancelled, silently.
        case cancel
        /// The expression could not be evaluated: the job fails with this line.
        case fail(String)
    }

    /// Evaluates a job's `if` (default `success()`): the status functions look at every ancestor
    /// (`success()` is true when all succeeded and nothing was cancelled; `success(a, b)` looks at the
    /// named ones), `needs` holds the direct needs.
    /// - Parameters:
    ///   - contexts: `github`, `inputs`, `vars` of the job's workflow.
    ///   - ancestors: every job this one needs directly or indirectly, with its result.
    public static func condition(
        _ text: String?, contexts: ExpressionObject, needs: [NeedResult], ancestors: [(job: String, result: JobResult)],
        cancelled: Bool
    ) -> Condition {
        let relevantAll = ancestors
        let evaluation = EvaluationContext(
            contexts: Self.contexts(contexts, needs: needs),
            status: { function, ids in
                let relevant = ids.isEmpty ? relevantAll : relevantAll.filter { n in ids.contains { $0.lowercased() == n.job.lowercased() } }
                switch function {
                case .always: return true
                case .cancelled: return cancelled
                case .success: return !cancelled && relevant.allSatisfy { $0.result == .success }
                case .failure: return !cancelled && relevant.contains { $0.result == .failure }
                }
            })
        do {
            let runs = try IfCondition(text, options: ContextAvailability.jobIf).evaluate(in: evaluation, options: ContextAvailability.jobIf)
            if runs { return .run }
            return cancelled ? .cancel : .skip("skipped (if: \(text ?? "success()"))")
        } catch {
            return .fail("error: if: \(error)")
        }
    }

    /// How text without `${{ }}` is read.
    public enum Literal: Sendable {
        /// As the string it is (env values, `with:` inputs, names).
        case string
        /// As YAML reads a scalar: `true`/`false`, a number, else a string (`fail-fast`,
        /// `max-parallel`, `continue-on-error`, a concurrency group's `cancel-in-progress`).
        case scalar
    }

    /// The one way the executor evaluates a value as written: text without `${{ }}` is taken as
    /// `literal` says; text with expressions is evaluated as the runner does (every function of the
    /// runner, every context given; a template with text around its expressions is a string). Throws
    /// GitHub's message with the position.
    /// A mapping of strings (`env`, `with`, a container's `env`) evaluated, in order: a `${{ insert }}`
    /// key splices in the mapping its value evaluates to, as the runner's template evaluator does.
    static func strings(of entries: [MappingEntry], _ context: EvaluationContext) throws(ExpressionError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for entry in entries {
            let raw = entry.value.scalarText ?? ""
            if ExpressionTemplate.isInsertDirective(entry.key.value) {
                let value = try evaluate(raw, context)
                guard case .object(let object) = value else {
                    throw ExpressionError(.evaluation, "'${{ insert }}' expects a mapping, found \(value.kindName)", position: nil, expression: raw)
                }
                pairs += object.pairs.map { ($0.key, $0.value.stringValue) }
            } else {
                pairs.append((entry.key.value, try evaluate(raw, context).stringValue))
            }
        }
        return pairs
    }

    public static func evaluate(_ text: String, _ context: EvaluationContext, literal: Literal = .string) throws(ExpressionError) -> ExpressionValue {
        guard ExpressionTemplate.containsExpression(text) else {
            guard literal == .scalar else { return .string(text) }
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            let n = ExpressionNumber.parse(text)
            return n.isNaN ? .string(text) : .number(n)
        }
        let template: ExpressionTemplate
        do {
            template = try ExpressionTemplate.parse(text)
        } catch {
            throw ExpressionError(.parsing, error.message, position: error.offset, expression: text)
        }
        return try template.evaluate(in: context, options: .permissive)
    }

    /// A job-level setting as written, read as a scalar; nil when it cannot be evaluated.
    public static func value(_ text: String, _ context: EvaluationContext) -> ExpressionValue? {
        try? evaluate(text, context, literal: .scalar)
    }

    /// `github`, `inputs` and `vars` of a workflow with a row's `matrix` and `strategy` and, once its
    /// needs have finished, `needs`: what every job-level expression sees.
    public static func contexts(_ workflow: ExpressionObject, row: RunDefinition.Row? = nil, needs: [NeedResult]? = nil) -> ExpressionObject {
        ExpressionObject(
            workflow.pairs.map { ($0.key, $0.value) } + (row?.contexts ?? []) + (needs.map { [("needs", needsContext($0))] } ?? []))
    }

    /// A boolean setting: the string "true" or a truthy value. nil when absent or not evaluable.
    public static func truthy(_ text: String?, _ context: EvaluationContext) -> Bool? {
        guard let text, let value = value(text, context) else { return nil }
        if case .string(let s) = value { return s == "true" }
        return value.isTruthy
    }
}
