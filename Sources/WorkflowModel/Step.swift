/// One step of a job: a `run` script or a `uses` action.
public struct Step: Hashable, Sendable, Codable {
    /// Where the step starts (its `-` item).
    public var location: SourceLocation
    public var id: Located<String>?
    public var condition: Located<String>?
    public var name: Located<String>?
    public var uses: Located<String>?
    public var run: Located<String>?
    public var shell: Located<String>?
    public var with: [MappingEntry]
    /// `with:` written as one expression yielding the inputs mapping, evaluated at run time.
    public var withExpression: Located<String>?
    public var env: Environment?
    public var continueOnError: Located<BoolOrExpression>?
    public var timeoutMinutes: Located<NumberOrExpression>?
    public var workingDirectory: Located<String>?

    public init(at location: SourceLocation) {
        self.location = location
        self.with = []
    }
}
