import Dispatch
import Synchronization

/// Waits on the calling thread for an engine call. The job runner is synchronous and runs every job on
/// a thread of its own (HostProcess, the file commands, the step loop); the engine is async. This is
/// the one place where a job's thread waits for it: the call itself runs on the concurrency pool and
/// AsyncHTTPClient's event loops, never blocking them. Not for use from async code, which awaits the
/// engine directly.
func waitForEngine<T: Sendable>(_ call: @escaping @Sendable () async throws(ContainerEngineError) -> T) throws(ContainerEngineError) -> T {
    let result = Mutex<Result<T, ContainerEngineError>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let value: Result<T, ContainerEngineError>
        do throws(ContainerEngineError) {
            value = .success(try await call())
        } catch {
            value = .failure(error)
        }
        result.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}

/// The engine's calls in their blocking form, for the synchronous job runner and commands.
extension ContainerEngine {
    public func ping() throws(ContainerEngineError) -> String {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.ping() }
    }

    public func imageEnvironment(_ reference: String) throws(ContainerEngineError) -> [String]? {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.imageEnvironment(reference) }
    }

    public func buildImage(context: [UInt8], dockerfile: String, tag: String, labels: [String: String], cancel: ExecCancellation, onLine: @escaping @Sendable (String) -> Void) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.buildImage(context: context, dockerfile: dockerfile, tag: tag, labels: labels, cancel: cancel, onLine: onLine) }
    }

    public func createContainer(_ spec: ContainerSpec) throws(ContainerEngineError) -> String {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.createContainer(spec) }
    }

    public func startContainer(_ id: String) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.startContainer(id) }
    }

    public func pathExists(_ id: String, _ path: String) throws(ContainerEngineError) -> Bool {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.pathExists(id, path) }
    }

    public func inspectContainer(_ id: String) throws(ContainerEngineError) -> ContainerStatus {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.inspectContainer(id) }
    }

    public func logs(_ id: String) throws(ContainerEngineError) -> String {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.logs(id) }
    }

    public func startAttached(_ id: String, onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) throws(ContainerEngineError) -> Int32 {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.startAttached(id, onOutput: onOutput) }
    }

    public func execCreate(_ id: String, _ spec: ExecSpec) throws(ContainerEngineError) -> String {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.execCreate(id, spec) }
    }

    public func execStart(_ execID: String, cancel: ExecCancellation, onOutput: @escaping @Sendable (OutputStreamKind, [UInt8]) -> Void) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.execStart(execID, cancel: cancel, onOutput: onOutput) }
    }

    public func execInspect(_ execID: String) throws(ContainerEngineError) -> (running: Bool, exitCode: Int32) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.execInspect(execID) }
    }

    public func killContainer(_ id: String, signal: String) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.killContainer(id, signal: signal) }
    }

    public func removeContainer(_ id: String) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.removeContainer(id) }
    }

    public func listContainers(label: String) throws(ContainerEngineError) -> [ContainerSummary] {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.listContainers(label: label) }
    }

    public func createNetwork(_ name: String, labels: [String: String]) throws(ContainerEngineError) -> String {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.createNetwork(name, labels: labels) }
    }

    public func removeNetwork(_ id: String) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.removeNetwork(id) }
    }

    public func listNetworks(label: String) throws(ContainerEngineError) -> [(id: String, name: String, labels: [String: String])] {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.listNetworks(label: label) }
    }

    public func removeImage(_ reference: String) throws(ContainerEngineError) {
        try waitForEngine { () async throws(ContainerEngineError) in try await self.removeImage(reference) }
    }
}
