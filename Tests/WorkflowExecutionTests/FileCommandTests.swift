import Testing
import WorkflowExecution

/// GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE / GITHUB_PATH as GitHub's runner reads them.
@Suite struct FileCommandTests {
    static func pairs(_ text: String) throws -> [String] {
        try FileCommands.keyValuePairs(text).map { "\($0.name)=\($0.value)" }
    }

    @Test func namesAndValues() throws {
        #expect(try Self.pairs("A=1\n\nB=\nC=x=y\n") == ["A=1", "B=", "C=x=y"])
        #expect(try Self.pairs("A=1") == ["A=1"])
        #expect(try Self.pairs("A=a<<b\n") == ["A=a<<b"])
    }

    @Test func heredocs() throws {
        #expect(try Self.pairs("JSON<<EOF\n{\n  \"a\": 1\n}\nEOF\nNEXT=2\n") == ["JSON={\n  \"a\": 1\n}", "NEXT=2"])
        #expect(try Self.pairs("EMPTY<<EOF\nEOF\n") == ["EMPTY="])
        #expect(try Self.pairs("A<<x=y\nvalue\nx=y") == ["A=value"])
        // CRLF files: as on GitHub's Linux runners the \r stays in lines (and in the delimiter).
        #expect(try Self.pairs("A<<EOF\r\nx\r\nEOF\r\nB=1\r\n") == ["A=x\r", "B=1\r"])
        // Only a line exactly equal to the delimiter ends the value.
        #expect(try Self.pairs("A<<EOF\n EOF\nEOF \nEOF\n") == ["A= EOF\nEOF "])
    }

    @Test(
        "malformed files say what is wrong",
        arguments: [
            ("JUST TEXT\n", "Invalid format 'JUST TEXT'"),
            ("=value\n", "Invalid format '=value'. Name must not be empty"),
            ("<<EOF\nx\nEOF\n", "Invalid format '<<EOF'. Name must not be empty and delimiter must not be empty"),
            ("A<<\nx\n", "Invalid format 'A<<'. Name must not be empty and delimiter must not be empty"),
            ("A<<EOF\nvalue\n", "Invalid value. Matching delimiter not found 'EOF'"),
            ("A<<EOF\nvalue", "Invalid value. EOF marker missing new line."),
        ])
    func malformed(text: String, message: String) {
        #expect(throws: FileCommands.Failure(message: message)) { try FileCommands.keyValuePairs(text) }
    }

    @Test func nodeOptionsCannotBeSetThroughGithubEnv() {
        #expect(throws: FileCommands.Failure(message: "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.")) {
            try FileCommands.environment("A=1\nNODE_OPTIONS=--inspect\n")
        }
    }

    @Test func pathEntriesAreNewestFirstAndMoveToTheFrontWhenAddedAgain() {
        var path = PrependPath()
        for entry in FileCommands.pathEntries("/opt/a\n\n/opt/b\r\n/opt/a\n") { path.add(entry) }
        #expect(path.added == ["/opt/b", "/opt/a"])
        #expect(path.path(original: "/usr/bin:/bin") == "/opt/a:/opt/b:/usr/bin:/bin")
        #expect(PrependPath().path(original: "/bin") == "/bin")
    }
}

/// Workflow commands on a step's standard output (semantics.md §8).
@Suite struct WorkflowCommandTests {
    @Test func parsesNamePropertiesAndData() throws {
        let command = try #require(WorkflowCommand.parse("  ::ERROR file=app.js,line=1,Col=5,title=A%3A B%2C C::Missing%0Asemicolon %2525"))
        #expect(command.name == "error")
        #expect(command[property: "file"] == "app.js")
        #expect(command[property: "COL"] == "5")
        #expect(command[property: "title"] == "A: B, C")
        #expect(command.data == "Missing\nsemicolon %25")
    }

    @Test(
        "lines that are not registered commands are plain output",
        arguments: ["hello", ":: not a command", "::unknown::x", "::error", "echo ::error::x"])
    func notCommands(line: String) {
        #expect(WorkflowCommand.parse(line) == nil)
    }

    @Test func everyRegisteredCommandParses() {
        for name in WorkflowCommand.registered {
            #expect(WorkflowCommand.parse("::\(name)::x")?.name == name)
        }
        #expect(WorkflowCommand.parse("::add-mask::s3cret")?.data == "s3cret")
        #expect(WorkflowCommand.parse("::set-output name=a::b")?[property: "name"] == "a")
    }

    @Test func stopCommandsUntilTheToken() {
        var reader = WorkflowCommandReader()
        let lines = ["::warning::one", "::stop-commands::pause-123", "::warning::two", "::pause-123::", "::warning::three"]
        let read = lines.map { reader.read($0) }
        #expect(read == [
            .command(WorkflowCommand(name: "warning", properties: [], data: "one")),
            .stopped(token: "pause-123"),
            .output("::warning::two"),
            .resumed,
            .command(WorkflowCommand(name: "warning", properties: [], data: "three")),
        ])
    }
}

/// Secrets never appear in output.
@Suite struct SecretMaskerTests {
    @Test func masksEveryOccurrenceAndMergesOverlaps() {
        var masker = SecretMasker()
        masker.add("hunter2")
        masker.add("ter2abc")
        #expect(masker.mask("pw=hunter2 and hunter2abc!") == "pw=*** and ***!")
        #expect(masker.mask("nothing here") == "nothing here")
    }

    @Test func multiLineSecretsAreMaskedLineByLine() {
        var masker = SecretMasker()
        masker.add("-----BEGIN KEY-----\nAbCdEf123\n-----END KEY-----")
        #expect(masker.mask("line: AbCdEf123") == "line: ***")
        #expect(masker.mask("-----BEGIN KEY-----\nAbCdEf123\n-----END KEY-----") == "***")
    }

    @Test func encodedFormsAreMaskedToo() {
        var masker = SecretMasker()
        masker.add("p@ss \"word\"")
        #expect(masker.mask("url=p%40ss%20%22word%22") == "url=***")
        #expect(masker.mask("{\"pw\":\"p@ss \\\"word\\\"\"}") == "{\"pw\":\"***\"}")
    }

    @Test func emptyValuesAreIgnored() {
        var masker = SecretMasker()
        masker.add("")
        masker.add("   ")
        #expect(masker.count == 0)
        #expect(masker.mask("abc") == "abc")
    }

    @Test func nonASCIISecrets() {
        var masker = SecretMasker()
        masker.add("pässwörd✓")
        #expect(masker.mask("x pässwörd✓ y") == "x *** y")
    }
}
