import WorkflowModel
import WorkflowParsing

/// YAML bytes → workflow: parsing and decoding must end with a workflow or diagnostics, never a crash
/// or a hang, whatever the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorkflow(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let result = WorkflowParser.parse(Array(UnsafeBufferPointer(start: data, count: size)), file: "fuzz.yml")
    // Every diagnostic has a position inside the file.
    for diagnostic in result.diagnostics where diagnostic.location.line < 0 || diagnostic.location.column < 0 {
        fatalError("diagnostic without a position: \(diagnostic)")
    }
    return 0
}
