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
