#!/usr/bin/env bash
# One local Apache Kafka broker for development and tests: a single KRaft node (broker and
# controller in one JVM) on 127.0.0.1, run from the broker's jars on Maven Central.
#
#   kafka.sh install                              fetch the jars into the cache (idempotent)
#   kafka.sh start  [--port P] [--data DIR] ...   start in the background, wait until it answers
#   kafka.sh stop   [--data DIR]                  stop cleanly (killed after a timeout)
#   kafka.sh status [--data DIR]                  say whether it runs and answers
#
# See README.md beside this file.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
PROBE_SRC="$SCRIPT_DIR/KafkaProbe.java"

# The broker version lives in pom.xml; MAMORI_KAFKA_VERSION overrides it (any 4.x).
KAFKA_VERSION="${MAMORI_KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")}"
CACHE_DIR="${MAMORI_CACHE_DIR:-$HOME/.cache/mamori}"
INSTALL_DIR="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$INSTALL_DIR/libs"
STAMP="$INSTALL_DIR/.complete"

DEFAULT_PORT=19092
DEFAULT_DATA=./data/kafka
# 768 MiB is plenty for a test broker and leaves room on a shared 2-core, 24 GiB machine.
DEFAULT_HEAP="${MAMORI_KAFKA_HEAP:-768m}"
DEFAULT_WAIT=60
STOP_TIMEOUT=30

log() { printf 'kafka.sh: %s\n' "$*"; }
die() {
  printf 'kafka.sh: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<EOF
usage:
  kafka.sh install
  kafka.sh start  [--port P] [--controller-port C] [--data DIR] [--heap SIZE] [--wait SECONDS]
  kafka.sh stop   [--data DIR]
  kafka.sh status [--data DIR]

defaults: --port $DEFAULT_PORT, --controller-port P+1, --data $DEFAULT_DATA, --heap $DEFAULT_HEAP,
          --wait $DEFAULT_WAIT
environment: MAMORI_CACHE_DIR (jar cache, now $CACHE_DIR), MAMORI_KAFKA_VERSION (now $KAFKA_VERSION),
             MAMORI_KAFKA_HEAP
EOF
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"
}

# What a complete install was made from: a change to pom.xml or the probe makes it stale.
install_fingerprint() {
  cat "$POM" "$PROBE_SRC" | sha256sum | cut -d' ' -f1
  echo "$KAFKA_VERSION"
}

is_installed() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(install_fingerprint)" ]]
}

cmd_install() {
  need mvn "Maven fetches the broker's jars from Maven Central"
  need java "Java 17 or newer runs the broker"
  mkdir -p "$CACHE_DIR"
  # One install at a time per version, so that two runs (two terminals, CI) do not race.
  exec 9>"$INSTALL_DIR.lock"
  flock 9
  if is_installed; then
    exec 9>&-
    log "Kafka $KAFKA_VERSION already installed in $INSTALL_DIR"
    return 0
  fi
  local started=$SECONDS tmp
  log "installing Kafka $KAFKA_VERSION into $INSTALL_DIR (jars from Maven Central, cached in ~/.m2)"
  tmp="$(mktemp -d "$INSTALL_DIR.tmp.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  # Debian's Maven prints colour resets even with -q -B; sed drops them.
  if ! mvn -B -q -f "$POM" "-Dkafka.version=$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$tmp/libs" 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g'; then
    die "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies"
  fi
  [[ -n "$(ls "$tmp/libs"/kafka_2.13-*.jar 2>/dev/null)" ]] || die "Maven ran but kafka_2.13 is missing from $tmp/libs"
  if command -v javac >/dev/null 2>&1; then
    javac -nowarn -d "$tmp/probe" -cp "$tmp/libs/*" "$PROBE_SRC" || die "could not compile $PROBE_SRC"
  else
    log "no javac (a JRE only): start will check readiness with a plain ApiVersions request"
  fi
  install_fingerprint >"$tmp/.complete"
  rm -rf "$INSTALL_DIR"
  mv "$tmp" "$INSTALL_DIR"
  trap - EXIT
  # Release the lock now: a broker started by this shell would otherwise inherit it.
  exec 9>&-
  log "installed Kafka $KAFKA_VERSION: $(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS ($((SECONDS - started)) s)"
}

