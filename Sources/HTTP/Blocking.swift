import Dispatch
import Foundation

/// Runs async work for synchronous callers. The work runs as a task whose every job goes to a
/// dispatch queue of its own, never to Swift's cooperative pool: a caller that blocks a
/// cooperative thread (synchronous code called from `async` code) cannot starve the task it
/// waits for, however many callers block at once. It lives next to the HTTP client because
/// transfers block threads the same way.
public enum Blocking {
    /// The executor network tasks prefer (registry fetches, shared token fetches), so those
    /// never wait for the cooperative pool either.
    public static let executor = DispatchTaskExecutor()

    /// Runs `body` to completion and returns its result, blocking the calling thread.
    /// Must not be called from a job of `executor` itself.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Locked<Result<T, any Error>>(.failure(CancellationError()))
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0 }.get()
    }
}

/// A task executor on a concurrent dispatch queue: jobs run on dispatch worker threads,
/// which grow when threads block, unlike the cooperative pool's fixed width.
public final class DispatchTaskExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "slipway.registry", qos: .userInitiated, attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
