import Foundation
import Testing
import WorkflowModel

/// `Job` keeps its fields in a box its copies share (`CopyOnWrite`): a copy must still behave as an
/// independent value, and equality, hashing and the JSON shape must be the fields' own.
@Suite struct JobStorageTests {
    static let here = SourceLocation(file: "ci.yml", line: 3, column: 3)

    static func job() -> Job {
        var job = Job(id: Located("build", at: here))
        job.needs = [Located("lint", at: here)]
        job.runsOn = RunsOn(labels: [Located("ubuntu-latest", at: here)], at: here)
        var step = Step(at: here)
        step.run = Located("make", at: here)
        job.steps.append(step)
        return job
    }

    @Test func aChangedCopyLeavesTheOriginalAsItWas() {
        let original = Self.job()
        var copy = original
        #expect(copy == original)
        copy.needs.append(Located("test", at: Self.here))
        copy.steps[0].run = Located("make check", at: Self.here)
        copy.runsOn = nil
        #expect(original.needs.map(\.value) == ["lint"])
        #expect(original.steps[0].run?.value == "make")
        #expect(original.runsOn?.labels.map(\.value) == ["ubuntu-latest"])
        #expect(copy.needs.map(\.value) == ["lint", "test"])
        #expect(copy.steps[0].run?.value == "make check")
        #expect(copy.runsOn == nil)
        #expect(copy != original)
    }

    @Test func equalJobsInSeparateBoxesAreEqualAndHashAlike() {
        let a = Self.job()
        let b = Self.job()
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
    }

    @Test func encodesItsFieldsAtTheTopLevelAndDecodesThemBack() throws {
        let job = Self.job()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(job)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // Absent optionals write no key, as a plain optional property does.
        #expect(object.keys.sorted() == ["id", "needs", "outputs", "runsOn", "services", "steps", "with"])
        #expect(try JSONDecoder().decode(Job.self, from: data) == job)
    }
}
