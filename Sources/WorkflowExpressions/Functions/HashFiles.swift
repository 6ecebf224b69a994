extension Evaluator {
    /// `hashFiles(patterns…)`, answered by the runner's hook (the executor computes it in the workspace).
    func hashFiles(_ args: [ExpressionValue]) throws(ExpressionError) -> ExpressionValue {
        guard let hook = context.hashFiles else {
            throw failure("hashFiles is only available while a job runs steps")
        }
        do {
            return .string(try hook(args.map(\.stringValue)))
        } catch {
            throw failure("hashFiles(\(args.map { "'\($0.stringValue)'" }.joined(separator: ", "))) failed: \(error)")
        }
    }
}
