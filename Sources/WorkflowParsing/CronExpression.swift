/// Checks POSIX cron syntax as GitHub's `schedule` accepts it: five fields (minute, hour, day of month,
/// month, day of week), each a `,` list of `*`, `N`, `N-M`, optionally `/STEP`; months and weekdays also
/// by three-letter English name.
enum CronExpression {
    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
    }

    private static let fields = [
        Field(name: "minute", range: 0...59, names: []),
        Field(name: "hour", range: 0...23, names: []),
        Field(name: "day of month", range: 1...31, names: []),
        Field(name: "month", range: 1...12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        Field(name: "day of week", range: 0...6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ]

    /// What is wrong with `text`, or nil when it is a valid cron expression.
    static func problem(in text: String) -> String? {
        // Spaces that look like spaces but are not (a non-breaking space pasted from a web page): say so,
        // since "expected 5 fields, found 1" would not show what is wrong.
        if let odd = text.unicodeScalars.first(where: { $0.properties.isWhitespace && $0 != " " && $0 != "\t" }) {
            let code = String(odd.value, radix: 16, uppercase: true)
            let name = odd.value == 0xA0 ? "a non-breaking space" : "a space character"
            return "the fields are separated by \(name) (U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code)), not a plain space; GitHub reads only plain spaces between fields"
        }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 5 else {
            return "expected 5 fields (minute hour day-of-month month day-of-week), found \(parts.count)"
        }
        for (part, field) in zip(parts, fields) {
            for item in part.split(separator: ",", omittingEmptySubsequences: false) {
                if let problem = check(String(item), field) { return problem }
            }
        }
        return nil
    }

    private static func check(_ item: String, _ field: Field) -> String? {
        let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { return "'\(item)' in the \(field.name) field has more than one '/'" }
        if pieces.count == 2 {
            guard let step = Int(pieces[1]), step > 0 else {
                return "step '\(pieces[1])' in the \(field.name) field must be a positive number"
            }
            _ = step
        }
        let base = String(pieces[0])
        if base == "*" { return nil }
        let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, !base.isEmpty else {
            return "'\(item)' is not a valid \(field.name) value"
        }
        var values: [Int] = []
        for bound in bounds {
            guard let value = self.value(String(bound), field) else {
                return "'\(bound)' is not a valid \(field.name) (\(field.range.lowerBound)-\(field.range.upperBound)"
                    + (field.names.isEmpty ? ")" : " or a name such as '\(field.names[0].uppercased())')")
            }
            values.append(value)
        }
        if values.count == 2, values[0] > values[1] {
            return "range '\(base)' in the \(field.name) field runs backwards"
        }
        return nil
    }

    private static func value(_ text: String, _ field: Field) -> Int? {
        if let n = Int(text), text.allSatisfy(\.isASCII), field.range.contains(n) { return n }
        if let index = field.names.firstIndex(of: text.lowercased()) {
            return field.range.lowerBound + index
        }
        return nil
    }
}
