import Testing
import WorkflowExecution
import WorkflowPlanning
import WorkflowExpressions

@testable import RunnerService

/// What the page makes of logs, summaries and a run's graph (the pages themselves are tested in a real
/// Chromium, end to end).
@Suite struct PageRenderingTests {
    @Test func logLinesAreNumberedEscapedColouredAndGroupsFold() {
        let log = """
            ▶ Run make
            \u{1B}[1;32mok\u{1B}[0m <b>&
            ▸ Details
            inside
            ◂
            after
            ▸ Open
            folded
            ✗ Run make (5 ms)
            error: process completed with exit code 2

            """
        let (html, lines) = LogHTML.render(log)
        #expect(lines == 9)
        #expect(html.split(separator: "<span class=\"line", omittingEmptySubsequences: false).joined(separator: "\n<span class=\"line") == """

            <span class="line step" id="L1"><a class="n" href="#L1">1</a>▶ Run make</span>
            <span class="line" id="L2"><a class="n" href="#L2">2</a><span class="b c2">ok</span> &lt;b&gt;&amp;</span><details class="group"><summary>
            <span class="line" id="L3"><a class="n" href="#L3">3</a>▸ Details</span></summary><div>
            <span class="line" id="L4"><a class="n" href="#L4">4</a>inside</span></div></details>
            <span class="line" id="L5"><a class="n" href="#L5">5</a>after</span><details class="group"><summary>
            <span class="line" id="L6"><a class="n" href="#L6">6</a>▸ Open</span></summary><div>
            <span class="line" id="L7"><a class="n" href="#L7">7</a>folded</span></div></details>
            <span class="line step bad" id="L8"><a class="n" href="#L8">8</a>✗ Run make (5 ms)</span>
            <span class="line error" id="L9"><a class="n" href="#L9">9</a>error: process completed with exit code 2</span>
            """)
    }

    @Test func ansiSequencesBecomeClassesAndOthersAreDropped() {
        #expect(LogHTML.ansi("\u{1B}[31mred\u{1B}[m plain \u{1B}[94mbright\u{1B}[2K") == #"<span class="c1">red</span> plain <span class="c12">bright</span>"#)
        #expect(LogHTML.ansi("a\u{1B}") == "a")
    }

    @Test func summariesRenderMarkdownAndNeverRawHTML() {
        let html = Markdown.html("""
            ## Results <script>alert(1)</script>

            | test | result |
            |---|:-:|
            | `unit` | **passed** |

            - one *two*
            - [docs](https://example.com/a?b=1&c=2) and [bad](javascript:alert(1))

            ```
            <raw> & code
            ```
            snake_case_name stays
            """)
        #expect(html == """
            <h4>Results &lt;script&gt;alert(1)&lt;/script&gt;</h4>
            <table><thead><tr><th>test</th><th>result</th></tr></thead><tbody><tr><td><code>unit</code></td><td><strong>passed</strong></td></tr></tbody></table>
            <ul><li>one <em>two</em></li><li><a href="https://example.com/a?b=1&amp;c=2">docs</a> and [bad](javascript:alert(1))</li></ul>
            <pre><code>&lt;raw&gt; &amp; code</code></pre>
            <p>snake_case_name stays</p>

            """)
    }

    @Test func quotesInQuotesAndUnclosedDelimitersCostLittle() {
        // A summary anyone's workflow writes: deep quotes do not recurse, unclosed `[` and backticks do
        // not make a search each.
        let quotes = String(repeating: ">", count: 200_000) + " deep"
        #expect(Markdown.html(quotes) == "<blockquote><p>deep</p>\n</blockquote>\n")
        let brackets = String(repeating: "[", count: 200_000)
        #expect(Markdown.html(brackets) == "<p>" + brackets + "</p>\n")
        let ticks = "`a` " + String(repeating: "x`", count: 1) + String(repeating: "[a](b", count: 50_000)
        #expect(Markdown.html(ticks).hasPrefix("<p><code>a</code> x`[a](b[a](b"))
        #expect(Markdown.html("###### six").contains("<h6>six</h6>"))
        let huge = String(repeating: "a", count: Markdown.limit + 10)
        #expect(Markdown.html(huge).hasSuffix("<p><em>(the summary is longer than 1 MiB; the rest is left out)</em></p>\n"))
    }

    @Test func theGraphLayersJobsByTheirNeedsAndGroupsRowsAndCalls() {
        typealias T = RunStateMachineTestsSupport
        var machine = T.machine([
            T.Job(id: "build", rows: 2), T.Job(id: "lint"), T.Job(id: "test", needs: ["build", "lint"]), T.Job(id: "deploy", needs: ["test"]),
        ])
        _ = machine.handle(.start)
        _ = machine.handle(.claimed(T.id("build", row: 0)))
        _ = machine.handle(.jobFinished(T.id("build", row: 0), JobOutcome(result: .success)))
        let graph = RunGraph(run: "7", machine: machine)
        #expect(graph.nodes.map(\.title) == ["build", "lint", "test", "deploy"])
        #expect(graph.layers == [0, 0, 1, 2])
        #expect(graph.nodes[0].rows.map { "\($0.label) \($0.status) \($0.index)" } == ["build (0) success 0", "build (1) queued 1"])
        let svg = graph.svg()
        #expect(svg.hasPrefix(#"<svg class="graph" xmlns="http://www.w3.org/2000/svg""#))
        #expect(svg.contains(#"<path class="edge" data-from="build" data-to="test""#))
        #expect(svg.contains(#"<path class="edge" data-from="lint" data-to="test""#))
        #expect(svg.contains(#"<path class="edge" data-from="test" data-to="deploy""#))
        #expect(svg.contains(#"<a href="/runs/7/jobs/1"><g class="row queued">"#))
        #expect(svg.contains(#"<g class="job queued" data-job="build">"#))
    }

    @Test func aCalledWorkflowsJobsAreNestedInTheBoxOfTheJobThatCallsIt() {
        typealias T = RunStateMachineTestsSupport
        let caller = T.id("call")
        let path = ["call#0"]
        let machine = RunStateMachine(RunDefinition(run: RunID("r"), workflows: [.init(file: "ci.yml", name: "ci", contexts: .init([]))], jobs: [
            RunDefinition.JobEntry(key: JobKey(workflow: 0, id: "prep"), rows: T.rows("prep")),
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: "call"), call: RunDefinition.Call(uses: "./.github/workflows/build.yml", with: [], inputs: [], outputs: []),
                needs: [.init(name: "prep", job: JobKey(workflow: 0, id: "prep"))], rows: T.rows("call")),
            RunDefinition.JobEntry(key: JobKey(workflow: 0, callPath: path, id: "compile"), parent: caller, rows: T.rows("call / compile")),
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, callPath: path, id: "test"), parent: caller,
                needs: [.init(name: "compile", job: JobKey(workflow: 0, callPath: path, id: "compile"))], rows: T.rows("call / test")),
            RunDefinition.JobEntry(key: JobKey(workflow: 0, id: "report"), needs: [.init(name: "call", job: JobKey(workflow: 0, id: "call"))], rows: T.rows("report")),
        ]))
        let graph = RunGraph(run: "3", machine: machine)
        #expect(graph.nodes.map(\.title) == ["prep", "call", "report"])
        #expect(graph.nodes.map(\.isCall) == [false, true, false])
        #expect(graph.nodes[1].rows.map(\.label) == ["call / compile", "call / test"])
        #expect(graph.layers == [0, 1, 2])
        let svg = graph.svg()
        #expect(svg.contains(#"<g class="job waiting call" data-job="call">"#))
        #expect(svg.contains(">call (workflow)</text>"))
        #expect(svg.contains(#"<path class="edge" data-from="prep" data-to="call""#))
        #expect(svg.contains(#"<path class="edge" data-from="call" data-to="report""#))
    }
}

/// What a re-run of failed jobs keeps (GitHub's "Re-run failed jobs": the failed jobs and those that
/// need them run again).
@Suite struct RerunKeptTests {
    @Test func aSucceededCallAndWhatNeedsItAreKeptAndOnlyTheFailedPathRunsAgain() {
        typealias T = RunStateMachineTestsSupport
        let caller = T.id("call")
        let path = ["call#0"]
        func key(_ id: String, inCall: Bool = false) -> JobKey { JobKey(workflow: 0, callPath: inCall ? path : [], id: id) }
        var machine = RunStateMachine(RunDefinition(run: RunID("r"), workflows: [.init(file: "ci.yml", name: "ci", contexts: .init([]))], jobs: [
            RunDefinition.JobEntry(key: key("prep"), rows: T.rows("prep")),
            RunDefinition.JobEntry(
                key: key("call"), call: RunDefinition.Call(uses: "./.github/workflows/build.yml", with: [], inputs: [], outputs: []),
                needs: [.init(name: "prep", job: key("prep"))], rows: T.rows("call")),
            RunDefinition.JobEntry(key: key("compile", inCall: true), parent: caller, rows: T.rows("call / compile")),
            RunDefinition.JobEntry(key: key("deploy"), needs: [.init(name: "call", job: key("call"))], rows: T.rows("deploy")),
            RunDefinition.JobEntry(key: key("notify"), needs: [.init(name: "prep", job: key("prep"))], rows: T.rows("notify")),
            RunDefinition.JobEntry(key: key("after"), needs: [.init(name: "notify", job: key("notify"))], condition: "always()", rows: T.rows("after")),
        ]))
        func finish(_ id: InstanceID, _ result: JobResult) {
            _ = machine.handle(.claimed(id))
            _ = machine.handle(.jobFinished(id, JobOutcome(result: result, outputs: [NamedValue("v", id.job.id)])))
        }
        _ = machine.handle(.start)
        finish(T.id("prep"), .success)
        finish(InstanceID(run: RunID("r"), job: key("compile", inCall: true)), .success)
        finish(T.id("deploy"), .success)
        finish(T.id("notify"), .failure)
        finish(T.id("after"), .success)
        #expect(machine.succeeded == false)
        let kept = ServiceRuns.kept(machine, attempt: 1)
        #expect(kept.map(\.job.description) == ["0/prep", "0/call#0/compile", "0/deploy"])
        #expect(kept.first?.outcome.outputs == [NamedValue("v", "prep")])
        #expect(kept.allSatisfy { $0.attempt == 1 })
    }
}

/// A small run definition for the page's tests.
enum RunStateMachineTestsSupport {
    struct Job {
        var id: String
        var needs: [String] = []
        var rows = 1
    }

    static func id(_ job: String, row: Int = 0) -> InstanceID { InstanceID(run: RunID("r"), job: JobKey(workflow: 0, id: job), row: row) }

    /// `count` rows of a job whose instances are called `name` (`name (0)`, `name (1)`… for several).
    static func rows(_ name: String, count: Int = 1) -> [RunDefinition.Row] {
        (0..<count).map { row in
            var instance = JobInstance(
                id: count > 1 ? "\(name) (\(row))" : name, job: name, name: name, matrix: [], matrixAtRunTime: false, needs: [],
                runsOn: ["self-hosted"], backend: "host", container: nil, services: [], condition: nil, concurrencyGroup: nil,
                cancelInProgress: nil, timeoutMinutes: "360", continueOnError: nil, uses: nil, failFast: nil, maxParallel: nil)
            instance.strategyIndex = row
            instance.strategyTotal = count
            return RunDefinition.Row(index: row, instance: instance, continueOnError: false, group: nil)
        }
    }

    static func machine(_ jobs: [Job]) -> RunStateMachine {
        let entries = jobs.map { job in
            RunDefinition.JobEntry(
                key: JobKey(workflow: 0, id: job.id), needs: job.needs.map { .init(name: $0, job: JobKey(workflow: 0, id: $0)) },
                rows: rows(job.id, count: job.rows))
        }
        return RunStateMachine(RunDefinition(run: RunID("r"), workflows: [.init(file: "w.yml", name: "w", contexts: .init([]))], jobs: entries))
    }
}
