#!/usr/bin/env bash
# Debian's Chromium for the browser tests (no browser download); skipped quietly when apt is unavailable.
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "note: could not install chromium; browser tests will skip" >&2
else
  echo "note: chromium not installed; browser tests will skip" >&2
fi
exit 0
