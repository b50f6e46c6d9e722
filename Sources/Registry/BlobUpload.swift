import Foundation
import HTTP
import OCI

/// One blob upload as a state machine under a single retry loop — the upload's only one, so a
/// request is never retried inside a retry of the whole (before, a chunk's resumes ran inside
/// the upload's restarts: (retries+1)² PATCHes). Each failure spends the one budget
/// (`RetryPolicy.Attempts`); bytes confirmed beyond the most ever confirmed are progress and
/// start the count over, so a long upload through a flaky network still converges while one
/// request failing over and over stops after `--retries`.
///
/// After a failure the loop finds out where things stand rather than starting over: a failed
/// PATCH asks the session how much it holds and resumes there when that is within the chunk; a
/// failed closing PUT asks the session too (still open: send the PUT again; gone: the blob is
/// there, or the upload starts over). A lost session, or a `Docker-Content-Digest` that does not
/// match what was sent, starts a new session.
struct BlobUpload {
    let client: RegistryClient
    let descriptor: Descriptor
    let file: URL
    let repository: String
    let chunkSize: Int64
    let what: String
    let progress: (@Sendable (Int64) -> Void)?
    /// Held from the first request with a body to the end (nil: no bound): the session is
    /// opened before, so its POST overlaps the bodies of other uploads.
    var bodySlots: UploadSlots? = nil

    /// An open upload session: where to send next, its chunk size, and the bytes it holds.
    struct Session {
        var location: URL
        var chunk: Int64
        var offset: Int64
        /// PATCH chunks then an empty PUT; else one PUT with the whole blob.
        var chunked: Bool
    }

    /// What a failure leaves to find out before going on.
    enum Recovery {
        /// A PATCH of [start, start + length) failed: how much of it did the registry keep?
        case chunk(start: Int64, length: Int64)
        /// The closing PUT failed: did it take effect?
        case close
    }

    private enum Phase { case open, chunk(start: Int64, length: Int64), close, recover }
    private enum Outcome { case done, resume(Session), restart }

    private var scopes: [String] { [RegistryClient.pushScope(repository)] }

    func run() async throws {
        var attempts = RetryPolicy.Attempts(client.retry)
        var session: Session?
        var recovery: Recovery?
        var furthest: Int64 = 0
        var phase = Phase.open
        var holdsSlot = false
        defer { if holdsSlot { bodySlots?.release() } }
        while true {
            do {
                if let pending = recovery, let current = session {
                    phase = .recover
                    let outcome = try await recover(pending, session: current)
                    recovery = nil
                    switch outcome {
                    case .done:
                        progress?(descriptor.size)
                        return
                    case .resume(let resumed):
                        session = resumed
                        if resumed.offset > furthest { furthest = resumed.offset; attempts.progressed() }
                    case .restart:
                        session = nil
                    }
                    continue
                }
                guard var current = session else {
                    phase = .open
                    progress?(0)
                    session = try await open()
                    continue
                }
                if let bodySlots, !holdsSlot {
                    try await bodySlots.acquire()
                    holdsSlot = true
                }
                if current.chunked, current.offset < descriptor.size {
                    let start = current.offset, length = min(current.chunk, descriptor.size - start)
                    phase = .chunk(start: start, length: length)
                    current.location = try await patch(current.location, start: start, length: length)
                    current.offset = start + length
                    session = current
                    if current.offset > furthest { furthest = current.offset; attempts.progressed() }
                    continue
                }
                phase = .close
                try await close(current)
                progress?(descriptor.size)
                return
            } catch {
                guard let failure = RetryPolicy.classify(error) else { throw error }
                guard let pause = attempts.next(after: failure) else { throw failure.error }
                client.retryReporter(what)?(attempts.failures, pause, failure.error)
                try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
                if (error as? RetryableFailure)?.restart == true {
                    session = nil
                    recovery = nil
                    continue
                }
                switch phase {
                case .open: break
                case .chunk(let start, let length): recovery = .chunk(start: start, length: length)
                case .close: recovery = .close
                case .recover: break  // the question failed, not the answer: ask again
                }
            }
        }
    }

    // MARK: steps

    private func open() async throws -> Session {
        guard case .session(let location, let minimum) = try await client.startUpload(repository: repository, mount: nil, operation: what) else {
            throw RegistryError.protocolViolation(registry: client.registry, detail: "\(what): upload session expected")
        }
        let chunk = max(chunkSize, minimum, 1)
        return Session(location: location, chunk: chunk, offset: 0, chunked: descriptor.size > chunk)
    }

