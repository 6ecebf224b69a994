public import WorkflowExpressions

/// The forges whose webhooks `gantry serve` reads, by path: `/webhooks/github`, `/webhooks/gitea`,
/// `/webhooks/forgejo`.
public enum Forge: String, Sendable, Codable, CaseIterable {
    case github, gitea, forgejo

    /// The header naming the event, the delivery id and the signature, as each forge sends them.
    /// Gitea and Forgejo also send GitHub's headers; their own come first.
    public var eventHeaders: [String] {
        switch self {
        case .github: ["X-GitHub-Event"]
        case .gitea: ["X-Gitea-Event", "X-GitHub-Event"]
        case .forgejo: ["X-Forgejo-Event", "X-Gitea-Event", "X-GitHub-Event"]
        }
    }

    public var deliveryHeaders: [String] {
        switch self {
        case .github: ["X-GitHub-Delivery"]
        case .gitea: ["X-Gitea-Delivery", "X-GitHub-Delivery"]
        case .forgejo: ["X-Forgejo-Delivery", "X-Gitea-Delivery", "X-GitHub-Delivery"]
        }
    }
}

/// What a delivery asks for, read from its headers and JSON body.
public struct Intake: Sendable, Codable, Equatable {
    /// `owner/name`, as `repository.full_name` gives it.
    public var repository: String
    /// GitHub's event name (`push`, `pull_request`, `workflow_dispatch`…).
    public var event: String
    public var ref: String?
    /// The commit the run is for: `after` of a push, the head of a pull request, the branch's head for
    /// a dispatch (resolved against the mirror when the payload has none).
    public var sha: String?
    /// The whole payload, as JSON text (what `github.event` holds).
    public var payload: String
    public var delivery: String?
    public var forge: Forge
    /// Only this workflow file (`.github/workflows/ci.yml`), as a dispatch through the API names one.
    public var workflow: String?

    public init(
        repository: String, event: String, ref: String?, sha: String?, payload: String, delivery: String?, forge: Forge, workflow: String? = nil
    ) {
        self.repository = repository
        self.event = event
        self.ref = ref
        self.sha = sha
        self.payload = payload
        self.delivery = delivery
        self.forge = forge
        self.workflow = workflow
    }
}

/// `POST /api/v1/runs`: a run asked for through the API, as `{"repository": "owner/name", "ref":
/// "main" or "refs/…", "sha": optional, "event": "workflow_dispatch" (default) or "push", "workflow":
/// optional file, "inputs": {…}}`.
public enum DispatchReader {
    public static func read(_ body: [UInt8]) -> Result<Intake, WebhookRefusal> {
        guard case .object(let object)? = try? JSONText.parse(String(decoding: body, as: UTF8.self)) else {
            return .failure(WebhookRefusal(400, "the body is not a JSON object"))
        }
        func text(_ key: String) -> String? {
            guard let value = object[key], case .string(let s) = value, !s.isEmpty else { return nil }
            return s
        }
        guard let repository = text("repository") else { return .failure(WebhookRefusal(400, "'repository' (owner/name) is required")) }
        let event = text("event") ?? "workflow_dispatch"
        guard ["workflow_dispatch", "push"].contains(event) else {
            return .failure(WebhookRefusal(400, "'event' must be workflow_dispatch or push"))
        }
        let sha = text("sha")
        guard let given = text("ref") ?? (sha == nil ? nil : "") else { return .failure(WebhookRefusal(400, "'ref' or 'sha' is required")) }
        let ref: String? = given.isEmpty ? nil : given.hasPrefix("refs/") ? given : "refs/heads/" + given
        var inputs: [(String, ExpressionValue)] = []
        if let value = object["inputs"] {
            guard case .object(let given) = value else { return .failure(WebhookRefusal(400, "'inputs' must be an object")) }
            for (name, value) in given.pairs {
                guard value.isPrimitive else { return .failure(WebhookRefusal(400, "input '\(name)' must be a string, number or boolean")) }
                inputs.append((name, .string(value.stringValue)))
            }
        }
        var payload: [(String, ExpressionValue)] = [("repository", .object([("full_name", .string(repository))]))]
        if let ref { payload.append(("ref", .string(ref))) }
        if event == "workflow_dispatch" {
            payload.append(("inputs", .object(inputs)))
            if let workflow = text("workflow") { payload.append(("workflow", .string(workflow))) }
        } else if let sha {
            payload.append(("after", .string(sha)))
        }
        return .success(Intake(
            repository: repository, event: event, ref: ref, sha: sha, payload: JSONText.compact(.object(payload)), delivery: nil, forge: .github,
            workflow: text("workflow")))
    }
}

