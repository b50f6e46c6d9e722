import XCTest

/// The error of type `E` that `body` throws; nil, and a test failure, when it throws nothing
/// or an error of another type.
public func thrownError<E: Error>(_ type: E.Type, file: StaticString = #filePath, line: UInt = #line,
                                  _ body: () throws -> Void) -> E? {
    do {
        try body()
        XCTFail("expected a \(E.self), nothing was thrown", file: file, line: line)
    } catch let error as E {
        return error
    } catch {
        XCTFail("expected a \(E.self), got \(error)", file: file, line: line)
    }
    return nil
}

/// `thrownError` for an async body.
public func thrownError<E: Error>(_ type: E.Type, file: StaticString = #filePath, line: UInt = #line,
                                  _ body: () async throws -> Void) async -> E? {
    do {
        try await body()
        XCTFail("expected a \(E.self), nothing was thrown", file: file, line: line)
    } catch let error as E {
        return error
    } catch {
        XCTFail("expected a \(E.self), got \(error)", file: file, line: line)
    }
    return nil
}
