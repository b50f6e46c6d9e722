import CZlib
import Foundation
import OCI

/// `.gzip`: pigz's scheme, so one layer uses every core yet has a single encoding whatever the
/// thread count. The tar stream is cut into fixed 128 KiB blocks; each is deflated on its own
/// (raw deflate, primed with the previous 32 KiB of input as dictionary, so the ratio is close
/// to a serial gzip) and ended with a sync flush, which byte-aligns it so the pieces can be
/// concatenated; the last block finishes the stream. A single writer thread then takes the
/// blocks in order, hashes input (diffID) and output (digest), combines the CRC-32s and writes
/// the file. A fixed pool of 2×jobs+2 blocks bounds memory: the producer waits for a free one.
final class ParallelGzipSink: TarSink, @unchecked Sendable {
    static let blockSize = 128 * 1024
    static let dictionarySize = 32 * 1024

    /// A unit of work: `input` holds the dictionary, then the block's own bytes.
    final class Block: @unchecked Sendable {
        let input: UnsafeMutableRawPointer
        var dictionaryCount = 0
        var count = 0
        var output: UnsafeMutableRawPointer
        var outputCapacity: Int
        var outputCount = 0
        var crc: UInt = 0
        var sequence = 0
        var isLast = false

        init() {
            input = .allocate(byteCount: ParallelGzipSink.dictionarySize + ParallelGzipSink.blockSize, alignment: 64)
            // deflateBound for 128 KiB at any level plus the sync-flush marker; grown if ever short.
            outputCapacity = ParallelGzipSink.blockSize + ParallelGzipSink.blockSize / 8 + 1024
            output = .allocate(byteCount: outputCapacity, alignment: 64)
        }

        deinit {
            input.deallocate()
            output.deallocate()
        }

        var data: UnsafeMutableRawPointer { input + ParallelGzipSink.dictionarySize }

