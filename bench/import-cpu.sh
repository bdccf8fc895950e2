#!/usr/bin/env bash
# import-cpu.sh PORTSIDE CATALOG_DIR [DSN_BASE]: imports CATALOG_DIR into a new PostgreSQL
# database and prints the wall time, Portside's CPU (user+sys), its peak RSS and the CPU of the
# database's own sessions (read from /proc/<pid>/stat every 0.2 s while they live; run it on the
# database's machine). Used for bench/README.md's import figures at -scale 10 and at a million:
#   go run ./bench/gencatalog -out /tmp/gc1m -scale 59.35
#   go build -o /tmp/portside ./cmd/portside && bench/import-cpu.sh /tmp/portside /tmp/gc1m
set -euo pipefail
bin=$1 dir=$2 base=${3:-postgres://postgres@127.0.0.1:5432}
db=import_cpu_$$
psql "$base/postgres" -qc "CREATE DATABASE $db"
trap 'kill "${poller:-}" 2>/dev/null || true; psql "$base/postgres" -qc "DROP DATABASE IF EXISTS $db"; rm -f "$samples" "$times"' EXIT
dsn="$base/$db?sslmode=disable"
"$bin" --database "$dsn" migrate up >/dev/null
samples=$(mktemp) times=$(mktemp)
(while :; do
	for pid in $(psql "$base/postgres" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$db'" 2>/dev/null); do
		[ -r "/proc/$pid/stat" ] && echo "$pid $(awk '{print $14 + $15}' "/proc/$pid/stat")" >>"$samples"
	done
	sleep 0.2
done) &
poller=$!
if ! /usr/bin/time -f "%e %U %S %M" -o "$times" "$bin" --database "$dsn" catalog import "$dir" >/dev/null 2>"$times.log"; then
	cat "$times.log" >&2
	exit 1
fi
rm -f "$times.log"
kill "$poller"
read -r wall user sys rss <"$times"
session=$(awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (p in m) s += m[p]; printf "%.1f", s / 100 }' "$samples")
echo "wall ${wall} s, portside CPU $(echo "$user + $sys" | bc) s, peak RSS $((rss / 1024)) MB, database sessions ${session} s CPU, load $(cut -d' ' -f1 /proc/loadavg)"
