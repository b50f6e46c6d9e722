#!/usr/bin/env bash
# Go cross-compiles without an emulator: one static binary per platform, into
# out/linux-ARCH/, which the Dockerfile picks with $TARGETOS-$TARGETARCH.
set -euo pipefail
cd "$(dirname "$0")"
for arch in amd64 arm64; do
    GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "out/linux-$arch/hello" .
done
