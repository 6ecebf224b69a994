import Foundation
import Testing
import WorkflowModel
import WorkflowParsing
import _GantryTestSupport

/// Every `Fixtures/err/NAME.yml` gives exactly the diagnostics in `NAME.out`; every `Fixtures/ok` file
/// gives none.
@Suite struct GoldenDiagnosticsTests {
    static let errDirectory = Fixtures.directory().appendingPathComponent("err")
    static let okDirectory = Fixtures.directory().appendingPathComponent("ok")
    static let errCases = Fixtures.files(in: errDirectory, extensions: ["yml", "yaml"])
    static let okCases = Fixtures.files(in: okDirectory, extensions: ["yml", "yaml"])

    static let warnDirectory = Fixtures.directory().appendingPathComponent("warn")
    static let warnCases = Fixtures.files(in: warnDirectory, extensions: ["yml", "yaml"])

    /// What GitHub accepts: warnings at most (validate exits 0), against golden files.
    @Test("warning fixtures print their golden warnings and no error", arguments: warnCases)
    func warningFixture(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.warnDirectory.appendingPathComponent(name)))
        let result = WorkflowParser.parse(bytes, file: name)
        #expect(!result.diagnostics.containsErrors, "a warn/ fixture must produce no error: \(result.diagnostics)")
        #expect(result.workflow != nil)
        let rendered = result.diagnostics.map { $0.description + "\n" }.joined()
        let golden = Self.warnDirectory.appendingPathComponent((name as NSString).deletingPathExtension + ".out")
        let outcome = GoldenFile.check(rendered, against: golden.path)
        #expect(outcome == .match, "\(outcome.failureMessage ?? "")")
    }

    @Test("error fixtures print their golden diagnostics", arguments: errCases)
    func errorFixture(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.errDirectory.appendingPathComponent(name)))
        let result = WorkflowParser.parse(bytes, file: name)
        #expect(result.diagnostics.containsErrors, "an err/ fixture must produce at least one error")
        let rendered = result.diagnostics.map { $0.description + "\n" }.joined()
        let golden = Self.errDirectory.appendingPathComponent(
            (name as NSString).deletingPathExtension + ".out")
        let outcome = GoldenFile.check(rendered, against: golden.path)
        #expect(outcome == .match, "\(outcome.failureMessage ?? "")")
    }

    @Test("valid workflows give no diagnostics", arguments: okCases)
    func okFixture(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.okDirectory.appendingPathComponent(name)))
        let result = WorkflowParser.parse(bytes, file: name)
        #expect(result.diagnostics.map(\.description) == [])
        #expect(result.workflow != nil)
    }

    @Test func everyGoldenFileHasItsWorkflow() {
        let outs = Fixtures.files(in: Self.errDirectory, extensions: ["out"])
        let stems = Set(Self.errCases.map { ($0 as NSString).deletingPathExtension })
        #expect(outs.filter { !stems.contains(($0 as NSString).deletingPathExtension) } == [])
        #expect(Self.errCases.count >= 20)
        #expect(Self.okCases.count >= 90)
    }
}
