import WebhookReading

/// A forge's delivery or an API dispatch body: any bytes give a reading or a refusal with its status.
/// The first byte picks the reader (GitHub, Gitea or Forgejo deliveries; the dispatch API), the second
/// the event header; the rest is the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhook(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let body = Array(bytes.dropFirst(2))
    let events = ["push", "pull_request", "pull_request_target", "workflow_dispatch", "ping", "create", "release", ""]
    let event = events[Int(bytes[1]) % events.count]
    switch bytes[0] % 4 {
    case 3:
        if case .failure(let refusal) = DispatchReader.read(body) { precondition((400..<500).contains(refusal.status)) }
    default:
        let forge = Forge.allCases[Int(bytes[0] % 3)]
        let headers = [(forge.eventHeaders[0], event), (forge.deliveryHeaders[0], "d-1")]
        if case .failure(let refusal) = WebhookReader.read(forge: forge, headers: headers, body: body) {
            precondition((400..<500).contains(refusal.status))
        }
    }
    return 0
}
