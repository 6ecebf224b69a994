import WorkflowModel

extension WorkflowDecoder {
    static let containerKeys = ["image", "credentials", "env", "ports", "volumes", "options"]
    static let serviceKeys = containerKeys + ["command", "entrypoint"]

    /// `container:` (a string naming the image, or a mapping) or one service.
    mutating func container(_ node: YAMLNode, _ what: @autoclosure () -> String, isService: Bool) -> Container? {
        var container = Container(at: location(node))
        if case .scalar = node.kind {
            // GitHub converts null to an empty string here: an empty job container means none (no error);
            // an empty service image, or `docker://` alone, is refused.
            guard let image = string(node, what()) else { return nil }
            if isService || image.value.hasPrefix("docker://") { checkImage(image, at: node, what()) }
            guard !image.value.isEmpty else { return nil }
            container.image = image
            return container
        }
        guard let fields = fields(node, what(), allowed: isService ? Self.serviceKeys : Self.containerKeys, allowNull: false)
        else { return nil }
        for pair in fields.pairs {
            let key = pair.key.scalar ?? ""
            let value = pair.value
            lazy var keyWhat = "'\(key)' of \(what())"
            switch key {
            case "image":
                container.image = string(value, keyWhat)
                if let image = container.image, isService || image.value.hasPrefix("docker://") { checkImage(image, at: value, what()) }
            case "credentials":
                if isExpression(value), let text = value.scalar {
                    container.credentials = Container.Credentials(expression: Located(text, at: location(value)))
                } else if let creds = self.fields(value, keyWhat, allowed: ["username", "password"], allowNull: false) {
                    container.credentials = Container.Credentials(
                        username: creds["username"].flatMap { string($0, "'username' of \(keyWhat)", nonEmpty: true) },
                        password: creds["password"].flatMap { string($0, "'password' of \(keyWhat)", nonEmpty: true) })
                }
            case "env": container.env = environment(value, keyWhat)
            case "ports":
                if case .sequence(let items) = value.kind {
                    container.ports = items.compactMap { item in
                        guard case .scalar = item.kind else {
                            typeMismatch("an item of \(keyWhat)", expected: "a port such as '8080:80'", found: item)
                            return nil
                        }
                        return self.value(item, keyWhat)
                    }
                } else if !value.isNull {
                    typeMismatch(keyWhat, expected: "a sequence of ports", found: value)
                }
            case "volumes": container.volumes = sequenceOfStrings(value, keyWhat) ?? []
            case "options": container.options = string(value, keyWhat)
            case "command": container.command = string(value, keyWhat)
            case "entrypoint": container.entrypoint = string(value, keyWhat)
            default: break
            }
        }
        if !fields.has("image") {
            // GitHub: "Container image cannot be empty", at the mapping (testdata/reader/job-container-missing-image.yml).
            report("\(what()) is missing required key 'image' (GitHub: \"Container image cannot be empty\")", at: node, rule: "missing-key")
        }
        if !isService, container.image?.value.isEmpty == true { return nil }
        return container
    }

    /// actions/runner's early check (`WorkflowTemplateConverter`): a service's image, and any image
    /// written as `docker://…`, must name something once the prefix is taken off. An expression is
    /// only known at run time (an empty result there skips the service).
    private mutating func checkImage(_ image: Located<String>, at node: YAMLNode, _ what: @autoclosure () -> String) {
        let text = image.value
        guard !text.hasExpressionMarker else { return }
        let name = text.hasPrefix("docker://") ? String(text.dropFirst("docker://".count)) : text
        if name.isEmpty {
            report("the image of \(what()) is empty (GitHub: \"Container image cannot be empty\")", at: node, rule: "value")
        }
    }

    mutating func services(_ node: YAMLNode, _ jobWhat: String) -> [Service] {
        guard let pairs = pairs(node, "'services' of \(jobWhat)") else { return [] }
        var result: [Service] = []
        for pair in pairs {
            let id = pair.key.scalar ?? ""
            if !Self.isValidIdentifier(id) {
                report(
                    "invalid service id '\(id)': an id must start with a letter or '_' and contain only letters, digits, '-' and '_'",
                    at: pair.key, rule: "id")
            }
            guard let container = container(pair.value, "service '\(id)' of \(jobWhat)", isService: true) else { continue }
            result.append(Service(id: Located(id, at: location(pair.key)), container: container))
        }
        return result
    }
}
