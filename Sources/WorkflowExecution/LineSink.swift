public import WorkflowExpressions
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Turns a step's output lines into console lines and workflow-command effects.
final class LineSink: Sendable {
    private let lock = Mutex<State>(State())
    private let verbose: Bool
    private let instance: String
    private let output: any RunOutput
    /// `ACTIONS_ALLOW_UNSECURE_COMMANDS` is true: `set-env` and `add-path` work.
    private let allowUnsecure: Bool

    struct State {
        var reader = WorkflowCommandReader()
        var outputs: [(String, String)] = []
        var savedState: [(String, String)] = []
        /// Inside `::group::` … `::endgroup::` (groups do not nest: a new group ends the open one).
        var inGroup = false
        /// The step's last lines hidden in folded groups (at most `LineSink.foldedLimit`), shown if
        /// the step fails, and how many there were in all.
        var folded: [String] = []
        var foldedCount = 0
        /// `set-env` and `add-path` (when allowed), in order.
        var setEnv: [(String, String)] = []
        var addedPaths: [String] = []
        /// A command failed (the runner fails the step then).
        var commandFailed = false
        /// The step's annotations so far, by level (GitHub keeps 10 errors and 10 warnings a step).
        var annotated: [Annotation.Level: Int] = [:]

    }

    /// The job's masks: an `::add-mask::` here masks every step's lines from now on.
    private let masks: MaskRegistry
    /// The job's annotations, when they are kept.
    private let annotations: AnnotationLog?

    init(masks: MaskRegistry, verbose: Bool, instance: String, output: any RunOutput, allowUnsecure: Bool = false, annotations: AnnotationLog? = nil) {
        self.masks = masks
        self.annotations = annotations
        self.allowUnsecure = allowUnsecure
        self.verbose = verbose
        self.instance = instance
        self.output = output
    }

    var legacyOutputs: [(String, String)] { lock.withLock { $0.outputs } }
    var legacyState: [(String, String)] { lock.withLock { $0.savedState } }
    /// What `set-env` and `add-path` asked for, and whether a command failed the step.
    var unsecure: (env: [(String, String)], paths: [String], failed: Bool) { lock.withLock { ($0.setEnv, $0.addedPaths, $0.commandFailed) } }

    static let foldedLimit = 1000

    /// Prints the lines folded away in groups, for a step that did not succeed.
    func unfoldAfterFailure() {
        let (folded, count) = lock.withLock { ($0.folded, $0.foldedCount) }
        guard !folded.isEmpty else { return }
        let which = count > folded.count ? "the last \(folded.count) of \(count) lines (all are in the run's log)" : "output"
        output.line(instance, "▾ \(which) folded in groups, shown because the step did not succeed:", to: .console)
        for text in folded { output.line(instance, text, to: .console) }
    }

    func handle(_ line: String) {
        var hidden = false
        let text: String? = lock.withLock { state in
            switch state.reader.read(line) {
            case .output(let text):
                let masked = masks.mask(text)
                // Groups fold unless --verbose: their lines go to the log only.
                if state.inGroup && !verbose {
                    if state.folded.count == Self.foldedLimit { state.folded.removeFirst(Self.foldedLimit / 2) }
                    state.folded.append(masked)
                    state.foldedCount += 1
                    hidden = true
                }
                return masked
            case .stopped, .resumed: return nil
            case .command(let command):
                switch command.name {
                case "add-mask":
                    masks.add(command.data)
                    return nil
                case "debug": return verbose ? "debug: " + masks.mask(command.data) : nil
                case "notice", "warning", "error":
                    var location = ""
                    if let file = command[property: "file"] {
                        location = file
                        if let l = command[property: "line"] { location += ":" + l + (command[property: "col"].map { ":" + $0 } ?? "") }
                        location += ": "
                    }
                    let title = command[property: "title"].map { $0 + ": " } ?? ""
                    if let annotations, let level = Annotation.Level(rawValue: command.name) {
                        annotations.add(
                            Annotation(
                                level: level, message: masks.mask(command.data), title: command[property: "title"].map(masks.mask),
                                file: command[property: "file"].map(masks.mask), line: command[property: "line"].flatMap { Int($0) },
                                column: command[property: "col"].flatMap { Int($0) }),
                            counted: state.annotated[level, default: 0])
                        state.annotated[level, default: 0] += 1
                    }
                    return masks.mask("\(location)\(command.name): \(title)\(command.data)")
                case "group":
                    state.inGroup = true
                    return RunHistory.groupStart + masks.mask(command.data)
                case "endgroup":
                    // The log marks where a group ends (a page folds it there); the console does not.
                    let open = state.inGroup
                    state.inGroup = false
                    hidden = true
                    return open ? RunHistory.groupEnd : nil
                case "echo": return nil
                case "set-output":
                    if let name = command[property: "name"] {
                        state.outputs.removeAll { $0.0 == name }
                        state.outputs.append((name, command.data))
                    }
                    return "warning: the `set-output` command is deprecated; write to $GITHUB_OUTPUT instead"
                case "save-state":
                    // Still honoured (actions built with @actions/core before 1.10 use it), with a warning.
                    if let name = command[property: "name"] {
                        state.savedState.removeAll { $0.0 == name }
                        state.savedState.append((name, command.data))
                    }
                    return "warning: the `save-state` command is deprecated; write to $GITHUB_STATE instead"
                case "set-env", "add-path":
                    // The runner's SetEnvCommandExtension and AddPathCommandExtension: disabled unless
                    // ACTIONS_ALLOW_UNSECURE_COMMANDS is true, and then a failure of the step.
                    guard allowUnsecure else {
                        state.commandFailed = true
                        return masks.mask(
                            "error: Unable to process command '\(line)' successfully: the `\(command.name)` command is disabled. Please upgrade to using "
                                + "Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`.")
                    }
                    if command.name == "add-path" {
                        guard !command.data.isEmpty else {
                            state.commandFailed = true
                            return "error: Unable to process command '\(masks.mask(line))' successfully: the path is empty"
                        }
                        state.addedPaths.append(command.data)
                        return nil
                    }
                    guard let name = command[property: "name"], !name.isEmpty else {
                        state.commandFailed = true
                        return "error: Unable to process command '\(masks.mask(line))' successfully: Required field 'name' is missing in ##[set-env] command."
                    }
                    if name.uppercased() == "NODE_OPTIONS" { return "error: Can't update NODE_OPTIONS environment variable using ::set-env:: command." }
                    state.setEnv.removeAll { $0.0 == name }
                    state.setEnv.append((name, command.data))
                    return nil
                default: return nil
                }
            }
        }
        guard let text else { return }
        if hidden { output.line(instance, text, to: .log) } else { output.line(instance, text) }
    }
}
