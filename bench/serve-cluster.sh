#!/usr/bin/env bash
# Measures `gantry serve` on several nodes against one node, in one run on this machine:
#   - single-node SQLite, then PostgreSQL with 1, 2 and 3 nodes (each --capacity 4, host backend);
#   - RUNS single-job runs delivered round-robin to the nodes by one client, as fast as it sends;
#   - end to end: runs/s from the first delivery until every job's step has run;
#   - from the database's event log (PostgreSQL only): claims per second while claims were made;
#     claim latency, p50 and p99: from the moment a node asks for a job (the `at` of its `claimed`
#     event) to the commit of the claim's transaction (PostgreSQL's commit timestamp of that event's
#     row, track_commit_timestamp=on): reading the queue, the run's lock, the lease and the event;
#     and each job's wait from enqueued (its run stored) to claimed, p50 and p99 (this includes
#     waiting for a free slot, so it is the queue's latency).
# Usage: bench/serve-cluster.sh [RUNS] (default 300). Needs PostgreSQL (Debian's postgresql), python3.
# GANTRY=path uses that binary instead of building the release one.
source "$(dirname "$0")/common.sh"
runs="${1:-300}"
if [ -n "${GANTRY:-}" ]; then gantry="$GANTRY"; else build_gantry; fi
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pgbin/initdb" ] || { echo "bench: PostgreSQL is missing: apt-get install -y postgresql" >&2; exit 2; }
work="$(mktemp -d)"
chmod 755 "$work"
export GANTRY_STATE_DIR="$work/state"
pids=()
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat <<'YAML' | repo app
on: push
jobs:
  j:
    runs-on: self-hosted
    steps:
      - run: echo "$GITHUB_RUN_ID" >> "$STAMPS"
YAML
echo secret > "$work/secret"
sha="$(git -C "$work/app" rev-parse HEAD)"

# One PostgreSQL server, durable as a real one would be (fsync on).
mkdir -p "$work/pg" && [ "$(id -u)" -ne 0 ] || chown postgres "$work/pg"
as_pg "$pgbin/initdb" -D "$work/pg/data" -U gantry --auth=trust -E UTF8 >/dev/null
pgport="$(free_port)"
as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -o "-h 127.0.0.1 -p $pgport -k $work/pg -c max_connections=200 -c track_commit_timestamp=on" start >/dev/null </dev/null
psql_() { psql -h 127.0.0.1 -p "$pgport" -U gantry -d "$1" -At -c "$2"; }

# start_nodes NAME STORE COUNT: COUNT nodes; their ports in `ports`.
start_nodes() {
  ports=()
  for i in $(seq 1 "$3"); do
    local port; port="$(free_port)"
    GANTRY_SERVE_STORE="$2" GANTRY_SERVE_NAME="$1-$i" STAMPS="$work/$1.stamps" "$gantry" serve --listen "127.0.0.1:$port" \
      --data "$work/$1/node-$i" --shared-dir "$work/$1/shared" --repo "bench/app=$work/app" --webhook-secret-file "$work/secret" \
      --capacity 4 --log-format text > "$work/$1-$i.log" 2>&1 &
    pids+=($!)
    ports+=("$port")
  done
  python3 - "${ports[@]}" <<'PY'
import socket, sys, time
for port in sys.argv[1:]:
    for _ in range(1000):
        try:
            socket.create_connection(("127.0.0.1", int(port)), 0.1).close(); break
        except OSError: time.sleep(0.02)
    else: sys.exit(f"a node on {port} did not start")
PY
}
stop_nodes() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }

# deliver NAME: RUNS pushes round-robin to `ports`; prints seconds until every step ran.
deliver() {
  python3 - "$sha" "$work/$1.stamps" "$runs" "${ports[@]}" <<'PY'
import hashlib, hmac, http.client, json, sys, time
sha, stamps, count, ports = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(p) for p in sys.argv[4:]]
body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": "bench/app", "default_branch": "main"},
                   "head_commit": {"id": sha, "message": "bench"}, "commits": []}).encode()
signature = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
connections = [http.client.HTTPConnection("127.0.0.1", p) for p in ports]
started = time.time()
for i in range(count):
    c = connections[i % len(connections)]
    c.request("POST", "/webhooks/github", body, {"Content-Type": "application/json", "X-GitHub-Event": "push",
                                                "X-GitHub-Delivery": f"load-{i}", "X-Hub-Signature-256": signature})
    answer = c.getresponse(); answer.read()
    assert answer.status == 202, (answer.status, answer.read())
def done():
    try:
        with open(stamps) as f: return len(f.read().split())
    except FileNotFoundError: return 0
while done() < count: time.sleep(0.01)
print(f"{time.time() - started:.3f}")
PY
}

declare -A seconds
start_nodes sqlite sqlite 1
seconds[sqlite]="$(deliver sqlite)"
stop_nodes
for n in 1 2 3; do
  psql_ postgres "CREATE DATABASE n$n" >/dev/null
  start_nodes "pg$n" "postgres://gantry@127.0.0.1:$pgport/n$n" "$n"
  seconds[pg$n]="$(deliver "pg$n")"
  stop_nodes
done

echo "gantry serve, $runs single-job runs delivered round-robin, capacity 4 per node, $(nproc) cores, one machine"
printf '%-22s %10s %10s %12s %10s %14s %16s\n' store seconds "runs/s" "vs sqlite" "claims/s" "claim" "enqueue->claim"
base="${seconds[sqlite]}"
printf '%-22s %10.2f %10.1f %12s %10s %14s %16s\n' "sqlite, 1 node" "$base" "$(python3 -c "print($runs/$base)")" "1.00x" "-" "-" "-"
for n in 1 2 3; do
  s="${seconds[pg$n]}"
  # Claims while they were made, and each job's wait from its run's first event to its claim.
  stats="$(psql_ "n$n" "
    WITH c AS (SELECT e.run, e.at AS claimed, s.at AS queued,
                      extract(epoch FROM pg_xact_commit_timestamp(e.xmin)) - e.at AS took
               FROM gantry_event e JOIN gantry_event s ON s.run = e.run AND s.seq = 1
               WHERE e.event LIKE '{\"claimed\"%')
    SELECT count(*) / GREATEST(max(claimed) - min(claimed), 0.001),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY took) * 1000,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY took) * 1000,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY claimed - queued) * 1000,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY claimed - queued) * 1000 FROM c")"
  IFS='|' read -r cps c50 c99 p50 p99 <<< "$stats"
  printf '%-22s %10.2f %10.1f %11.2fx %10.1f %6.1f/%.1f ms %7.0f/%.0f ms\n' "postgres, $n node(s)" "$s" "$(python3 -c "print($runs/$s)")" \
    "$(python3 -c "print($base/$s)")" "$cps" "$c50" "$c99" "$p50" "$p99"
done
echo "(vs sqlite: > 1 is faster than one SQLite node. claim and enqueue->claim are p50/p99; claim is one claim's"
echo " call, from asking to its commit; enqueue->claim includes the wait for a free slot.)"
