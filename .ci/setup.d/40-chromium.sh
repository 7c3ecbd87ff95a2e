# Chromium for the browser suites (timeline page, client): Debian's package, driven by playwright-core.
# Idempotent: issue 13 and issue 14 may both ship this same file name. Sourced: never `exit`.
if ! command -v chromium >/dev/null 2>&1; then
  { apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; } ||
    { echo "40-chromium: could not install chromium; the browser suites will be skipped" >&2; return 1; }
fi
TEST_CHROMIUM="$(command -v chromium)"
export TEST_CHROMIUM
echo "40-chromium: TEST_CHROMIUM=$TEST_CHROMIUM ($("$TEST_CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
