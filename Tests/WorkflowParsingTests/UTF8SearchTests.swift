import Testing
import WorkflowModel

/// `String.containsUTF8`, the byte search the checks use for markers such as `${{` and `::set-output`.
@Suite struct UTF8SearchTests {
    @Test(arguments: [
        ("run: echo ${{ github.sha }}", "${{", true),
        ("${{", "${{", true),
        ("echo $ {{ x }}", "${{", false),
        ("aaab", "aab", true),
        ("aab", "aaab", false),
        ("ends with ::set-output", "::set-output", true),
        ("::set-outpu", "::set-output", false),
        ("", "", true),
        ("text", "", true),
        ("", "x", false),
        ("café ${{", "é ${{", true),
        ("cafe\u{301}", "é", false),
    ])
    func findsTheBytesOfTheNeedle(text: String, needle: String, found: Bool) {
        #expect(text.containsUTF8(needle) == found)
    }
}

/// `Workflow.sameID`, GitHub's case-insensitive comparison of ids and keys, decided on bytes where the
/// ASCII prefix decides and by `lowercased()` where it does not.
@Suite struct SameIDTests {
    @Test(arguments: [
        ("build", "build", true),
        ("build", "BUILD", true),
        ("Build-And_Test", "build-and_TEST", true),
        ("build", "builds", false),
        ("builds", "build", false),
        ("a_b", "a-b", false),
        ("@", "`", false),
        ("[", "{", false),
        ("k", "\u{212A}", true),
        ("job-\u{212A}", "JOB-k", true),
        ("ab", "abİ", false),
        ("Ärger", "äRGER", true),
        ("straße", "STRASSE", false),
        ("", "", true),
        ("", "a", false),
    ])
    func comparesLikeGitHub(a: String, b: String, same: Bool) {
        #expect(Workflow.sameID(a, b) == same)
        #expect(Workflow.sameID(b, a) == same)
    }
}
