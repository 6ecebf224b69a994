/// A `schedule` cron expression, for deciding which minutes it fires at: five fields (minute, hour, day
/// of month, month, day of week), each a `,` list of `*`, `N`, `N-M`, with an optional `/STEP`; months
/// and weekdays also by three-letter English name. As in POSIX cron, when both day fields are
/// restricted a day matches if either does. (`validate` checks the syntax with positions; this reads
/// an expression that passed.)
public struct CronSchedule: Sendable, Equatable {
    private let minutes: Set<Int>
    private let hours: Set<Int>
    private let days: Set<Int>
    private let months: Set<Int>
    private let weekdays: Set<Int>
    private let daysRestricted: Bool
    private let weekdaysRestricted: Bool

    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// nil when the text is not a valid expression.
    public init?(_ text: String) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5,
            let minutes = Self.values(fields[0], 0...59, names: []),
            let hours = Self.values(fields[1], 0...23, names: []),
            let days = Self.values(fields[2], 1...31, names: []),
            let months = Self.values(fields[3], 1...12, names: Self.monthNames),
            let weekdays = Self.values(fields[4], 0...6, names: Self.dayNames)
        else { return nil }
        self.minutes = minutes
        self.hours = hours
        self.days = days
        self.months = months
        self.weekdays = weekdays
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
    }

    /// True when the expression fires at this local time (`weekday` 0 is Sunday).
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        if daysRestricted && weekdaysRestricted { return days.contains(day) || weekdays.contains(weekday) }
        return days.contains(day) && weekdays.contains(weekday)
    }

    private static func values(_ field: String, _ range: ClosedRange<Int>, names: [String]) -> Set<Int>? {
        var out = Set<Int>()
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { return nil }
            var step = 1
            if pieces.count == 2 {
                guard let given = Int(pieces[1]), given > 0 else { return nil }
                step = given
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(ends.count), let low = value(ends[0], range, names),
                    let high = ends.count == 2 ? value(ends[1], range, names) : (pieces.count == 2 ? range.upperBound : low), low <= high
                else { return nil }
                bounds = low...high
            }
            out.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return out
    }

    private static func value(_ text: Substring, _ range: ClosedRange<Int>, _ names: [String]) -> Int? {
        if let n = Int(text), text.allSatisfy(\.isASCII), range.contains(n) { return n }
        return names.firstIndex(of: text.lowercased()).map { range.lowerBound + $0 }
    }
}
