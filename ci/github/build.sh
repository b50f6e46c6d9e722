#!/usr/bin/env bash
# The build step of action.yml: its inputs (INPUT_* environment variables, set by the action)
# as slipway flags, and the outputs docker/build-push-action gives: `digest` (the image or
# index digest) and `metadata` (the --metadata-file JSON), appended to $GITHUB_OUTPUT.
#   INPUT_CONTEXT (default .), INPUT_FILE, INPUT_PLATFORMS (comma or newline separated),
#   INPUT_TAGS, INPUT_BUILD_ARGS, INPUT_LABELS (newline separated; tags also comma separated),
#   INPUT_PUSH (true/false), INPUT_PROVENANCE (passed on as --provenance when set)
set -euo pipefail
args=(build --progress plain)
lines() { printf '%s\n' "${1:-}" | tr "${2:-\n}" '\n' | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -v '^$' || true; }
while read -r platform; do args+=(--platform "$platform"); done < <(lines "${INPUT_PLATFORMS:-}" ',')
while read -r tag; do args+=(--tag "$tag"); done < <(lines "${INPUT_TAGS:-}" ',')
while IFS= read -r arg; do args+=(--build-arg "$arg"); done < <(lines "${INPUT_BUILD_ARGS:-}")
while IFS= read -r label; do args+=(--label "$label"); done < <(lines "${INPUT_LABELS:-}")
[[ -n ${INPUT_FILE:-} ]] && args+=(--file "$INPUT_FILE")
[[ -n ${INPUT_PROVENANCE:-} ]] && args+=("--provenance=$INPUT_PROVENANCE")
case "${INPUT_PUSH:-false}" in
    true) args+=(--push) ;;
    false | "") ;;
    *) echo "error: push must be true or false, not '${INPUT_PUSH}'" >&2; exit 1 ;;
esac
metadata="${RUNNER_TEMP:-$(mktemp -d)}/slipway-metadata-$$.json"
args+=(--metadata-file "$metadata" "${INPUT_CONTEXT:-.}")
echo "slipway ${args[*]}" >&2
slipway "${args[@]}"
digest="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' "$metadata")"
delimiter="slipway-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
{
    echo "digest=$digest"
    echo "metadata<<$delimiter"
    cat "$metadata"
    echo
    echo "$delimiter"
} >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
