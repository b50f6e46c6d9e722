import Foundation
import HTTP

/// ECR logins: Basic `AWS:<password>` from `GetAuthorizationToken` (ECR Public's token for
/// `public.ecr.aws`). Tokens are kept in memory and on disk (mode 0600, one file per account,
/// region, endpoint and credential identity, under `CACHE/ecr-auth/`) and fetched again once
/// half their lifetime has passed, or after `invalidate` (a 401). Which hosts use them rather
/// than the docker config is the caller's choice (the registry credential glue).
public final class ECRAuthorizationProvider: Sendable {
    public let environment: AWSEnvironment
    public let awsCredentials: any AWSCredentialsProvider
    /// Where tokens are cached on disk: the caller's cache directory (slipway passes the one
    /// its `CacheLocation` defines); nil keeps them in memory only.
    public let cacheDirectory: URL?
    /// Tokens by cache key, and the fetches under way: concurrent requests for one registry and
    /// identity (a push's parallel HEADs, a copy's reads and writes) share one
    /// `GetAuthorizationToken` instead of each making its own.
    private let state = Locked(State())
    /// Tokens fetched from the API (not the caches) so far, for tests and `--debug`.
    private let fetches = Locked<Int>(0)

    private struct State {
        var tokens: [String: ECRAuthorization] = [:]
        var inflight: [String: Task<ECRAuthorization, any Error>] = [:]
    }

    public init(environment: AWSEnvironment, awsCredentials: (any AWSCredentialsProvider)? = nil, cacheDirectory: URL?) {
        self.environment = environment
        self.awsCredentials = awsCredentials ?? AWSCredentialChain(environment: environment)
        self.cacheDirectory = cacheDirectory
    }

    public var tokenFetches: Int { fetches.withLock { $0 } }

    /// The ECR login for an ECR host (`public.ecr.aws` included).
    public func authorization(for registry: String, now: Date = Date()) async throws -> ECRAuthorization {
        let credentials = try await awsCredentials.credentials()
        let key = try cacheKey(registry: registry, credentials: credentials)
        if let cached = state.withLock({ $0.tokens[key] }), !cached.needsRenewal(now: now) { return cached }
        if let stored = readDisk(key), !stored.needsRenewal(now: now) {
            state.withLock { $0.tokens[key] = stored }
            return stored
        }
        // One fetch per key at a time: whoever comes while it runs waits for its answer. The
        // check and the claim are one step, so a fetch finishing meanwhile is never repeated.
        enum Next { case token(ECRAuthorization), wait(Task<ECRAuthorization, any Error>) }
        let next: Next = state.withLock { state in
            if let cached = state.tokens[key], !cached.needsRenewal(now: now) { return .token(cached) }
            if let running = state.inflight[key] { return .wait(running) }
            let task = Task { try await self.fetchAndKeep(key: key, registry: registry, credentials: credentials, now: now) }
            state.inflight[key] = task
            return .wait(task)
        }
        switch next {
        case .token(let token):
            return token
        case .wait(let task):
            do {
                return try await task.value
            } catch {
                // Past half-life but still valid: better than failing.
                if let cached = state.withLock({ $0.tokens[key] }) ?? readDisk(key), cached.expiresAt > now.addingTimeInterval(60) { return cached }
                throw error
            }
        }
    }

    /// The shared fetch of `authorization(for:)`: the API call, then memory and disk, and the
    /// key free for the next fetch (after `invalidate` or at half-life).
    private func fetchAndKeep(key: String, registry: String, credentials: AWSCredentials, now: Date) async throws -> ECRAuthorization {
        let fresh: ECRAuthorization
        do {
            fresh = try await fetch(registry: registry, credentials: credentials, now: now)
        } catch {
            state.withLock { $0.inflight[key] = nil }
            throw error
        }
        fetches.withLock { $0 += 1 }
        if fresh.expiresAt > now { writeDisk(key, fresh) }
        state.withLock { state in
            state.tokens[key] = fresh
            state.inflight[key] = nil
        }
        return fresh
    }

    /// Forgets the cached token of a registry (memory and disk), e.g. after a 401.
    public func invalidate(registry: String) async {
        guard let credentials = try? await awsCredentials.credentials(), let key = try? cacheKey(registry: registry, credentials: credentials) else { return }
        state.withLock { $0.tokens[key] = nil }
        if let url = fileURL(key) { try? FileManager.default.removeItem(at: url) }
    }

