# Chromium for the browser suites (the client's, test/client/browser.test.ts; the auditor's page):
# Debian's package, driven by npm playwright-core. Sourced by .ci/run: never exits, returns non-zero
# with TEST_CHROMIUM unset when it cannot install, so those suites say they were skipped.
command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
if command -v chromium >/dev/null 2>&1; then
  export TEST_CHROMIUM="$(command -v chromium)"
  echo "chromium: $TEST_CHROMIUM ($("$TEST_CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
else
  echo "chromium could not be installed; the browser suites will be skipped" >&2
  false
fi
