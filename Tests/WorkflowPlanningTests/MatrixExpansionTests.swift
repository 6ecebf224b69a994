import Testing
import WorkflowExpressions
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

@Suite struct MatrixExpansionTests {
    static func expand(_ yaml: String) throws(MatrixExpansion.Failure) -> [String] {
        let text = "on: push\njobs:\n  j:\n    runs-on: x\n    strategy:\n      matrix:\n" + yaml + "    steps:\n      - run: echo\n"
        let result = WorkflowParser.parse(text, file: "m.yml")
        guard case .literal(let definition)? = result.workflow?.jobs.first?.strategy?.matrix else { return ["<no matrix>"] }
        let rows = try MatrixExpansion.expand(definition) { (node) throws(MatrixExpansion.Failure) -> ExpressionValue in node.expressionValue }
        return rows.map { row in "{" + row.map { "\($0.key): \($0.value.stringValue)" }.joined(separator: ", ") + "}" }
    }

    @Test func includeExampleFromGitHubDocs() throws {
        let rows = try Self.expand("""
                    fruit: [apple, pear]
                    animal: [cat, dog]
                    include:
                      - color: green
                      - color: pink
                        animal: cat
                      - fruit: apple
                        shape: circle
                      - fruit: banana
                      - fruit: banana
                        animal: cat

            """)
        #expect(rows == [
            "{fruit: apple, animal: cat, color: pink, shape: circle}",
            "{fruit: apple, animal: dog, color: green, shape: circle}",
            "{fruit: pear, animal: cat, color: pink}",
            "{fruit: pear, animal: dog, color: green}",
            "{fruit: banana}",
            "{fruit: banana, animal: cat}",
        ])
    }

    @Test func excludeExampleFromGitHubDocs() throws {
        let rows = try Self.expand("""
                    os: [macos-latest, windows-latest]
                    version: [12, 14, 16]
                    environment: [staging, production]
                    exclude:
                      - os: macos-latest
                        version: 12
                        environment: production
                      - os: windows-latest
                        version: 16

            """)
        #expect(rows.count == 9)
        #expect(!rows.contains("{os: macos-latest, version: 12, environment: production}"))
        #expect(rows.contains("{os: macos-latest, version: 12, environment: staging}"))
        #expect(!rows.contains { $0.hasPrefix("{os: windows-latest, version: 16") })
        #expect(rows.first == "{os: macos-latest, version: 12, environment: staging}")
    }

    @Test func matchingUsesExpressionEquality() throws {
        // Case-insensitive strings, '12' == 12, partial nested objects.
        let rows = try Self.expand("""
                    os: [Ubuntu]
                    node: ['12', '14']
                    cfg: [{a: 1, b: 2}]
                    exclude:
                      - node: 14
                    include:
                      - os: ubuntu
                        cfg: {a: 1}
                        extra: yes

            """)
        #expect(rows == ["{os: Ubuntu, node: 12, cfg: Object, extra: yes}"])
    }

    @Test func laterIncludesOverwriteExtrasOnlyOnExistingRows() throws {
        let rows = try Self.expand("""
                    os: [linux]
                    include:
                      - color: red
                      - color: blue
                      - os: mac
                        color: green

            """)
        #expect(rows == ["{os: linux, color: blue}", "{os: mac, color: green}"])
    }

    @Test func onlyIncludeRows() throws {
        #expect(try Self.expand("        include:\n          - a: 1\n          - a: 2\n") == ["{a: 1}", "{a: 2}"])
    }

    @Test(
        "matrix errors",
        arguments: [
            ("        os: [a]\n        exclude:\n          - platform: a\n", "matrix exclude key 'platform' does not match any key within the matrix"),
            ("        os: [a]\n        exclude:\n          - {}\n", "matrix exclude filter must not be empty"),
            ("        os: [a]\n        include:\n          - {}\n", "matrix include mapping does not contain any values"),
            ("        a: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n        b: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]\n",
             "the matrix produces 272 jobs; GitHub allows at most 256"),
        ])
    func errors(yaml: String, message: String) {
        do {
            _ = try Self.expand(yaml)
            Issue.record("expected: \(message)")
        } catch {
            #expect(error.message == message)
        }
    }
}