    /// Sends one chunk; returns the session's next location.
    private func patch(_ location: URL, start: Int64, length: Int64) async throws -> URL {
        var request = HTTPRequest(method: "PATCH", url: location,
                                  headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(start)-\(start + length - 1)"],
                                  body: .file(path: file.path, offset: start, length: length))
        request.bulk = true
        if let progress { request.onUploadProgress = { progress(start + $0) } }
        let response = try await client.send(request, scopes: scopes, operation: "\(what) (PATCH \(start)-\(start + length - 1))")
        guard response.status == 202 || response.status == 201 || response.status == 204 else {
            throw client.uploadError("\(what) (PATCH at offset \(start))", response)
        }
        return response.location ?? location
    }

    /// The closing PUT (`?digest=`), with the whole blob when it is not chunked. The registry's
    /// `Docker-Content-Digest` must be the one sent: a wrong one is never accepted (the registry
    /// checked the bytes against `?digest=` itself, so it is more likely damage on the way
    /// back: a new session sends everything again, and it is checked again).
    private func close(_ session: Session) async throws {
        var closing = HTTPRequest(method: "PUT", url: RegistryClient.appendingQuery(session.location, "digest=\(descriptor.digest)"),
                                  headers: ["Content-Type": "application/octet-stream"], body: .data(Data()))
        closing.bulk = true
        if !session.chunked {
            closing.body = .file(path: file.path, offset: 0, length: descriptor.size)
            closing.onUploadProgress = progress
        }
        let response = try await client.send(closing, scopes: scopes, operation: "\(what) (PUT)")
        guard response.status == 201 || response.status == 204 else { throw client.uploadError("\(what) (PUT)", response) }
        if let reported = response.headers["Docker-Content-Digest"], !reported.isEmpty, reported != descriptor.digest.description {
            throw RetryableFailure(error: .digestMismatch(what: "blob uploaded to \(client.registry)/\(repository)", expected: descriptor.digest, actual: reported),
                                   retryAfter: nil, forced: true, restart: true)
        }
    }

    // MARK: finding out where things stand

    private func recover(_ recovery: Recovery, session: Session) async throws -> Outcome {
        let held = try await sessionStatus(session.location)
        switch recovery {
        case .chunk(let start, let length):
            // None of the chunk, part of it (a connection cut mid-body), or all of it (a lost reply).
            guard let (reached, location) = held, reached >= start, reached <= start + length else { return .restart }
            return .resume(Session(location: location, chunk: session.chunk, offset: reached, chunked: session.chunked))
        case .close:
            if let (reached, location) = held {
                // Still open, so the PUT did not take effect: send it again if the session holds
                // what it should (everything when chunked; nothing when the PUT carries the blob).
                guard reached == (session.chunked ? descriptor.size : 0) else { return .restart }
                return .resume(Session(location: location, chunk: session.chunk, offset: session.offset, chunked: session.chunked))
            }
            // The session is gone: the PUT took effect if the repository has the blob now.
            return try await blobPresent() ? .done : .restart
        }
    }

    /// `GET` on the session: the bytes it holds (from `Range: 0-N`; `0-0` or none is read as
    /// nothing) and its next location; nil when the registry no longer knows it. One request:
    /// a transient failure is a failure of the loop, which asks again.
    private func sessionStatus(_ location: URL) async throws -> (Int64, URL)? {
        let response = try await client.send(HTTPRequest(method: "GET", url: location, sink: .discard), scopes: scopes, operation: "\(what) (status)")
        guard response.status == 204 else { return nil }
        let end = response.headers["Range"].flatMap { $0.split(separator: "-").last.flatMap { Int64($0) } } ?? 0
        return (end == 0 ? 0 : end + 1, response.location ?? location)
    }

    /// `HEAD` of the blob, once (see `sessionStatus`).
    private func blobPresent() async throws -> Bool {
        let url = try await client.url("/v2/\(repository)/blobs/\(descriptor.digest)")
        let response = try await client.send(HTTPRequest(method: "HEAD", url: url, sink: .discard), scopes: scopes, operation: "\(what) (HEAD)")
        return response.status == 200
    }
}
