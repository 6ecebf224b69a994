/// `strategy:` of a job.
public struct Strategy: Hashable, Sendable, Codable {
    public var matrix: Matrix?
    /// Defaults to true when absent.
    public var failFast: Located<BoolOrExpression>?
    /// Unbounded when absent.
    public var maxParallel: Located<NumberOrExpression>?
    /// The whole strategy written as one expression (`strategy: ${{ fromJSON(…) }}`), evaluated at run time.
    public var expression: Located<String>?
    public var location: SourceLocation

    public init(at location: SourceLocation) {
        self.location = location
    }
}

/// `strategy.matrix`: a literal definition, or one expression evaluated at run time.
public enum Matrix: Hashable, Sendable, Codable {
    case literal(MatrixDefinition)
    case expression(Located<String>)
}

/// A literal matrix: axes in file order, plus `include` and `exclude`.
public struct MatrixDefinition: Hashable, Sendable, Codable {
    public var axes: [MatrixAxis]
    public var include: MatrixRows?
    public var exclude: MatrixRows?
    public var location: SourceLocation

    public init(axes: [MatrixAxis] = [], include: MatrixRows? = nil, exclude: MatrixRows? = nil, at location: SourceLocation) {
        self.axes = axes
        self.include = include
        self.exclude = exclude
        self.location = location
    }
}

/// One matrix key and its values.
public struct MatrixAxis: Hashable, Sendable, Codable {
    public var key: Located<String>
    public var values: MatrixValues

    public init(key: Located<String>, values: MatrixValues) {
        self.key = key
        self.values = values
    }
}

/// The values of one axis: a literal sequence or an expression.
public enum MatrixValues: Hashable, Sendable, Codable {
    case literal([ValueNode])
    case expression(Located<String>)
}

/// `include:` or `exclude:`: rows of `key: value`, or an expression.
public enum MatrixRows: Hashable, Sendable, Codable {
    case literal([ValueNode])
    case expression(Located<String>)
}
