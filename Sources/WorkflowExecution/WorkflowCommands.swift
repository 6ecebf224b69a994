/// One workflow command found on a step's standard output (`::name key=value::data`).
public struct WorkflowCommand: Equatable, Sendable {
    /// The registered command names, compared ignoring case.
    public static let registered: Set<String> = [
        "debug", "notice", "warning", "error", "group", "endgroup", "add-mask", "stop-commands", "echo",
        "add-matcher", "remove-matcher", "set-output", "save-state", "set-env", "add-path",
    ]

    /// The command name, lowercased.
    public var name: String
    /// Properties with lowercased keys and unescaped values, in order.
    public var properties: [(key: String, value: String)]
    public var data: String

    public init(name: String, properties: [(key: String, value: String)], data: String) {
        self.name = name
        self.properties = properties
        self.data = data
    }

    public static func == (a: WorkflowCommand, b: WorkflowCommand) -> Bool {
        a.name == b.name && a.data == b.data && a.properties.map(\.key) == b.properties.map(\.key)
            && a.properties.map(\.value) == b.properties.map(\.value)
    }

    /// A property's value (keys compare ignoring case).
    public subscript(property key: String) -> String? {
        properties.first { $0.key == key.lowercased() }?.value
    }

    /// Parses a line as GitHub's runner does (`ActionCommand.TryParseV2`): leading whitespace is ignored;
    /// only registered names count; properties split on `,` then the first `=`.
    public static func parse(_ line: String) -> WorkflowCommand? {
        var message = Substring(line)
        while let first = message.first, first.isWhitespace { message.removeFirst() }
        guard message.hasPrefix("::") else { return nil }
        let rest = message.dropFirst(2)
        guard let end = rest.firstRange(of: "::") else { return nil }
        let info = rest[..<end.lowerBound]
        let space = info.firstIndex(of: " ")
        let name = String(info[..<(space ?? info.endIndex)]).lowercased()
        guard registered.contains(name) else { return nil }
        var properties: [(key: String, value: String)] = []
        if let space {
            let text = info[info.index(after: space)...].trimmingCharactersInSet()
            for part in text.split(separator: ",", omittingEmptySubsequences: true) {
                let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2, !pair[0].isEmpty else { continue }
                properties.append((String(pair[0]).lowercased(), unescapeProperty(String(pair[1]))))
            }
        }
        let data = unescapeData(String(rest[end.upperBound...]))
        return WorkflowCommand(name: name, properties: properties, data: data)
    }

    /// `%0D`, `%0A` and then `%25` in command data.
    public static func unescapeData(_ s: String) -> String {
        guard s.contains("%") else { return s }
        return s.replacing("%0D", with: "\r").replacing("%0A", with: "\n").replacing("%25", with: "%")
    }

    /// Property values also unescape `%3A` and `%2C`.
    public static func unescapeProperty(_ s: String) -> String {
        guard s.contains("%") else { return s }
        return s.replacing("%0D", with: "\r").replacing("%0A", with: "\n").replacing("%3A", with: ":")
            .replacing("%2C", with: ",").replacing("%25", with: "%")
    }
}

extension Substring {
    fileprivate func trimmingCharactersInSet() -> Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }
}

/// Reads a step's output lines in order, honouring `::stop-commands::TOKEN` … `::TOKEN::`.
public struct WorkflowCommandReader: Sendable {
    /// What a line turned out to be.
    public enum Line: Equatable, Sendable {
        /// Plain output.
        case output(String)
        case command(WorkflowCommand)
        /// Commands are off until `::token::`.
        case stopped(token: String)
        case resumed
    }

    private var stopToken: String?

    public init() {}

    public mutating func read(_ line: String) -> Line {
        if let token = stopToken {
            if line.trimmingWhitespace == "::\(token)::" {
                stopToken = nil
                return .resumed
            }
            return .output(line)
        }
        guard let command = WorkflowCommand.parse(line) else { return .output(line) }
        if command.name == "stop-commands" {
            guard !command.data.isEmpty else { return .output(line) }
            stopToken = command.data
            return .stopped(token: command.data)
        }
        return .command(command)
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
