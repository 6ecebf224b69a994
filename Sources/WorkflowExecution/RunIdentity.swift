import Synchronization
/// Names one run in a `RunStore`: unique among the store's runs (`gantry run` uses the label its
/// containers carry; `gantry serve` its database's id).
public struct RunID: Hashable, Sendable, Codable, CustomStringConvertible {
    public var value: String

    public init(_ value: String) { self.value = value }

    public var description: String { value }
}

/// One job of a run, whatever its matrix: the planned workflow it belongs to (its index in the plan),
/// the chain of reusable-workflow calls that led to it (caller job ids, outermost first; empty for a
/// job of a workflow file itself) and its id under `jobs:`. Job ids are case-insensitive, as on GitHub:
/// `id` keeps the spelling of the workflow, equality ignores case.
public struct JobKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public let workflow: Int
    public let callPath: [String]
    public let id: String
    /// The call path and id folded to lower case, once: keys are compared and hashed very often.
    private let folded: String

    public init(workflow: Int, callPath: [String] = [], id: String) {
        self.workflow = workflow
        self.callPath = callPath
        self.id = id
        folded = (callPath + [id]).map { $0.lowercased() }.joined(separator: "\n")
    }

    public static func == (a: JobKey, b: JobKey) -> Bool { a.workflow == b.workflow && a.folded == b.folded }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(workflow)
        hasher.combine(folded)
    }

    private enum CodingKeys: String, CodingKey { case workflow, callPath, id }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            workflow: try container.decode(Int.self, forKey: .workflow), callPath: try container.decode([String].self, forKey: .callPath),
            id: try container.decode(String.self, forKey: .id))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(workflow, forKey: .workflow)
        try container.encode(callPath, forKey: .callPath)
        try container.encode(id, forKey: .id)
    }

    /// `0/build`, `1/call/inner`: for logs and tests.
    public var description: String { ([String(workflow)] + callPath + [id]).joined(separator: "/") }
}

/// One job instance of one run: a job and its matrix row (0 without a matrix; rows count in the
/// order the matrix expanded, before any `--matrix` filter, as `strategy.job-index` does).
public struct InstanceID: Hashable, Sendable, Codable, CustomStringConvertible {
    public var run: RunID
    public var job: JobKey
    public var row: Int

    public init(run: RunID, job: JobKey, row: Int = 0) {
        self.run = run
        self.job = job
        self.row = row
    }

    public var description: String { "\(run)/\(job)#\(row)" }
}

/// A named string value: a job's output, a variable.
public struct NamedValue: Hashable, Sendable, Codable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// What a job instance produced.
public struct JobOutcome: Sendable, Codable, Equatable {
    public var result: JobResult
    /// `jobs.<id>.outputs`, evaluated at the end of the job (empty values left out, as on GitHub).
    public var outputs: [NamedValue]
    /// The step summaries, masked, in step order.
    public var summary: String
    /// The job's `::error`, `::warning` and `::notice` annotations and failed steps, masked, in order.
    public var annotations: [Annotation]
    /// The job's steps as they finished (pre and post steps too), names masked.
    public var steps: [StepRecord]

    public init(result: JobResult, outputs: [NamedValue] = [], summary: String = "", annotations: [Annotation] = [], steps: [StepRecord] = []) {
        self.result = result
        self.outputs = outputs
        self.summary = summary
        self.annotations = annotations
        self.steps = steps
    }

    private enum CodingKeys: String, CodingKey { case result, outputs, summary, annotations, steps }

    /// Outcomes stored before annotations and steps were kept have none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        result = try c.decode(JobResult.self, forKey: .result)
        outputs = try c.decode([NamedValue].self, forKey: .outputs)
        summary = try c.decode(String.self, forKey: .summary)
        annotations = try c.decodeIfPresent([Annotation].self, forKey: .annotations) ?? []
        steps = try c.decodeIfPresent([StepRecord].self, forKey: .steps) ?? []
    }

    /// Annotations and steps are written only when there are some, so such an outcome reads as before.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(result, forKey: .result)
        try c.encode(outputs, forKey: .outputs)
        try c.encode(summary, forKey: .summary)
        if !annotations.isEmpty { try c.encode(annotations, forKey: .annotations) }
        if !steps.isEmpty { try c.encode(steps, forKey: .steps) }
    }
}

/// One step of a job as it ended: its name, its outcome before `continue-on-error` and its conclusion
/// after, and its seconds.
public struct StepRecord: Sendable, Codable, Equatable {
    public var name: String
    public var outcome: JobResult
    public var conclusion: JobResult
    public var seconds: Double

    public init(name: String, outcome: JobResult, conclusion: JobResult, seconds: Double) {
        self.name = name
        self.outcome = outcome
        self.conclusion = conclusion
        self.seconds = seconds
    }
}

/// A job's output that also keeps its finished steps, for its outcome.
final class StepRecorder: RunOutput {
    private let output: any RunOutput
    private let finished = Mutex<[StepRecord]>([])

    init(_ output: any RunOutput) { self.output = output }

    func line(_ instance: String, _ text: String) { output.line(instance, text) }

    func line(_ instance: String, _ text: String, to destination: OutputDestination) { output.line(instance, text, to: destination) }

    func event(_ event: RunEvent) {
        output.event(event)
        if case .stepFinished(_, let step, let outcome, let conclusion, let seconds) = event {
            finished.withLock { $0.append(StepRecord(name: step, outcome: outcome, conclusion: conclusion, seconds: seconds)) }
        }
    }

    var steps: [StepRecord] { finished.withLock { $0 } }
}

/// An annotation, as GitHub shows it on a run and beside a file's line: `::error file=…,line=…::`.
public struct Annotation: Sendable, Codable, Equatable {
    public enum Level: String, Sendable, Codable { case notice, warning, error }

    public var level: Level
    public var message: String
    public var title: String?
    public var file: String?
    public var line: Int?
    public var column: Int?

    public init(level: Level, message: String, title: String? = nil, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.level = level
        self.message = message
        self.title = title
        self.file = file
        self.line = line
        self.column = column
    }
}

/// A job's annotations as its steps (background ones too) make them, within GitHub's limits: 10 errors
/// and 10 warnings a step, 50 annotations a job; more are left out (the lines stay in the log).
final class AnnotationLog: Sendable {
    static let perStep = 10
    static let perJob = 50

    private let all = Mutex<[Annotation]>([])

    /// Adds one unless the job has its 50; `counted` is the step's own count of that level so far.
    func add(_ annotation: Annotation, counted: Int) {
        guard annotation.level == .notice || counted < Self.perStep else { return }
        all.withLock { all in
            if all.count < Self.perJob { all.append(annotation) }
        }
    }

    var annotations: [Annotation] { all.withLock { $0 } }
}

/// What a job sees of one job it needs: `needs.<id>.result` and `needs.<id>.outputs`.
public struct NeedResult: Sendable, Codable, Equatable {
    /// The id as the `needs:` list spells it (the key of the `needs` context).
    public var job: String
    public var result: JobResult
    public var outputs: [NamedValue]

    public init(job: String, result: JobResult, outputs: [NamedValue] = []) {
        self.job = job
        self.result = result
        self.outputs = outputs
    }
}
