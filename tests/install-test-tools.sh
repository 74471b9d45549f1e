#!/bin/sh
# Install what the integration tests drive, if any is missing: the Debian packages
# sipp (a real SIP caller with real RTP), espeak-ng and sox (test speech), tcpdump
# (what the caller receives, with kernel timestamps) and chromium (the browser door's
# test: Debian's own build, never a browser downloaded by a test tool); then the npm
# packages of the browser driver (tests/browser: playwright-core, no browser download).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
for pair in sipp:sip-tester espeak-ng:espeak-ng sox:sox tcpdump:tcpdump chromium:chromium \
            node:nodejs npm:npm; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "== test tools: installing$missing (apt-get)"
    if [ "$(id -u)" != 0 ]; then
        echo "test tools missing:$missing -- install them (sudo apt-get install$missing) or run as root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -d "$here/browser/node_modules" ]; then
    echo "== test tools: npm install in tests/browser (playwright-core)"
    (cd "$here/browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund)
fi
