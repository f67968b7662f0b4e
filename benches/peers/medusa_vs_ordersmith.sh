#!/usr/bin/env bash
# Medusa 2.21.2's inventory module beside ordersmith on ONE PostgreSQL server: stock
# reservations per second, and the ratio. Run by hand (not by CI); see benches/README.md.
#
#   PEER_PG='host=127.0.0.1 port=54533 user=postgres' benches/peers/medusa_vs_ordersmith.sh [reservations]
#
# - Installs the pinned npm packages (@medusajs/inventory, @medusajs/locking,
#   @medusajs/locking-postgres, @medusajs/modules-sdk, all 2.21.2, and the
#   @medusajs/framework they name as a peer) into MEDUSA_PEER_DIR
#   (default /tmp/ordersmith-medusa-peer), unless they are there already.
# - Creates a throwaway database for Medusa on the server in PEER_PG (dropped at the
#   end); ordersmith uses a throwaway schema in the `postgres` database of the same server.
# - Runs benches/peers/medusa_inventory.mjs and stores/postgres/examples/peer_reservations.rs
#   with the same cases and prints ordersmith / Medusa per case.
#
# - Measures the server's own floor with pgbench (PGBENCH, else pgbench on PATH or in
#   /usr/lib/postgresql/*/bin; skipped when there is none): a round trip (`SELECT 1`)
#   and a durable one-row INSERT, one a call from one client, over the same transport.
#   No checked reservation a call can beat the INSERT, so its ratio to Medusa is the
#   ceiling for the per-call cases' ratios on this server.
#
# Needs node >= 20 and npm, psql, cargo. The server's settings (fsync!) are the caller's:
# start it as scripts/test does, without `-c fsync=off`, for the published figures.
set -euo pipefail

n=${1:-300}
: "${PEER_PG:?set PEER_PG, e.g. 'host=127.0.0.1 port=54533 user=postgres'}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${MEDUSA_PEER_DIR:-/tmp/ordersmith-medusa-peer}
packages=(@medusajs/inventory@2.21.2 @medusajs/locking@2.21.2 @medusajs/locking-postgres@2.21.2
  @medusajs/modules-sdk@2.21.2 @medusajs/framework@2.21.2)

kv() { # the value of key $1 in the libpq key=value string PEER_PG
  sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$PEER_PG"
}
host=$(kv host); port=$(kv port); user=$(kv user)
host=${host:-127.0.0.1}; port=${port:-5432}; user=${user:-postgres}

mkdir -p "$dir"
if [ ! -d "$dir/node_modules/@medusajs/inventory" ]; then
  echo "installing ${packages[*]} into $dir"
  [ -f "$dir/package.json" ] || echo '{"name":"ordersmith-medusa-peer","private":true}' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --save-exact "${packages[@]}" >/dev/null)
fi
for p in inventory locking locking-postgres modules-sdk; do
  v=$(node -p "require('$dir/node_modules/@medusajs/$p/package.json').version")
  [ "$v" = 2.21.2 ] || { echo "FAILED: @medusajs/$p is $v, not 2.21.2" >&2; exit 1; }
done

db="medusa_peer_$$"
psql() { command psql -X -q -h "$host" -p "$port" -U "$user" -d postgres "$@"; }
psql -c "CREATE DATABASE $db"
trap 'psql -c "DROP DATABASE IF EXISTS $db" || true' EXIT
echo "server: $(psql -Atc 'SHOW server_version'), fsync=$(psql -Atc 'SHOW fsync'), synchronous_commit=$(psql -Atc 'SHOW synchronous_commit')"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"

echo "== Medusa 2.21.2 (node $(node --version))"
medusa=$(cd "$dir" && MEDUSA_PEER_DIR="$dir" MEDUSA_DB_URL="postgres://$user@$host:$port/$db" \
  node "$here/medusa_inventory.mjs" "$n" 2>"$dir/medusa.log" | grep '^RESULT' || true)
if [ -z "$medusa" ]; then
  echo "FAILED: Medusa produced no result; its log:" >&2
  tail -n 40 "$dir/medusa.log" >&2
  exit 1
fi
echo "$medusa"

echo "== ordersmith"
ours=$(cd "$root" && ORDERSMITH_PG_URL="host=$host port=$port user=$user dbname=postgres" \
  cargo run --quiet --release -p ordersmith-postgres --example peer_reservations -- "$n" | grep '^RESULT')
echo "$ours"

echo "== ordersmith / Medusa, reservations per second"
rate() { sed -n "s/.*case=$2 .*per_s=\([0-9]*\).*/\1/p" <<<"$1"; }
# sequential_reserve is ordersmith's side of Medusa's sequential (one reservation a
# call, nothing else); sequential places and confirms a one-line order a call;
# spread_8_reserve is 8 callers reserving by hand, each on its own items.
for pair in sequential:sequential sequential_reserve:sequential hot_8_callers:hot_8_callers \
  spread_8_reserve:spread_8_callers batch_100:batch_100; do
  case=${pair%%:*}; peer=${pair#*:}
  m=$(rate "$medusa" "$peer"); o=$(rate "$ours" "$case")
  awk -v c="$case" -v p="$peer" -v o="$o" -v m="$m" 'BEGIN { printf "%-18s ordersmith %6d/s  Medusa %-13s %6d/s  ratio %.1fx\n", c, o, p, m, (m > 0 ? o / m : 0) }'
done
pgbench=${PGBENCH:-$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1 || true)}
if [ -n "$pgbench" ] && [ -x "$pgbench" ]; then
  # The floor: what one client gets from this server one call at a time, doing nothing
  # but the call (a round trip) or nothing but one durable row (a commit and its flush).
  psql -d "$db" -c "CREATE TABLE floor_rows (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"
  echo 'SELECT 1;' >"$dir/floor_select.sql"
  echo "INSERT INTO floor_rows (v) VALUES ('x');" >"$dir/floor_insert.sql"
  floor() { # calls a second of the script $1, one client, prepared statements, 5 s
    "$pgbench" -h "$host" -p "$port" -U "$user" -n -M prepared -c 1 -T 5 -f "$1" "$db" 2>/dev/null |
      sed -n 's/^tps = \([0-9]*\).*/\1/p'
  }
  s=$(floor "$dir/floor_select.sql"); i=$(floor "$dir/floor_insert.sql")
  m=$(rate "$medusa" sequential)
  awk -v s="$s" -v i="$i" -v m="$m" 'BEGIN {
    printf "floor (pgbench)    a round trip %6d/s; a durable one-row INSERT %6d/s = %.1fx Medusa sequential: the ceiling of a per-call ratio\n", s, i, (m > 0 ? i / m : 0) }'
else
  echo "(no pgbench: the server's floor was not measured)"
fi
m=$(rate "$medusa" hot_8_callers_pg_lock)
echo "(Medusa, 8 callers with its PostgreSQL advisory-lock provider: $m/s)"
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) after the run"
