/// An action's metadata: what `action.yml` (or `action.yaml`) declares.
public struct ActionMetadata: Hashable, Sendable, Codable {
    /// The metadata file, for messages.
    public var file: String
    public var name: String?
    public var inputs: [Input]
    public var outputs: [Output]
    public var runs: Runs

    public init(file: String, name: String? = nil, inputs: [Input] = [], outputs: [Output] = [], runs: Runs) {
        self.file = file
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.runs = runs
    }

    /// One entry of `inputs:`.
    public struct Input: Hashable, Sendable, Codable {
        public var id: Located<String>
        /// The default (it may hold expressions, e.g. `${{ github.token }}`).
        public var defaultValue: String?
        public var required: Bool
        public var deprecationMessage: String?

        public init(id: Located<String>, defaultValue: String? = nil, required: Bool = false, deprecationMessage: String? = nil) {
            self.id = id
            self.defaultValue = defaultValue
            self.required = required
            self.deprecationMessage = deprecationMessage
        }
    }

    /// One entry of `outputs:`; `value` is set for composite actions only.
    public struct Output: Hashable, Sendable, Codable {
        public var id: Located<String>
        public var value: Located<String>?

        public init(id: Located<String>, value: Located<String>? = nil) {
            self.id = id
            self.value = value
        }
    }

    /// `runs:`: how the action runs.
    public enum Runs: Hashable, Sendable, Codable {
        case composite(steps: [Step])
        case node(Node)
        /// `using: docker`: an image (`Dockerfile` or `docker://…`) run in a container of its own.
        case docker(Docker)
    }

    /// `runs:` of a Docker action.
    public struct Docker: Hashable, Sendable, Codable {
        /// `Dockerfile` (a path in the action's folder) or `docker://IMAGE`.
        public var image: String
        public var entrypoint: String?
        /// Arguments, each may hold `${{ inputs.x }}`.
        public var args: [String]
        /// Extra environment, values may hold expressions.
        public var env: [(String, String)]
        public var preEntrypoint: String?
        public var preIf: String?
        public var postEntrypoint: String?
        public var postIf: String?

        public init(
            image: String, entrypoint: String? = nil, args: [String] = [], env: [(String, String)] = [],
            preEntrypoint: String? = nil, preIf: String? = nil, postEntrypoint: String? = nil, postIf: String? = nil
        ) {
            self.image = image
            self.entrypoint = entrypoint
            self.args = args
            self.env = env
            self.preEntrypoint = preEntrypoint
            self.preIf = preIf
            self.postEntrypoint = postEntrypoint
            self.postIf = postIf
        }

        public static func == (a: Docker, b: Docker) -> Bool {
            a.image == b.image && a.entrypoint == b.entrypoint && a.args == b.args && a.env.map { $0.0 + "=" + $0.1 } == b.env.map { $0.0 + "=" + $0.1 }
                && a.preEntrypoint == b.preEntrypoint && a.preIf == b.preIf && a.postEntrypoint == b.postEntrypoint && a.postIf == b.postIf
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(image)
            hasher.combine(args)
        }

        private enum CodingKeys: String, CodingKey {
            case image, entrypoint, args, envNames, envValues, preEntrypoint, preIf, postEntrypoint, postIf
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            image = try c.decode(String.self, forKey: .image)
            entrypoint = try c.decodeIfPresent(String.self, forKey: .entrypoint)
            args = try c.decode([String].self, forKey: .args)
            env = zip(try c.decode([String].self, forKey: .envNames), try c.decode([String].self, forKey: .envValues)).map { ($0, $1) }
            preEntrypoint = try c.decodeIfPresent(String.self, forKey: .preEntrypoint)
            preIf = try c.decodeIfPresent(String.self, forKey: .preIf)
            postEntrypoint = try c.decodeIfPresent(String.self, forKey: .postEntrypoint)
            postIf = try c.decodeIfPresent(String.self, forKey: .postIf)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(image, forKey: .image)
            try c.encodeIfPresent(entrypoint, forKey: .entrypoint)
            try c.encode(args, forKey: .args)
            try c.encode(env.map(\.0), forKey: .envNames)
            try c.encode(env.map(\.1), forKey: .envValues)
            try c.encodeIfPresent(preEntrypoint, forKey: .preEntrypoint)
            try c.encodeIfPresent(preIf, forKey: .preIf)
            try c.encodeIfPresent(postEntrypoint, forKey: .postEntrypoint)
            try c.encodeIfPresent(postIf, forKey: .postIf)
        }
    }

    /// `runs:` of a JavaScript action.
    public struct Node: Hashable, Sendable, Codable {
        /// `node12`, `node16`, `node20` or `node24`.
        public var using: String
        public var main: String
        public var pre: String?
        public var preIf: String?
        public var post: String?
        public var postIf: String?

        public init(using: String, main: String, pre: String? = nil, preIf: String? = nil, post: String? = nil, postIf: String? = nil) {
            self.using = using
            self.main = main
            self.pre = pre
            self.preIf = preIf
            self.post = post
            self.postIf = postIf
        }
    }
}
