#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, declared in Package.swift when GANTRY_FUZZ is set) with
# -sanitize=fuzzer,address and runs each for SECONDS (default 60), seeded from the test fixtures:
#   fuzz-workflow     YAML bytes -> workflow (libyaml, the loader, the decoder, every rule)
#   fuzz-expressions  ${{ }} text -> template -> value (lexer, parser, evaluator, functions)
#   fuzz-dotenv       act's dotenv files (.secrets, .vars, .env, .input)
#   fuzz-webhook      a forge's delivery (GitHub, Gitea, Forgejo) or a dispatch body -> Intake or refusal
#
#   bench/fuzz.sh [SECONDS] [TARGET...]
#
# Prints each target's executions, coverage and findings; a finding is written to
# .build-fuzz/findings/TARGET/ (crash-*, leak-*, timeout-*) and makes the script exit 1: turn each
# into a regression test. Corpora grow in .build-fuzz/corpus/TARGET. Coverage is asked for by name
# (-sanitize-coverage=…: without it some builds here had no coverage counters, and libFuzzer said
# "Is the code instrumented for coverage?") and the targets link with lld (with gold, too, the
# counters did not reach libFuzzer).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(fuzz-workflow fuzz-expressions fuzz-dotenv fuzz-webhook)
scratch="$root/.build-fuzz"

for target in "${targets[@]}"; do
  GANTRY_FUZZ=1 swift build --scratch-path "$scratch" --sanitize fuzzer --sanitize address -Xswiftc -use-ld=lld \
    -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
    --product "$target" 2>&1 | grep -E "error|warning: unre" || true
  [ -x "$scratch/debug/$target" ] || { echo "fuzz: $target did not build" >&2; exit 2; }
done

# Seeds: the parser's fixtures (and the examples), the expressions of GitHub's vectors, dotenv samples.
seed() {
  local target="$1" dir="$scratch/corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    fuzz-workflow)
      find Tests/WorkflowParsingTests/Fixtures workflows-examples -name '*.yml' -o -name '*.yaml' | while read -r f; do
        cp "$f" "$dir/seed-$(sha1sum "$f" | cut -c1-12)"
      done ;;
    fuzz-expressions)
      python3 - "$dir" <<'PY'
import json, pathlib, sys, hashlib
out = pathlib.Path(sys.argv[1])
for f in pathlib.Path("Tests/WorkflowExpressionsTests/Fixtures/vectors").rglob("*.json"):
    try:
        data = json.loads(f.read_text())
    except Exception:
        continue
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            e = v.get("expr")
            if isinstance(e, str):
                (out / ("seed-" + hashlib.sha1(e.encode()).hexdigest()[:12])).write_text("${{ " + e + " }}")
            stack += list(v.values())
        elif isinstance(v, list):
            stack += v
PY
      ;;
    fuzz-dotenv)
      printf 'A=1\nexport B="two words"\nC=${A}-$HOME\n# comment\n' > "$dir/seed-basic"
      printf "KEY='multi\nline'\nX=\"esc \\\\n \\\\\" q\"\n" > "$dir/seed-quotes"
      printf 'A=1\r\nB=2\r\n' > "$dir/seed-crlf" ;;
    fuzz-webhook)
      # Byte 1 picks the reader (0 GitHub, 1 Gitea, 2 Forgejo, 3 the dispatch API), byte 2 the event.
      for f in Fuzz/Webhook/seeds/*.json; do
        for head in '\x00\x00' '\x01\x01' '\x02\x03' '\x03\x00'; do
          { printf "$head"; cat "$f"; } > "$dir/seed-$(basename "$f" .json)-$(printf "$head" | od -An -tx1 | tr -d ' \n')"
        done
      done ;;
  esac
}

status=0
for target in "${targets[@]}"; do
  seed "$target"
  findings="$scratch/findings/$target"
  mkdir -p "$findings"
  log="$scratch/$target.log"
  set +e
  "$scratch/debug/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$scratch/corpus/$target" >"$log" 2>&1
  code=$?
  set -e
  runs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)"
  cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)"
  found="$(find "$findings" -type f | wc -l)"
  echo "$target: ${seconds} s, ${runs} executions, ${cov:-cov: ?}, corpus $(find "$scratch/corpus/$target" -type f | wc -l) inputs, ${found} findings (exit ${code})"
  if [ "$code" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    grep -E "ERROR|SUMMARY" "$log" | head -5 >&2 || true
  fi
done
exit "$status"
