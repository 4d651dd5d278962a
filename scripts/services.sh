#!/usr/bin/env bash
# Provision the backing services evnet needs for tests and local runs:
#   - PostgreSQL (Debian's packages), our own throw-away cluster on 127.0.0.1
#   - Apache Kafka 4.x, single-node KRaft (broker + controller in one JVM),
#     jars resolved from Maven Central with mvn and cached.
#
# Usage: bash scripts/services.sh up|down|status|pg-up|pg-down|kafka-up|kafka-down|kafka-class CLASS [ARGS...]
#
#   up      start (or reuse) both services, wait until they really answer, then
#           print on stdout, one per line, and nothing else:
#             DATABASE_URL=postgres://evnet:evnet@127.0.0.1:55432/evnet
#             DATABASE_SOCKET_DIR=/tmp/evnet-pg-<12 hex digits>  (the same server's
#               Unix-domain socket: DATABASE_URL?host=<it> reaches it without TCP)
#             KAFKA_BROKERS=127.0.0.1:59092
#           so that a shell can do: eval "$(npm run -s services:up)"
#   down    stop both (idempotent)
#   status  report each; print the same lines when both are up; exit 1 if
#           either is down
#   pg-up | pg-down | kafka-up | kafka-down
#           start (and wait for) or stop only one of them: tests that restart the
#           broker use them with their own EVNET_SERVICES_DIR and ports, so the
#           shared broker is never disturbed
#   kafka-class CLASS ARGS...
#           run a Kafka CLI class from the cached classpath, e.g.
#           kafka-class org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:59092 --list
#
# Everything a state folder runs lives in it (the PostgreSQL cluster, Kafka's data, logs and
# pid files); only the downloaded Kafka jars are shared, read-only, from a cache. A server on
# the configured port that this folder did not start is never reused: `up` stops with an error.
#
# Environment (all optional):
#   EVNET_SERVICES_DIR          state folder (default: <repo>/.services, git-ignored)
#   EVNET_PG_PORT               PostgreSQL port (default 55432)
#   EVNET_KAFKA_PORT            Kafka client port (default 59092)
#   EVNET_KAFKA_CONTROLLER_PORT KRaft controller port (default 59093)
#   EVNET_KAFKA_VERSION         org.apache.kafka:kafka_2.13 version (default 4.1.1)
#   EVNET_KAFKA_CACHE           jar cache (default ~/.cache/evnet/kafka-<version>)
#   EVNET_SERVICES_TIMEOUT      seconds to wait for each service (default 120)
#   EVNET_PG_STOP_MODE          how pg-down stops PostgreSQL: fast (default) or immediate (a crash:
#                               connections cut, no checkpoint)
#   KAFKA_HEAP_OPTS             broker heap (default -Xms256m -Xmx512m)
#   EVNET_KAFKA_SECURE          1: a broker that requires TLS and SASL/SCRAM and enforces ACLs
#                               (its certificate from `evnet certs`, the administrator evnet-admin,
#                               and one principal per role made by `evnet kafka-acls --apply`);
#                               `up`/`kafka-up` then also print KAFKA_TLS_CA_FILE, KAFKA_SASL_* (the
#                               administrator's) and EVNET_KAFKA_SECRETS_DIR (the roles' password
#                               files); Kafka's tools log in with kafka/admin-client.properties
#   EVNET_BIN                   the evnet binary secure mode runs (default: bun src/main.ts)
#
# Both servers are fit for tests only: loopback (and PostgreSQL's own socket) only, trust auth,
# fsync off.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="${EVNET_SERVICES_DIR:-$REPO_DIR/.services}"
# Absolute, so paths survive the `cd /` we do before running commands as
# another user.
case "$SERVICES_DIR" in /*) ;; *) SERVICES_DIR="$PWD/$SERVICES_DIR" ;; esac
TIMEOUT="${EVNET_SERVICES_TIMEOUT:-120}"

PG_PORT="${EVNET_PG_PORT:-55432}"
PG_DB=evnet
PG_APP_USER=evnet
PG_APP_PASSWORD=evnet
PG_SUPERUSER=postgres
DATABASE_URL="postgres://$PG_APP_USER:$PG_APP_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
# The server's Unix-domain socket folder, beside TCP: the same database on this machine without
# TCP's cost (DATABASE_URL plus `?host=<folder>`). Short and under /tmp, since a socket's path
# must fit in 107 bytes and this state folder may be deep; one per state folder.
PG_SOCKET_DIR="/tmp/evnet-pg-$(printf '%s' "$SERVICES_DIR" | sha1sum | cut -c1-12)"

KAFKA_VERSION="${EVNET_KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${EVNET_KAFKA_PORT:-59092}"
KAFKA_CONTROLLER_PORT="${EVNET_KAFKA_CONTROLLER_PORT:-59093}"
# HOME may be unset in a bare CI environment; fall back to the passwd entry.
USER_HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
KAFKA_CACHE="${EVNET_KAFKA_CACHE:-${XDG_CACHE_HOME:-$USER_HOME/.cache}/evnet/kafka-$KAFKA_VERSION}"
KAFKA_DIR="$SERVICES_DIR/kafka"
KAFKA_PID_FILE="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/kafka.log"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
KAFKA_CERTS_DIR="$KAFKA_DIR/certs"
KAFKA_SECRETS_DIR="$KAFKA_DIR/secrets"
KAFKA_ADMIN_USER=evnet-admin
KAFKA_ADMIN_PASSWORD_FILE="$KAFKA_SECRETS_DIR/$KAFKA_ADMIN_USER.password"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Print the last lines of a log file to stderr, to explain a failure.
show_log_tail() {
  local file="$1"
  if [ -f "$file" ]; then
    printf -- '----- last lines of %s -----\n' "$file" >&2
    tail -n 30 "$file" >&2 || true
    printf -- '-----\n' >&2
  fi
}

# Install Debian packages when running as root; otherwise say what is missing.
# apt's output goes to a file: a package's postinst may start daemons, and they
# must not inherit our stdout/stderr (that would hang `$(services.sh up)`).
apt_install() {
  is_root || die "missing $*; install it (apt-get install $*) or run this script as root"
  mkdir -p "$SERVICES_DIR"
  local apt_log="$SERVICES_DIR/apt.log"
  log "installing $* with apt-get (log: $apt_log)"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } \
         </dev/null >"$apt_log" 2>&1; then
    show_log_tail "$apt_log"
    die "apt-get install $* failed; see $apt_log"
  fi
}

# Is something accepting TCP connections on 127.0.0.1:$1? (bash's /dev/tcp)
port_open() {
  timeout 2 bash -c "exec 9<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Is process $1 alive? A killed process stays a zombie until its parent (init,
# for our detached daemons) reaps it, and `kill -0` still succeeds on it; so
# read its state from /proc instead (field 3, after the parenthesised name).
pid_alive() {
  local pid="${1:-}" state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [ -n "$state" ] && [ "$state" != Z ]
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# Newest installed server version's bin folder (Debian layout), or nothing.
pg_find_bin() {
  local found=(/usr/lib/postgresql/*/bin/postgres) newest
  [ -x "${found[0]}" ] || return 1
  newest="$(printf '%s\n' "${found[@]}" | sort -V | tail -n 1)"
  dirname "$newest"
}

