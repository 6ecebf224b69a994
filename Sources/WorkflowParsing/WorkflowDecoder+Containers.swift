import WorkflowModel

extension WorkflowDecoder {
    static let containerKeys = ["image", "credentials", "env", "ports", "volumes", "options"]
    static let serviceKeys = containerKeys + ["command", "entrypoint"]

    /// `container:` (a string naming the image, or a mapping) or one service.
    mutating func container(_ node: YAMLNode, _ what: @autoclosure () -> String, isService: Bool) -> Container? {
        var container = Container(at: location(node))
        if case .scalar = node.kind {
            // GitHub converts null to an empty string here: an empty job container means none, an empty
            // service image means the service is not started.
            guard let image = string(node, what()), !image.value.isEmpty || isService else { return nil }
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
            case "image": container.image = string(value, keyWhat)
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
        if !isService, !fields.has("image") {
            report("\(what()) is missing required key 'image'", at: node, rule: "missing-key")
        }
        return container
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
