/// One event under `on:` and its configuration.
public struct Trigger: Hashable, Sendable, Codable {
    /// The event name, e.g. `push`, `pull_request`, `workflow_dispatch`.
    public var event: Located<String>
    public var branches: [Located<String>]?
    public var branchesIgnore: [Located<String>]?
    public var tags: [Located<String>]?
    public var tagsIgnore: [Located<String>]?
    public var paths: [Located<String>]?
    public var pathsIgnore: [Located<String>]?
    /// Activity types (`types:`).
    public var types: [Located<String>]?
    /// `workflow_run.workflows`.
    public var workflows: [Located<String>]?
    /// `image_version.names` and `.versions`.
    public var names: [Located<String>]?
    public var versions: [Located<String>]?
    /// `schedule` entries.
    public var schedules: [Schedule]
    /// `workflow_dispatch` and `workflow_call` inputs, in file order.
    public var inputs: [WorkflowInput]
    /// `workflow_call` outputs.
    public var outputs: [WorkflowCallOutput]
    /// `workflow_call` secrets.
    public var secrets: [WorkflowCallSecret]

    public init(event: Located<String>) {
        self.event = event
        self.schedules = []
        self.inputs = []
        self.outputs = []
        self.secrets = []
    }
}

/// One `schedule` entry.
public struct Schedule: Hashable, Sendable, Codable {
    public var cron: Located<String>
    /// An IANA time zone name; UTC when absent.
    public var timezone: Located<String>?

    public init(cron: Located<String>, timezone: Located<String>? = nil) {
        self.cron = cron
        self.timezone = timezone
    }
}

/// An input of `workflow_dispatch` or `workflow_call`.
public struct WorkflowInput: Hashable, Sendable, Codable {
    /// The declared type of an input.
    public enum InputType: String, Hashable, Sendable, Codable, CaseIterable {
        case string, boolean, number, choice, environment
    }

    public var id: Located<String>
    public var description: Located<String>?
    public var required: Bool
    public var defaultValue: ValueNode?
    public var type: Located<InputType>?
    /// `choice` options.
    public var options: [Located<String>]

    public init(id: Located<String>) {
        self.id = id
        self.required = false
        self.options = []
    }
}

/// An output of a reusable workflow (`on.workflow_call.outputs`).
public struct WorkflowCallOutput: Hashable, Sendable, Codable {
    public var id: Located<String>
    public var description: Located<String>?
    /// The expression giving the value, usually `${{ jobs.<id>.outputs.<name> }}`.
    public var value: Located<String>

    public init(id: Located<String>, description: Located<String>? = nil, value: Located<String>) {
        self.id = id
        self.description = description
        self.value = value
    }
}

/// A secret a reusable workflow accepts (`on.workflow_call.secrets`).
public struct WorkflowCallSecret: Hashable, Sendable, Codable {
    public var id: Located<String>
    public var description: Located<String>?
    public var required: Bool

    public init(id: Located<String>, description: Located<String>? = nil, required: Bool = false) {
        self.id = id
        self.description = description
        self.required = required
    }
}
