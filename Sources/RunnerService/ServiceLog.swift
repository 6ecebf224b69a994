public import Logging
import WorkflowExpressions
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// swift-log's handler for `gantry serve`: one line per message on standard output, as a JSON object
/// (`--log-format json`: time, level, message and every metadata field, e.g. `request`, `run`, `job`)
/// or as text (`--log-format text`). Secrets never reach it: the service logs ids, not payloads.
public struct ServiceLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case json, text }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let format: Format
    let label: String

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let lock = Mutex(())

    public func log(event: LogEvent) {
        var fields = metadata
        for (key, value) in event.metadata ?? [:] { fields[key] = value }
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var broken = tm()
        var seconds = time.tv_sec
        gmtime_r(&seconds, &broken)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let stamp = "\(pad(Int(broken.tm_year) + 1900, 4))-\(pad(Int(broken.tm_mon) + 1, 2))-\(pad(Int(broken.tm_mday), 2))T"
            + "\(pad(Int(broken.tm_hour), 2)):\(pad(Int(broken.tm_min), 2)):\(pad(Int(broken.tm_sec), 2)).\(pad(Int(time.tv_nsec / 1_000_000), 3))Z"
        var line: String
        switch format {
        case .json:
            line = "{\"time\":\"\(stamp)\",\"level\":\"\(event.level)\",\"message\":\(Self.quote("\(event.message)"))"
            for key in fields.keys.sorted() { line += ",\(Self.quote(key)):\(Self.quote("\(fields[key]!)"))" }
            line += "}\n"
        case .text:
            line = "\(stamp) \(event.level) \(event.message)"
            for key in fields.keys.sorted() { line += " \(key)=\(fields[key]!)" }
            line += "\n"
        }
        let bytes = Array(line.utf8)
        Self.lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 { break }
                offset += n
            }
        }
    }

    /// A JSON string literal (JSONText's escaping).
    static func quote(_ text: String) -> String {
        var out = ""
        JSONText.quote(text, into: &out)
        return out
    }
}
