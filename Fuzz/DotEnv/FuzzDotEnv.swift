import WorkflowPlanning

/// act's dotenv files (`.secrets`, `.vars`, `.env`, `.input`): any text parses to pairs or one positioned
/// failure.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDotEnv(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? DotEnv.parse(text, file: ".env", environment: [("HOME", "/root"), ("EMPTY", "")])
    return 0
}
