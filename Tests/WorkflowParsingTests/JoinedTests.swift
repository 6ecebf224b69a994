import Testing
import WorkflowModel

/// The `joined(separator:)` WorkflowModel gives arrays of strings returns what the standard library's does.
@Suite struct JoinedTests {
    @Test(arguments: [
        ([], ", "), ([""], ", "), (["a"], ", "), (["a", "b", "c"], ", "), (["a", "", "c"], ""),
        (["café", "naïve"], " → "), (["", ""], "-"), (["one line\n", "two"], "\n"),
    ] as [([String], String)])
    func joinsAsTheStandardLibraryDoes(parts: [String], separator: String) {
        #expect(parts.joined(separator: separator) == AnySequence(parts).joined(separator: separator))
    }

    @Test func joinsWithoutASeparatorByDefault() {
        #expect(["a", "b"].joined() == "ab")
    }
}
