#!/usr/bin/env bash
# What the test suite needs from the machine: Debian's chromium and CJK fonts for the browser
# tests, gettext's msgfmt to compile the translations, a running Redis for the Celery integration tests and, with
# --postgres, a running PostgreSQL with a `console` role and database (DATABASE_URL=postgres://console:console@127.0.0.1:5432/console).
# Installs or starts only what is missing; safe to run again.
set -euo pipefail

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt_install chromium
fi

if ! fc-list : family 2>/dev/null | grep -i "noto sans cjk" >/dev/null; then
  echo "Installing Debian's Noto CJK fonts, so the browser tests draw the Chinese pages..."
  apt_install fonts-noto-cjk
fi

if ! command -v msgfmt >/dev/null 2>&1; then
  echo "Installing Debian's gettext to compile the translations..."
  apt_install gettext
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "Installing Debian's redis-server..."
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis on 127.0.0.1:6379..."
  mkdir -p /tmp/redis-test
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/redis-test --logfile /tmp/redis-test/redis.log
  for _ in $(seq 100); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi

[ "${1:-}" = "--postgres" ] || exit 0

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "Installing Debian's postgresql..."
  apt_install postgresql
fi
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$pg_version main"; then
  echo "Creating PostgreSQL $pg_version cluster 'main'..."
  $SUDO pg_createcluster "$pg_version" main >/dev/null
fi
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "Starting PostgreSQL $pg_version on 127.0.0.1:5432..."
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start
  for _ in $(seq 150); do pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && break; sleep 0.2; done
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null
fi
as_postgres() { $SUDO runuser -u postgres -- "$@"; }
if [ "$(id -u)" -ne 0 ]; then as_postgres() { sudo -u postgres "$@"; }; fi
as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'console') THEN
    CREATE ROLE console LOGIN CREATEDB PASSWORD 'console';
  END IF;
END $$;
SQL
if ! as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'console'" | grep -q 1; then
  as_postgres createdb -O console console
fi
