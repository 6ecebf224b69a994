import WorkflowModel
import WorkflowParsing

/// `gantry serve --config FILE` (or `GANTRY_SERVE_CONFIG`): a YAML mapping of the same settings as the
/// flags, by their long names (`listen`, `capacity`, `labels`…), and `repositories:` with each
/// repository's URL, secrets, variables and the events that may start its runs:
///
/// ```yaml
/// listen: 0.0.0.0:8080
/// labels: [self-hosted, linux, x64]
/// repositories:
///   octo/app:
///     url: https://github.com/octo/app.git
///     secret-file: /etc/gantry/app.secrets
///     var-file: /etc/gantry/app.vars
///     events: [push, pull_request, schedule]
/// ```
///
/// A flag wins over the environment, which wins over the file. A problem is one line with the file's
/// `file:line:col`.
struct ServeConfigFile {
    struct Repository {
        var name: String
        var url: String?
        var secretFile: String?
        var varFile: String?
        /// nil: every event Gantry runs.
        var events: [String]?
    }

    /// The settings a file may give, by the flags' long names.
    static let keys = [
        "listen", "data", "webhook-secret-file", "insecure-no-webhook-secret", "capacity", "labels", "platforms", "secret-file", "var-file",
        "drain-timeout", "lease", "log-format", "name", "page", "report-url", "report-token-file", "report-api", "repositories",
        "store", "store-file", "shared-dir",
    ]
    static let repositoryKeys = ["url", "secret-file", "var-file", "events"]
    /// The events a repository's `events:` may name: those a webhook, a dispatch or a schedule starts.
    static let events = ["push", "pull_request", "pull_request_target", "workflow_dispatch", "schedule"]

    private var values: [String: ValueNode] = [:]
    private(set) var repositories: [Repository] = []
    let file: String

    init(path: String) throws(ServeSettings.Invalid) {
        file = path
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path)
        } catch {
            throw ServeSettings.Invalid(message: "--config '\(path)' cannot be read: \(error.reason)")
        }
        let parsed: ValueNode?
        do {
            parsed = try YAMLDocument.parse(bytes, file: path)
        } catch {
            throw Self.problem(error.diagnostic.location, error.diagnostic.message)
        }
        guard let root = parsed else { return }
        guard case .mapping(let entries) = root.kind else { throw Self.problem(root.location, "the configuration must be a mapping of settings") }
        for entry in entries {
            guard Self.keys.contains(entry.key.value) else {
                throw Self.problem(entry.key.location, "unknown setting '\(entry.key.value)' (known: \(Self.keys.joined(separator: ", ")))")
            }
            if entry.key.value == "repositories" {
                repositories = try Self.repositories(entry.value)
            } else {
                values[entry.key.value] = entry.value
            }
        }
    }

    /// A setting as text: a scalar as written, a sequence of scalars joined with `,` (`labels`).
    func text(_ key: String) throws(ServeSettings.Invalid) -> String? {
        guard let node = values[key] else { return nil }
        if let text = node.scalarText { return text.isEmpty ? nil : text }
        return try Self.list(node, "'\(key)'").joined(separator: ",")
    }

    /// A setting that is a list (`platforms`): a sequence of scalars, or one scalar.
    func list(_ key: String) throws(ServeSettings.Invalid) -> [String]? {
        guard let node = values[key] else { return nil }
        if let text = node.scalarText { return text.isEmpty ? [] : [text] }
        return try Self.list(node, "'\(key)'")
    }

    /// Where a setting stands, for messages about its value.
    func location(_ key: String) -> String? {
        values[key].map { "\($0.location.file):\($0.location.line):\($0.location.column)" }
    }

    private static func list(_ node: ValueNode, _ what: String) throws(ServeSettings.Invalid) -> [String] {
        guard case .sequence(let items) = node.kind else { throw problem(node.location, "\(what) must be a string or a list of strings") }
        var out: [String] = []
        for item in items {
            guard let text = item.scalarText, !text.isEmpty else { throw problem(item.location, "\(what) must list strings") }
            out.append(text)
        }
        return out
    }

    private static func repositories(_ node: ValueNode) throws(ServeSettings.Invalid) -> [Repository] {
        if case .null = node.kind { return [] }
        guard case .mapping(let entries) = node.kind else { throw problem(node.location, "'repositories' must map OWNER/NAME to its settings") }
        var out: [Repository] = []
        for entry in entries {
            let name = entry.key.value
            guard name.split(separator: "/", omittingEmptySubsequences: false).count == 2, !name.hasPrefix("/"), !name.hasSuffix("/") else {
                throw problem(entry.key.location, "repository '\(name)' is not OWNER/NAME")
            }
            var repository = Repository(name: name)
            switch entry.value.kind {
            case .string(let url):
                // `octo/app: URL` is short for `url: URL`.
                repository.url = url
            case .mapping(let fields):
                for field in fields {
                    guard repositoryKeys.contains(field.key.value) else {
                        throw problem(
                            field.key.location,
                            "unknown setting '\(field.key.value)' of repository '\(name)' (known: \(repositoryKeys.joined(separator: ", ")))")
                    }
                    let value = field.value
                    switch field.key.value {
                    case "events":
                        let listed: [String]
                        if let one = value.scalarText { listed = [one] } else { listed = try list(value, "'events' of repository '\(name)'") }
                        for event in listed where !events.contains(event) {
                            throw problem(value.location, "'events' of repository '\(name)': '\(event)' is not one of \(events.joined(separator: ", "))")
                        }
                        repository.events = listed
                    default:
                        guard case .string(let text) = value.kind, !text.isEmpty else {
                            throw problem(value.location, "'\(field.key.value)' of repository '\(name)' must be a string")
                        }
                        switch field.key.value {
                        case "url": repository.url = text
                        case "secret-file": repository.secretFile = text
                        default: repository.varFile = text
                        }
                    }
                }
            default:
                throw problem(entry.value.location, "repository '\(name)' must be its URL or a mapping of url, secret-file, var-file, events")
            }
            guard repository.url != nil else { throw problem(entry.key.location, "repository '\(name)' has no url") }
            out.append(repository)
        }
        return out
    }

    static func problem(_ location: SourceLocation, _ message: String) -> ServeSettings.Invalid {
        ServeSettings.Invalid(message: "\(location.file):\(location.line):\(location.column): \(message)")
    }
}