pg_ensure_installed() {
  PG_BIN="$(pg_find_bin || true)"
  if [ -z "$PG_BIN" ]; then
    apt_install postgresql
    PG_BIN="$(pg_find_bin || true)"
    [ -n "$PG_BIN" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
  fi
}

# The cluster always lives in the state folder: a copy of the repository, or a second
# EVNET_SERVICES_DIR, never starts or reconfigures another folder's cluster.
PG_DIR="$SERVICES_DIR/postgres"
PG_DATA="$PG_DIR/data"
# Older versions recorded a cluster kept elsewhere here; it is never followed (a copied
# repository carried the original's path in it).
PG_LEGACY_LOCATION_FILE="$SERVICES_DIR/postgres.location"

# PostgreSQL refuses to run as root, so as root its programs run as a system user: Debian's
# `postgres` (created by the postgresql package) or, failing that, a dedicated `evnet` user.
# As anyone else they run as ourselves.
pg_system_user() {
  if id -u postgres >/dev/null 2>&1; then
    echo postgres
    return
  fi
  if ! id -u evnet >/dev/null 2>&1; then
    log "creating system user evnet to run PostgreSQL (it refuses to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin evnet
  fi
  echo evnet
}

# How PostgreSQL's programs run (PG_RUNNER), decided once per command:
#   self     not root: as ourselves
#   runuser  as root, the system user owns the cluster (it can reach the state folder)
#   userns   as root, when the system user cannot reach the state folder (a clone under a
#            folder only root may enter, such as /root): the programs run in a user namespace
#            where root's files appear to be the system user's. The cluster stays in the state
#            folder, owned by root, and no folder above it is opened up.
pg_choose_runner() {
  if ! is_root; then
    PG_RUNNER=self
    return
  fi
  PG_OS_USER="$(pg_system_user)"
  if [ -d "$PG_DATA" ]; then
    if [ "$(stat -c %u "$PG_DATA")" -eq 0 ]; then
      PG_RUNNER=userns
    else
      PG_RUNNER=runuser
      PG_OS_USER="$(stat -c %U "$PG_DATA")"
    fi
    return
  fi
  mkdir -p "$PG_DIR"
  chmod 700 "$PG_DIR"
  chown "$PG_OS_USER:" "$PG_DIR"
  if runuser -u "$PG_OS_USER" -- test -w "$PG_DIR" -a -x "$PG_DIR" 2>/dev/null; then
    PG_RUNNER=runuser
  else
    chown root:root "$PG_DIR"
    PG_RUNNER=userns
    log "user $PG_OS_USER cannot reach $SERVICES_DIR; running PostgreSQL as $PG_OS_USER in a user namespace instead"
  fi
}

# Run a PostgreSQL program as PG_RUNNER says. `cd /` first: the user may not be allowed into
# the current folder, and initdb/pg_ctl complain about it.
as_pg_user() {
  case "$PG_RUNNER" in
    self) (cd / && "$@") ;;
    runuser) (cd / && runuser -u "$PG_OS_USER" -- "$@") ;;
    userns)
      (cd / && unshare --user --map-user="$(id -u "$PG_OS_USER")" --map-group="$(id -g "$PG_OS_USER")" -- "$@")
      ;;
    *) die "internal: no PostgreSQL runner chosen" ;;
  esac
}

