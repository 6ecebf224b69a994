#!/usr/bin/env bash
# Measures `gantry serve` on this machine, in one run:
#   (a) pickup: a signed push to an idle service until its job's first step runs (the step writes the
#       time), PUSHES times one after the other: p50, p99, max. The anchor: Gitea's act_runner and
#       Forgejo's runner poll every 2 s (fetch_interval), so their pickup is 0-2 s before anything runs.
#   (b) throughput: RUNS single-step runs delivered as fast as one client sends them, --capacity 4,
#       host backend: runs/s, and the service's time per job against `gantry run` of the same job.
#   (c) the service's resident memory, idle and right after (b).
# Usage: bench/serve.sh [PUSHES] [RUNS]  (defaults 200 and 500). Needs git, curl-free python3.
# GANTRY=path uses that binary instead of building the release one.
source "$(dirname "$0")/common.sh"
pushes="${1:-200}"
runs="${2:-500}"
if [ -n "${GANTRY:-}" ]; then gantry="$GANTRY"; else build_gantry; fi
work="$(mktemp -d)"
export GANTRY_STATE_DIR="$work/state"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cat <<'YAML' | repo app
on: push
jobs:
  j:
    runs-on: self-hosted
    steps:
      - run: date +%s.%N >> "$STAMPS"
YAML
echo secret > "$work/secret"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

start_service() {
  STAMPS="$work/stamps" "$gantry" serve --listen "127.0.0.1:$port" --data "$work/data-$1" --repo "bench/app=$work/app" \
    --webhook-secret-file "$work/secret" --capacity 4 --log-format text > "$work/serve-$1.log" 2>&1 &
  pid=$!
  python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.1).close(); sys.exit(0)
    except OSError: time.sleep(0.02)
sys.exit("the service did not start")
PY
}
rss() { awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$pid/status"; }

sha="$(git -C "$work/app" rev-parse HEAD)"
start_service pickup
idle_rss="$(rss)"
python3 - "$port" "$sha" "$work/stamps" "$pushes" pickup <<'PY'
import hashlib, hmac, http.client, json, os, sys, time
port, sha, stamps, count, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": "bench/app", "default_branch": "main"},
                   "head_commit": {"id": sha, "message": "bench"}, "commits": []}).encode()
signature = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
connection = http.client.HTTPConnection("127.0.0.1", port)
def lines():
    try:
        with open(stamps) as f: return f.read().split()
    except FileNotFoundError: return []
latencies = []
for i in range(count):
    before = len(lines())
    sent = time.time()
    connection.request("POST", "/webhooks/github", body, {"Content-Type": "application/json", "X-GitHub-Event": "push",
                                                          "X-GitHub-Delivery": f"pickup-{i}", "X-Hub-Signature-256": signature})
    answer = connection.getresponse(); answer.read()
    assert answer.status == 202, answer.status
    while len(lines()) == before: time.sleep(0.0005)
    latencies.append((float(lines()[-1]) - sent) * 1000)
    time.sleep(0.02)  # idle again before the next push
latencies.sort()
def pct(p): return latencies[min(len(latencies) - 1, int(len(latencies) * p))]
print(f"(a) pickup over {count} pushes, webhook sent -> first step's command: p50 {pct(0.5):.1f} ms, p99 {pct(0.99):.1f} ms, max {latencies[-1]:.1f} ms")
print(f"    act_runner / Forgejo runner poll every 2000 ms: their pickup alone is 0-2000 ms (p50 ~1000 ms): "
      f"{1000 / pct(0.5):.0f}x at p50, {2000 / pct(0.99):.0f}x at p99 (2 s against gantry's p99)")
PY
kill -TERM "$pid"; wait "$pid" || true
rm -f "$work/stamps"

start_service throughput
python3 - "$port" "$sha" "$work/stamps" "$runs" <<'PY'
import hashlib, hmac, http.client, json, sys, time
port, sha, stamps, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": "bench/app", "default_branch": "main"},
                   "head_commit": {"id": sha, "message": "bench"}, "commits": []}).encode()
signature = "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
connection = http.client.HTTPConnection("127.0.0.1", port)
started = time.time()
for i in range(count):
    connection.request("POST", "/webhooks/github", body, {"Content-Type": "application/json", "X-GitHub-Event": "push",
                                                          "X-GitHub-Delivery": f"load-{i}", "X-Hub-Signature-256": signature})
    answer = connection.getresponse(); answer.read()
    assert answer.status == 202, answer.status
accepted = time.time() - started
def done():
    try:
        with open(stamps) as f: return len(f.read().split())
    except FileNotFoundError: return 0
while done() < count: time.sleep(0.01)
total = time.time() - started
print(f"(b) {count} runs, capacity 4: all accepted after {accepted:.2f} s ({count / accepted:.0f} deliveries/s), "
      f"every job's step ran after {total:.2f} s: {count / total:.1f} runs/s, {total * 1000 / count:.1f} ms per job")
open(sys.argv[3] + ".total", "w").write(str(total * 1000 / count))
PY
# The runs' end is written after the step: wait for the service to be idle before reading its memory.
sleep 2
loaded_rss="$(rss)"
kill -TERM "$pid"; wait "$pid" || true
pid=""
# The same job with gantry run, one after the other (run has no queue to share: its per-run cost).
mkdir -p "$work/one"
per_run="$(python3 - "$gantry" "$work/app" "$work/stamps-run" <<'PY'
import os, subprocess, sys, time
gantry, app, stamps = sys.argv[1:4]
env = dict(os.environ, STAMPS=stamps)
times = []
for _ in range(20):
    t = time.time()
    subprocess.run([gantry, "run", "-C", app, "-P", "self-hosted=host"], env=env, stdout=subprocess.DEVNULL, check=True)
    times.append((time.time() - t) * 1000)
times.sort()
print(f"{times[len(times) // 2]:.1f}")
PY
)"
per_job="$(cat "$work/stamps.total")"
python3 -c "import sys; s, r = float(sys.argv[1]), float(sys.argv[2]); print(f'    gantry run of the same job: {r:.1f} ms each (median of 20, one after the other); the service: {s:.1f} ms per job at capacity 4 ({r / s:.1f}x)')" "$per_job" "$per_run"
echo "(c) resident memory: idle $idle_rss, after $runs runs $loaded_rss"
