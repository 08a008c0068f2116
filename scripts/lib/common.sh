# Shared shell helpers for scripts/run, scripts/test and scripts/bench.
# Sourced, not executed. Everything here works on a fresh Debian machine as root (the
# PostgreSQL server then runs as the `postgres` user) or as an ordinary user.

set -euo pipefail

CRM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CRM_DATA="${CRM_DATA:-$CRM_ROOT/.data}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# Installs the Debian packages named in "$@" that are missing (checked with dpkg).
ensure_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    as_root apt-get update -q >/dev/null
    as_root apt-get install -y -q "${missing[@]}" >/dev/null
  }
}

ensure_build_packages() {
  ensure_packages postgresql postgresql-contrib libpq-dev libssl-dev openssl curl
  command -v swift >/dev/null || [ -x /opt/swift/usr/bin/swift ] || die "swift is not installed (expected on PATH or in /opt/swift)"
  command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
}

# The newest installed PostgreSQL server binaries.
pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] || die "PostgreSQL server binaries not found in /usr/lib/postgresql"
  echo "$dir"
}

# Runs a command as the user that owns the private clusters (postgres when we are root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_in_use() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is not "in use"
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

# A folder the cluster user can own and reach. Inside the project's ignored .data/ when the
# postgres user can traverse the checkout; else under /var/tmp (a checkout in /root, say).
cluster_dir() {
  local name="$1"
  local dir="$CRM_DATA/$name"
  mkdir -p "$CRM_DATA"
  if [ "$(id -u)" = 0 ]; then
    if ! runuser -u postgres -- test -x "$CRM_DATA" 2>/dev/null; then
      local hash
      hash=$(printf '%s' "$CRM_ROOT" | sha1sum | cut -c1-12)
      dir="/var/tmp/crm-$hash/$name"
      mkdir -p "$dir" && chown -R postgres: "/var/tmp/crm-$hash"
      ln -sfn "$dir" "$CRM_DATA/$name.link"
    fi
  fi
  echo "$dir"
}

# pg_start NAME PORT [fsync on|off] [ssl on|off]: creates (once) and starts a private cluster.
# Prints nothing; the cluster listens on 127.0.0.1:PORT, socket in its own folder.
pg_start() {
  local name="$1" port="$2" fsync="${3:-on}" ssl="${4:-off}"
  local bindir dir
  bindir=$(pg_bindir)
  dir=$(cluster_dir "$name")
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "creating PostgreSQL cluster '$name' in $dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    if [ "$ssl" = on ]; then
      as_pg openssl req -new -x509 -days 3650 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1
      as_pg chmod 600 "$dir/server.key"
    fi
    cat <<CONF | as_pg tee -a "$dir/postgresql.conf" >/dev/null
# dealer-crm private cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 400
shared_buffers = 256MB
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
log_min_messages = warning
ssl = $ssl
CONF
  fi
  if as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    return 0
  fi
  if port_in_use "$port"; then die "port $port is taken by another program (set a different port)"; fi
  as_pg "$bindir/pg_ctl" -D "$dir" -o "-p $port" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL cluster '$name' did not start"; }
  echo "$port" > "$dir/port.txt"
}

pg_stop() {
  local name="$1" dir
  dir=$(cluster_dir "$name")
  [ -f "$dir/PG_VERSION" ] || return 0
  as_pg "$(pg_bindir)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# The port a cluster used last (empty if none).
pg_port() {
  local dir
  dir=$(cluster_dir "$1")
  cat "$dir/port.txt" 2>/dev/null || true
}

pg_createdb() {
  local port="$1" db="$2"
  as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq \
    -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
    || as_pg "$(pg_bindir)/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
}

swift_build() {
  # $@: extra flags (-c release, --build-tests, ...)
  (cd "$CRM_ROOT" && swift build "$@")
}

# Swagger UI for GET /docs, from PyPI: flask-swagger-ui bundles Swagger UI 5 (which reads OpenAPI
# 3.1); it is installed without Flask and only its files are used. Prints their directory; fails
# (without printing) when PyPI cannot be reached.
ensure_docs_assets() {
  local want="flask-swagger-ui==5.34.0" dir="$CRM_DATA/docs-venv"
  if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$want" ]; then
    { python3 -m venv "$dir" 2>/dev/null || { ensure_packages python3-venv && python3 -m venv "$dir"; }; } >&2 || return 1
    "$dir/bin/pip" install -q --disable-pip-version-check --no-deps "$want" >&2 || return 1
    echo "$want" > "$dir/.installed"
  fi
  local assets
  assets=$(find "$dir/lib" -type d -path '*/flask_swagger_ui/dist' | head -1)
  [ -n "$assets" ] && [ -f "$assets/swagger-ui-bundle.js" ] && echo "$assets"
}

# A private Python environment in .data/venv with the contract tools (validator, fuzzer).
CRM_VENV="$CRM_DATA/venv"
ensure_python_tools() {
  local want=("openapi-spec-validator==0.9.0" "schemathesis==4.32.5")
  if [ ! -x "$CRM_VENV/bin/python" ]; then
    log "creating Python environment in $CRM_VENV"
    python3 -m venv "$CRM_VENV" 2>/dev/null || { ensure_packages python3-venv; python3 -m venv "$CRM_VENV"; }
  fi
  local stamp="$CRM_VENV/.installed"
  if [ "$(cat "$stamp" 2>/dev/null)" != "${want[*]}" ]; then
    log "installing ${want[*]}"
    "$CRM_VENV/bin/pip" install -q --disable-pip-version-check "${want[@]}" >&2
    echo "${want[*]}" > "$stamp"
  fi
}
