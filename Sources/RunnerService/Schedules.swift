public import WebhookReading
import FoundationEssentials
public import Logging
import ServiceLifecycle
public import WorkflowExecution
import WorkflowExpressions
import WorkflowPlanning

/// The clock schedules fire by: the wall clock, or (`GANTRY_SERVE_SCHEDULE_CLOCK`, for tests) one that
/// reads `start` at the wall-clock instant `anchor` (when the process started, without one) and runs
/// `speed` times as fast. Nodes given one anchor tick together, as nodes on real clocks do.
public struct ScheduleClock: Sendable {
    let start: Double?
    let speed: Double
    private let began: Double

    public init(start: Double? = nil, speed: Double = 1, anchor: Double? = nil) {
        self.start = start
        self.speed = start == nil ? 1 : speed
        began = anchor ?? HostProcess.wallClock()
    }

    /// Seconds since 1970.
    func now() -> Double {
        guard let start else { return HostProcess.wallClock() }
        return start + (HostProcess.wallClock() - began) * speed
    }
}

/// Fires `schedule` triggers. At each minute of its clock every served repository whose events allow
/// schedules is fetched, and each `schedule` entry of the workflows at its default branch's head whose
/// cron matches that minute (in the entry's time zone, UTC without one) becomes a run with
/// `github.event.schedule` set to the cron. Each firing is delivered as
/// `schedule/<repository>/<workflow>/<cron>[ <time zone>]/<minute>`, so a minute never runs twice;
/// minutes that passed while the service was down are not replayed, as on GitHub. Local times are read
/// from UTC minutes: a time that a daylight-saving change skips never fires, and one it repeats fires
/// twice.
struct ScheduleService: Service {
    let repositories: [String]
    let runs: ServiceRuns
    let clock: ScheduleClock
    let logger: Logger

    func run() async throws {
        let first = Int((clock.now() / 60).rounded(.down))
        await cancelWhenGracefulShutdown {
            var last = first
            while !Task.isCancelled {
                let now = clock.now()
                let next = Double(last + 1) * 60
                if now < next {
                    try? await Task.sleep(for: .seconds(min(30, max(0.01, (next - now) / clock.speed))))
                    continue
                }
                let minute = Int((now / 60).rounded(.down))
                // At most an hour of minutes at once (a clock that jumped).
                let due = Array(max(last + 1, minute - 59)...minute)
                last = minute
                guard !(await runs.draining) else { continue }
                // Nodes of a cluster tick together: all but the first wait, then find the minute
                // delivered and plan nothing (planning takes a run number, which would be lost).
                let wait = await runs.tickDelay()
                if wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
                for repository in repositories { await fire(repository, minutes: due) }
            }
        }
    }

    private func fire(_ repository: String, minutes: [Int]) async {
        var log = logger
        log[metadataKey: "repository"] = .string(repository)
        let snapshot: ScheduleSnapshot
        do {
            snapshot = try await runs.launcher.schedules(repository)
        } catch {
            log.warning("schedules not read", metadata: ["error": .string("\(error)")])
            return
        }
        let branch = snapshot.ref.hasPrefix("refs/heads/") ? String(snapshot.ref.dropFirst(11)) : snapshot.ref
        for entry in snapshot.entries {
            guard let cron = CronSchedule(entry.cron) else { continue }
            var calendar = Calendar(identifier: .gregorian)
            let zone = entry.timezone.flatMap { TimeZone(identifier: $0) }
            if let name = entry.timezone, zone == nil {
                log.warning("unknown time zone; the schedule runs in UTC", metadata: ["workflow": .string(entry.workflow), "timezone": .string(name)])
            }
            calendar.timeZone = zone ?? TimeZone(identifier: "UTC")!
            for minute in minutes {
                let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: Date(timeIntervalSince1970: Double(minute * 60)))
                guard let m = parts.minute, let h = parts.hour, let d = parts.day, let mo = parts.month, let w = parts.weekday,
                    cron.matches(minute: m, hour: h, day: d, month: mo, weekday: w - 1)
                else { continue }
                let payload = ExpressionValue.object([
                    ("schedule", .string(entry.cron)),
                    ("repository", .object([("full_name", .string(repository)), ("default_branch", .string(branch))])),
                ])
                let intake = Intake(
                    repository: repository, event: "schedule", ref: snapshot.ref, sha: snapshot.sha, payload: JSONText.compact(payload),
                    delivery: "schedule/\(repository)/\(entry.workflow)/\(entry.cron)\(entry.timezone.map { " " + $0 } ?? "")/\(minute * 60)",
                    forge: .github, workflow: entry.workflow)
                let metadata: Logger.Metadata = ["workflow": .string(entry.workflow), "cron": .string(entry.cron), "minute": .stringConvertible(minute * 60)]
                do {
                    let (ids, duplicate) = try await runs.intake(intake)
                    let fired = metadata.merging(["runs": .string(ids.map(\.value).joined(separator: ","))]) { $1 }
                    // A minute that ran before (a restart within it) does not run again.
                    log.info(duplicate ? "schedule ran already" : "schedule fired", metadata: fired)
                } catch let failure as LaunchFailure {
                    log.warning("schedule not run", metadata: metadata.merging(["error": .string(failure.message)]) { $1 })
                } catch {
                    log.warning("schedule not run", metadata: metadata.merging(["error": .string("\(error)")]) { $1 })
                }
            }
        }
    }
}
