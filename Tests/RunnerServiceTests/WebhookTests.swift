import WebhookReading
import RunnerService
import Testing

/// Deliveries as each forge sends them: signatures (GitHub's `sha256=` prefix, Gitea's and Forgejo's
/// bare hex), event names and what a delivery asks for.
@Suite struct WebhookTests {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    static let body = Array("what do ya want for nothing?".utf8)
    static let mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

    @Test func signaturesOfEveryForgeAreCheckedAndNothingElsePasses() {
        let secret = Array("Jefe".utf8)
        #expect(WebhookSignature.hex(Self.body, secret: secret) == Self.mac)
        #expect(WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Hub-Signature-256", "sha256=" + Self.mac)], forge: .github))
        #expect(WebhookSignature.verify(Self.body, secret: secret, headers: [("x-hub-signature-256", "sha256=" + Self.mac.uppercased())], forge: .github))
        #expect(!WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Hub-Signature-256", Self.mac)], forge: .github))
        #expect(!WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Gitea-Signature", Self.mac)], forge: .github))
        #expect(WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Gitea-Signature", Self.mac)], forge: .gitea))
        #expect(WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Forgejo-Signature", Self.mac)], forge: .forgejo))
        #expect(!WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Forgejo-Signature", Self.mac)], forge: .gitea))
        #expect(!WebhookSignature.verify(Self.body + [0x20], secret: secret, headers: [("X-Hub-Signature-256", "sha256=" + Self.mac)], forge: .github))
        #expect(!WebhookSignature.verify(Self.body, secret: secret, headers: [], forge: .github))
        #expect(!WebhookSignature.verify(Self.body, secret: secret, headers: [("X-Hub-Signature-256", "sha256=" + Self.mac.dropLast())], forge: .github))
    }

    @Test func deliveriesSayWhatTheyRun() throws {
        func read(_ forge: Forge, _ event: String, _ json: String) -> Result<WebhookReader.Reading, WebhookRefusal> {
            let header = forge == .github ? "X-GitHub-Event" : forge == .gitea ? "X-Gitea-Event" : "X-Forgejo-Event"
            return WebhookReader.read(forge: forge, headers: [(header, event), ("X-GitHub-Delivery", "d-9")], body: Array(json.utf8))
        }
        let push = #"{"ref":"refs/tags/v1","after":"abc","repository":{"full_name":"o/r"}}"#
        guard case .success(.run(let intake)) = read(.gitea, "push", push) else { Issue.record("no run"); return }
        #expect(intake == Intake(repository: "o/r", event: "push", ref: "refs/tags/v1", sha: "abc", payload: push, delivery: "d-9", forge: .gitea))
        let pull = #"{"number":7,"pull_request":{"head":{"sha":"h1","ref":"f"},"base":{"sha":"b1","ref":"main"}},"repository":{"full_name":"o/r"}}"#
        guard case .success(.run(let pr)) = read(.github, "pull_request", pull) else { Issue.record("no run"); return }
        #expect((pr.ref, pr.sha) == ("refs/pull/7/merge", "h1"))
        guard case .success(.run(let target)) = read(.forgejo, "pull_request_target", pull) else { Issue.record("no run"); return }
        #expect((target.ref, target.sha) == ("refs/heads/main", "b1"))
        let dispatch = #"{"ref":"main","inputs":{"x":"1"},"repository":{"full_name":"o/r"}}"#
        guard case .success(.run(let manual)) = read(.github, "workflow_dispatch", dispatch) else { Issue.record("no run"); return }
        #expect((manual.ref, manual.sha) == ("refs/heads/main", nil))
        #expect(read(.github, "push", #"{"ref":"refs/heads/x","after":"0000000000000000000000000000000000000000","repository":{"full_name":"o/r"}}"#)
            == .success(.ignored("refs/heads/x was deleted")))
        #expect(read(.github, "push", #"{"ref":"refs/heads/x","after":"abc"}"#) == .failure(WebhookRefusal(400, "the payload has no repository.full_name")))
        #expect(read(.github, "push", "[1]") == .failure(WebhookRefusal(400, "the body is not a JSON object")))
        #expect(read(.github, "pull_request", #"{"repository":{"full_name":"o/r"}}"#)
            == .failure(WebhookRefusal(400, "the payload has no pull_request.head and .base")))
        #expect(WebhookReader.read(forge: .github, headers: [], body: []) == .failure(WebhookRefusal(400, "missing header X-GitHub-Event")))
    }

    /// fuzz-webhook's finding (crash-b396d927…): a pull request number too large for Int trapped the
    /// service; every number that is not a pull request's is refused.
    @Test func aPullRequestNumberThatIsNoneIsRefused() {
        func read(_ number: String) -> Result<WebhookReader.Reading, WebhookRefusal> {
            let body = #"{"": ".csah", "ref": "=", "number": \#(number), "pull_request": {"head": {"sha":"fa"}, "base": {}}, "repository": {"full_name":"/r"}}"#
            return WebhookReader.read(forge: .gitea, headers: [("X-Gitea-Event", "pull_request")], body: Array(body.utf8))
        }
        let refusal = Result<WebhookReader.Reading, WebhookRefusal>.failure(WebhookRefusal(400, "the payload's number is not a pull request number"))
        #expect(read("3" + String(repeating: "7", count: 96)) == refusal)
        #expect(read("1e400") == refusal)
        #expect(read("-3") == refusal)
        #expect(read("0") == refusal)
        #expect(read("2.5") == refusal)
        #expect(read(#""7""#) == .success(.run(Intake(
            repository: "/r", event: "pull_request", ref: "refs/pull/7/merge", sha: "fa",
            payload: #"{"": ".csah", "ref": "=", "number": "7", "pull_request": {"head": {"sha":"fa"}, "base": {}}, "repository": {"full_name":"/r"}}"#,
            delivery: nil, forge: .gitea))))
    }
}
