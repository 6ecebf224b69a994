#!/usr/bin/env bash
# Checks that Gantry's libyaml (Sources/CYAML: 0.2.5 with its reader and scanner fast paths) parses
# exactly as Debian's libyaml 0.2.5 does. It prints every event of every input with its marks,
# values, styles and tags, and every error with its positions, through both libraries, and compares
# the two. The inputs are the project's YAML files, the fuzz corpus when there is one, and mutants of
# them (spaces, tabs, comments, ':', flow indicators, line breaks, non-ASCII, NUL, random bytes).
#
#   bench/libyaml-diff.sh [MUTANTS]    (default 30000)
#
# Needs: gcc and Debian's libyaml-dev (apt-get install libyaml-dev), which Gantry itself no longer
# needs. Prints the counts and "identical", or the first difference and exits 1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mutants="${1:-30000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -f /usr/include/yaml.h ] || { echo "libyaml-diff: Debian's libyaml-dev is missing: apt-get install libyaml-dev" >&2; exit 2; }

src="$root/Sources/CYAML"
gcc -O1 -o "$work/debian" "$root/bench/libyaml-diff/dump.c" -lyaml
gcc -O1 -I"$src/include" -DYAML_VERSION_MAJOR=0 -DYAML_VERSION_MINOR=2 -DYAML_VERSION_PATCH=5 '-DYAML_VERSION_STRING="0.2.5"' \
  -o "$work/gantry" "$root/bench/libyaml-diff/dump.c" "$src"/src/*.c

{ find "$root/Tests" "$root/workflows-examples" "$root/Fuzz" -type f \( -name '*.yml' -o -name '*.yaml' \)
  [ -d "$root/.build-fuzz/corpus/fuzz-workflow" ] && find "$root/.build-fuzz/corpus/fuzz-workflow" -type f
  true; } > "$work/files"
python3 - "$work/files" "$work/mutants" "$mutants" <<'PY'
import os, random, sys
files, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(19)
seeds = [open(f, "rb").read() for f in (l.strip() for l in open(files)) if os.path.getsize(f) < 20000]
special = [b":", b" ", b"\t", b"\n", b"\r\n", b"\r", b"#", b",", b"[", b"]", b"{", b"}", b"-", b"?", b"\xc3\xa9",
           b"\xe2\x80\xa8", b"\xc2\x85", b"\x00", b"'", b'"', b"|", b">", b"&a", b"*a", b"!!str ", b"---", b"...", b"  ", b"\\"]
os.makedirs(out)
with open(files, "a") as listing:
    for i in range(count):
        data = bytearray(random.choice(seeds))
        for _ in range(random.randint(1, 6)):
            op, at = random.random(), random.randint(0, len(data))
            if op < 0.6:
                data[at:at] = random.choice(special)
            elif op < 0.8:
                del data[at:at + random.randint(1, 4)]
            elif data:
                data[min(at, len(data) - 1)] = random.randint(0, 255)
        path = os.path.join(out, str(i))
        open(path, "wb").write(bytes(data))
        listing.write(path + "\n")
PY
xargs "$work/debian" < "$work/files" > "$work/debian.out"
xargs "$work/gantry" < "$work/files" > "$work/gantry.out"
echo "libyaml-diff: $(wc -l < "$work/files") inputs, $(grep -c '^E ' "$work/debian.out") events, $(grep -c '^ERROR' "$work/debian.out") errors"
if cmp -s "$work/debian.out" "$work/gantry.out"; then
  echo "libyaml-diff: identical"
else
  diff "$work/debian.out" "$work/gantry.out" | head -20
  exit 1
fi
