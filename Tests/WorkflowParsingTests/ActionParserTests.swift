import Testing
import WorkflowModel
import WorkflowParsing

/// `action.yml` metadata: the three kinds of `runs`, inputs and outputs, and errors with positions.
@Suite struct ActionParserTests {
    @Test func compositeActionWithInputsAndOutputs() throws {
        let result = ActionParser.parse("""
            name: greet
            author: someone
            branding: { icon: star }
            inputs:
              who:
                description: whom to greet
                default: world
              token:
                required: true
                default: ${{ github.token }}
                deprecationMessage: not needed any more
            outputs:
              said:
                value: ${{ steps.say.outputs.text }}
            runs:
              using: composite
              steps:
                - id: say
                  shell: bash
                  run: echo hi
                - uses: ./other
                  with: { a: 1 }
            """, file: "action.yml")
        #expect(result.diagnostics.isEmpty)
        let action = try #require(result.action)
        #expect(action.name == "greet")
        #expect(action.inputs.map(\.id.value) == ["who", "token"])
        #expect(action.inputs.map(\.defaultValue) == ["world", "${{ github.token }}"])
        #expect(action.inputs.map(\.required) == [false, true])
        #expect(action.inputs[1].deprecationMessage == "not needed any more")
        #expect(action.outputs.map(\.id.value) == ["said"])
        #expect(action.outputs[0].value?.value == "${{ steps.say.outputs.text }}")
        guard case .composite(let steps) = action.runs else {
            Issue.record("expected a composite action")
            return
        }
        #expect(steps.map { $0.id?.value } == ["say", nil])
        #expect(steps.map { $0.uses?.value } == [nil, "./other"])
        #expect(steps[1].with.map(\.key.value) == ["a"])
    }

    @Test func nodeAndDockerActions() throws {
        let node = ActionParser.parse("runs:\n  using: Node20\n  main: dist/index.js\n  pre: setup.js\n  pre-if: runner.os == 'Linux'\n  post: cleanup.js\n  post-if: failure()\n", file: "a.yml")
        #expect(node.action?.runs == .node(ActionMetadata.Node(
            using: "node20", main: "dist/index.js", pre: "setup.js", preIf: "runner.os == 'Linux'", post: "cleanup.js", postIf: "failure()")))
        let docker = ActionParser.parse(
            "runs:\n  using: docker\n  image: Dockerfile\n  entrypoint: /run.sh\n  args: ['--name', '${{ inputs.who }}']\n  env:\n    MODE: fast\n  pre-entrypoint: /pre.sh\n  post-entrypoint: /post.sh\n  post-if: failure()\n",
            file: "a.yml")
        #expect(docker.diagnostics.isEmpty)
        #expect(docker.action?.runs == .docker(ActionMetadata.Docker(
            image: "Dockerfile", entrypoint: "/run.sh", args: ["--name", "${{ inputs.who }}"], env: [("MODE", "fast")],
            preEntrypoint: "/pre.sh", postEntrypoint: "/post.sh", postIf: "failure()")))
        let bad = ActionParser.parse("runs:\n  using: docker\n  image: Dockerfile\n  args: --name\n", file: "a.yml")
        #expect(bad.diagnostics.map { $0.description } == ["a.yml:4:9: error: 'runs.args' must be a sequence of strings [type]"])
    }

    /// GitHub's action schema has no background steps, control steps or parallel groups.
    @Test func compositeStepsCannotRunInTheBackground() {
        let result = ActionParser.parse(
            "runs:\n  using: composite\n  steps:\n    - run: ./serve\n      shell: bash\n      background: true\n    - wait-all:\n",
            file: "action.yml")
        #expect(result.diagnostics.map(\.description) == [
            "action.yml:6:7: error: 'background' is not allowed in a composite action's steps: background steps, control steps and parallel groups belong to a workflow's jobs [unexpected-key]",
            "action.yml:7:7: error: 'wait-all' is not allowed in a composite action's steps: background steps, control steps and parallel groups belong to a workflow's jobs [unexpected-key]",
        ])
    }

    @Test func errorsHaveFileLineAndColumn() {
        let cases: [(String, String)] = [
            ("name: x\n", "a.yml:1:1: error: the action metadata is missing required key 'runs' [missing-key]"),
            ("runs:\n  using: node8\n  main: x.js\n", "a.yml:2:10: error: unknown 'runs.using' value 'node8': expected composite, docker or one of node12, node16, node20, node24 [action]"),
            ("runs:\n  using: node20\n", "a.yml:2:3: error: a JavaScript action needs 'runs.main' [missing-key]"),
            ("runs:\n  using: composite\n", "a.yml:2:3: error: a composite action needs 'runs.steps' [missing-key]"),
            ("runs:\n  main: x.js\n", "a.yml:2:3: error: 'runs' is missing required key 'using' (composite, node20, node24 or docker) [missing-key]"),
            ("runs: [1\n", "a.yml:2:1: error: could not parse as YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 7) [syntax]"),
            ("", "a.yml:1:1: error: action metadata is empty; it needs at least 'runs' [missing-key]"),
        ]
        for (text, expected) in cases {
            let result = ActionParser.parse(text, file: "a.yml")
            #expect(result.action == nil)
            #expect(result.diagnostics.map(\.description) == [expected], "for \(text.debugDescription)")
        }
    }
}
