import XCTest

/// The error of type `E` that `body` throws; nil, and a test failure, when it throws nothing
/// or an error of another type.
public func thrownError<E: Error>(_ type: E.Type, file: StaticString = #filePath, line: UInt = #line,
                                  _ body: () throws -> Void) -> E? {
    expect(type, Result { try body() }, file: file, line: line)
}

/// `thrownError` for an async body.
public func thrownError<E: Error>(_ type: E.Type, file: StaticString = #filePath, line: UInt = #line,
                                  _ body: () async throws -> Void) async -> E? {
    let outcome: Result<Void, any Error>
    do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
    return expect(type, outcome, file: file, line: line)
}

private func expect<E: Error>(_ type: E.Type, _ outcome: Result<Void, any Error>, file: StaticString, line: UInt) -> E? {
    switch outcome {
    case .success:
        XCTFail("expected a \(E.self), nothing was thrown", file: file, line: line)
    case .failure(let error as E):
        return error
    case .failure(let error):
        XCTFail("expected a \(E.self), got \(error)", file: file, line: line)
    }
    return nil
}
