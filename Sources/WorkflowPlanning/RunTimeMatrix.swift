public import WorkflowExpressions
public import WorkflowModel

extension Planner {
    /// Why a matrix could not be expanded when its job became ready.
    public struct RunTimeMatrixFailure: Error, Sendable, Equatable {
        public var message: String
    }

    /// The instances of a job whose matrix is known only at run time (`${{ fromJSON(needs.x.outputs.m) }}`,
    /// or keys, `include` or `exclude` given as expressions), now that what it needs has finished:
    /// the matrix evaluated with `contexts` (`github`, `inputs`, `vars` and `needs`) and expanded with
    /// the runner's MatrixBuilder rules and limit, one instance per row named as at plan time. An empty
    /// vector, a matrix with no vector, more than 256 rows or a value that is not an object fail as
    /// GitHub fails them ("Error when evaluating 'strategy' for job …"); a matrix whose `exclude`
    /// removes every row gives no instances.
    public static func rowsAtRunTime(of job: Job, in workflow: Workflow, request: PlanRequest, contexts: ExpressionObject) -> Result<[JobInstance], RunTimeMatrixFailure> {
        if let whole = job.strategy?.expression {
            return .failure(RunTimeMatrixFailure(
                message: "gantry does not evaluate a whole 'strategy' given as one expression (\(workflow.file):\(whole.location.line):\(whole.location.column)); give 'strategy.matrix' as the expression instead"))
        }
        var builder = WorkflowPlanBuilder(workflow: workflow, request: request)
        builder.evaluation.runTime = true
        builder.evaluation.baseContexts = contexts.pairs.map { ($0.key, $0.value) }
        var instances = builder.instances(of: job, needs: [])
        // A matrix of calls: each row calls the workflow, whose jobs come after the rows.
        if let uses = job.uses, !instances.contains(where: \.matrixAtRunTime) {
            let key = ReusableWorkflows.key(caller: workflow.file, uses: uses.value)
            guard let callee = request.calledWorkflows[key] else {
                return .failure(RunTimeMatrixFailure(message: request.calledWorkflowProblems[key] ?? "the reusable workflow '\(uses.value)' was not found"))
            }
            var called: [JobInstance] = []
            for i in instances.indices {
                instances[i].calledFile = callee.file
                called += builder.jobInstances(of: callee, selected: nil, call: (instances[i], [workflow.file, callee.file]))
            }
            instances += called
        }
        func failure(_ message: String, at location: SourceLocation?) -> Result<[JobInstance], RunTimeMatrixFailure> {
            let place = location.map { " \(workflow.file) (Line: \($0.line), Col: \($0.column)):" } ?? ""
            let sentence = message.prefix(1).uppercased() + message.dropFirst()
            return .failure(RunTimeMatrixFailure(message: "Error when evaluating 'strategy' for job '\(job.id.value)'.\(place) \(sentence)"))
        }
        if let error = builder.diagnostics.first(where: { $0.severity == .error }) {
            return failure(error.message, at: error.location)
        }
        if instances.contains(where: \.matrixAtRunTime) {
            return failure("the matrix uses contexts that are not known before the job runs", at: job.strategy?.location)
        }
        return .success(instances)
    }
}
