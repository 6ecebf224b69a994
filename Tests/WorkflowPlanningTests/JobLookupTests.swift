import Testing
import WorkflowModel

/// Job ids compare as GitHub compares them, ignoring case, without a string per comparison.
@Suite struct JobLookupTests {
    @Test func idsCompareIgnoringCase() {
        #expect(Workflow.sameID("Build", "bUILD"))
        #expect(Workflow.sameID("", ""))
        #expect(Workflow.sameID("build-2_x", "BUILD-2_X"))
        #expect(!Workflow.sameID("a@", "a`"))
        #expect(!Workflow.sameID("a[", "a{"))
        #expect(!Workflow.sameID("ab", "abc"))
        #expect(!Workflow.sameID("abc", "ab"))
        #expect(Workflow.sameID("Äpfel", "äPFEL"))
        #expect(!Workflow.sameID("Äpfel", "apfel"))
    }

    @Test func foldedIdsAreLowercasedAndPlainOnesKept() {
        #expect(Workflow.foldedID("build-2_x") == "build-2_x")
        #expect(Workflow.foldedID("Build-2_X") == "build-2_x")
        #expect(Workflow.foldedID("@[`{") == "@[`{")
        #expect(Workflow.foldedID("ÄPFEL") == "äpfel")
        #expect(Workflow.foldedID("\u{212A}elvin") == "kelvin")
        #expect(Workflow.foldedID("") == "")
    }

    @Test func lookupFindsTheFirstJobWithTheId() {
        let jobs = ["lint", "Build", "test"].map { Job(id: Located($0, at: SourceLocation(file: "w.yml", line: 1, column: 1))) }
        let workflow = Workflow(file: "w.yml", jobs: jobs)
        #expect(workflow.jobIndex("BUILD") == 1)
        #expect(workflow.job("Test")?.id.value == "test")
        #expect(workflow.jobIndex("deploy") == nil)
    }
}
