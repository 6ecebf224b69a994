/// The command lines people run most — `--version`, `validate`, `list`, `graph` — read without
/// ArgumentParser.
///
/// ArgumentParser finds a command's options through `Mirror` and dynamic casts, and builds each
/// option's name sets; in a binary this size each first cast scans every protocol conformance record
/// (about 12,000), and that cost about 3 ms of every start (bench/startup.sh), more than validating a
/// workflow does. This reader makes the very requests the commands make from ArgumentParser's values
/// (`Validate.Request`, …), for plain spellings only, and checks them as the options' `validate()`
/// does. Anything else — help, completion, `--`, a short option with its value attached, an option
/// or value it does not know, a line those checks refuse — gives nil, and ArgumentParser reads the
/// whole line as before, so usage, help and every error message stay its own.
/// `FastCommandLineTests` holds both readers to the same requests on the same lines.
enum FastCommandLine {
    enum Parsed: Equatable {
        case version
        case validate(GantryCommand.Validate.Request)
        case list(GantryCommand.List.Request)
        case graph(GantryCommand.Graph.Request)
    }

    static func parse(_ arguments: [String]) -> Parsed? {
        guard let first = arguments.first else { return nil }
        if arguments == ["--version"] { return .version }
        var reader = Reader(arguments.dropFirst())
        switch first {
        case "validate": return reader.validate().map(Parsed.validate)
        case "list": return reader.list().map(Parsed.list)
        case "graph": return reader.graph().map(Parsed.graph)
        default: return nil
        }
    }

    /// Runs what `parse` read, as the command's own `run()` would.
    static func run(_ parsed: Parsed) throws {
        switch parsed {
        case .version: FileSystem.write(GantryCommand.version + "\n", to: 1)
        case .validate(let request): try GantryCommand.Validate.perform(request)
        case .list(let request): GantryCommand.List.perform(request)
        case .graph(let request): GantryCommand.Graph.perform(request)
        }
    }

    /// Options as ArgumentParser spells them: `--name value`, `--name=value`, `-n value`. A positional
    /// argument never starts with `-`; an option that takes one value and is given twice, or a value
    /// that starts with `-`, is left to ArgumentParser.
    private struct Reader {
        var rest: ArraySlice<String>
        var positional: [String] = []
        var workflowPaths: [String] = []
        var directory: String?
        /// Single-value options already given. An array, as every collection here: the first use of
        /// a Set or Dictionary type instantiates its metadata, a conformance scan each (bench/startup.sh).
        var seen: [String] = []

        init(_ rest: ArraySlice<String>) { self.rest = rest }

        /// The next option with its attached value (`--name=value`); positional arguments on the way
        /// are collected. Nil at the end.
        mutating func nextOption() -> (name: String, attached: String?)? {
            while let argument = rest.popFirst() {
                guard argument.hasPrefix("-"), argument != "-" else {
                    positional.append(argument)
                    continue
                }
                if argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") {
                    return (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
                }
                return (argument, nil)
            }
            return nil
        }

        /// The value of an option that takes one; nil when it is missing or looks like an option.
        mutating func value(_ attached: String?) -> String? {
            if let attached { return attached }
            guard let value = rest.popFirst(), !value.hasPrefix("-") else { return nil }
            return value
        }

        /// The value of an option that takes one value once (`key` names it across its spellings).
        mutating func single(_ key: String, _ attached: String?) -> String? {
            guard !seen.contains(key) else { return nil }
            seen.append(key)
            return value(attached)
        }

        /// Reads `-W` and `-C`: true when the option was one of them, nil when its value is unusable.
        mutating func workflowOption(_ name: String, _ attached: String?) -> Bool? {
            switch name {
            case "-W", "--workflows":
                guard let v = value(attached) else { return nil }
                workflowPaths.append(v)
            case "-C", "--directory":
                guard let v = single("directory", attached) else { return nil }
                directory = v
            default: return false
            }
            return true
        }

        func selection() -> WorkflowSelection? {
            let selection = WorkflowSelection(workflows: workflowPaths, directory: directory)
            return (try? selection.check()) == nil ? nil : selection
        }

        mutating func validate() -> GantryCommand.Validate.Request? {
            var noWarnings = false
            var format = DiagnosticFormat.text
            while let (name, attached) = nextOption() {
                guard let handled = workflowOption(name, attached) else { return nil }
                if handled { continue }
                switch name {
                case "--no-warnings" where attached == nil && !seen.contains(name):
                    seen.append(name)
                    noWarnings = true
                case "--format":
                    guard let v = single(name, attached), let f = DiagnosticFormat(rawValue: v) else { return nil }
                    format = f
                default: return nil
                }
            }
            guard let selection = selection() else { return nil }
            return GantryCommand.Validate.Request(selection: selection, noWarnings: noWarnings, format: format, paths: positional)
        }

        mutating func list() -> GantryCommand.List.Request? {
            var format = OutputFormat.text
            while let (name, attached) = nextOption() {
                guard let handled = workflowOption(name, attached) else { return nil }
                if handled { continue }
                guard name == "--format", let v = single(name, attached), let f = OutputFormat(rawValue: v) else { return nil }
                format = f
            }
            guard positional.isEmpty, let selection = selection() else { return nil }
            return GantryCommand.List.Request(selection: selection, format: format)
        }

        mutating func graph() -> GantryCommand.Graph.Request? {
            var format = GantryCommand.Graph.Format.text
            var plan = PlanSelection()
            while let (name, attached) = nextOption() {
                guard let handled = workflowOption(name, attached) else { return nil }
                if handled { continue }
                switch name {
                case "--format":
                    guard let v = single(name, attached), let f = GantryCommand.Graph.Format(rawValue: v) else { return nil }
                    format = f
                case "-e", "--eventpath":
                    guard let v = single("eventpath", attached) else { return nil }
                    plan.eventPath = v
                case "--input", "-j", "--job", "--matrix", "-P", "--platform", "--var":
                    guard let v = value(attached) else { return nil }
                    switch name {
                    case "--input": plan.inputs.append(v)
                    case "-j", "--job": plan.jobs.append(v)
                    case "--matrix": plan.matrix.append(v)
                    case "-P", "--platform": plan.platforms.append(v)
                    default: plan.vars.append(v)
                    }
                default: return nil
                }
            }
            guard positional.count <= 1, let selection = selection() else { return nil }
            plan.event = positional.first ?? "push"
            guard (try? plan.check()) != nil else { return nil }
            return GantryCommand.Graph.Request(selection: selection, plan: plan, format: format)
        }
    }
}
