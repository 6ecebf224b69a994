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
        /// `using: docker`: the image (`Dockerfile` or `docker://…`), run by the Docker backend.
        case docker(image: String)
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
