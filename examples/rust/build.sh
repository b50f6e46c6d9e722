#!/usr/bin/env bash
# Rust: one static (musl) binary per target triple, where cargo puts it:
# target/x86_64-unknown-linux-musl/release/hello, target/aarch64-unknown-linux-musl/release/hello.
# Needs `rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl` and a linker
# for aarch64 (cargo-zigbuild, or `cross`, or gcc-aarch64-linux-gnu).
# PREBUILT=DIR copies DIR/linux-ARCH/hello there instead (the tests, where no musl targets are).
set -euo pipefail
cd "$(dirname "$0")"
for triple in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    if [[ -n ${PREBUILT:-} ]]; then
        arch=$([[ $triple == x86_64* ]] && echo amd64 || echo arm64)
        install -D -m 0755 "$PREBUILT/linux-$arch/hello" "target/$triple/release/hello"
    else
        cargo build --release --target "$triple"
    fi
done
