import CCurl
import Foundation

/// One thread running a libcurl multi handle: every transfer of an `HTTPClient` goes through it.
/// That is what lets concurrent requests to one registry share a connection as HTTP/2 streams
/// (`CURLPIPE_MULTIPLEX`), and it keeps any number of requests in flight without a blocked
/// thread each (on Linux the dispatch pool grows slowly past the core count, which held a
/// push's HEAD checks to about two at a time).
final class TransferLoop: @unchecked Sendable {
    // @unchecked: `multi` and `active` are touched only by the loop thread (curl_multi_wakeup
    // is the one call other threads make, and libcurl allows it from any thread); `incoming`
    // and `stopping` are behind locks.

    /// A configured easy handle and what to do when it finishes (called on the loop thread).
    struct Job: @unchecked Sendable {
        let handle: UnsafeMutableRawPointer
        let finished: @Sendable (CURLcode) -> Void
    }

    private let multi: UnsafeMutableRawPointer
    private let incoming = Locked<[Job]>([])
    private let stopping = Locked(false)
    /// What the owner frees once the multi handle is gone (the share handle its connections'
    /// TLS sessions and DNS cache point into): run on the loop thread after `curl_multi_cleanup`.
    private let release = Locked<(@Sendable () -> Void)?>(nil)
    private var active: [UnsafeMutableRawPointer: Job] = [:]

    /// Streams per HTTP/2 connection at most (servers usually allow 100–250). Past that,
    /// libcurl 7.88 opens a connection for each further waiting request (measured: 200 GETs at
    /// once used 102 connections), so callers keep their waves below it (the pusher's: 32).
    static let streamsPerConnection = 100

    init() {
        guard let multi = curl_multi_init() else { preconditionFailure("curl_multi_init failed (out of memory)") }
        self.multi = multi
        slipway_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)
        slipway_curl_multi_setopt_long(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, Self.streamsPerConnection)
        // The thread holds the loop until `stop` lets it end.
        let thread = Thread { [self] in self.run() }
        thread.name = "slipway.http"
        thread.start()
    }

    /// Hands a configured easy handle to the loop; `finished` gets curl's result.
    func submit(_ job: Job) {
        incoming.withLock { $0.append(job) }
        curl_multi_wakeup(multi)
    }

    /// Lets the thread end once the transfers under way are done; it then cleans up the multi
    /// handle (closing its cached connections) and only after that runs `thenRelease`.
    func stop(thenRelease: @escaping @Sendable () -> Void) {
        release.withLock { $0 = thenRelease }
        stopping.withLock { $0 = true }
        curl_multi_wakeup(multi)
    }

    private func run() {
        while true {
            for job in incoming.withLock({ jobs -> [Job] in defer { jobs = [] }; return jobs }) {
                if curl_multi_add_handle(multi, job.handle) == CURLM_OK {
                    active[job.handle] = job
                } else {
                    job.finished(CURLE_FAILED_INIT)
                }
            }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var result = CURLE_OK
            while let handle = slipway_curl_multi_next_done(multi, &result) {
                curl_multi_remove_handle(multi, handle)
                active.removeValue(forKey: handle)?.finished(result)
            }
            if active.isEmpty, stopping.withLock({ $0 }), incoming.withLock({ $0.isEmpty }) { break }
            // Wakes for socket activity, curl's own timers, a new job, or at the latest after
            // 250 ms (cancellation is noticed in the progress callback, which runs then).
            _ = curl_multi_poll(multi, nil, 0, 250, nil)
        }
        // Only the loop thread touches `multi`; the cached connections it closes still use the
        // owner's share handle, so that is freed after this, never before.
        curl_multi_cleanup(multi)
        release.withLock { $0 }?()
    }
}