# The cluster older versions kept in /tmp for this very state folder, if the legacy location
# file names it (and only then): `down` still stops it.
pg_legacy_dir() {
  [ -f "$PG_LEGACY_LOCATION_FILE" ] || return 1
  local recorded legacy
  recorded="$(cat "$PG_LEGACY_LOCATION_FILE")"
  legacy="/tmp/evnet-services-$(printf '%s' "$SERVICES_DIR" | sha1sum | cut -c1-12)/postgres"
  [ "$recorded" = "$legacy" ] && [ -f "$legacy/data/PG_VERSION" ] && echo "$legacy"
}

# The pid and port of this folder's running postmaster (lines 1 and 4 of postmaster.pid), or
# nothing.
pg_our_server() {
  local pid port
  [ -f "$PG_DATA/postmaster.pid" ] || return 1
  pid="$(sed -n 1p "$PG_DATA/postmaster.pid")"
  port="$(sed -n 4p "$PG_DATA/postmaster.pid")"
  # A live process with that pid must be a postmaster working in this very folder (postmaster.pid
  # may have been copied along with a running cluster's files).
  pid_alive "$pid" && [ "$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" = "$(readlink -f "$PG_DATA")" ] && echo "$pid $port"
}

# -U/-d: without them pg_isready logs in as the OS user (root), which only
# fills the server log with "role root does not exist".
pg_isready_port() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -t 2 >/dev/null 2>&1
}

# A postmaster.pid whose process is gone (killed -9, machine restarted) makes
# pg_ctl believe a server may still be running, and a zombie postmaster still
# passes its kill -0 check; remove such a stale lock file.
pg_clear_stale_pid() {
  local pid
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  pid="$(head -n 1 "$PG_DATA/postmaster.pid")"
  if ! pid_alive "$pid"; then
    log "removing stale $PG_DATA/postmaster.pid (process $pid is gone)"
    rm -f "$PG_DATA/postmaster.pid"
  fi
}

