/// The page's Mustache templates (rendered by swift-mustache): one layout that every page extends,
/// one template per page. They are kept in the binary, so the service is one file to install. Values
/// are HTML-escaped by `{{ }}`; `{{{ }}}` only takes HTML the page made itself (the graph, a log, a
/// summary rendered from Markdown).
enum PageTemplates {
    static let all: [String: String] = [
        "layout": layout, "runs": runs, "rows": rows, "run": run, "job": job, "runners": runners, "cache": cache, "signin": signin,
        "message": message,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · gantry</title>
        <link rel="stylesheet" href="/style.css">
        <script src="/page.js" defer></script>
        </head>
        <body>
        <header>
        <a class="home" href="/">gantry</a>
        <nav><a href="/">Runs</a> <a href="/runners">Runners</a> <a href="/cache">Cache</a></nav>
        <span class="who">{{#signedIn}}<form method="post" action="/sign-out"><input type="hidden" name="csrf" value="{{csrf}}"><button>Sign out</button></form>{{/signedIn}}{{^signedIn}}<a href="/sign-in">Sign in</a>{{/signedIn}}</span>
        </header>
        <main>
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """

    static let runs = """
        {{<layout}}
        {{$content}}
        <h1>Runs</h1>
        <form class="filters" method="get" action="/">
        <label>Repository <select name="repository"><option value="">all</option>{{#repositories}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/repositories}}</select></label>
        <label>Branch <input name="branch" value="{{branch}}" placeholder="any"></label>
        <label>Status <select name="status"><option value="">all</option>{{#statuses}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/statuses}}</select></label>
        <button>Filter</button>
        </form>
        <table class="runs" data-live="/events{{query}}">
        <thead><tr><th>Run</th><th>Repository</th><th>Event</th><th>Ref</th><th>Commit</th><th>Status</th><th>Duration</th></tr></thead>
        <tbody id="rows">{{>rows}}</tbody>
        </table>
        {{/content}}
        {{/layout}}
        """

    static let rows = """
        {{#runs}}<tr class="{{status}}"><td><a href="/runs/{{id}}">{{name}} #{{number}}</a>{{#rerun}} <span class="attempt">attempt {{attempt}}</span>{{/rerun}}</td><td>{{repository}}</td><td>{{event}}</td><td>{{ref}}</td><td><code>{{sha}}</code></td><td><span class="status {{status}}">{{status}}</span></td><td>{{duration}}</td></tr>
        {{/runs}}{{^runs}}<tr><td colspan="7" class="empty">No runs{{#filtered}} match these filters{{/filtered}}.</td></tr>{{/runs}}
        """

    static let run = """
        {{<layout}}
        {{$content}}
        <h1>{{name}} #{{number}} <span class="status {{status}}">{{status}}</span></h1>
        <p class="facts">{{repository}} · {{event}} · {{ref}} · <code>{{sha}}</code>{{#rerun}} · attempt {{attempt}} of run <a href="/runs/{{first}}">{{first}}</a>{{/rerun}} · {{duration}}</p>
        {{#signedIn}}<div class="actions">
        {{#running}}<form method="post" action="/runs/{{id}}/cancel"><input type="hidden" name="csrf" value="{{csrf}}"><button>Cancel run</button></form>{{/running}}
        {{^running}}<form method="post" action="/runs/{{id}}/rerun"><input type="hidden" name="csrf" value="{{csrf}}"><button>Re-run all jobs</button></form>
        <form method="post" action="/runs/{{id}}/rerun-failed-jobs"><input type="hidden" name="csrf" value="{{csrf}}"><button>Re-run failed jobs</button></form>{{/running}}
        </div>{{/signedIn}}
        <section class="graph-box">{{{graph}}}</section>
        <h2>Jobs</h2>
        <table class="jobs"><thead><tr><th>Job</th><th>Status</th><th>Runs on</th><th>Time</th></tr></thead><tbody>
        {{#jobs}}<tr class="{{status}}"><td><a href="/runs/{{run}}/jobs/{{index}}">{{name}}</a>{{#waiting}}<div class="why">waits for {{waiting}}</div>{{/waiting}}</td><td><span class="status {{status}}">{{status}}</span></td><td>{{runsOn}}</td><td>{{time}}</td></tr>
        {{/jobs}}</tbody></table>
        {{#hasAnnotations}}<h2>Annotations</h2>
        <ul class="annotations">{{#annotations}}<li class="{{level}}"><span class="level">{{level}}</span> <a href="/runs/{{run}}/jobs/{{index}}">{{job}}</a>{{#place}} · <code>{{place}}</code>{{/place}}{{#title}} · {{title}}{{/title}}<div>{{message}}</div></li>{{/annotations}}</ul>{{/hasAnnotations}}
        {{#hasSummaries}}<h2>Summary</h2>{{#summaries}}<section class="summary"><h3>{{job}}</h3>{{{html}}}</section>{{/summaries}}{{/hasSummaries}}
        {{/content}}
        {{/layout}}
        """

    static let job = """
        {{<layout}}
        {{$content}}
        <p class="crumbs"><a href="/runs/{{run}}">{{runName}} #{{number}}</a></p>
        <h1>{{name}} <span class="status {{status}}">{{status}}</span></h1>
        {{#waiting}}<p class="why">Waits for {{waiting}}.</p>{{/waiting}}
        {{#hasSteps}}<table class="steps"><thead><tr><th>Step</th><th>Result</th><th>Time</th></tr></thead><tbody>
        {{#steps}}<tr class="{{conclusion}}"><td>{{name}}</td><td><span class="status {{conclusion}}">{{conclusion}}</span>{{#tolerated}} (failed, continue-on-error){{/tolerated}}</td><td>{{time}}</td></tr>
        {{/steps}}</tbody></table>{{/hasSteps}}
        <h2>Log</h2>
        {{#skipped}}<p class="why">The first {{skipped}} of the log are left out here: the whole log is at <code>/api/v1/runs/{{run}}/log?job=…</code>.</p>{{/skipped}}
        <pre class="log" id="log"{{#live}} data-live="/runs/{{run}}/jobs/{{index}}/events?from={{offset}}&amp;line={{lines}}"{{/live}}>{{{log}}}</pre>
        {{/content}}
        {{/layout}}
        """

    static let runners = """
        {{<layout}}
        {{$content}}
        <h1>Runners</h1>
        <table class="runners"><thead><tr><th>Name</th><th>Labels</th><th>Capacity</th><th>Busy</th><th>State</th></tr></thead><tbody>
        {{#runners}}<tr><td>{{name}}</td><td>{{labels}}</td><td>{{capacity}}</td><td>{{busy}}</td><td>{{state}}</td></tr>{{/runners}}
        </tbody></table>
        <h2>Queued jobs</h2>
        <table class="queue"><thead><tr><th>Labels</th><th>Jobs</th><th>Waiting for</th></tr></thead><tbody>
        {{#queue}}<tr><td>{{labels}}</td><td>{{count}}</td><td>{{reason}}</td></tr>{{/queue}}{{^queue}}<tr><td colspan="3" class="empty">Nothing is queued.</td></tr>{{/queue}}
        </tbody></table>
        {{/content}}
        {{/layout}}
        """

    static let cache = """
        {{<layout}}
        {{$content}}
        <h1>Cache</h1>
        <p class="facts">{{count}} entries, {{total}}</p>
        <table class="cache"><thead><tr><th>Key</th><th>Scope</th><th>Size</th><th>Last used</th></tr></thead><tbody>
        {{#entries}}<tr><td><code>{{key}}</code></td><td>{{scope}}</td><td>{{size}}</td><td>{{lastUsed}}</td></tr>{{/entries}}{{^entries}}<tr><td colspan="4" class="empty">The cache is empty.</td></tr>{{/entries}}
        </tbody></table>
        {{/content}}
        {{/layout}}
        """

    static let signin = """
        {{<layout}}
        {{$content}}
        <h1>Sign in</h1>
        <p>Sign in with an API token (<code>gantry serve token create NAME</code>) to see runs{{#public}} (this page is public: reading needs no token){{/public}} and to cancel and re-run them.</p>
        {{#problem}}<p class="problem">{{problem}}</p>{{/problem}}
        <form class="signin" method="post" action="/sign-in"><label>Token <input name="token" type="password" autocomplete="current-password" required></label> <button>Sign in</button></form>
        {{/content}}
        {{/layout}}
        """

    static let message = """
        {{<layout}}
        {{$content}}
        <h1>{{title}}</h1>
        <p>{{text}}</p>
        {{/content}}
        {{/layout}}
        """
}
