public import WorkflowExpressions
public import WorkflowModel

#if canImport(Glibc)
import Glibc
#endif

/// The expressions of a job's steps: names, env, booleans, timeouts, env layers.
extension JobRunner {
    // MARK: Helpers

    /// The same contexts with the status functions answering as for a cancelled job.
    static func cancelledView(_ context: EvaluationContext) -> EvaluationContext {
        var view = context
        view.status = { function, _ in function == .always || function == .cancelled }
        return view
    }

    func record(_ step: Step, outcome: JobResult, conclusion: JobResult, outputs: [(String, ExpressionValue)], into steps: inout [(String, ExpressionValue)]) {
        guard let id = step.id?.value else { return }
        steps.append((id, .object([
            ("outputs", .object(outputs)), ("outcome", .string(outcome.rawValue)), ("conclusion", .string(conclusion.rawValue)),
        ])))
    }

    func stepName(_ step: Step, index: Int) -> String {
        if let name = step.name?.value { return name }
        if let uses = step.uses?.value { return uses }
        if let run = step.run?.value { return "Run " + (run.split(separator: "\n").first.map(String.init) ?? "") }
        return "step \(index + 1)"
    }

    @discardableResult
    func evaluateEnvironment(
        _ environment: Environment?, _ contexts: ExpressionObject, into env: inout [(String, String)],
        masker: SecretMasker, say: (String) -> Void
    ) -> Bool {
        guard case .mapping(let entries)? = environment else { return true }
        for entry in entries {
            do {
                for (key, value) in try JobDecisions.strings(of: [entry], EvaluationContext(contexts: contexts)) {
                    env.removeAll { $0.0 == key }
                    env.append((key, value))
                }
            } catch {
                say("error: env '\(entry.key.value)': \(error)")
                return false
            }
        }
        return true
    }

    func evaluate(_ text: String, _ context: EvaluationContext) throws(ExpressionError) -> ExpressionValue {
        try JobDecisions.evaluate(text, context)
    }

    func evaluateBool(_ value: Located<BoolOrExpression>?, _ context: EvaluationContext) -> Bool? {
        switch value?.value {
        case .value(let b)?: return b
        case .expression(let e)?: return (try? evaluate(e, context))?.isTruthy
        case nil: return nil
        }
    }

    func minutes(_ value: Located<NumberOrExpression>?, default: Double?, context: EvaluationContext? = nil) -> Double? {
        // A limit of 0 or less, or one that rounded to infinity, is none (see WorkflowDecoder.timeout).
        switch value?.value {
        case .value(let n)?: return n > 0 && n.isFinite ? n : nil
        case .expression(let e)?:
            guard let context, let v = try? evaluate(e, context) else { return `default` }
            let n = v.numberValue
            if n.isNaN { return `default` }
            return n > 0 && n.isFinite ? n : nil
        case nil: return `default`
        }
    }

    func minutes(_ value: Located<NumberOrExpression>?, default: Double?) -> Double? {
        minutes(value, default: `default`, context: nil).map { $0 * 60 }
    }

    /// Name/value layers merged: a later layer's value wins; a name keeps its first position.
    public static func merge(_ layers: [[(String, String)]]) -> [(String, String)] {
        var index: [String: Int] = [:]
        var out: [(String, String)] = []
        for layer in layers {
            for (key, value) in layer {
                if let i = index[key] {
                    out[i].1 = value
                } else {
                    index[key] = out.count
                    out.append((key, value))
                }
            }
        }
        return out
    }

    static func hostPath(_ context: RunContext) -> String {
        context.hostEnvironment.last { $0.0 == "PATH" }?.1 ?? "/usr/local/bin:/usr/bin:/bin"
    }

    static func onPath(_ program: String, path: String) -> Bool {
        path.split(separator: ":").contains { access(String($0) + "/" + program, X_OK) == 0 }
    }
}
