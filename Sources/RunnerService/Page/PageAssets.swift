/// The page's one stylesheet and its one script, served from the service itself (`/style.css`,
/// `/page.js`): no external scripts, styles or fonts. The script only saves reloads (live rows and
/// logs by server-sent events); every page reads in full without it.
enum PageAssets {
    static let style = """
        :root { --ok: #1a7f37; --bad: #cf222e; --run: #9a6700; --idle: #6e7781; --line: #d0d7de; --bg: #f6f8fa; --link: #0969da; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #fff; }
        header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 16px; background: #24292f; color: #fff; }
        header a { color: #fff; text-decoration: none; }
        header .home { font-weight: 700; }
        header nav a { margin-right: 12px; }
        header .who { margin-left: auto; }
        header button { background: none; border: 1px solid #fff8; color: #fff; border-radius: 4px; padding: 2px 8px; cursor: pointer; }
        main { padding: 12px 16px 32px; max-width: 1200px; }
        h1 { font-size: 20px; margin: 8px 0 12px; overflow-wrap: anywhere; }
        h2 { font-size: 16px; margin: 20px 0 8px; }
        a { color: var(--link); }
        code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
        table { border-collapse: collapse; width: 100%; margin-bottom: 8px; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
        th { background: var(--bg); font-weight: 600; }
        .empty { color: var(--idle); text-align: center; }
        .status { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; color: #fff; background: var(--idle); white-space: nowrap; }
        .status.success { background: var(--ok); }
        .status.failure { background: var(--bad); }
        .status.running, .status.in_progress { background: var(--run); }
        .status.cancelled, .status.skipped { background: #8c959f; }
        .facts, .crumbs, .why, .attempt { color: var(--idle); }
        .filters { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; margin-bottom: 12px; }
        .filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--idle); }
        .filters input, .filters select, .signin input { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; }
        button { font: inherit; padding: 4px 12px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer; }
        .actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
        .graph-box { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
        svg.graph { display: block; font: 12px system-ui, sans-serif; }
        svg .edge { fill: none; stroke: #8c959f; stroke-width: 1.5; }
        svg .box { fill: #fff; stroke: var(--line); stroke-width: 1.5; }
        svg .call .box { stroke-dasharray: 5 3; }
        svg .job.failure .box { stroke: var(--bad); }
        svg .job.success .box { stroke: var(--ok); }
        svg .job.running .box { stroke: var(--run); }
        svg .title { font-weight: 600; fill: #1f2328; }
        svg .row rect { fill: #eaeef2; }
        svg .row text { fill: #1f2328; }
        svg .row.success rect { fill: #dafbe1; }
        svg .row.failure rect { fill: #ffebe9; }
        svg .row.running rect { fill: #fff8c5; }
        svg .row.cancelled rect, svg .row.skipped rect { fill: #f6f8fa; }
        svg a:hover rect { stroke: var(--link); }
        .annotations { list-style: none; padding: 0; }
        .annotations li { border-left: 3px solid var(--idle); padding: 4px 8px; margin-bottom: 6px; background: var(--bg); }
        .annotations li.error { border-color: var(--bad); }
        .annotations li.warning { border-color: var(--run); }
        .annotations .level { font-weight: 600; }
        .summary { border: 1px solid var(--line); border-radius: 6px; padding: 4px 12px; margin-bottom: 8px; overflow-x: auto; }
        pre.log { background: #0d1117; color: #e6edf3; padding: 8px 0; border-radius: 6px; overflow-x: auto; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; }
        pre.log .line { display: block; padding: 0 12px 0 5em; text-indent: -5em; white-space: pre-wrap; overflow-wrap: anywhere; }
        pre.log .line:target { background: #388bfd33; }
        pre.log .n { display: inline-block; width: 5em; padding-right: 1em; text-indent: 0; text-align: right; color: #6e7681; text-decoration: none; user-select: none; }
        pre.log .step { color: #79c0ff; }
        pre.log .ok { color: #56d364; }
        pre.log .bad, pre.log .error { color: #ff7b72; }
        pre.log .warning { color: #e3b341; }
        pre.log details > summary { list-style: none; cursor: pointer; }
        pre.log details > summary::-webkit-details-marker { display: none; }
        pre.log details > summary .line::after { content: " …"; color: #6e7681; }
        pre.log details[open] > summary .line::after { content: ""; }
        .b { font-weight: 700; }
        .c0 { color: #6e7681; } .c1 { color: #ff7b72; } .c2 { color: #56d364; } .c3 { color: #e3b341; }
        .c4 { color: #79c0ff; } .c5 { color: #d2a8ff; } .c6 { color: #39c5cf; } .c7 { color: #e6edf3; }
        .c8 { color: #8b949e; } .c9 { color: #ffa198; } .c10 { color: #7ee787; } .c11 { color: #f2cc60; }
        .c12 { color: #a5d6ff; } .c13 { color: #e2c5ff; } .c14 { color: #56d4dd; } .c15 { color: #ffffff; }
        .problem { color: var(--bad); }
        @media (max-width: 600px) {
          main { padding: 8px; }
          table.runs th:nth-child(3), table.runs td:nth-child(3), table.runs th:nth-child(5), table.runs td:nth-child(5),
          table.jobs th:nth-child(3), table.jobs td:nth-child(3) { display: none; }
          pre.log .line { padding-left: 4em; text-indent: -4em; }
          pre.log .n { width: 4em; }
        }
        """

    static let script = """
        // Live updates by server-sent events: the runs table is replaced when a run changes, and a
        // running job's log grows as its lines are written. Every page reads in full without this.
        (function () {
          if (!window.EventSource) return;
          var table = document.querySelector("table[data-live]");
          if (table) {
            var runs = new EventSource(table.getAttribute("data-live"));
            runs.addEventListener("runs", function (event) { document.getElementById("rows").innerHTML = event.data; });
          }
          var log = document.querySelector("pre[data-live]");
          if (log) {
            var lines = new EventSource(log.getAttribute("data-live"));
            lines.addEventListener("line", function (event) { log.insertAdjacentHTML("beforeend", event.data); });
            lines.addEventListener("end", function () { lines.close(); log.removeAttribute("data-live"); });
          }
        })();
        """
}
