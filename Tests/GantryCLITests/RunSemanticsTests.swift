import Foundation
import Testing
import _GantryTestSupport

/// `gantry run` edge cases a review found, each pinned to GitHub's behaviour.
@Suite(.ownThread) struct RunSemanticsTests {
    typealias Scratch = RunCommandTests.Scratch

    static func lines(_ result: CommandResult) -> [String] {
        result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func backgroundProcessesLiveUntilTheJobEnds() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: sleep 41 >/dev/null 2>&1 &
                  - run: ps -eo stat,args | grep '^[^Z]* sleep 41$' >/dev/null && echo server-still-up
            """)
        let result = try scratch.run()
        #expect(result.status == 0)
        #expect(Self.lines(result).contains("[j] server-still-up"))
        let ps = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["sh", "-c", "ps -eo stat,args | grep -c '^[^Z]* sleep 41$' || true"])
        #expect(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func matrixOutputsStrategyContextAndContinueOnErrorPerRow() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              m:
                runs-on: ubuntu-latest
                continue-on-error: ${{ matrix.experimental }}
                strategy:
                  matrix:
                    row: [one, two]
                    include:
                      - row: two
                        experimental: true
                outputs:
                  from-one: ${{ steps.s.outputs.v }}
                steps:
                  - id: s
                    run: |
                      echo "index=${{ strategy.job-index }}/${{ strategy.job-total }}"
                      if [ "${{ matrix.row }}" = one ]; then echo "v=first" >> "$GITHUB_OUTPUT"; else exit 1; fi
              after:
                needs: m
                runs-on: ubuntu-latest
                steps:
                  - run: echo "got=${{ needs.m.outputs.from-one }} result=${{ needs.m.result }}"
            """)
        let result = try scratch.run()
        let lines = Self.lines(result)
        #expect(lines.contains("[m (one)] index=0/2"))
        #expect(lines.contains("[m (two, true)] index=1/2"))
        // Row two fails under continue-on-error: the run succeeds and `after` sees success.
        #expect(lines.contains("[after] got=first result=success"))
        #expect(result.status == 0)
    }

    @Test func jobTimeoutCancelsButCleanupStepsStillRun() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                timeout-minutes: 0.01
                steps:
                  - run: sleep 20
                  - if: always()
                    run: sleep 0.3 && echo cleanup-done
            """)
        let result = try scratch.run()
        let lines = Self.lines(result)
        #expect(result.status == 1)
        #expect(lines.contains("[j] cleanup-done"))
        #expect(lines.contains { $0.hasPrefix("[j] error: the job exceeded its timeout") })
    }

    /// GitHub's parser takes any number (actions/runner ConvertToJobTimeout/ConvertToStepTimeout); a
    /// limit of 0 or less, or one that rounded to infinity, sets none.
    @Test func timeoutsOfZeroOrInfinitySetNoLimit() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                timeout-minutes: 1e400
                steps:
                  - run: sleep 0.2 && echo zero-done
                    timeout-minutes: 0
                  - run: sleep 0.2 && echo negative-done
                    timeout-minutes: ${{ -1 }}
            """)
        let result = try scratch.run()
        let lines = Self.lines(result)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(lines.contains("[j] zero-done"))
        #expect(lines.contains("[j] negative-done"))
    }

    @Test func fileCommandsAreProcessedOneByOneAndNamesAreEvaluatedAndMasked() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - name: print ${{ secrets.TOK }} for ${{ github.event_name }}
                    run: |
                      echo "KEEP=yes" >> "$GITHUB_ENV"
                      mkdir -p "$RUNNER_TEMP/sh" && ln -sf "$(command -v sh)" "$RUNNER_TEMP/sh/mysh" && echo "$RUNNER_TEMP/sh" >> "$GITHUB_PATH"
                      echo "bad line" >> "$GITHUB_OUTPUT"
                      echo "::set-output name=x::first"
                      echo "::set-output name=x::second"
                    id: first
                    continue-on-error: true
                  - run: echo "keep=$KEEP x=${{ steps.first.outputs.x }}"
                    shell: mysh -e {0}
            """)
        let result = try scratch.run(["-s", "TOK=hunter2"])
        let lines = Self.lines(result)
        #expect(lines.contains("[j] ▶ print *** for push"))
        #expect(lines.contains("[j] error: unable to process file command 'output': Invalid format 'bad line'"))
        #expect(lines.contains("[j] keep=yes x=second"))
        #expect(!result.stdout.contains("hunter2"))
        let directory = try #require(lines.first { $0.hasPrefix("run directory: ") }).dropFirst("run directory: ".count)
        let grep = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["grep", "-rl", "hunter2", String(directory)])
        #expect(grep.stdout == "", "secrets must not be left in the run directory")
    }

    @Test func failureReachesDescendantsThroughSkippedJobs() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: exit 1
              b:
                needs: a
                runs-on: ubuntu-latest
                steps:
                  - run: echo b
              c:
                needs: b
                if: failure()
                runs-on: ubuntu-latest
                steps:
                  - run: echo c-reports-failure
            """)
        let result = try scratch.run()
        #expect(Self.lines(result).contains("[c] c-reports-failure"))
        #expect(result.status == 1)
    }

    @Test func slowConsoleNeverLeaksAMaskAddedLate() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              j:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      seq 1 20000
                      echo "::add-mask::topsecret42"
                  - run: echo "value topsecret42"
            """)
        let result = try runCommand(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "\(RunCommandTests.gantry.path) run -W w.yml | { sleep 1; cat; }"], in: scratch.url)
        #expect(result.stdout.contains("[j] value ***"))
        #expect(!result.stdout.contains("topsecret42"))
    }
}

extension RunSemanticsTests {
    /// Starts `gantry run`, waits for `marker` on its output, sends SIGINT, and returns the whole output.
    static func interrupt(_ scratch: Scratch, after marker: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = RunCommandTests.gantry
        process.arguments = ["run", "-W", "w.yml"]
        process.currentDirectoryURL = scratch.url
        process.environment = ProcessInfo.processInfo.environment.merging(["GANTRY_STATE_DIR": testStateDirectory]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        var collected = Data()
        let handle = out.fileHandleForReading
        while !String(decoding: collected, as: UTF8.self).contains(marker) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            collected += chunk
        }
        kill(process.processIdentifier, SIGINT)
        collected += handle.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: collected, as: UTF8.self))
    }

    @Test func cancellingKeepsAlwaysStepsRunningAndRunsAlwaysAndCancelledJobs() throws {
        let scratch = try Scratch("""
            on: push
            jobs:
              a:
                runs-on: ubuntu-latest
                steps:
                  - run: exit 1
                  - if: always()
                    run: echo cleanup-started; sleep 1; echo cleanup-finished
              notify:
                needs: a
                if: always()
                runs-on: ubuntu-latest
                steps:
                  - run: echo notify-ran
              on-cancel:
                needs: a
                if: cancelled()
                runs-on: ubuntu-latest
                steps:
                  - run: echo cancelled-handler-ran
              later:
                needs: a
                runs-on: ubuntu-latest
                steps:
                  - run: echo never
            """)
        let (status, text) = try Self.interrupt(scratch, after: "[a] cleanup-started")
        #expect(status == 1)
        #expect(text.contains("[a] cleanup-finished"))
        #expect(text.contains("[notify] notify-ran"))
        #expect(text.contains("[on-cancel] cancelled-handler-ran"))
        #expect(!text.contains("[later] never"))
        #expect(text.contains("later       cancelled") || text.split(separator: "\n").contains { $0.hasPrefix("later") && $0.contains("cancelled") })
    }
}
