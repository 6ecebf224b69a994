import Testing
import WorkflowModel
import WorkflowParsing
import WorkflowPlanning

/// The text table of `gantry list` and graph of `gantry graph` line up by characters, not bytes, and
/// a name wider than the graph's column still gets one space before its arrow.
@Suite struct TextLinesTests {
    @Test func tableColumnsCountCharacters() throws {
        let yaml = """
            name: Café
            on: push
            jobs:
              build:
                name: Größe prüfen
                runs-on: ubuntu-latest
                strategy: {matrix: {os: [a, b]}}
                steps: [{run: echo}]
              test:
                runs-on: ubuntu-latest
                steps: [{run: echo}]
            """
        let workflow = try #require(WorkflowParser.parse(Array(yaml.utf8), file: "w.yml").workflow)
        #expect(JobList.table(JobList.rows([workflow])) == """
            WORKFLOW  JOB ID  NAME          EVENTS  MATRIX
            Café      build   Größe prüfen  push    2
            Café      test    test          push    1

            """)
    }

    @Test func graphPadsIdsToTheWidestUpTo48Columns() throws {
        let long = String(repeating: "x", count: 60)
        let yaml = """
            on: push
            jobs:
              a:
                name: Ünïcode
                runs-on: ubuntu-latest
                steps: [{run: echo}]
              \(long):
                needs: a
                runs-on: ubuntu-latest
                steps: [{run: echo}]
              c:
                needs: [a, \(long)]
                runs-on: ubuntu-latest
                steps: [{run: echo}]
            """
        let workflow = try #require(WorkflowParser.parse(Array(yaml.utf8), file: "w.yml").workflow)
        let (plan, _) = Planner.plan([workflow], PlanRequest(event: PlanEvent(name: "push", git: GitFacts())))
        #expect(GraphWriter.text(plan) == """
            w.yml (w.yml)
              Ünïcode
              \(long) <- Ünïcode
              c\(String(repeating: " ", count: 48))<- Ünïcode, \(long)

            """)
    }
}
