# PostgreSQL for the PostgreSQL event-store suites (test/store/postgres*.test.ts, test/scale-out/*):
# installs Debian's package when missing, starts the main cluster, creates a role and a test
# database, and exports TEST_PG_URL. A second cluster on its own port is the one the restart test
# may restart (TEST_PG_RESTART_URL, TEST_PG_RESTART_CMD), so other suites running beside it never
# see their server go away. Sourced by .ci/run: returns (never exits) on failure.
pg_setup() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
  fi
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || { echo "20-postgres: no PostgreSQL version under /usr/lib/postgresql" >&2; return 1; }
  # A cluster named main exists after the package install; create it where a minimal image has none.
  pg_lsclusters -h | awk '{print $2}' | grep -qx main || pg_createcluster "$version" main >/dev/null || return 1
  pg_ctlcluster "$version" main start 2>/dev/null || pg_lsclusters -h | grep -E "^$version +main .* online" >/dev/null || return 1
  local port
  port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')

  pg_lsclusters -h | awk '{print $2}' | grep -qx mlrestart || pg_createcluster "$version" mlrestart -p 5499 >/dev/null || return 1
  pg_ctlcluster "$version" mlrestart start 2>/dev/null || pg_lsclusters -h | grep -E "^$version +mlrestart .* online" >/dev/null || return 1
  local restart_port
  restart_port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "mlrestart" {print $3}')

  local p
  for p in "$port" "$restart_port"; do
    runuser -u postgres -- psql -q -p "$p" -v ON_ERROR_STOP=1 -c "DO \$\$BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mining') THEN CREATE ROLE mining LOGIN PASSWORD 'mining'; END IF;
      END\$\$" >/dev/null || return 1
    runuser -u postgres -- psql -q -p "$p" -tAc "SELECT 1 FROM pg_database WHERE datname = 'mining_test'" | grep -q 1 ||
      runuser -u postgres -- createdb -p "$p" -O mining mining_test || return 1
  done
  export TEST_PG_URL="postgres://mining:mining@127.0.0.1:$port/mining_test"
  export TEST_PG_RESTART_URL="postgres://mining:mining@127.0.0.1:$restart_port/mining_test"
  export TEST_PG_RESTART_CMD="pg_ctlcluster $version mlrestart restart -m fast"
  echo "20-postgres: PostgreSQL $version; TEST_PG_URL=$TEST_PG_URL TEST_PG_RESTART_URL=$TEST_PG_RESTART_URL"
}
pg_setup
