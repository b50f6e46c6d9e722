import Foundation
import HTTP

/// A counting semaphore for tasks: at most `count` holders at once, the others wait in order.
/// A push uses it to bound blob bodies in flight (`--jobs`) separately from the requests that
/// only open upload sessions, so a session's POST can be answered while earlier bodies are
/// still on the wire. A waiting task that is cancelled stops waiting (`CancellationError`).
public final class UploadSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var cancelled: Set<UInt64> = []
        var lastID: UInt64 = 0
    }
    private let state: Locked<State>

    public init(_ count: Int) { state = Locked(State(free: max(1, count))) }

    public func acquire() async throws {
        let id = state.withLock { state -> UInt64 in state.lastID += 1; return state.lastID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if state.free > 0 { state.free -= 1; return .success(()) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)   // not waiting yet: refuse when it gets there
                    return nil
                }
                return state.waiters.remove(at: index).continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
        // A cancellation that came after the slot was granted leaves its id behind: drop it.
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else { state.free += 1; return nil }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
