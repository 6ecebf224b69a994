import Testing
import WorkflowPlanning

/// Which minutes a `schedule` cron fires at (POSIX cron, as GitHub reads it).
@Suite struct CronScheduleTests {
    /// (minute, hour, day, month, weekday) of 2026-01-01, a Thursday (weekday 4), 00:00.
    static let newYear = (0, 0, 1, 1, 4)

    static func fires(_ cron: String, _ at: (Int, Int, Int, Int, Int)) -> Bool {
        CronSchedule(cron)!.matches(minute: at.0, hour: at.1, day: at.2, month: at.3, weekday: at.4)
    }

    @Test(arguments: [
        ("* * * * *", true), ("*/2 * * * *", true), ("1-59/2 * * * *", false), ("0 0 1 1 *", true), ("0 0 1 JAN *", true),
        ("0 0 * * thu", true), ("0 0 * * MON-WED", false), ("5,10,0 0 * * *", true), ("15 0 * * *", false),
        // Both day fields restricted: either one matching is enough (POSIX).
        ("0 0 15 * 4", true), ("0 0 15 * 1", false), ("0 0 1 * 1", true),
        // Only the day of the week restricted: it alone decides.
        ("0 0 * * 1", false),
        // N/STEP runs from N to the field's end.
        ("0 0/6 * * *", true), ("30/15 0 * * *", false),
    ])
    func minutesOfNewYear(cron: String, fires: Bool) {
        #expect(Self.fires(cron, Self.newYear) == fires, "\(cron)")
    }

    @Test func stepsAndRangesCoverTheRightMinutes() {
        let cron = CronSchedule("10-20/5 9-17/4 * * *")!
        let minutes = (0..<60).filter { cron.matches(minute: $0, hour: 9, day: 3, month: 3, weekday: 2) }
        #expect(minutes == [10, 15, 20])
        let hours = (0..<24).filter { cron.matches(minute: 10, hour: $0, day: 3, month: 3, weekday: 2) }
        #expect(hours == [9, 13, 17])
    }

    @Test(arguments: ["", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "5-1 * * * *", "*/0 * * * *", "a * * * *"])
    func invalidExpressionsAreRefused(cron: String) {
        #expect(CronSchedule(cron) == nil, "\(cron)")
    }
}
