# promtool for the alert-rule tests and `promtool check metrics` (test/ops/prometheus.test.ts).
# Sourced by .ci/run: never `exit`. Uses promtool from PATH when present; otherwise extracts only
# promtool from Debian's `prometheus` package (apt-get download + dpkg -x), so no Prometheus server is
# installed or started by the package's systemd/init scripts. Exports PROMTOOL on success.
promtool_setup() {
  if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then return 0; fi
  if command -v promtool >/dev/null 2>&1; then PROMTOOL=$(command -v promtool); export PROMTOOL; return 0; fi
  local dir="${CI_WORK:-$(mktemp -d)}/promtool"
  if [ ! -x "$dir/usr/bin/promtool" ]; then
    mkdir -p "$dir" || return 1
    (cd "$dir" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus; }; }) || {
      echo "promtool setup: could not download the Debian prometheus package" >&2; return 1; }
    dpkg -x "$dir"/prometheus_*.deb "$dir" || { echo "promtool setup: could not extract the package" >&2; return 1; }
  fi
  "$dir/usr/bin/promtool" --version >/dev/null 2>&1 || { echo "promtool setup: extracted promtool does not run" >&2; return 1; }
  PROMTOOL="$dir/usr/bin/promtool"
  export PROMTOOL
}
promtool_setup && echo "promtool: $PROMTOOL"