# psql over TCP (no unix sockets in this cluster); -X ignores ~/.psqlrc.
pg_psql() {
  "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

pg_super_sql() {
  pg_psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres -c "$1"
}

pg_initdb() {
  log "creating a PostgreSQL cluster in $PG_DATA"
  mkdir -p "$PG_DIR"
  local initdb_log="$PG_DIR/initdb.log"
  # Bootstrap superuser `postgres` whatever the OS user is; trust auth: this
  # cluster listens on loopback only and holds test data. --no-locale keeps it
  # independent of the machine's locales (CI may have none configured).
  if ! as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" \
      --auth=trust --encoding=UTF8 --no-locale --no-instructions \
      </dev/null >"$initdb_log" 2>&1; then
    show_log_tail "$initdb_log"
    die "PostgreSQL initdb failed; see $initdb_log"
  fi
  # Our settings live in an included file rewritten at every start, so a
  # changed port only needs a restart.
  echo "include_if_exists = 'evnet.conf'" | as_pg_user tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# Who may connect: loopback TCP and the socket, no passwords checked. Written at every start,
# so a cluster made before the socket existed takes it too.
pg_write_hba() {
  as_pg_user tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by scripts/services.sh at every start; edits are lost.
# evnet test cluster: loopback and its own socket only, no passwords checked
local   all     all                     trust
host    all     all     127.0.0.1/32    trust
host    all     all     ::1/128         trust
EOF
}

# The socket's folder, the server's to write in (owned by the user it runs as; in a user
# namespace that is ours).
pg_socket_dir() {
  mkdir -p "$PG_SOCKET_DIR"
  chmod 755 "$PG_SOCKET_DIR"
  if [ "$PG_RUNNER" = runuser ]; then chown "$PG_OS_USER" "$PG_SOCKET_DIR"; fi
}

pg_write_conf() {
  as_pg_user tee "$PG_DATA/evnet.conf" >/dev/null <<EOF
# Written by scripts/services.sh at every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
# Our own socket folder (PG_SOCKET_DIR): the default one (/var/run/postgresql)
# may not exist or be writable.
unix_socket_directories = '$PG_SOCKET_DIR'
# Tests open many pools and create a database per test.
max_connections = 300
# Durability is pointless for test data; this makes tests much faster.
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
# Counts every statement's calls and time: the benchmark reads them for its steps'
# databases (bench/pg-statements.ts).
shared_preload_libraries = 'pg_stat_statements'
EOF
}

pg_start() {
  pg_write_conf
  pg_write_hba
  pg_socket_dir
  local pg_log="$PG_DIR/postgres.log"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT (log: $pg_log)"
  # pg_ctl -w waits until the server accepts connections; -l sends the
  # server's output to the log, so it holds none of our descriptors.
  if ! as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$pg_log" -w -t "$TIMEOUT" start </dev/null >&2; then
    show_log_tail "$pg_log"
    die "PostgreSQL could not start (waited up to ${TIMEOUT}s); see $pg_log"
  fi
}

pg_app_answers() {
  PGPASSWORD="$PG_APP_PASSWORD" pg_psql "$DATABASE_URL" -c 'select 1' >/dev/null 2>&1
}

# Wait until the port answers AND a real query works, as the app user or, on
# a fresh cluster where that user does not exist yet, as the superuser.
pg_wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until pg_isready_port && { pg_app_answers || pg_super_sql 'select 1' >/dev/null 2>&1; }; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log_tail "$PG_DIR/postgres.log"
      die "PostgreSQL on 127.0.0.1:$PG_PORT not ready after ${TIMEOUT}s; see $PG_DIR/postgres.log"
    fi
    sleep 0.5
  done
}

# Create the app role (CREATEDB: tests create a database each) and database,
# idempotently.
pg_ensure_db() {
  pg_app_answers && return
  log "creating PostgreSQL role $PG_APP_USER and database $PG_DB"
  pg_super_sql "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_APP_USER') THEN
        CREATE ROLE $PG_APP_USER LOGIN CREATEDB PASSWORD '$PG_APP_PASSWORD';
      END IF; END \$\$;" >&2 ||
    die "cannot create role $PG_APP_USER on 127.0.0.1:$PG_PORT (is it our cluster?)"
  if [ -z "$(pg_super_sql "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
    pg_super_sql "CREATE DATABASE $PG_DB OWNER $PG_APP_USER" >&2
  fi
  pg_app_answers || die "PostgreSQL is up but $DATABASE_URL does not answer"
}

# The view of those counters, in the server's own database, where the benchmark reads them.
# A server without the module works the same, and the benchmark goes without that table.
pg_statement_counters() {
  pg_super_sql "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 ||
    log "PostgreSQL: no pg_stat_statements here; the benchmark goes without its statements' table"
}

pg_up() {
  pg_ensure_installed
  if [ -f "$PG_LEGACY_LOCATION_FILE" ] && [ "$(cat "$PG_LEGACY_LOCATION_FILE")" != "$PG_DIR" ]; then
    log "ignoring $PG_LEGACY_LOCATION_FILE (written by an older version): the cluster lives in $PG_DATA"
  fi
  local ours
  ours="$(pg_our_server || true)"
  if [ -n "$ours" ] && [ "${ours#* }" = "$PG_PORT" ] && pg_isready_port; then
    log "PostgreSQL already running from $PG_DATA on 127.0.0.1:$PG_PORT; reusing it"
  else
    if pg_isready_port; then
      die "127.0.0.1:$PG_PORT answers, but not with the cluster of $SERVICES_DIR; stop that server or set EVNET_PG_PORT (or EVNET_SERVICES_DIR to its state folder)"
    fi
    pg_choose_runner
    if [ -n "$ours" ]; then
      log "PostgreSQL from $PG_DATA runs on port ${ours#* }; restarting it on $PG_PORT"
      as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop </dev/null >&2
    fi
    [ -f "$PG_DATA/PG_VERSION" ] || pg_initdb
    pg_clear_stale_pid
    pg_start
  fi
  pg_wait_ready
  pg_ensure_db
  pg_statement_counters
  log "PostgreSQL ready: $DATABASE_URL"
}

# Stop the cluster in $1/data if it runs (the runner follows the data folder's owner).
pg_stop_cluster() {
  PG_DIR="$1"
  PG_DATA="$PG_DIR/data"
  pg_clear_stale_pid
  if [ ! -f "$PG_DATA/postmaster.pid" ]; then
    log "PostgreSQL: not running (no $PG_DATA/postmaster.pid)"
    return
  fi
  pg_choose_runner
  log "stopping PostgreSQL ($PG_DATA)"
  as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${EVNET_PG_STOP_MODE:-fast}" -w -t "$TIMEOUT" stop </dev/null >&2
}

pg_down() {
  PG_BIN="$(pg_find_bin || true)"
  if [ -z "$PG_BIN" ]; then
    log "PostgreSQL: not installed, nothing to stop"
    return
  fi
  local legacy
  if legacy="$(pg_legacy_dir)"; then
    pg_stop_cluster "$legacy"
    rm -f "$PG_LEGACY_LOCATION_FILE"
  fi
  pg_stop_cluster "$SERVICES_DIR/postgres"
  # The server took its socket with it; the folder goes too once empty.
  rmdir "$PG_SOCKET_DIR" 2>/dev/null || true
}

pg_status() {
  PG_BIN="$(pg_find_bin || true)"
  local ours
  ours="$(pg_our_server || true)"
  if [ -n "$PG_BIN" ] && [ -n "$ours" ] && [ "${ours#* }" = "$PG_PORT" ] && pg_isready_port; then
    log "PostgreSQL: running on 127.0.0.1:$PG_PORT (pid ${ours%% *}, cluster: $PG_DATA)"
    return 0
  fi
  if [ -n "$PG_BIN" ] && pg_isready_port; then
    log "PostgreSQL: something answers on 127.0.0.1:$PG_PORT, but not the cluster of $SERVICES_DIR"
  fi
  if [ -n "$ours" ] && [ "${ours#* }" != "$PG_PORT" ]; then
    log "PostgreSQL: the cluster of $SERVICES_DIR runs on port ${ours#* }, not $PG_PORT"
  elif [ -z "$PG_BIN" ] || ! pg_isready_port; then
    log "PostgreSQL: not running on 127.0.0.1:$PG_PORT"
  fi
  return 1
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------

# Minimal pom whose runtime dependencies are a Kafka installation: the broker
# (kafka_2.13) and the CLI tools (kafka-tools: TopicCommand, console producer
# and consumer...). connect-runtime, which kafka-tools drags in for one tool,
# is left out (Jetty, Jersey... ~25 MB we never use).
kafka_pom() {
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>evnet.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <exclusion>
          <groupId>org.apache.kafka</groupId>
          <artifactId>connect-runtime</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <!-- pinned: Maven 3.8's default (2.8) is ancient -->
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
}

# Resolve the jars once into $KAFKA_CACHE/libs. The `.complete` stamp holds a
# hash of the pom, so an interrupted download or a changed pom resolves again.
kafka_ensure_jars() {
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  local stamp="$KAFKA_CACHE/.complete" want
  want="$(kafka_pom | sha1sum | cut -c1-40)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return
  fi
  command -v mvn >/dev/null || apt_install maven
  mkdir -p "$KAFKA_CACHE"
  kafka_pom >"$KAFKA_CACHE/pom.xml"
  local tmp="$KAFKA_CACHE/libs.tmp" mvn_log="$KAFKA_CACHE/mvn.log"
  rm -rf "$tmp"
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with mvn into $KAFKA_CACHE (log: $mvn_log)"
  if ! mvn -B -f "$KAFKA_CACHE/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$mvn_log" 2>&1; then
    show_log_tail "$mvn_log"
    die "mvn could not resolve Kafka $KAFKA_VERSION; see $mvn_log"
  fi
  # Kafka 4 logs through SLF4J 1.x and ships log4j2, but its poms carry no
  # SLF4J binding: add log4j's, at the log4j-core version Kafka came with.
  local log4j_core=("$tmp"/log4j-core-*.jar) log4j_version
  [ -f "${log4j_core[0]}" ] || die "no log4j-core among Kafka $KAFKA_VERSION's dependencies; see $mvn_log"
  log4j_version="$(basename "${log4j_core[0]}" .jar)"
  log4j_version="${log4j_version#log4j-core-}"
  if ! mvn -B -f "$KAFKA_CACHE/pom.xml" dependency:copy \
      -Dartifact="org.apache.logging.log4j:log4j-slf4j-impl:$log4j_version" \
      -DoutputDirectory="$tmp" </dev/null >>"$mvn_log" 2>&1; then
    show_log_tail "$mvn_log"
    die "mvn could not resolve log4j-slf4j-impl $log4j_version; see $mvn_log"
  fi
  rm -rf "$KAFKA_CACHE/libs"
  mv "$tmp" "$KAFKA_CACHE/libs"
  echo "$want" >"$stamp"
}

kafka_classpath() { echo "$KAFKA_CACHE/libs/*"; }

# ---- secure mode (EVNET_KAFKA_SECURE=1) ----------------------------------------------------

kafka_secure() { [ "${EVNET_KAFKA_SECURE:-0}" = 1 ]; }
kafka_mode() { if kafka_secure; then echo secure; else echo plaintext; fi; }

# evnet itself (its certs code and `evnet kafka-acls`): the compiled binary named by EVNET_BIN,
# or the checkout's sources with the Bun that `npm ci` installed.
evnet_cli() {
  if [ -n "${EVNET_BIN:-}" ]; then
    "$EVNET_BIN" "$@"
  else
    [ -x "$REPO_DIR/node_modules/.bin/bun" ] || die "secure mode runs evnet: run 'npm ci' first (or set EVNET_BIN to the evnet binary)"
    "$REPO_DIR/node_modules/.bin/bun" "$REPO_DIR/src/main.ts" "$@"
  fi
}

# A password file, made once (owner-only).
ensure_password_file() {
  [ -s "$1" ] && return
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '=+/\n' >"$1")
}

# The broker's certificate from evnet's CA (kept across restarts), as one PEM keystore, and the
# administrator's and controller's passwords.
kafka_secure_prepare() {
  mkdir -p "$KAFKA_SECRETS_DIR"
  chmod 700 "$KAFKA_SECRETS_DIR"
  if [ ! -s "$KAFKA_CERTS_DIR/server.pem" ]; then
    log "making the broker's certificate with evnet certs in $KAFKA_CERTS_DIR"
    evnet_cli certs --dir "$KAFKA_CERTS_DIR" >"$KAFKA_DIR/certs.log" 2>&1 || {
      show_log_tail "$KAFKA_DIR/certs.log"
      die "evnet certs failed; see $KAFKA_DIR/certs.log"
    }
  fi
  # One line per PEM block's end: the files end without a newline.
  (umask 077 && printf '%s\n' "$(cat "$KAFKA_CERTS_DIR/server-key.pem")" "$(cat "$KAFKA_CERTS_DIR/server.pem")" >"$KAFKA_CERTS_DIR/kafka-keystore.pem")
  ensure_password_file "$KAFKA_ADMIN_PASSWORD_FILE"
  ensure_password_file "$KAFKA_SECRETS_DIR/controller.password"
}

# What a client of the secure broker sets, as the administrator.
kafka_admin_env() {
  printf 'KAFKA_TLS_CA_FILE=%s\n' "$KAFKA_CERTS_DIR/ca.pem"
  printf 'KAFKA_SASL_MECHANISM=SCRAM-SHA-512\n'
  printf 'KAFKA_SASL_USERNAME=%s\n' "$KAFKA_ADMIN_USER"
  printf 'KAFKA_SASL_PASSWORD_FILE=%s\n' "$KAFKA_ADMIN_PASSWORD_FILE"
}

# Kafka's own tools (kafka-class) read this to log in as the administrator.
kafka_write_admin_client_config() {
  (umask 077 && cat >"$KAFKA_DIR/admin-client.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$(cat "$KAFKA_ADMIN_PASSWORD_FILE")";
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_CERTS_DIR/ca.pem
EOF
  )
}

# The roles' principals and ACLs for EVNET_TOPIC_PREFIX (default evnet), their passwords in
# $KAFKA_SECRETS_DIR/<principal>.password.
kafka_secure_provision() {
  kafka_write_admin_client_config
  log "creating the roles' principals and ACLs (evnet kafka-acls --apply)"
  if ! (
    while IFS= read -r setting; do export "${setting?}"; done < <(kafka_admin_env)
    export KAFKA_BROKERS EVNET_LOG_LEVEL=warn
    evnet_cli kafka-acls --apply --secrets-dir "$KAFKA_SECRETS_DIR"
  ) >"$KAFKA_DIR/acls.log" 2>&1; then
    show_log_tail "$KAFKA_DIR/acls.log"
    die "evnet kafka-acls --apply failed; see $KAFKA_DIR/acls.log"
  fi
}

kafka_write_log4j() {
  # Broker: INFO to stdout, which the launcher sends to $KAFKA_LOG.
  cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
  # CLI tools: warnings only, on stderr, so their stdout is just their output.
  cat >"$KAFKA_DIR/tools-log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = err
EOF
}

# The listeners: plaintext, or in secure mode TLS + SASL/SCRAM for clients with ACLs enforced.
kafka_listener_config() {
  if ! kafka_secure; then
    cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
    return
  fi
  local admin_password controller_password
  admin_password="$(cat "$KAFKA_ADMIN_PASSWORD_FILE")"
  controller_password="$(cat "$KAFKA_SECRETS_DIR/controller.password")"
  cat <<EOF
# Clients: TLS with the certificate of \`evnet certs\`, then SASL/SCRAM; ACLs decide the rest.
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$admin_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$admin_password";
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_CERTS_DIR/kafka-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_CERTS_DIR/ca.pem
# The controller listener (loopback, inside this node) cannot use SCRAM, whose credentials live
# in the metadata it serves: PLAIN with a password of its own.
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller_password" user_controller="$controller_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$KAFKA_ADMIN_USER;User:controller
allow.everyone.if.no.acl.found=false
EOF
}

kafka_write_config() {
  local config="$KAFKA_DIR/server.properties"
  rm -f "$config"
  (umask 077 && : >"$config") # it may hold passwords
  cat >"$config" <<EOF
# Written by scripts/services.sh at every start; edits are lost.
# Single node in KRaft combined mode: broker and controller in one JVM.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
$(kafka_listener_config)
log.dirs=$KAFKA_DIR/data

# One broker: every internal topic has a single replica.
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50: quicker first group join.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
auto.create.topics.enable=true

# Fast rebalances for tests. Classic protocol: join immediately, and allow
# clients to ask for short session timeouts.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
# KIP-848 consumer protocol: the broker dictates heartbeats and sessions.
group.consumer.min.heartbeat.interval.ms=500
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.session.timeout.ms=6000
group.consumer.session.timeout.ms=10000
EOF
}

# Format the storage once. With --standalone the controller's endpoint is
# recorded in the metadata log, so a different port or Kafka version means a
# fresh (empty) cluster: the stamp records what the data was formatted for.
kafka_ensure_formatted() {
  local stamp="$KAFKA_DIR/format.stamp"
  local want
  want="$KAFKA_VERSION $KAFKA_PORT $KAFKA_CONTROLLER_PORT $(kafka_mode)"
  if [ -f "$KAFKA_DIR/data/meta.properties" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return
  fi
  rm -rf "$KAFKA_DIR/data" "$stamp"
  # A cluster id is 16 random bytes in URL-safe base64 without padding. It may start with "-",
  # so it is passed as --cluster-id=ID (a separate argument would be read as an option).
  local cluster_id
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
  log "formatting Kafka storage in $KAFKA_DIR/data (cluster id $cluster_id)"
  # In secure mode the administrator's SCRAM credential is written with the metadata: no
  # client could log in to create it afterwards.
  local scram=()
  kafka_secure && scram=(--add-scram "SCRAM-SHA-512=[name=$KAFKA_ADMIN_USER,password=$(cat "$KAFKA_ADMIN_PASSWORD_FILE")]")
  if ! kafka_java "$KAFKA_DIR/tools-log4j2.properties" kafka.tools.StorageTool format \
      --standalone --cluster-id="$cluster_id" -c "$KAFKA_DIR/server.properties" "${scram[@]}" \
      </dev/null >"$KAFKA_DIR/format.log" 2>&1; then
    show_log_tail "$KAFKA_DIR/format.log"
    die "Kafka storage format failed; see $KAFKA_DIR/format.log"
  fi
  echo "$want" >"$stamp"
}

# java with Kafka's classpath. $1: log4j2 config file.
kafka_java() {
  local log4j="$1"
  shift
  java -Djava.awt.headless=true -Dlog4j2.configurationFile="$log4j" \
    -cp "$(kafka_classpath)" "$@"
}

kafka_pid() { cat "$KAFKA_PID_FILE" 2>/dev/null || true; }

# Our broker is running: the pid file names a live process that is a Kafka
# broker (not some other process that got the pid after a reboot).
kafka_running() {
  local pid
  pid="$(kafka_pid)"
  pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

# Launch the broker in the background, detached (own session, no terminal,
# all output to the log) so it outlives this script and holds no descriptor
# of ours: `$(services.sh up)` would otherwise wait for it forever.
kafka_launch() {
  kafka_write_log4j
  kafka_secure && kafka_secure_prepare
  kafka_write_config
  kafka_ensure_formatted
  [ -f "$KAFKA_LOG" ] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"
  log "starting Kafka $KAFKA_VERSION on $KAFKA_BROKERS (log: $KAFKA_LOG)"
  # log4j2's own shutdown hook would stop logging while Kafka's hook is still
  # shutting down, hiding the end of a `down` from the log: disable it.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
  setsid nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -Dlog4j2.shutdownHookEnabled=false \
    -Dkafka.logs.dir="$KAFKA_DIR" \
    -cp "$(kafka_classpath)" kafka.Kafka "$KAFKA_DIR/server.properties" \
    </dev/null >>"$KAFKA_LOG" 2>&1 &
  echo $! >"$KAFKA_PID_FILE"
}

# Ready = our process alive, the port accepts, and the broker logged that it
# finished starting (the port opens a little before the broker is usable).
kafka_wait_ready() {
  local deadline=$((SECONDS + TIMEOUT)) pid
  pid="$(kafka_pid)"
  until port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null; do
    if ! pid_alive "$pid"; then
      show_log_tail "$KAFKA_LOG"
      rm -f "$KAFKA_PID_FILE"
      die "Kafka exited while starting; see $KAFKA_LOG"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log_tail "$KAFKA_LOG"
      die "Kafka not ready on $KAFKA_BROKERS after ${TIMEOUT}s; see $KAFKA_LOG"
    fi
    sleep 0.5
  done
  log "Kafka ready: $KAFKA_BROKERS (pid $pid)"
}

# Start Kafka unless our broker is already up; does not wait (see cmd_up).
kafka_start_or_reuse() {
  mkdir -p "$KAFKA_DIR"
  if kafka_running; then
    local running_mode
    running_mode="$(cut -d' ' -f4 "$KAFKA_DIR/format.stamp" 2>/dev/null)"
    [ "${running_mode:-plaintext}" = "$(kafka_mode)" ] ||
      die "Kafka of $SERVICES_DIR runs in ${running_mode:-plaintext} mode; stop it (kafka-down) to start it in $(kafka_mode) mode"
    log "Kafka already running (pid $(kafka_pid)); reusing it"
    return
  fi
  rm -f "$KAFKA_PID_FILE"
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by a process we did not start; stop it or set EVNET_KAFKA_PORT"
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_CONTROLLER_PORT is taken; stop that process or set EVNET_KAFKA_CONTROLLER_PORT"
  fi
  kafka_ensure_jars
  kafka_launch
}

kafka_down() {
  if ! kafka_running; then
    rm -f "$KAFKA_PID_FILE"
    log "Kafka: not running"
    return
  fi
  local pid
  pid="$(kafka_pid)"
  log "stopping Kafka (pid $pid)"
  kill -TERM "$pid"
  # A controlled shutdown takes a few seconds; insist after the timeout.
  local deadline=$((SECONDS + TIMEOUT))
  while pid_alive "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "Kafka did not stop within ${TIMEOUT}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  rm -f "$KAFKA_PID_FILE"
}

kafka_status() {
  local pid
  pid="$(kafka_pid)"
  if port_open "$KAFKA_PORT"; then
    if kafka_running; then
      log "Kafka: running on $KAFKA_BROKERS (pid $pid, log: $KAFKA_LOG)"
    else
      log "Kafka: something answers on $KAFKA_BROKERS, but not the broker this state folder started"
      return 1
    fi
    return 0
  fi
  if kafka_running; then
    log "Kafka: starting (pid $pid), not answering on $KAFKA_BROKERS yet"
  else
    log "Kafka: not running"
  fi
  return 1
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

print_env() {
  printf 'DATABASE_URL=%s\n' "$DATABASE_URL"
  printf 'DATABASE_SOCKET_DIR=%s\n' "$PG_SOCKET_DIR"
  print_kafka_env
}

print_kafka_env() {
  printf 'KAFKA_BROKERS=%s\n' "$KAFKA_BROKERS"
  if kafka_secure; then
    kafka_admin_env
    printf 'EVNET_KAFKA_SECRETS_DIR=%s\n' "$KAFKA_SECRETS_DIR"
  fi
}

cmd_up() {
  # Everything but the final lines (print_env) goes to stderr. Inside the braces our
  # real stdout is not even open in the programs we run (bash keeps its copy
  # close-on-exec), so no daemon can hold it and keep `$(...)` waiting.
  # Kafka boots while we deal with PostgreSQL: it is the slower of the two.
  {
    kafka_start_or_reuse
    pg_up
    kafka_wait_ready
    if kafka_secure; then kafka_secure_provision; fi
  } >&2
  print_env
}

cmd_down() {
  {
    kafka_down
    pg_down
  } >&2
}

cmd_status() {
  local ok=0
  pg_status || ok=1
  kafka_status || ok=1
  if [ "$ok" -eq 0 ]; then print_env; fi
  return "$ok"
}

cmd_kafka_up() {
  {
    kafka_start_or_reuse
    kafka_wait_ready
    if kafka_secure; then kafka_secure_provision; fi
  } >&2
  print_kafka_env
}

cmd_kafka_down() {
  kafka_down >&2
}

cmd_pg_up() {
  pg_up >&2
  printf 'DATABASE_URL=%s\n' "$DATABASE_URL"
  printf 'DATABASE_SOCKET_DIR=%s\n' "$PG_SOCKET_DIR"
}

cmd_pg_down() {
  pg_down >&2
}

cmd_kafka_class() {
  [ $# -ge 1 ] || die "usage: $0 kafka-class CLASS [ARGS...]"
  kafka_ensure_jars >&2
  mkdir -p "$KAFKA_DIR"
  [ -f "$KAFKA_DIR/tools-log4j2.properties" ] || kafka_write_log4j
  kafka_java "$KAFKA_DIR/tools-log4j2.properties" "$@"
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    kafka-up) cmd_kafka_up ;;
    kafka-down) cmd_kafka_down ;;
    kafka-class) cmd_kafka_class "$@" ;;
    pg-up) cmd_pg_up ;;
    pg-down) cmd_pg_down ;;
    *)
      echo "usage: $0 up|down|status|pg-up|pg-down|kafka-up|kafka-down|kafka-class CLASS [ARGS...]" >&2
      exit 2
      ;;
  esac
}

main "$@"