# --- options shared by start, stop and status ---------------------------------------------------
PORT=$DEFAULT_PORT
CONTROLLER_PORT=
DATA=$DEFAULT_DATA
HEAP=$DEFAULT_HEAP
WAIT=$DEFAULT_WAIT

parse_options() {
  while (($#)); do
    case "$1" in
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --controller-port) CONTROLLER_PORT="${2:?--controller-port needs a value}"; shift 2 ;;
      --data) DATA="${2:?--data needs a value}"; shift 2 ;;
      --heap) HEAP="${2:?--heap needs a value}"; shift 2 ;;
      --wait) WAIT="${2:?--wait needs a value}"; shift 2 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, not '$PORT'"
  CONTROLLER_PORT="${CONTROLLER_PORT:-$((PORT + 1))}"
  [[ "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "--controller-port must be a number, not '$CONTROLLER_PORT'"
  [[ "$CONTROLLER_PORT" != "$PORT" ]] || die "--controller-port must differ from --port"
  [[ "$WAIT" =~ ^[0-9]+$ ]] || die "--wait must be a number of seconds, not '$WAIT'"
  mkdir -p "$DATA"
  DATA="$(cd "$DATA" && pwd)"
  PID_FILE="$DATA/kafka.pid"
  LOG_FILE="$DATA/kafka.log"
  OUT_FILE="$DATA/kafka.out"
  CONFIG="$DATA/server.properties"
}

# The pid of the broker that serves $DATA, or nothing. A pid file left by a dead broker, or a pid
# reused by another process, does not count.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid="$(cat "$PID_FILE")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $CONFIG"; then
    echo "$pid"
  fi
}

configured_bootstrap() {
  sed -n 's/^advertised.listeners=PLAINTEXT:\/\/\(.*\)$/\1/p' "$CONFIG" 2>/dev/null
}

probe() { # probe BOOTSTRAP TIMEOUT_MS
  if [[ -f "$INSTALL_DIR/probe/KafkaProbe.class" ]]; then
    java -Xmx64m -XX:TieredStopAtLevel=1 -Dlog4j2.level=OFF -Dlog4j2.StatusLogger.level=OFF \
      -cp "$INSTALL_DIR/probe:$LIBS/*" KafkaProbe "$1" "$2"
  else
    probe_api_versions "$1" "$2"
  fi
}

