import Foundation
import Testing
import _GantryTestSupport

/// The checkers the deploy files are held to, where this machine has them: .ci/install-deps puts
/// hadolint, kubernetes-validate, checkov and PyYAML in the virtual environment /opt/gantry-tools;
/// kubectl (1.27 or later) comes from the machine. Each is required under CI=true.
enum DeployTools {
    static let tools = "/opt/gantry-tools/bin"
    static func find(_ name: String) -> URL? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
        return ([tools + "/" + name] + path).map { URL(fileURLWithPath: $0) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
    static let hadolint = find("hadolint")
    static let kubectl = find("kubectl")
    static let kubernetesValidate = find("kubernetes-validate")
    static let checkov = find("checkov")
    /// A Python with PyYAML: the tools' own, else the machine's.
    static let python = FileManager.default.isExecutableFile(atPath: tools + "/python3") ? tools + "/python3" : "python3"
    static let ci = ProcessInfo.processInfo.environment["CI"] == "true"

    static let root = Fixtures.packageRoot()
    static var base: String { root.path + "/deploy/kubernetes/base" }
    static var postgres: String { root.path + "/deploy/kubernetes/postgres" }

    /// `kubectl kustomize` of a folder, written to a file; its path.
    static func render(_ folder: String) throws -> String {
        guard let kubectl else { throw ServeError("no kubectl") }
        let result = try runCommand(kubectl, ["kustomize", folder])
        guard result.status == 0 else { throw ServeError("kubectl kustomize \(folder): \(result.stderr)") }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-rendered-\(UUID().uuidString).yaml").path
        try result.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The documents of a YAML file as JSON objects (read by PyYAML, not by the code under test).
    static func documents(_ file: String) throws -> [[String: Any]] {
        let result = try runCommand(
            URL(fileURLWithPath: "/usr/bin/env"),
            [python, "-c", "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))", file])
        guard result.status == 0 else { throw ServeError("PyYAML: \(result.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }
}

@Suite(.ownThread) struct DeployTests {
    @Test func ciHasTheCheckers() {
        if DeployTools.ci {
            #expect(DeployTools.hadolint != nil, "CI=true: hadolint (.ci/install-deps puts it in /opt/gantry-tools)")
            #expect(DeployTools.kubectl != nil, "CI=true: kubectl 1.27 or later (for kubectl kustomize)")
            #expect(DeployTools.kubernetesValidate != nil, "CI=true: kubernetes-validate (.ci/install-deps puts it in /opt/gantry-tools)")
            #expect(DeployTools.checkov != nil, "CI=true: checkov (.ci/install-deps puts it in /opt/gantry-tools)")
        }
    }

    @Test(.enabled(if: DeployTools.hadolint != nil))
    func theDockerfileIsCleanUnderHadolint() throws {
        let result = try runCommand(DeployTools.hadolint!, [DeployTools.root.path + "/Dockerfile"])
        #expect(result.status == 0)
        #expect(result.stdout + result.stderr == "")
    }

    @Test(.enabled(if: DeployTools.kubectl != nil && DeployTools.kubernetesValidate != nil))
    func theKustomizeBaseRendersAndPassesStrictSchemaValidation() throws {
        let rendered = try DeployTools.render(DeployTools.base)
        defer { try? FileManager.default.removeItem(atPath: rendered) }
        let result = try runCommand(DeployTools.kubernetesValidate!, ["--strict", "--quiet", rendered])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout + result.stderr == "")
    }

    /// What the issue and the seed documents ask of the manifests, read from what kustomize makes.
    @Test(.enabled(if: DeployTools.kubectl != nil))
    func theDeploymentRunsNonRootReadOnlyWithProbesAndSecretsByReference() throws {
        let rendered = try DeployTools.render(DeployTools.base)
        defer { try? FileManager.default.removeItem(atPath: rendered) }
        let documents = try DeployTools.documents(rendered)
        #expect(documents.compactMap { $0["kind"] as? String }.sorted() == [
            "ConfigMap", "Deployment", "NetworkPolicy", "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "ServiceAccount",
        ])
        // Every resource in the namespace gantry; no Secret is ever part of the manifests.
        #expect(documents.allSatisfy { ($0["metadata"] as? [String: Any])?["namespace"] as? String == "gantry" })

        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 1)
        #expect((spec["strategy"] as? [String: Any])?["type"] as? String == "Recreate")
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let podSecurity = try #require(pod["securityContext"] as? [String: Any])
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        #expect(podSecurity["runAsUser"] as? Int == 1000)
        #expect(pod["automountServiceAccountToken"] as? Bool == false)

        // The grace period is serve.yaml's drain timeout plus 30 s.
        let config = try String(contentsOfFile: DeployTools.base + "/serve.yaml", encoding: .utf8)
        let drain = try #require(config.split(separator: "\n").first { $0.hasPrefix("drain-timeout:") }.flatMap { Int($0.split(separator: " ").last ?? "") })
        #expect(pod["terminationGracePeriodSeconds"] as? Int == drain + 30)

        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        func probePath(_ name: String) -> String? {
            ((container[name] as? [String: Any])?["httpGet"] as? [String: Any])?["path"] as? String
        }
        #expect([probePath("startupProbe"), probePath("livenessProbe"), probePath("readinessProbe")] == ["/health", "/health", "/ready"])
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect((security["capabilities"] as? [String: Any])?["drop"] as? [String] == ["ALL"])
        let resources = try #require(container["resources"] as? [String: Any])
        #expect((resources["requests"] as? [String: Any])?.keys.sorted() == ["cpu", "memory"])
        #expect((resources["limits"] as? [String: Any])?.keys.sorted() == ["cpu", "memory"])

        // The secrets are a volume from the Secret gantry-secrets, which serve.yaml's files name.
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let secret = try #require(volumes.first { $0["name"] as? String == "secrets" }?["secret"] as? [String: Any])
        #expect(secret["secretName"] as? String == "gantry-secrets")
        #expect(config.contains("webhook-secret-file: /run/secrets/gantry/webhook-secret\n"))
        #expect(volumes.contains { ($0["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String == "gantry-data" })
    }

    /// The PostgreSQL overlay: several pods, each with its own data and a shared ReadWriteMany folder,
    /// the store's URL from a secret file, an autoscaler on the queue's depth, egress to PostgreSQL.
    @Test(.enabled(if: DeployTools.kubectl != nil && DeployTools.kubernetesValidate != nil))
    func thePostgresOverlayRunsSeveralPodsOnOneQueue() throws {
        let rendered = try DeployTools.render(DeployTools.postgres)
        defer { try? FileManager.default.removeItem(atPath: rendered) }
        let validated = try runCommand(DeployTools.kubernetesValidate!, ["--strict", "--quiet", rendered])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
        let documents = try DeployTools.documents(rendered)
        #expect(documents.compactMap { $0["kind"] as? String }.sorted() == [
            "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "PersistentVolumeClaim", "PodDisruptionBudget", "Service",
            "ServiceAccount",
        ])
        let claim = try #require(documents.first { $0["kind"] as? String == "PersistentVolumeClaim" })
        #expect((claim["metadata"] as? [String: Any])?["name"] as? String == "gantry-shared")
        #expect((claim["spec"] as? [String: Any])?["accessModes"] as? [String] == ["ReadWriteMany"])
        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect(spec["replicas"] as? Int == 3)
        #expect((spec["strategy"] as? [String: Any])?["type"] as? String == "RollingUpdate")
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        #expect(volumes.first { $0["name"] as? String == "data" }?["emptyDir"] != nil)
        #expect(volumes.first { $0["name"] as? String == "data" }?["persistentVolumeClaim"] == nil)
        #expect((volumes.first { $0["name"] as? String == "shared" }?["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String == "gantry-shared")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let env = try #require(container["env"] as? [[String: Any]])
        #expect(env.first { $0["name"] as? String == "GANTRY_SERVE_STORE_FILE" }?["value"] as? String == "/run/secrets/gantry/store-url")
        #expect(((env.first { $0["name"] as? String == "GANTRY_SERVE_NAME" }?["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String == "metadata.name")
        #expect(env.first { $0["name"] as? String == "GANTRY_SERVE_SHARED_DIR" }?["value"] as? String == "/var/lib/gantry-shared")
        // No secret value in any manifest: the URL is only named by its file.
        #expect(!(try String(contentsOfFile: rendered, encoding: .utf8)).contains("postgres://"))
        let autoscaler = try #require(documents.first { $0["kind"] as? String == "HorizontalPodAutoscaler" })
        let scaling = try #require(autoscaler["spec"] as? [String: Any])
        #expect((scaling["minReplicas"] as? Int, scaling["maxReplicas"] as? Int) == (2, 10))
        let metric = try #require((scaling["metrics"] as? [[String: Any]])?.first?["object"] as? [String: Any])
        #expect((metric["metric"] as? [String: Any])?["name"] as? String == "gantry_queue_depth")
        let policy = try #require(documents.first { $0["kind"] as? String == "NetworkPolicy" })
        let egress = ((policy["spec"] as? [String: Any])?["egress"] as? [[String: Any]]) ?? []
        #expect(egress.contains { ($0["ports"] as? [[String: Any]])?.contains { $0["port"] as? Int == 5432 } == true })
    }

    /// checkov on the Dockerfile and on the rendered base: no failed check, and every skip in the
    /// files says why.
    @Test(.enabled(if: DeployTools.checkov != nil && DeployTools.kubectl != nil))
    func checkovFindsNoFailureAndEverySkipHasItsReason() throws {
        let rendered = try DeployTools.render(DeployTools.base)
        let overlay = try DeployTools.render(DeployTools.postgres)
        defer {
            try? FileManager.default.removeItem(atPath: rendered)
            try? FileManager.default.removeItem(atPath: overlay)
        }
        for (file, framework) in [(DeployTools.root.path + "/Dockerfile", "dockerfile"), (rendered, "kubernetes"), (overlay, "kubernetes")] {
            // --skip-download: checkov asks Prisma Cloud for its guidelines otherwise.
            let result = try runCommand(DeployTools.checkov!, ["-f", file, "--framework", framework, "--skip-download", "-o", "json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
            let summary = try #require(report["summary"] as? [String: Any])
            #expect(summary["failed"] as? Int == 0, "\(framework): \(result.stdout)")
            #expect(summary["parsing_errors"] as? Int == 0)
            #expect((summary["passed"] as? Int ?? 0) > 50)
            let skipped = ((report["results"] as? [String: Any])?["skipped_checks"] as? [[String: Any]]) ?? []
            for check in skipped {
                let reason = (check["check_result"] as? [String: Any])?["suppress_comment"] as? String ?? ""
                #expect(reason.count > 20, "\(check["check_id"] ?? "?") is skipped without a reason")
            }
        }
    }
}
