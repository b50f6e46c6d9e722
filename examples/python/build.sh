#!/usr/bin/env bash
# Python: pip downloads the wheels of another platform without running anything from them:
# --platform picks manylinux wheels for the CPU, --only-binary=:all: refuses source builds
# (they would compile for this machine), --python-version/--implementation match the image's
# Python. Each result goes to build/linux-ARCH/site-packages, picked by $TARGETARCH.
set -euo pipefail
cd "$(dirname "$0")"
python_version=${PYTHON_VERSION:-3.11}
for pair in amd64:manylinux2014_x86_64 arm64:manylinux2014_aarch64; do
    arch=${pair%%:*} wheel_platform=${pair#*:}
    rm -rf "build/linux-$arch"
    python3 -m pip install --quiet --disable-pip-version-check --no-compile \
        --platform "$wheel_platform" --only-binary=:all: \
        --python-version "$python_version" --implementation cp \
        --target "build/linux-$arch/site-packages" -r requirements.txt
done