# Without a JDK (no javac, no KafkaProbe): a Kafka ApiVersions v0 request in plain bash. The
# answer must carry our correlation id (1) and error code 0. Weaker than KafkaProbe: it does
# not wait for the group coordinator.
probe_api_versions() { # probe_api_versions HOST:PORT TIMEOUT_MS
  local host="${1%:*}" port="${1##*:}" deadline=$((SECONDS + ($2 + 999) / 1000)) answer
  while ((SECONDS < deadline)); do
    answer="$(timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port &&
      printf '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05probe' >&3 &&
      head -c 10 <&3 | od -An -tx1" 2>/dev/null | tr -d ' \n')" || true
    if [[ "$answer" == ????????000000010000 ]]; then
      echo "answering: ApiVersions from $1"
      return 0
    fi
    sleep 0.5
  done
  return 1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_config() {
  cat >"$CONFIG" <<EOF
# Written by deploy/kafka/kafka.sh at every start; edit the script, not this file.
# One KRaft node, broker and controller in one process, reachable on loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA/data

# A single node can only keep one copy of anything.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# 10 offsets partitions instead of 50: fewer files, faster creation, plenty for tests.
offsets.topic.num.partitions=10
# The first member of a group is not kept waiting 3 s for others (tests create many groups).
group.initial.rebalance.delay.ms=0
# Topics exist only once ensured (as on the embedded bus): a typo fails instead of creating one.
auto.create.topics.enable=false
num.partitions=1

# Small thread pools: this broker shares 2 cores with the tests that use it.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
  cat >"$DATA/log4j2.properties" <<EOF
# Written by deploy/kafka/kafka.sh: WARN and above to kafka.log, rolled at 10 MB.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOG_FILE
appender.file.filePattern = $LOG_FILE.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
# Start and stop lines, to tell runs apart in the log.
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
EOF
}

format_storage() {
  [[ -f "$DATA/data/meta.properties" ]] && return 0
  local cluster_id
  # A Kafka cluster id is 16 random bytes, base64url without padding.
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  log "formatting storage in $DATA/data (cluster id $cluster_id)"
  if ! java -Xmx256m -Dlog4j2.configurationFile="$DATA/log4j2.properties" -cp "$LIBS/*" \
    kafka.tools.StorageTool format --config "$CONFIG" --cluster-id "$cluster_id" >>"$OUT_FILE" 2>&1; then
    tail -n 20 "$OUT_FILE" >&2
    die "could not format $DATA/data"
  fi
}

show_log_tail() {
  for f in "$LOG_FILE" "$OUT_FILE"; do
    if [[ -s "$f" ]]; then
      printf '\n--- last lines of %s ---\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

cmd_start() {
  parse_options "$@"
  is_installed || cmd_install
  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid) for $DATA"
    if probe "$(configured_bootstrap)" 10000 >/dev/null; then
      log "bootstrap: $(configured_bootstrap)"
      echo "MAMORI_TEST_KAFKA_BROKERS=$(configured_bootstrap)"
      return 0
    fi
    die "the broker (pid $pid) does not answer; see $LOG_FILE, or stop it: kafka.sh stop --data $DATA"
  fi
  rm -f "$PID_FILE"
  port_in_use "$PORT" && die "port $PORT on 127.0.0.1 is already in use by another process"
  port_in_use "$CONTROLLER_PORT" && die "controller port $CONTROLLER_PORT on 127.0.0.1 is already in use"

  local started=$SECONDS
  write_config
  : >"$OUT_FILE"
  format_storage
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller :$CONTROLLER_PORT, heap $HEAP, data $DATA)"
  # setsid: the broker outlives this shell and the terminal or job that ran it.
  setsid java "-Xms256m" "-Xmx$HEAP" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$DATA/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$CONFIG" >>"$OUT_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  pid=$!

  # Wait until the broker answers metadata and group requests, or dies, or time runs out.
  local deadline=$((SECONDS + WAIT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail
      rm -f "$PID_FILE"
      die "the broker exited during start-up"
    fi
    # Probe in slices of at most 5 s, so that a broker that died is noticed soon.
    local slice=$((deadline - SECONDS))
    ((slice > 5)) && slice=5
    ((slice < 1)) && slice=1
    if probe "127.0.0.1:$PORT" "$((slice * 1000))" >/dev/null 2>&1; then
      log "ready in $((SECONDS - started)) s (pid $pid, log $LOG_FILE)"
      log "bootstrap: 127.0.0.1:$PORT"
      echo "MAMORI_TEST_KAFKA_BROKERS=127.0.0.1:$PORT"
      return 0
    fi
  done
  show_log_tail
  log "no answer within $WAIT s: stopping it"
  stop_pid "$pid"
  die "the broker did not answer on 127.0.0.1:$PORT within $WAIT s"
}

stop_pid() {
  local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after $STOP_TIMEOUT s: killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

cmd_stop() {
  parse_options "$@"
  local pid started=$SECONDS
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    log "not running for $DATA"
    return 0
  fi
  log "stopping the broker (pid $pid)"
  stop_pid "$pid"
  log "stopped in $((SECONDS - started)) s"
}

cmd_status() {
  parse_options "$@"
  local pid bootstrap
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    log "not running for $DATA"
    return 3
  fi
  bootstrap="$(configured_bootstrap)"
  if is_installed && probe "$bootstrap" 10000 >/dev/null 2>&1; then
    log "running (pid $pid) and answering on $bootstrap, Kafka $KAFKA_VERSION, data $DATA"
    return 0
  fi
  log "running (pid $pid) but not answering on $bootstrap; see $LOG_FILE"
  return 1
}

main() {
  local command="${1:-}"
  (($#)) && shift
  case "$command" in
    install) cmd_install ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
