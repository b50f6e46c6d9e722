import CCurl
import Foundation

/// What one exchange holds while it runs in the transfer loop: its pooled easy handle, the
/// callbacks' state, the header lists and curl's error buffer. One thread at a time touches it
/// (the sender while configuring, the loop while running and finishing), hence @unchecked.
final class Transfer: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    let state: TransferState
    var headerList: UnsafeMutablePointer<curl_slist>?
    var resolveList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>

    init(handle: UnsafeMutableRawPointer, state: TransferState) {
        self.handle = handle
        self.state = state
        let size = Int(CURL_ERROR_SIZE) + 1
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
    }

    /// curl's own description of a failure, empty when it wrote none.
    var errorMessage: String { String(cString: errorBuffer) }

    /// Frees the lists and closes the files once curl no longer reads them.
    func release() {
        curl_slist_free_all(headerList)
        curl_slist_free_all(resolveList)
        headerList = nil
        resolveList = nil
        state.close()
    }

    deinit {
        release()
        errorBuffer.deallocate()
    }
}