    private func fetch(registry: String, credentials: AWSCredentials, now: Date) async throws -> ECRAuthorization {
        if ECRHost.isPublic(registry) {
            return try await ECRPublicClient(environment: environment).getAuthorizationToken(credentials: credentials, now: now)
        }
        guard let host = ECRHost(registry) else { throw AWSError.invalidRequest("\(registry) is not an ECR registry") }
        let client = try ECRClient(environment: environment, region: host.region, fips: host.fips, dualStack: host.dualStack)
        return try await client.getAuthorizationToken(registryID: host.account, credentials: credentials, now: now)
    }

    /// Account, region and endpoint of the registry plus who is asking; hashed into a file name.
    func cacheKey(registry: String, credentials: AWSCredentials) throws -> String {
        let endpoint: String
        let scope: String
        if ECRHost.isPublic(registry) {
            endpoint = try environment.endpoint(.ecrPublic, region: "us-east-1").absoluteString
            scope = "public"
        } else if let host = ECRHost(registry) {
            endpoint = try environment.endpoint(.ecr, region: host.region, fips: host.fips, dualStack: host.dualStack).absoluteString
            scope = "\(host.account)|\(host.region)"
        } else {
            throw AWSError.invalidRequest("\(registry) is not an ECR registry")
        }
        // Long-term keys are their own identity; temporary ones change every session, so the
        // role (or source) they were obtained for stands in for them.
        let identity = credentials.sessionToken == nil ? credentials.accessKeyID : "\(credentials.source)|\(credentials.accessKeyID.prefix(4))"
        return Crypto.sha256Hex(Data("v1|\(scope)|\(endpoint)|\(identity)".utf8))
    }

    /// The tokens cached on disk under `cacheDirectory` (`cache du`): files and bytes.
    public static func diskCacheUsage(cacheDirectory: URL) -> (tokens: Int, bytes: Int64) {
        var result = (tokens: 0, bytes: Int64(0))
        let directory = cacheDirectory.appendingPathComponent("ecr-auth").path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { continue }
            if name.hasSuffix(".json"), !name.hasPrefix(".") { result.tokens += 1 }
            result.bytes += Int64(info.st_size)
        }
        return result
    }

    /// Removes cached tokens (`cache prune`): every one with `all`, else those expired or
    /// unreadable, and temporary files of killed writers an hour old. Returns files and bytes.
    @discardableResult
    public static func pruneDiskCache(cacheDirectory: URL, all: Bool, now: Date = Date()) -> (files: Int, bytes: Int64) {
        var result = (files: 0, bytes: Int64(0))
        let directory = cacheDirectory.appendingPathComponent("ecr-auth").path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let stale: Bool
            if all {
                stale = true
            } else if name.hasPrefix(".") {
                stale = now.timeIntervalSince1970 - Double(info.st_mtim.tv_sec) > 3600
            } else {
                let token = FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(ECRAuthorization.self, from: $0) }
                stale = token.map { $0.expiresAt <= now } ?? true
            }
            if stale, unlink(path) == 0 {
                result.files += 1
                result.bytes += Int64(info.st_size)
            }
        }
        if all { _ = rmdir(directory) }
        return result
    }

    private func fileURL(_ key: String) -> URL? {
        cacheDirectory?.appendingPathComponent("ecr-auth").appendingPathComponent(key + ".json")
    }

    private func readDisk(_ key: String) -> ECRAuthorization? {
        guard let url = fileURL(key), let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return try? JSONDecoder().decode(ECRAuthorization.self, from: data)
    }

    private func writeDisk(_ key: String, _ auth: ECRAuthorization) {
        guard let url = fileURL(key), let data = try? JSONEncoder().encode(auth) else { return }
        let dir = url.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temp = dir.appendingPathComponent(".\(key).\(UUID().uuidString)")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let ok = data.withUnsafeBytes { raw in write(fd, raw.baseAddress, raw.count) == raw.count }
        close(fd)
        if !ok || rename(temp.path, url.path) != 0 { unlink(temp.path) }
    }
}
