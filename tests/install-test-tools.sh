#!/bin/sh
# Install the Debian packages the integration tests drive, if any is missing:
# sipp (a real SIP caller with real RTP), espeak-ng and sox (test speech),
# tcpdump (what the caller receives, with kernel timestamps).
set -eu
missing=""
for pair in sipp:sip-tester espeak-ng:espeak-ng sox:sox tcpdump:tcpdump; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "== test tools: installing$missing (apt-get)"
if [ "$(id -u)" != 0 ]; then
    echo "test tools missing:$missing -- install them (sudo apt-get install$missing) or run as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
