import Foundation
import Testing
import _GantryTestSupport

/// Matrices known only when the jobs they need have finished (`${{ fromJSON(needs.x.outputs.m) }}`):
/// expanded then with the runner's rules, their rows join the run, dependents wait for every row, and
/// an empty or malformed matrix fails the job with GitHub's message.
@Suite(.ownThread) struct RunTimeMatrixTests {
    static let workflow = """
        on: push
        jobs:
          setup:
            runs-on: ubuntu-latest
            outputs:
              matrix: ${{ steps.m.outputs.matrix }}
              empty: ${{ steps.m.outputs.empty }}
            steps:
              - id: m
                run: |
                  echo 'matrix={"os":["linux","mac"],"v":[1,2],"include":[{"os":"linux","extra":"x"}]}' >> "$GITHUB_OUTPUT"
                  echo 'empty={"os":[]}' >> "$GITHUB_OUTPUT"
          build:
            needs: setup
            runs-on: ubuntu-latest
            strategy:
              max-parallel: 2
              matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}
            outputs:
              last: ${{ steps.s.outputs.v }}
            steps:
              - id: s
                run: |
                  echo "row ${{ matrix.os }}-${{ matrix.v }}-${{ matrix.extra }} index ${{ strategy.job-index }}/${{ strategy.job-total }}"
                  echo "v=${{ matrix.os }}${{ matrix.v }}" >> "$GITHUB_OUTPUT"
          bad:
            needs: setup
            runs-on: ubuntu-latest
            strategy:
              matrix: ${{ fromJSON(needs.setup.outputs.empty) }}
            steps:
              - run: echo never
          after:
            needs: build
            runs-on: ubuntu-latest
            steps:
              - run: echo "after ${{ needs.build.result }} ${{ needs.build.outputs.last }}"
        """

    @Test func rowsAreAddedWhenTheirNeedsFinishAndDependentsWaitForAllOfThem() throws {
        let scratch = try RunCommandTests.Scratch(Self.workflow)
        let result = try scratch.run(["--jobs", "1"])
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("[") && !$0.contains("▶") && !$0.contains("✓") }
        #expect(lines == [
            "[bad] error: Error when evaluating 'strategy' for job 'bad'. w.yml (Line: 30, Col: 15): Matrix vector 'os' does not contain any values",
            "[build (linux, 1, x)] row linux-1-x index 0/4",
            "[build (linux, 2, x)] row linux-2-x index 1/4",
            "[build (mac, 1)] row mac-1- index 2/4",
            "[build (mac, 2)] row mac-2- index 3/4",
            "[after] after success mac2",
        ])
        // The summary lists the rows where the job stood in the plan, with their results.
        let table = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            .filter { ["setup", "build", "bad", "after"].contains($0.first ?? "") }
        #expect(table.map { $0.prefix { !["success", "failure"].contains($0) }.joined(separator: " ") } == [
            "setup", "build (linux, 1, x)", "build (linux, 2, x)", "build (mac, 1)", "build (mac, 2)", "bad", "after",
        ])
        #expect(table.map { $0.first { ["success", "failure"].contains($0) } ?? "?" } == [
            "success", "success", "success", "success", "success", "failure", "success",
        ])
    }

    @Test func failFastHoldsForRowsAddedAtRunTimeAndAMatrixWithNoVectorFails() throws {
        let scratch = try RunCommandTests.Scratch("""
            on: push
            jobs:
              setup:
                runs-on: ubuntu-latest
                outputs:
                  rows: '[1, 2, 3]'
                  none: '{}'
                steps:
                  - run: "true"
              t:
                needs: setup
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    n: ${{ fromJSON(needs.setup.outputs.rows) }}
                steps:
                  - run: echo "row ${{ matrix.n }}"; test ${{ matrix.n }} != 1
              empty:
                needs: setup
                runs-on: ubuntu-latest
                strategy:
                  matrix: ${{ fromJSON(needs.setup.outputs.none) }}
                steps:
                  - run: echo never
            """)
        let result = try scratch.run(["--jobs", "1", "--json"])
        #expect(result.status == 1)
        let events = try RunCommandTests.events(result.stdout)
        let finished = RunCommandTests.finishedJobs(events)
        #expect(finished == ["setup=success", "empty=failure", "t (1)=failure", "t (2)=cancelled", "t (3)=cancelled"])
        let lines = events.filter { $0["type"] as? String == "line" }.compactMap { $0["text"] as? String }
        #expect(lines.contains("error: Error when evaluating 'strategy' for job 'empty'. w.yml (Line: 22, Col: 15): Matrix must define at least one vector"))
        #expect(!lines.contains("row 2"))
    }
}
