/// One step of a job: a `run` script or a `uses` action (either may run in the background), a
/// control step for background steps (`wait`, `wait-all`, `cancel`), or a `parallel` group.
public struct Step: Hashable, Sendable, Codable {
    /// Where the step starts (its `-` item).
    public var location: SourceLocation
    public var id: Located<String>?
    public var condition: Located<String>?
    public var name: Located<String>?
    public var uses: Located<String>?
    public var run: Located<String>?
    public var shell: Located<String>?
    public var with: [MappingEntry]
    /// `with:` written as one expression yielding the inputs mapping, evaluated at run time.
    public var withExpression: Located<String>?
    public var env: Environment?
    public var continueOnError: Located<BoolOrExpression>?
    public var timeoutMinutes: Located<NumberOrExpression>?
    public var workingDirectory: Located<String>?
    /// `background: true`: the step starts and the job goes on to the next one at once.
    public var background: Bool
    /// `wait`, `wait-all` or `cancel`: the step controls background steps and runs no process.
    public var control: StepControl?
    /// `parallel:`: these steps run at once, and the group ends when all of them have.
    public var parallel: [Step]?

    public init(at location: SourceLocation) {
        self.location = location
        self.with = []
        self.background = false
    }

    /// The step and, for a `parallel` group, the steps in it: every step that runs a script or an action.
    public var flattened: [Step] { parallel ?? [self] }
}

/// What a control step does to the job's background steps.
public enum StepControl: Hashable, Sendable, Codable {
    /// `wait: id` or `wait: [ids]`: until those steps have finished.
    case wait([Located<String>])
    /// `wait-all`: until every background step started so far has finished.
    case waitAll
    /// `cancel: id`: stop that background step.
    case cancel(Located<String>)

    /// The key that makes a step this kind of control step.
    public var key: String {
        switch self {
        case .wait: "wait"
        case .waitAll: "wait-all"
        case .cancel: "cancel"
        }
    }

    /// The step ids it names.
    public var targets: [Located<String>] {
        switch self {
        case .wait(let ids): ids
        case .waitAll: []
        case .cancel(let id): [id]
        }
    }
}
