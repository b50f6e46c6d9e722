#!/usr/bin/env bash
# Installs a slipway release into DEST/bin, verifying the tarball against the release's
# SHA256SUMS first (a tarball whose sum is missing or differs is refused, nothing installed).
# Used by the GitHub Action (action.yml) and the GitLab CI template (ci/gitlab/slipway.yml).
# Usage: ci/install.sh VERSION BASE_URL DEST
#   BASE_URL: where slipway-VERSION-linux-ARCH.tar.gz and SHA256SUMS are (https:// or file://)
# Prints DEST/bin. A DEST that already holds that version (a restored cache) is kept as it is.
set -euo pipefail
version=${1:?usage: install.sh VERSION BASE_URL DEST}
base=${2:?usage: install.sh VERSION BASE_URL DEST}
dest=${3:?usage: install.sh VERSION BASE_URL DEST}
version=${version#v}
case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "install.sh: no slipway release for $(uname -m)" >&2; exit 1 ;;
esac
name="slipway-$version-linux-$arch"
if [[ -x $dest/bin/slipway ]] && "$dest/bin/slipway" --version 2>/dev/null | grep -qF "$version"; then
    echo "install.sh: slipway $version already in $dest (cached)" >&2
    echo "$dest/bin"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fetch() { curl --fail --silent --show-error --location --retry 3 --proto '=https,file' -o "$work/$1" "${base%/}/$1"; }
fetch SHA256SUMS
fetch "$name.tar.gz"
grep -E "^[0-9a-f]{64}  $name\.tar\.gz\$" "$work/SHA256SUMS" > "$work/wanted" ||
    { echo "install.sh: SHA256SUMS has no line for $name.tar.gz" >&2; exit 1; }
(cd "$work" && sha256sum --quiet -c wanted) ||
    { echo "install.sh: $name.tar.gz does not match its SHA256SUMS line; nothing installed" >&2; exit 1; }
tar -xzf "$work/$name.tar.gz" -C "$work"
mkdir -p "$dest/bin"
install -m 0755 "$work/$name/slipway" "$dest/bin/slipway"
[[ -d $work/$name/completions ]] && cp -r "$work/$name/completions" "$dest/"
echo "$dest/bin"
