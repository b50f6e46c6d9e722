import CCurl
import Foundation

/// The mutable state of one transfer, reached from curl's C callbacks through a raw pointer.
/// Only the transfer loop touches it while the transfer runs.
final class TransferState {
    let request: HTTPRequest
    let cancel: CancelFlag
    var headers = HTTPHeaders()
    var body = Data()
    var status = 0
    var followingRedirects = true
    var failure: HTTPError?
    /// Whether the last response's header block ended with its blank line (curl accepts a
    /// connection closed inside the headers as a complete response).
    var headersComplete = false
    private var bodyFD: Int32 = -1
    private var sinkFD: Int32 = -1
    private var sinkWritten: Int64 = 0
    /// Bytes of the current response dropped (a redirect's body, or a `.discard` sink).
    private var discarded = 0
    private var readOffset: Int64 = 0
    private var lastProgress: Int64 = -1

    init(request: HTTPRequest, cancel: CancelFlag) throws {
        self.request = request
        self.cancel = cancel
        if case .file(let path, _, _) = request.body {
            bodyFD = open(path, O_RDONLY | O_CLOEXEC)
            if bodyFD < 0 { throw HTTPError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        }
        if case .file(let url, _) = request.sink {
            sinkFD = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if sinkFD < 0 {
                let reason = String(cString: strerror(errno))
                close()
                throw HTTPError.io("cannot write \(url.path): \(reason)")
            }
        }
    }

    func close() {
        if bodyFD >= 0 { Foundation.close(bodyFD); bodyFD = -1 }
        if sinkFD >= 0 { Foundation.close(sinkFD); sinkFD = -1 }
    }

    /// The body of a redirect is not the resource: it is dropped.
    var discardingBody: Bool { followingRedirects && HTTPResponse.redirectStatuses.contains(status) }

    func receiveHeader(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new response (after 100 Continue, or the final one): start over.
            headers = HTTPHeaders()
            headersComplete = false
            discarded = 0
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        if trimmed.isEmpty { headersComplete = true }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        headers.add(name, value)
    }

    /// Returns false to abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if discardingBody { return discard(bytes.count) }
        switch request.sink {
        case .discard:
            return discard(bytes.count)
        case .memory(let limit):
            guard body.count + bytes.count <= limit else {
                failure = .bodyTooLarge(host: request.url.hostAndPort, request: "\(request.method) \(request.url.path)", limit: Int64(limit))
                return false
            }
            body.append(bytes.assumingMemoryBound(to: UInt8.self))
            return true
        case .file(let url, let limit):
            if let limit, sinkWritten + Int64(bytes.count) > limit {
                failure = .bodyTooLarge(host: request.url.hostAndPort, request: "\(request.method) \(request.url.path)", limit: limit)
                return false
            }
            guard let base = bytes.baseAddress else { return true }
            var done = 0
            while done < bytes.count {
                let n = write(sinkFD, base + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .io("cannot write \(url.path): \(String(cString: strerror(errno)))")
                    return false
                }
                done += n
            }
            sinkWritten += Int64(done)
            return true
        }
    }

    /// Drops body bytes nobody keeps, up to `ResponseSink.discardLimit`: an endless body is
    /// not read for ever just because it is thrown away.
    private func discard(_ count: Int) -> Bool {
        discarded += count
        guard discarded <= ResponseSink.discardLimit else {
            failure = .bodyTooLarge(host: request.url.hostAndPort, request: "\(request.method) \(request.url.path)", limit: Int64(ResponseSink.discardLimit))
            return false
        }
        return true
    }

    /// Fills `buffer` with the next body bytes; 0 at the end; nil on a read error.
    func readBody(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard let destination = buffer.baseAddress else { return 0 }
        switch request.body {
        case .none:
            return 0
        case .data(let data):
            let start = Int(readOffset)
            let n = min(buffer.count, data.count - start)
            guard n > 0 else { return 0 }
            data.withUnsafeBytes { src in
                if let source = src.baseAddress { destination.copyMemory(from: source + start, byteCount: n) }
            }
            readOffset += Int64(n)
            return n
        case .file(let path, let offset, let length):
            let remaining = length - readOffset
            guard remaining > 0 else { return 0 }
            while true {
                let n = pread(bodyFD, destination, min(buffer.count, Int(remaining)), off_t(offset + readOffset))
                if n < 0, errno == EINTR { continue }
                if n < 0 {
                    failure = .io("cannot read \(path): \(String(cString: strerror(errno)))")
                    return nil
                }
                if n == 0 {
                    failure = .io("\(path) is shorter than expected (\(offset + readOffset) of \(offset + length) bytes)")
                    return nil
                }
                readOffset += Int64(n)
                return n
            }
        }
    }

    /// curl rewinds when it must resend the body (a reused connection died before the request went out).
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= request.body.length else { return false }
        readOffset = offset
        return true
    }

    func progress(uploaded: Int64) -> Bool {
        if cancel.isSet { return false }
        if uploaded != lastProgress, let report = request.onUploadProgress {
            lastProgress = uploaded
            report(uploaded)
        }
        return true
    }
}

// curl's C callbacks: each finds its transfer through the userdata pointer set in `configure`.

private func state(_ pointer: UnsafeMutableRawPointer?) -> TransferState? {
    pointer.map { Unmanaged<TransferState>.fromOpaque($0).takeUnretainedValue() }
}

let transferWrite: curl_write_callback = { data, size, count, userdata in
    let total = size * count
    guard total > 0, let data, let transfer = state(userdata) else { return 0 }
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

let transferHeader: curl_write_callback = { data, size, count, userdata in
    let total = size * count
    guard total > 0, let data, let transfer = state(userdata) else { return total }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: total), as: UTF8.self)
    transfer.receiveHeader(line)
    return total
}

let transferRead: curl_read_callback = { buffer, size, count, userdata in
    guard let buffer else { return 0 }
    guard let transfer = state(userdata) else { return Int(CURL_READFUNC_ABORT) }
    let capacity = size * count
    return transfer.readBody(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity)) ?? Int(CURL_READFUNC_ABORT)
}

let transferSeek: curl_seek_callback = { userdata, offset, origin in
    guard origin == SEEK_SET, let transfer = state(userdata) else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    return transfer.seek(to: Int64(offset)) ? Int32(CURL_SEEKFUNC_OK) : Int32(CURL_SEEKFUNC_FAIL)
}

let transferProgress: curl_xferinfo_callback = { userdata, _, _, _, uploaded in
    guard let transfer = state(userdata) else { return 1 }
    return transfer.progress(uploaded: Int64(uploaded)) ? 0 : 1
}
