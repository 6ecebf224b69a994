import WorkflowExpressions

/// Evaluation at plan time: the contexts known before a job starts, and which contexts are not known yet.
struct PlanTimeEvaluation {
    var baseContexts: [(String, ExpressionValue)] = []
    /// Expanding a matrix at run time: `needs` is known.
    var runTime = false
    /// Planning the jobs of a called workflow: its `inputs` come from the call.
    var inputsLate = false

    func context(matrix: ExpressionValue, strategy: ExpressionValue) -> EvaluationContext {
        EvaluationContext(contexts: ExpressionObject(baseContexts + [("matrix", matrix), ("strategy", strategy)]))
    }

    /// Evaluates a template when it only uses contexts known at plan time; nil otherwise.
    func planTime(_ text: String, _ context: @autoclosure () -> EvaluationContext) -> ExpressionValue? {
        guard ExpressionTemplate.containsExpression(text) else { return .string(text) }
        let context = context()
        guard let template = try? ExpressionTemplate.parse(text) else { return nil }
        for segment in template.segments {
            if case .expression(let e, _) = segment {
                guard let syntax = try? ExpressionParser.parse(e, options: .permissive) else { return nil }
                var late: Set<String> = runTime ? ["steps", "job", "runner", "env", "secrets", "jobs"] : ["needs", "steps", "job", "runner", "env", "secrets", "jobs"]
                if inputsLate { late.insert("inputs") }
                if !syntax.namedContexts.isDisjoint(with: late) { return nil }
                if syntax.calledFunctions.contains("hashfiles") { return nil }
            }
        }
        return try? template.evaluate(in: context)
    }
}
