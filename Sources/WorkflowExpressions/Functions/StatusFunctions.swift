extension Evaluator {
    /// `success()`, `failure()`, `cancelled()` and `always()`, answered by the job-status hook.
    mutating func statusFunction(_ name: String, _ args: [ExpressionSyntax]) throws(ExpressionError) -> ExpressionValue {
        var ids: [String] = []
        for arg in args { ids.append(try eval(arg).stringValue) }
        let function = StatusFunction(rawValue: name)!
        if function == .always { return .bool(true) }
        guard let hook = context.status else {
            throw failure("\(name)() is only available in 'if' conditions while a workflow runs")
        }
        return .bool(hook(function, ids))
    }
}
