/// How a `run` step's script is started, from its `shell:` (semantics.md §6, GitHub's shell table).
public struct ShellInvocation: Equatable, Sendable {
    /// The program and its arguments, the script path already in place of `{0}`.
    public var arguments: [String]
    /// The script file's extension (`.sh`, `.py`, `.ps1`), empty for a custom shell.
    public var fileExtension: String
    /// Text put around the script (PowerShell's error preference and exit code handling).
    public var prologue: String = ""
    public var epilogue: String = ""

    /// A shell that cannot be used, with the reason.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }

        public init(message: String) {
            self.message = message
        }
    }

    /// Resolves `shell` (nil: the default) for a script at `scriptPath`. `isAvailable` tells whether a
    /// program is on `PATH` (the default shell is `bash -e {0}`, or `sh -e {0}` without bash).
    public static func resolve(
        _ shell: String?, scriptPath: String, isAvailable: (String) -> Bool
    ) throws(Failure) -> ShellInvocation {
        switch shell?.trimmingSpaces {
        case nil, "":
            return isAvailable("bash")
                ? ShellInvocation(arguments: ["bash", "-e", scriptPath], fileExtension: ".sh")
                : ShellInvocation(arguments: ["sh", "-e", scriptPath], fileExtension: ".sh")
        case "bash":
            return ShellInvocation(arguments: ["bash", "--noprofile", "--norc", "-eo", "pipefail", scriptPath], fileExtension: ".sh")
        case "sh":
            return ShellInvocation(arguments: ["sh", "-e", scriptPath], fileExtension: ".sh")
        case "python":
            // GitHub's images have `python`; a host may only have `python3`.
            let program = isAvailable("python") || !isAvailable("python3") ? "python" : "python3"
            return ShellInvocation(arguments: [program, scriptPath], fileExtension: ".py")
        case "pwsh", "powershell":
            let program = shell!.trimmingSpaces
            return ShellInvocation(
                arguments: [program, "-command", ". '\(scriptPath)'"], fileExtension: ".ps1",
                prologue: "$ErrorActionPreference = 'stop'\n",
                epilogue: "\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }\n")
        case "cmd":
            throw Failure(message: "shell 'cmd' exists only on Windows runners")
        case let custom?:
            guard custom.contains("{0}") else {
                throw Failure(message: "custom shell '\(custom)' must contain '{0}' where the script path goes, e.g. 'perl {0}'")
            }
            let words = try splitWords(custom)
            return ShellInvocation(arguments: words.map { $0.replacing("{0}", with: scriptPath) }, fileExtension: "")
        }
    }

    /// Splits a command line into words: whitespace (newlines too) separates, single and double quotes
    /// group, a backslash outside quotes escapes the next character.
    static func splitWords(_ text: String) throws(Failure) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in text {
            if escaped {
                // A backslash outside quotes takes the next character literally; before a newline it
                // continues the line.
                escaped = false
                if c != "\n" {
                    current.append(c)
                    inWord = true
                }
            } else if c == "\\" && quote == nil {
                escaped = true
            } else if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" || c == "\n" || c == "\r" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { throw Failure(message: "unterminated quote in shell '\(text)'") }
        if inWord { words.append(current) }
        return words
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
