# Kafka for the relay's suite against a real broker (test/relay/kafka.test.ts): the broker's jars
# from Maven Central (scripts/kafka/pom.xml; Maven caches them in ~/.m2), one KRaft node on free
# loopback ports (scripts/kafka/broker.sh), and kcat from Debian as an independent reader.
# Exports TEST_KAFKA_BROKERS, and TEST_KAFKA_CONTROL: a script taking start|stop|kill|restart that
# the broker-restart test uses. Sourced by .ci/run: returns (never exits) on failure.
kafka_setup() {
  local root broker dir
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  broker="$root/scripts/kafka/broker.sh"
  command -v java >/dev/null 2>&1 || { echo "30-kafka: java is not installed" >&2; return 1; }
  if ! command -v mvn >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 maven >/dev/null || return 1
  fi
  # The suite falls back to kafkajs' consumer when kcat is missing, so a failed install is not fatal.
  if ! command -v kcat >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 kcat >/dev/null; } ||
      echo "30-kafka: kcat could not be installed; the suite reads back with kafkajs' consumer" >&2
  fi
  dir="${CI_WORK:-$(mktemp -d)}/kafka"
  local began=$SECONDS
  "$broker" fetch "$dir" || { echo "30-kafka: fetching the broker's jars from Maven Central failed" >&2; return 1; }
  "$broker" init "$dir" || return 1
  "$broker" start "$dir" || return 1
  printf '#!/usr/bin/env bash\nexec %q "$1" %q\n' "$broker" "$dir" >"$dir/control"
  chmod +x "$dir/control"
  export TEST_KAFKA_BROKERS
  TEST_KAFKA_BROKERS=$("$broker" brokers "$dir")
  export TEST_KAFKA_CONTROL="$dir/control"
  echo "30-kafka: Kafka 3.9.1 (KRaft, one node) ready in $((SECONDS - began)) s; TEST_KAFKA_BROKERS=$TEST_KAFKA_BROKERS"
}
kafka_setup