/// A delivery `gantry serve` does not run, and the HTTP status it is answered with.
public struct WebhookRefusal: Error, Sendable, Equatable {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// Reads a delivery: what runs (an `Intake`), nothing (`nil`, with the reason: `ping`, an event Gantry
/// does not run, a deleted ref), or a refusal for a malformed one.
public enum WebhookReader {
    public enum Reading: Sendable, Equatable {
        case run(Intake)
        case ignored(String)
    }

    public static func read(forge: Forge, headers: [(name: String, value: String)], body: [UInt8]) -> Result<Reading, WebhookRefusal> {
        func header(_ names: [String]) -> String? {
            for name in names {
                if let value = headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value, !value.isEmpty { return value }
            }
            return nil
        }
        guard let event = header(forge.eventHeaders) else {
            return .failure(WebhookRefusal(400, "missing header \(forge.eventHeaders[0])"))
        }
        let delivery = header(forge.deliveryHeaders)
        let text = String(decoding: body, as: UTF8.self)
        let payload: ExpressionValue
        do {
            payload = try JSONText.parse(text)
        } catch {
            return .failure(WebhookRefusal(400, "the body is not JSON: \(error.message) at byte \(error.offset + 1)"))
        }
        guard case .object(let object) = payload else { return .failure(WebhookRefusal(400, "the body is not a JSON object")) }
        if event == "ping" { return .success(.ignored("ping")) }
        guard ["push", "pull_request", "pull_request_target", "workflow_dispatch"].contains(event) else {
            return .success(.ignored("event '\(event)' does not start runs"))
        }
        guard case .object(let repository)? = object["repository"], let name = repository["full_name"]?.stringValue, !name.isEmpty else {
            return .failure(WebhookRefusal(400, "the payload has no repository.full_name"))
        }
        var ref = object["ref"]?.stringValue
        var sha: String?
        switch event {
        case "push":
            let after = object["after"]?.stringValue
            if object["deleted"]?.isTruthy == true || after.map({ !$0.isEmpty && $0.allSatisfy { $0 == "0" } }) == true {
                return .success(.ignored("\(ref ?? "a ref") was deleted"))
            }
            sha = after
        case "pull_request", "pull_request_target":
            guard case .object(let pull)? = object["pull_request"], case .object(let head)? = pull["head"], case .object(let base)? = pull["base"] else {
                return .failure(WebhookRefusal(400, "the payload has no pull_request.head and .base"))
            }
            if event == "pull_request" {
                // GitHub runs the merge ref; a mirror has the head, which is what the run checks out here.
                sha = head["sha"]?.stringValue
                if let given = object["number"] {
                    // A pull request's number is a positive whole number (fuzz-webhook found that a huge
                    // one trapped converting to Int).
                    let number = given.numberValue
                    guard number.isFinite, number >= 1, number <= 9_007_199_254_740_991, number.rounded() == number else {
                        return .failure(WebhookRefusal(400, "the payload's number is not a pull request number"))
                    }
                    ref = "refs/pull/\(Int(number))/merge"
                }
            } else {
                sha = base["sha"]?.stringValue
                if let branch = base["ref"]?.stringValue { ref = "refs/heads/" + branch }
            }
        default:
            if let given = ref, !given.hasPrefix("refs/") { ref = "refs/heads/" + given }
        }
        return .success(.run(Intake(repository: name, event: event, ref: ref, sha: sha, payload: text, delivery: delivery, forge: forge)))
    }
}
