#!/usr/bin/env bash
# Install headless Chromium for the report's browser test (tests/report/test_browser.py) when it is
# missing. Debian/Ubuntu: the `chromium` package (apt). Does nothing when a Chromium is already
# on PATH. Exits 0 when a browser is available afterwards, 1 otherwise (the test then skips,
# saying why); never fails the CI run on its own.
set -u
have() { command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
         || command -v google-chrome >/dev/null 2>&1; }
if have; then
  echo "install-chromium: already installed: $(command -v chromium || command -v chromium-browser || command -v google-chrome)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-chromium: not root and no password-less sudo; install 'chromium' by hand" >&2; exit 1; fi
fi
if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
    || $SUDO apt-get install -y -qq chromium-browser >/dev/null 2>&1 || true
elif command -v dnf >/dev/null 2>&1; then
  $SUDO dnf install -y -q chromium >/dev/null 2>&1 || true
elif command -v apk >/dev/null 2>&1; then
  $SUDO apk add --no-cache chromium >/dev/null 2>&1 || true
fi
if have; then
  echo "install-chromium: installed $(command -v chromium || command -v chromium-browser || command -v google-chrome)"
  exit 0
fi
echo "install-chromium: could not install chromium (no apt-get/dnf/apk, or no network)" >&2
exit 1
