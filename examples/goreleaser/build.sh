#!/usr/bin/env bash
# GoReleaser writes one directory per target into dist/: hello_linux_amd64_v1/hello and
# hello_linux_arm64_v8.0/hello (GoReleaser 2; 1.x wrote hello_linux_arm64/).
# PREBUILT=DIR copies DIR/linux-ARCH/hello there instead (the tests, without goreleaser).
set -euo pipefail
cd "$(dirname "$0")"
if [[ -n ${PREBUILT:-} ]]; then
    install -D -m 0755 "$PREBUILT/linux-amd64/hello" dist/hello_linux_amd64_v1/hello
    install -D -m 0755 "$PREBUILT/linux-arm64/hello" dist/hello_linux_arm64_v8.0/hello
else
    goreleaser build --snapshot --clean
fi
