import Foundation
import Testing
import _GantryTestSupport

/// `github.run_id` and `github.run_number` are real per run, as on GitHub: ids never repeat, numbers
/// count the runs of each workflow of a repository.
@Suite(.ownThread) struct RunNumberTests {
    @Test func eachRunOfAWorkflowGetsTheNextNumberAndANewId() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "id=$GITHUB_RUN_ID number=$GITHUB_RUN_NUMBER ctx=${{ github.run_id }}/${{ github.run_number }}"
            """)
        try "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"other id=$GITHUB_RUN_ID number=$GITHUB_RUN_NUMBER\"\n"
            .write(to: scratch.url.appendingPathComponent("v.yml"), atomically: true, encoding: .utf8)
        let environment = ["GANTRY_STATE_DIR": scratch.url.appendingPathComponent("state").path]
        let first = try scratch.run(environment: environment)
        #expect(first.stdout.contains("[a] id=1 number=1 ctx=1/1\n"), "\(first.stdout)")
        let second = try scratch.run(environment: environment)
        #expect(second.stdout.contains("[a] id=2 number=2 ctx=2/2\n"), "\(second.stdout)")
        // Two workflows in one run are two workflow runs: their own ids, each its own count.
        let both = try scratch.run(["-W", "v.yml"], environment: environment)
        #expect(both.stdout.contains("[w.yml / a] id=3 number=3 ctx=3/3\n"), "\(both.stdout)")
        #expect(both.stdout.contains("[v.yml / b] other id=4 number=1\n"), "\(both.stdout)")
    }
}
