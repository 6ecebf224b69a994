#!/usr/bin/env bash
# Parse+evaluate throughput of gantry's expression engine on every ${{ }} expression found in a set of
# workflow files (default: ../shared/corpus/starter and actionlint's ok/ set when present, else the
# parser's ok/ fixtures), measured by a release build of bench/ExpressionBench.
#
#   bench/expressions.sh [DIR...]
source "$(dirname "$0")/common.sh"
bench_dirs "$@"
list="$(mktemp)"
python3 - "${dirs[@]}" > "$list" <<'PY'
import json, os, re, sys
seen = set()
for d in sys.argv[1:]:
    for name in sorted(os.listdir(d)):
        if not name.endswith((".yml", ".yaml")):
            continue
        text = open(os.path.join(d, name), encoding="utf-8", errors="replace").read()
        for m in re.finditer(r"\$\{\{(.*?)\}\}", text, re.S):
            e = m.group(1).strip()
            if e and e not in seen:
                seen.add(e)
                print(json.dumps(e))
PY
swift build -c release --static-swift-stdlib --product gantry-expression-bench >/dev/null
echo "corpus: ${dirs[*]}"
.build/release/gantry-expression-bench "$list" "${ROUNDS:-200}"
rm -f "$list"
