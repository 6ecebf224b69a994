import Foundation
import Testing
import _GantryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `gantry serve`'s page in a real headless Chromium (Debian's `chromium`, driven through the DevTools
/// protocol by Fixtures/page/cdp.py): the DOM of each page, a log that grows while its job prints, and
/// screenshots at desktop and phone widths in `.build/page-screenshots/` to look at.
@Suite(.serialized, .ownThread) struct ServePageTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/page/cdp.py").path
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/page-screenshots").path

    /// Runs the actions in a fresh Chromium; their results.
    static func browse(_ actions: [[String: Any]]) throws -> [Any] {
        guard let chromium else { throw ServeError("no chromium here (apt-get install chromium)") }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: actions), as: UTF8.self)
        let result = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, chromium, profile, json], timeout: 120)
        guard let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw ServeError("cdp.py: \(result.stdout) \(result.stderr)")
        }
        if let error = output["error"] as? String { throw ServeError("in Chromium: \(error)") }
        return output["results"] as? [Any] ?? []
    }

    static let workflow = """
        name: CI
        on: push
        jobs:
          build:
            runs-on: self-hosted
            strategy:
              matrix:
                os: [linux, bsd]
            steps:
              - uses: actions/cache@v4
                with:
                  path: out
                  key: out-${{ matrix.os }}
              - run: |
                  mkdir -p out && echo built > out/file
                  printf '\\033[1;32mcompiled\\033[0m ${{ matrix.os }}\\n'
                  echo "::group::Details"
                  echo "detail line"
                  echo "::endgroup::"
                  echo "::warning file=src/main.c,line=7,title=Unused::variable x is never read"
          lint:
            runs-on: self-hosted
            steps:
              - run: |
                  echo "## Lint report" >> "$GITHUB_STEP_SUMMARY"
                  echo "| check | result |" >> "$GITHUB_STEP_SUMMARY"
                  echo "|---|---|" >> "$GITHUB_STEP_SUMMARY"
                  echo "| style | **passed** |" >> "$GITHUB_STEP_SUMMARY"
          test:
            needs: [build, lint]
            runs-on: self-hosted
            steps:
              - run: echo testing
          gpu:
            runs-on: [self-hosted, gpu]
            steps:
              - run: echo never here
        """

    /// Chromium is there, or CI says it must be (where its absence fails the tests instead of skipping them).
    static let browser = chromium != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: browser, "needs Debian's chromium")) func everyPageReadsInChromiumOnceSignedIn() throws {
        let fixture = try ServeFixture(workflow: Self.workflow)
        let serve = try ServeProcess(fixture.arguments(["--capacity", "2"]))
        let token = try fixture.token()
        #expect(try serve.deliver("push", fixture.push(), delivery: "p-1", secret: fixture.secret).status == 202)
        // Everything but gpu (no runner has its label) finishes.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let run = try serve.request("GET", "/api/v1/runs/1", headers: ["Authorization": "Bearer \(token)"]).body
            if run.contains(#""id":"test","job":"test","status":"success""#) { break }
            usleep(100_000)
        }
        let base = "http://127.0.0.1:\(serve.port)"
        // The page is private by default: whoever has not signed in is sent to the sign-in form.
        let anonymous = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", base + "/runs/1"])
        #expect(anonymous.stdout == "303 \(base)/sign-in")
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        var actions: [[String: Any]] = [["cookie": "gantry_token", "value": token, "url": base + "/"]]
        for (name, path) in [("runs", "/"), ("run", "/runs/1"), ("job", "/runs/1/jobs/0"), ("runners", "/runners"), ("cache", "/cache")] {
            actions.append(["go": base + path])
            actions.append(["eval": "document.querySelector('main').innerHTML"])
            actions.append(["shot": "\(Self.screenshots)/\(name).png", "width": 1280, "height": 800])
            actions.append(["shot": "\(Self.screenshots)/\(name)-375.png", "width": 375, "height": 700])
        }
        let results = try Self.browse(actions)
        let pages = stride(from: 0, to: results.count, by: 3).map { results[$0] as? String ?? "" }
        // At 375 px nothing is wider than the screen (the graph and the log scroll in their own boxes).
        let widths = stride(from: 2, to: results.count, by: 3).map { (results[$0] as? NSNumber)?.intValue ?? -1 }
        #expect(widths == [375, 375, 375, 375, 375])
        let (runs, run, job, runners, cache) = (pages[0], pages[1], pages[2], pages[3], pages[4])

        #expect(runs.contains(#"<a href="/runs/1">CI #1</a>"#))
        #expect(runs.contains("<td>octo/app</td><td>push</td><td>main</td><td><code>\(fixture.sha.prefix(7))</code></td>"))
        #expect(runs.contains(#"<span class="status in_progress">in_progress</span>"#))

        // The graph: build (two rows) and lint in the first layer, test after both, gpu alone.
        #expect(run.contains(#"<svg class="graph""#))
        #expect(run.contains(#"<path class="edge" data-from="build" data-to="test""#))
        #expect(run.contains(#"<path class="edge" data-from="lint" data-to="test""#))
        #expect(run.contains(#"<a href="/runs/1/jobs/0"><g class="row success"><rect"#))
        #expect(run.contains(#"<text x="24" y="49">build (linux)</text>"#) || run.contains("build (linux)</text>"))
        #expect(run.contains(#"<g class="job queued" data-job="gpu">"#))
        #expect(run.contains(#"<div class="why">waits for a runner with the labels gpu, self-hosted</div>"#))
        #expect(run.contains("<h3>lint</h3><h4>Lint report</h4>\n<table><thead><tr><th>check</th><th>result</th></tr></thead><tbody><tr><td>style</td><td><strong>passed</strong></td></tr></tbody></table>"))
        #expect(run.contains(#"<li class="warning"><span class="level">warning</span> <a href="/runs/1/jobs/0">build (linux)</a> · <code>src/main.c:7</code> · Unused<div>variable x is never read</div></li>"#))
        // The run is not over (gpu waits): the button cancels it.
        #expect(run.contains(#"<form method="post" action="/runs/1/cancel"><input type="hidden" name="csrf" value=""#))
        #expect(!run.contains("Re-run"))

        #expect(job.contains("<h1>build (linux) <span class=\"status success\">success</span></h1>"))
        #expect(job.contains(#"<span class="b c2">compiled</span> linux"#))
        #expect(job.contains(#"<details class="group"><summary><span class="line" id="L"#))
        #expect(job.contains("detail line</span></div></details>"))
        #expect(job.contains(##"<a class="n" href="#L1">1</a>"##))
        #expect(job.contains("<td>Run actions/cache@v4</td>") || job.contains("actions/cache@v4</td>"))

        #expect(runners.contains("<td>self-hosted, linux, x64</td><td>2</td>"))
        #expect(runners.contains("<tr><td>gpu, self-hosted</td><td>1</td><td>a runner with the labels gpu, self-hosted</td></tr>"))
        #expect(cache.contains("<code>out-linux</code></td><td>octo/app:refs/heads/main</td><td>6 B</td>"))
        #expect(cache.contains("<code>out-bsd</code>"))
        for name in ["runs", "run", "job", "runners", "cache"] {
            #expect(FileManager.default.fileExists(atPath: "\(Self.screenshots)/\(name).png"))
        }
        #expect(serve.stop() == 0)
    }

    static let slowPrinter = """
        on: push
        jobs:
          talk:
            runs-on: self-hosted
            steps:
              - run: |
                  echo "line 1"
                  for i in $(seq 600); do [ -e "$RELEASE-${{ github.run_id }}" ] && break; sleep 0.05; done
                  for i in 2 3 4; do echo "line $i"; sleep 0.3; done
        """

    @Test(.enabled(if: browser, "needs Debian's chromium")) func theRunsTableAndARunningJobsLogFollowTheRunWithoutAReload() throws {
        let fixture = try ServeFixture(workflow: Self.slowPrinter)
        let release = fixture.root.path + "/release"
        // A public page: reading needs no sign-in.
        let serve = try ServeProcess(fixture.arguments(["--page", "public"]), environment: ["RELEASE": release])
        let base = "http://127.0.0.1:\(serve.port)"
        func started(_ run: Int) {
            let log = fixture.data + "/runs/\(run)/logs/talk.log"
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8))?.contains("line 1") ?? false) { usleep(20_000) }
        }
        // The runs table: the run is in progress when the page loads, and turns to success in place.
        #expect(try serve.deliver("push", fixture.push(), delivery: "l-1", secret: fixture.secret).status == 202)
        started(1)
        let status = "document.querySelector('#rows .status').textContent"
        let table = try Self.browse([
            ["go": base + "/"],
            ["eval": "window.marker = 'same page'; \(status)"],
            ["touch": release + "-1"],
            ["wait": "\(status) === 'success'", "timeout": 30],
            ["eval": "window.marker"],
        ])
        #expect(table[0] as? String == "in_progress")
        #expect(table[1] as? String == "same page")

        // The log: line 1 was there when the page loaded; lines 2 to 4 arrive while the job goes on, and
        // the page stops following when the job ends.
        #expect(try serve.deliver("push", fixture.push(), delivery: "l-2", secret: fixture.secret).status == 202)
        started(2)
        let text = "document.getElementById('log').textContent"
        let results = try Self.browse([
            ["go": base + "/runs/2/jobs/0"],
            ["eval": "window.marker = 'same page'; \(text).includes('line 1') && !\(text).includes('line 2')"],
            ["touch": release + "-2"],
            ["wait": "\(text).includes('line 2')", "timeout": 30],
            ["eval": "\(text).includes('line 4')"],
            ["wait": "\(text).includes('line 4') && !document.getElementById('log').hasAttribute('data-live')", "timeout": 30],
            ["eval": "window.marker"],
            ["eval": "Array.from(document.querySelectorAll('#log .line')).map(l => l.id + ' ' + l.textContent).join('\\n')"],
        ])
        #expect(results[0] as? Bool == true)
        #expect(results[1] as? Bool == false)
        #expect(results[2] as? String == "same page")
        let lines = (results[3] as? String ?? "").split(separator: "\n").map(String.init)
        #expect(lines.contains("L2 2line 1"))
        #expect(lines.contains("L3 3line 2"))
        #expect(lines.contains("L5 5line 4"))
        #expect(serve.stop() == 0)
    }

    @Test func signingInShowsButtonsThatNeedTheirCSRFValue() throws {
        let fixture = try ServeFixture(workflow: ServeTests.sleeper)
        let serve = try ServeProcess(fixture.arguments())
        let token = try fixture.token()
        #expect(try serve.deliver("push", fixture.push(), delivery: "s-1", secret: fixture.secret).status == 202)
        let jar = fixture.root.path + "/cookies"
        func curl(_ arguments: [String]) throws -> CommandResult {
            try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["curl", "-s", "-b", jar, "-c", jar, "-o", "-", "-w", "\n%{http_code}"] + arguments)
        }
        let base = "http://127.0.0.1:\(serve.port)"
        let wrong = try curl(["--data-urlencode", "token=nope", base + "/sign-in"])
        #expect(wrong.stdout.hasSuffix("\n401"))
        #expect(wrong.stdout.contains("That token is not valid here."))
        let signIn = try curl(["--data-urlencode", "token=\(token)", base + "/sign-in"])
        #expect(signIn.stdout.hasSuffix("\n303"))
        let cookies = try String(contentsOfFile: jar, encoding: .utf8)
        #expect(cookies.contains("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tgantry_token\t\(token)"))
        let page = try curl([base + "/runs/1"]).stdout
        let csrf = try #require(page.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/)?.1)
        #expect(page.contains(#"<form method="post" action="/runs/1/cancel">"#))
        // Without the CSRF value (what another site's form would send) nothing happens.
        let forged = try curl(["-X", "POST", "--data", "csrf=0", base + "/runs/1/cancel"])
        #expect(forged.stdout.hasSuffix("\n403"))
        let cancel = try curl(["-X", "POST", "--data", "csrf=\(csrf)", base + "/runs/1/cancel"])
        #expect(cancel.stdout.hasSuffix("\n303"))
        let run = try serve.finishedRun("1", token: token)
        #expect(run["status"] as? String == "failure")
        let rerun = try curl(["-X", "POST", "--data", "csrf=\(csrf)", base + "/runs/1/rerun"])
        #expect(rerun.stdout.hasSuffix("\n303"))
        #expect(try serve.finishedRun("2", token: token)["status"] as? String == "success")
        // A run that succeeded has nothing to re-run "failed jobs" of.
        let nothingFailed = try serve.request("POST", "/api/v1/runs/2/rerun-failed-jobs", headers: ["Authorization": "Bearer \(token)"])
        #expect((nothingFailed.status, nothingFailed.body) == (409, #"{"error":"run 2 has no failed jobs"}"#))
        // Every HTML answer forbids scripts and styles from elsewhere.
        let headers = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["curl", "-s", "-D", "-", "-o", "/dev/null", base + "/sign-in"]).stdout.lowercased()
        #expect(headers.contains("cache-control: no-store"))
        #expect(headers.contains("content-security-policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"))
        let signOut = try curl(["-X", "POST", "--data", "csrf=\(csrf)", base + "/sign-out"])
        #expect(signOut.stdout.hasSuffix("\n303"))
        #expect(!(try curl([base + "/runs/1"]).stdout.contains("csrf")))
        #expect(serve.stop() == 0)
    }
}
