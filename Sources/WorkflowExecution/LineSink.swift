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

    struct State {
        var reader = WorkflowCommandReader()
        var masker: SecretMasker
        var outputs: [(String, String)] = []
        var savedState: [(String, String)] = []
        /// Inside `::group::` … `::endgroup::` (groups do not nest: a new group ends the open one).
        var inGroup = false
        /// The step's last lines hidden in folded groups (at most `LineSink.foldedLimit`), shown if
        /// the step fails, and how many there were in all.
        var folded: [String] = []
        var foldedCount = 0

        init(masker: SecretMasker = SecretMasker()) { self.masker = masker }
    }

    init(masker: SecretMasker, verbose: Bool, instance: String, output: any RunOutput) {
        lock.withLock { $0.masker = masker }
        self.verbose = verbose
        self.instance = instance
        self.output = output
    }

    var finalMasker: SecretMasker { lock.withLock { $0.masker } }
    var legacyOutputs: [(String, String)] { lock.withLock { $0.outputs } }
    var legacyState: [(String, String)] { lock.withLock { $0.savedState } }

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
                let masked = state.masker.mask(text)
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
                    state.masker.add(command.data)
                    return nil
                case "debug": return verbose ? "debug: " + state.masker.mask(command.data) : nil
                case "notice", "warning", "error":
                    var location = ""
                    if let file = command[property: "file"] {
                        location = file
                        if let l = command[property: "line"] { location += ":" + l + (command[property: "col"].map { ":" + $0 } ?? "") }
                        location += ": "
                    }
                    let title = command[property: "title"].map { $0 + ": " } ?? ""
                    return state.masker.mask("\(location)\(command.name): \(title)\(command.data)")
                case "group":
                    state.inGroup = true
                    return "▸ " + state.masker.mask(command.data)
                case "endgroup":
                    state.inGroup = false
                    return nil
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
                    return "error: the `\(command.name)` command is disabled; write to $GITHUB_\(command.name == "set-env" ? "ENV" : "PATH") instead"
                default: return nil
                }
            }
        }
        guard let text else { return }
        if hidden { output.line(instance, text, to: .log) } else { output.line(instance, text) }
    }
}
