#!/usr/bin/env bash
# A static site: the generator runs before the image build (hugo, `npm run build`, mkdocs …)
# and writes site/; this example ships site/ as it is. The files are the same on every
# platform; only the web server of the base image differs per architecture.
set -euo pipefail
cd "$(dirname "$0")"
test -f site/index.html
