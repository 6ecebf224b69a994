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
    public var workflow: Int
    public var callPath: [String]
    public var id: String

    public init(workflow: Int, callPath: [String] = [], id: String) {
        self.workflow = workflow
        self.callPath = callPath
        self.id = id
    }

    public static func == (a: JobKey, b: JobKey) -> Bool {
        a.workflow == b.workflow && a.callPath.map { $0.lowercased() } == b.callPath.map { $0.lowercased() }
            && a.id.lowercased() == b.id.lowercased()
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(workflow)
        for caller in callPath { hasher.combine(caller.lowercased()) }
        hasher.combine(id.lowercased())
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

    public init(result: JobResult, outputs: [NamedValue] = [], summary: String = "") {
        self.result = result
        self.outputs = outputs
        self.summary = summary
    }
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
