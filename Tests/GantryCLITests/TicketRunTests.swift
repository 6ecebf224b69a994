import Foundation
import Testing
import _GantryTestSupport

/// A job ticket carries everything its job needs: run again in a second process (`gantry _job`), each
/// ticket `gantry run --ticket-dir` wrote gives the outcome the run got in-process, byte for byte,
/// and no ticket holds a secret's value.
@Suite(.ownThread) struct TicketRunTests {
    static let workflow = """
        on:
          workflow_dispatch:
            inputs:
              greeting:
                default: hello
        jobs:
          a:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                n: [1, 2]
            outputs:
              v: ${{ steps.s.outputs.v }}
            steps:
              - id: s
                run: |
                  echo "v=row-${{ matrix.n }}-${{ inputs.greeting }}-${{ vars.V }}-$FROM_ENV-${{ github.event_name }}" >> "$GITHUB_OUTPUT"
                  echo "token is ${{ secrets.TOKEN }}"
                  echo "summary of row ${{ strategy.job-index }}" >> "$GITHUB_STEP_SUMMARY"
          b:
            needs: a
            runs-on: ubuntu-latest
            outputs:
              w: ${{ steps.t.outputs.w }}
            steps:
              - id: t
                run: echo "w=${{ needs.a.outputs.v }}/${{ needs.a.result }}" >> "$GITHUB_OUTPUT"
        """

    @Test func aTicketRunInASecondProcessGivesTheSameOutcome() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        let tickets = scratch.url.appendingPathComponent("tickets")
        // One job at a time: the matrix rows finish in order, so their merged output is row 2's.
        let environment = ["TOKEN": "s3cret-value"]
        let run = try scratch.run(
            ["workflow_dispatch", "--input", "greeting=Mona", "-s", "TOKEN", "--var", "V=x", "--env", "FROM_ENV=e", "--ticket-dir", tickets.path, "--jobs", "1"],
            environment: environment)
        #expect(run.status == 0, "\(run.stdout)")
        let names = try FileManager.default.contentsOfDirectory(atPath: tickets.path).sorted()
        #expect(names == [
            "a__1_.outcome.json", "a__1_.ticket.json", "a__2_.outcome.json", "a__2_.ticket.json", "b.outcome.json", "b.ticket.json",
        ])
        func read(_ name: String) throws -> String { try String(contentsOf: tickets.appendingPathComponent(name), encoding: .utf8) }
        /// An outcome with its steps' seconds left out (they differ from run to run), as sorted JSON.
        func timeless(_ text: String) throws -> String {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            object["steps"] = (object["steps"] as? [[String: Any]])?.map { $0.filter { $0.key != "seconds" } }
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        }
        #expect(try timeless(read("b.outcome.json")) == #"{"outputs":[{"name":"w","value":"row-2-Mona-x-e-workflow_dispatch/success"}],"result":"success","steps":[{"conclusion":"success","name":"Run echo \"w=${{ needs.a.outputs.v }}/${{ needs.a.result }}\" >> \"$GITHUB_OUTPUT\"","outcome":"success"}],"summary":""}"#)
        #expect(try read("a__1_.outcome.json").contains(#""summary":"summary of row 0\n""#))
        for name in names { #expect(try !read(name).contains("s3cret-value"), "\(name) holds the secret") }
        for job in ["a__1_", "a__2_", "b"] {
            let again = scratch.url.appendingPathComponent("\(job).again.json")
            let second = try runCommand(
                RunCommandTests.gantry, ["_job", tickets.appendingPathComponent("\(job).ticket.json").path, "--outcome", again.path],
                in: scratch.url, environment: environment)
            #expect(second.status == 0, "\(second.stdout)")
            #expect(try timeless(String(contentsOf: again, encoding: .utf8)) == timeless(read("\(job).outcome.json")))
            if job != "b" { #expect(second.stdout.contains("token is ***\n")) }
        }
    }

    @Test func aTicketThatIsNotOneIsOneLine() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        try "{\"run\": 1}".write(to: scratch.url.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        let result = try runCommand(RunCommandTests.gantry, ["_job", "bad.json", "--outcome", "o.json"], in: scratch.url)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("gantry: error: bad.json is not a job ticket: "))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
