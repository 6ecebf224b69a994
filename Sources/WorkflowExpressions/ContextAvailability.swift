/// Which contexts and functions each workflow key may use (GitHub's workflow schema and docs;
/// semantics.md §11). Names are lowercase.
public enum ContextAvailability {
    private static func options(_ contexts: [String], _ functions: [String: FunctionSignature] = [:]) -> ParseOptions {
        ParseOptions(contexts: Set(contexts), functions: functions)
    }

    private static let stepContexts = [
        "env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "steps", "strategy", "vars",
    ]

    /// `run-name`, workflow `concurrency`, `on.workflow_call.inputs.*.default`.
    public static let workflowLevel = options(["github", "inputs", "vars"])
    /// Workflow `env`.
    public static let workflowEnv = options(["github", "inputs", "secrets", "vars"])
    /// `on.workflow_call.outputs.*.value`.
    public static let workflowCallOutput = options(["github", "inputs", "jobs", "vars"])
    /// `jobs.<id>.if`.
    public static let jobIf = options(["github", "inputs", "needs", "vars"], FunctionSignature.jobStatus)
    /// `jobs.<id>.strategy`.
    public static let jobStrategy = options(["github", "inputs", "needs", "vars"])
    /// `name`, `runs-on`, `concurrency`, `container`, `services`, `continue-on-error`, `environment`,
    /// `timeout-minutes` of a job, and `with` of a reusable-workflow call.
    public static let jobSettings = options(["github", "inputs", "matrix", "needs", "strategy", "vars"])
    /// `jobs.<id>.env` and `jobs.<id>.secrets.*`.
    public static let jobEnv = options(["github", "inputs", "matrix", "needs", "secrets", "strategy", "vars"])
    /// `jobs.<id>.defaults.run`.
    public static let jobDefaultsRun = options(["env", "github", "inputs", "matrix", "needs", "strategy", "vars"])
    /// `credentials` of a job or service container.
    public static let containerCredentials = options(["env", "github", "inputs", "matrix", "needs", "secrets", "strategy", "vars"])
    /// `env` of a job or service container.
    public static let containerEnv = options(["env", "github", "inputs", "job", "matrix", "needs", "runner", "secrets", "strategy", "vars"])
    /// `jobs.<id>.steps[*].if`.
    public static let stepIf = options(
        ["env", "github", "inputs", "job", "matrix", "needs", "runner", "steps", "strategy", "vars"],
        FunctionSignature.stepStatus.merging(FunctionSignature.hashFiles) { a, _ in a })
    /// `name`, `run`, `env`, `with`, `working-directory`, `continue-on-error`, `timeout-minutes` of a step.
    public static let step = options(stepContexts, FunctionSignature.hashFiles)
    /// `jobs.<id>.outputs.*`.
    public static let jobOutputs = options(stepContexts)
    /// `jobs.<id>.environment.url`.
    public static let environmentURL = options(["env", "github", "inputs", "job", "matrix", "needs", "runner", "steps", "strategy", "vars"])
}