        func growOutput() {
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: outputCapacity * 2, alignment: 64)
            bigger.copyMemory(from: output, byteCount: outputCount)
            output.deallocate()
            output = bigger
            outputCapacity *= 2
        }
    }

    // Condition numbers of `lock`.
    private static let workReady = 0, blockCompressed = 1, blockFreed = 2, threadExited = 3

    private let level: Int32
    private let jobs: Int
    private let file: IngestFile
    private let poolSize: Int
    private let lock = ConditionLock(conditions: 4)

    // Guarded by `lock`.
    private var freeBlocks: [Block]
    private var queue: [Block] = []
    private var compressed: [Block?]
    private var inputClosed = false
    private var failure: Error?
    private var stopping = false
    private var liveThreads = 0
    private var result: SinkResult?

    // Writer thread only.
    private var diffHasher: SHA256Hasher? = SHA256Hasher()
    private var blobHasher: SHA256Hasher? = SHA256Hasher()

    // Producer thread only.
    private var current: Block
    private var nextSequence = 0
    private var finished = false

    init(level: Int, jobs: Int, file: IngestFile) {
        self.level = Int32(level)
        self.jobs = max(1, jobs)
        self.file = file
        poolSize = 2 * self.jobs + 2
        var blocks = (0..<poolSize).map { _ in Block() }
        current = blocks.removeLast()
        freeBlocks = blocks
        compressed = Array(repeating: nil, count: poolSize)
        liveThreads = self.jobs + 1
        for i in 0..<self.jobs {
            let thread = Thread { [self] in compressorLoop() }
            thread.name = "slipway-gzip-\(i)"
            thread.start()
        }
        let writer = Thread { [self] in writerLoop() }
        writer.name = "slipway-gzip-writer"
        writer.start()
    }

    // MARK: producer

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            if current.count == Self.blockSize { try rotate() }
            let n = min(remaining, Self.blockSize - current.count)
            (current.data + current.count).copyMemory(from: source, byteCount: n)
            current.count += n
            source += n
            remaining -= n
        }
    }

    /// Hands the full current block to the compressors; a block is only submitted once more
    /// input arrives, so the final block (which must `Z_FINISH`) is always known as such.
    private func rotate() throws {
        let next = try acquireFreeBlock()
        next.input.copyMemory(from: current.data + (Self.blockSize - Self.dictionarySize), byteCount: Self.dictionarySize)
        next.dictionaryCount = Self.dictionarySize
        next.count = 0
        submit(current, isLast: false)
        current = next
    }

    private func acquireFreeBlock() throws -> Block {
        lock.lock()
        defer { lock.unlock() }
        while freeBlocks.isEmpty && failure == nil && !stopping { lock.wait(Self.blockFreed) }
        if let failure { throw failure }
        if stopping { throw LayerError.io("gzip compression was cancelled") }
        return freeBlocks.removeLast()
    }

    private func submit(_ block: Block, isLast: Bool) {
        block.sequence = nextSequence
        block.isLast = isLast
        nextSequence += 1
        lock.withLock {
            queue.append(block)
            if isLast {
                inputClosed = true
                lock.broadcast(Self.workReady)
            } else {
                lock.signal(Self.workReady)
            }
        }
    }

    func finish() throws -> SinkResult {
        precondition(!finished, "finish called twice")
        finished = true
        submit(current, isLast: true)
        lock.lock()
        while result == nil && failure == nil { lock.wait(Self.blockFreed) }
        let outcome: Result<SinkResult, Error> = failure.map { .failure($0) } ?? .success(result!)
        lock.unlock()
        if case .failure = outcome { abort() } else { joinThreads() }
        return try outcome.get()
    }

    func abort() {
        lock.withLock {
            stopping = true
            lock.broadcastAll()
        }
        joinThreads()
    }

    private func joinThreads() {
        lock.lock()
        while liveThreads > 0 { lock.wait(Self.threadExited) }
        lock.unlock()
    }

    // MARK: helper threads

    private func fail(_ error: Error) {
        lock.withLock {
            if failure == nil { failure = error }
            lock.broadcastAll()
        }
    }

    private func exitThread() {
        lock.withLock {
            liveThreads -= 1
            lock.broadcast(Self.threadExited)
        }
    }

    private func nextJob() -> Block? {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if stopping || failure != nil { return nil }
            if !queue.isEmpty { return queue.removeFirst() }
            if inputClosed { return nil }
            lock.wait(Self.workReady)
        }
    }

    private func compressorLoop() {
        defer { exitThread() }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        // Raw deflate (negative window bits): the gzip framing is written once, by the writer.
        let rc = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            fail(LayerError.io("cannot initialise zlib (deflateInit2 returned \(rc))"))
            return
        }
        defer { deflateEnd(stream) }
        while let block = nextJob() {
            do {
                try compress(block, stream)
            } catch {
                fail(error)
                return
            }
            lock.withLock {
                compressed[block.sequence % poolSize] = block
                lock.signal(Self.blockCompressed)
            }
        }
    }

    private func compress(_ block: Block, _ stream: UnsafeMutablePointer<z_stream>) throws {
        deflateReset(stream)
        if block.dictionaryCount > 0 {
            deflateSetDictionary(stream, block.input.assumingMemoryBound(to: Bytef.self), uInt(block.dictionaryCount))
        }
        stream.pointee.next_in = block.data.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(block.count)
        block.outputCount = 0
        let flush = block.isLast ? Z_FINISH : Z_SYNC_FLUSH
        while true {
            stream.pointee.next_out = (block.output + block.outputCount).assumingMemoryBound(to: Bytef.self)
            let room = block.outputCapacity - block.outputCount
            stream.pointee.avail_out = uInt(room)
            let rc = deflate(stream, flush)
            block.outputCount += room - Int(stream.pointee.avail_out)
            if rc == Z_STREAM_END { break }
            guard rc == Z_OK || rc == Z_BUF_ERROR else {
                throw LayerError.io("deflate failed (zlib error \(rc))")
            }
            if !block.isLast && stream.pointee.avail_out != 0 && stream.pointee.avail_in == 0 { break }
            if stream.pointee.avail_out == 0 { block.growOutput() }
        }
        block.crc = crc32(0, block.data.assumingMemoryBound(to: Bytef.self), uInt(block.count))
    }

    private func writerLoop() {
        defer { exitThread() }
        do {
            guard let done = try writeBlocksInOrder() else { return }
            lock.withLock {
                result = done
                lock.broadcast(Self.blockFreed)
            }
        } catch {
            fail(error)
        }
    }

    /// The writer thread's work; nil when stopped early.
    private func writeBlocksInOrder() throws -> SinkResult? {
        // No name, mtime 0, XFL as gzip(1) sets it, OS 255 ("unknown"), as Go's compress/gzip
        // writes it: nothing about the build host.
        let xfl: UInt8 = level >= 9 ? 2 : (level == 1 ? 4 : 0)
        let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]
        header.withUnsafeBytes { blobHasher!.update($0) }
        try header.withUnsafeBytes { try file.write($0.baseAddress!, count: $0.count) }
        var crc: UInt = 0
        var tarBytes: Int64 = 0
        var blobBytes = Int64(header.count)
        var sequence = 0
        while true {
            let slot = sequence % poolSize
            lock.lock()
            while compressed[slot] == nil && !stopping && failure == nil { lock.wait(Self.blockCompressed) }
            guard let block = compressed[slot], !stopping, failure == nil else {
                lock.unlock()
                return nil
            }
            compressed[slot] = nil
            lock.unlock()

            diffHasher!.update(UnsafeRawBufferPointer(start: block.data, count: block.count))
            blobHasher!.update(UnsafeRawBufferPointer(start: block.output, count: block.outputCount))
            try file.write(block.output, count: block.outputCount)
            crc = crc32_combine(crc, block.crc, off_t(block.count))
            tarBytes += Int64(block.count)
            blobBytes += Int64(block.outputCount)
            let isLast = block.isLast
            lock.withLock {
                freeBlocks.append(block)
                lock.signal(Self.blockFreed)
            }
            if isLast { break }
            sequence += 1
        }
        var trailer = [UInt8](repeating: 0, count: 8)
        for i in 0..<4 {
            trailer[i] = UInt8(truncatingIfNeeded: crc >> (8 * i))
            trailer[4 + i] = UInt8(truncatingIfNeeded: UInt64(bitPattern: tarBytes) >> (8 * i))
        }
        trailer.withUnsafeBytes { blobHasher!.update($0) }
        try trailer.withUnsafeBytes { try file.write($0.baseAddress!, count: $0.count) }
        blobBytes += Int64(trailer.count)
        return SinkResult(diffID: diffHasher.take()!.finalize(), digest: blobHasher.take()!.finalize(),
                          size: blobBytes, uncompressedSize: tarBytes)
    }
}
