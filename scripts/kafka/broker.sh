#!/usr/bin/env bash
# A one-node Kafka (KRaft: broker and controller in one JVM) on loopback, from Maven Central's jars,
# for the relay's tests against a real broker. Nothing is installed system-wide; everything lives in DIR.
#
#   broker.sh fetch   DIR   jars into DIR/libs (Maven caches them in ~/.m2; later runs are offline)
#   broker.sh init    DIR   free loopback ports, DIR/server.properties, storage formatted (fixed cluster id)
#   broker.sh start   DIR   starts the JVM (-Xmx512m) and waits until the broker answers (60 s at most)
#   broker.sh stop    DIR   SIGTERM, then SIGKILL after 30 s; a stopped broker is not an error
#   broker.sh kill    DIR   SIGKILL at once (a crash; the log on disk survives)
#   broker.sh restart DIR   stop, then start on the same ports with the same log
#   broker.sh brokers DIR   prints host:port for KAFKA_BROKERS
#   broker.sh status  DIR   exit 0 when running
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command=${1:?usage: broker.sh fetch|init|start|stop|kill|restart|brokers|status DIR}
dir=${2:?usage: broker.sh $command DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Any fixed id works for one node; fixing it lets a re-format keep what a test already knows.
cluster_id=${KAFKA_CLUSTER_ID:-bWluaW5nLWxlZGdlci0xMQ}
heap=${KAFKA_HEAP:--Xmx512m -Xms512m}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

pid_alive() { [ -f "$dir/broker.pid" ] && kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null; }

classpath() { echo "$dir/libs/*"; }

fetch() {
  if [ -f "$dir/libs/.complete" ]; then return 0; fi
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/libs"
  touch "$dir/libs/.complete"
}

init() {
  [ -f "$dir/libs/.complete" ] || fetch
  local port controller
  port=$(free_port)
  controller=$(free_port)
  while [ "$controller" = "$port" ]; do controller=$(free_port); done
  mkdir -p "$dir/log" "$dir/logs"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/log
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
EOF
  cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/logs/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
EOF
  echo "127.0.0.1:$port" >"$dir/brokers"
  java -cp "$(classpath)" -Dlog4j.configuration="file:$dir/log4j.properties" \
    kafka.tools.StorageTool format --ignore-formatted -t "$cluster_id" -c "$dir/server.properties" >"$dir/logs/format.log" 2>&1 || {
    cat "$dir/logs/format.log" >&2
    return 1
  }
}

start() {
  [ -f "$dir/server.properties" ] || init
  if pid_alive; then return 0; fi
  local started_at mark
  started_at=$(date +%s%N)
  mark=$( [ -f "$dir/logs/server.log" ] && wc -l <"$dir/logs/server.log" || echo 0)
  # setsid: the broker outlives the shell that started it and is not hit by its job control.
  # shellcheck disable=SC2086
  setsid java $heap -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$(classpath)" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/broker.pid"
  local host port
  IFS=: read -r host port <"$dir/brokers"
  for _ in $(seq 1 600); do
    if ! pid_alive; then
      echo "kafka broker exited while starting; last lines of $dir/logs:" >&2
      tail -n 20 "$dir/logs/stdout.log" "$dir/logs/server.log" >&2 2>/dev/null || true
      return 1
    fi
    # "Kafka Server started" is logged once the broker has registered with the controller and listens.
    if tail -n +"$((mark + 1))" "$dir/logs/server.log" 2>/dev/null | grep -q 'Kafka Server started' &&
      (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      echo "kafka broker ready on $host:$port in $(( ($(date +%s%N) - started_at) / 1000000 )) ms" >"$dir/last-start"
      cat "$dir/last-start"
      return 0
    fi
    sleep 0.1
  done
  echo "kafka broker did not answer within 60 s; see $dir/logs/server.log" >&2
  return 1
}

stop() {
  pid_alive || { rm -f "$dir/broker.pid"; return 0; }
  local pid
  pid=$(cat "$dir/broker.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/broker.pid"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/broker.pid"
}

kill_now() {
  pid_alive || return 0
  local pid
  pid=$(cat "$dir/broker.pid")
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$dir/broker.pid"
}

case "$command" in
  fetch) fetch ;;
  init) init ;;
  start) start ;;
  stop) stop ;;
  kill) kill_now ;;
  restart) stop && start ;;
  brokers) cat "$dir/brokers" ;;
  status) pid_alive ;;
  *) echo "broker.sh: unknown command $command" >&2; exit 2 ;;
esac
