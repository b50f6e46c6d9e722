#!/usr/bin/env bash
# Swift: the Static Linux SDK (musl) cross-compiles fully static binaries for both
# architectures from any host: `swift sdk install <static-linux SDK bundle URL> --checksum …`
# (swift.org/documentation/articles/static-linux-getting-started.html), then
#   swift build -c release --swift-sdk x86_64-swift-linux-musl
#   swift build -c release --swift-sdk aarch64-swift-linux-musl
# which write .build/x86_64-swift-linux-musl/release/hello and .build/aarch64-…/release/hello.
# PREBUILT=DIR copies DIR/linux-ARCH/hello there instead (the tests, where no SDK is installed).
set -euo pipefail
cd "$(dirname "$0")"
for sdk in x86_64-swift-linux-musl aarch64-swift-linux-musl; do
    if [[ -n ${PREBUILT:-} ]]; then
        arch=$([[ $sdk == x86_64* ]] && echo amd64 || echo arm64)
        install -D -m 0755 "$PREBUILT/linux-$arch/hello" ".build/$sdk/release/hello"
    else
        swift build -c release --swift-sdk "$sdk"
    fi
done
