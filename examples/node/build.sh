#!/usr/bin/env bash
# Node: node_modules per platform, so native modules (.node files) match the image's CPU.
# npm 10.1+ installs for another platform: `npm ci --os=linux --cpu=arm64` (prebuilt binaries
# of packages such as sharp, esbuild, @swc/core come as optional dependencies per os/cpu;
# packages that compile with node-gyp need a cross-compiler, or build them on an arm64 runner).
# Each result goes to build/linux-ARCH/node_modules, picked by $TARGETARCH.
# PREBUILT=DIR puts DIR/linux-ARCH/hello in as a native module instead (the tests: offline).
set -euo pipefail
cd "$(dirname "$0")"
for arch in amd64 arm64; do
    cpu=$([[ $arch == amd64 ]] && echo x64 || echo arm64)
    rm -rf node_modules "build/linux-$arch"
    mkdir -p "build/linux-$arch"
    if [[ -n ${PREBUILT:-} ]]; then
        install -D -m 0755 "$PREBUILT/linux-$arch/hello" node_modules/hello-native/build/Release/hello.node
        printf '{"name":"hello-native","version":"1.0.0","main":"build/Release/hello.node","cpu":["%s"]}\n' "$cpu" \
            > node_modules/hello-native/package.json
    else
        npm ci --omit=dev --os=linux --cpu="$cpu"
    fi
    mv node_modules "build/linux-$arch/node_modules"
done
