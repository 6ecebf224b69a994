#!/usr/bin/env bash
# Measures the content cache against what actions/cache does (tar + zstd) and against `cp -a` (the floor),
# on one tree of 20,000 files and 1 GiB (half random bytes, half text), one hyperfine run each:
#   save:    `gantry run` of a job with actions/cache/save (into an empty store)   vs  tar | zstd -T0 --long=30
#   re-save: the unchanged tree under a new key (bytes of new blobs written, expected 0)
#   restore: `gantry run` of a job with actions/cache/restore                      vs  zstd -d | tar -x, cp -a
# Goals (issue 7): restore within 1.5x of cp -a; save faster than tar+zstd; re-save writes no blob bytes.
# On a CPU with SHA extensions the save is also timed with OpenSSL told not to use them
# (OPENSSL_ia32cap), as on a machine without: hashing is most of a save's CPU there.
# Usage: bench/cache.sh [FILES] [MIB]   (defaults 20000 1024). Needs hyperfine, zstd, python3.
source "$(dirname "$0")/common.sh"
need_hyperfine
command -v zstd >/dev/null || { echo "bench: zstd is missing: apt-get install -y zstd" >&2; exit 2; }
files="${1:-20000}"
mib="${2:-1024}"
build_gantry
work="$(mktemp -d "${TMPDIR:-/tmp}/gantry-cache-bench-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export GANTRY_CACHE_DIR="$work/store" GANTRY_STATE_DIR="$work/state"

python3 - "$work/src" "$files" "$mib" <<'PY'
import os, random, sys
root, count, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = mib * 1024 * 1024 // count
words = b"import export function const return module require package version dependency "
rng = random.Random(7)
for i in range(count):
    d = os.path.join(root, f"pkg{i % 200}", f"lib{i % 7}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.js"), "wb") as f:
        if i % 2:
            f.write(rng.randbytes(size))
        else:
            f.write((words * (size // len(words) + 1))[:size - 8] + i.to_bytes(8, "little"))
PY
cp -a "$work/src" "$work/tree"
mkdir -p "$work/repo/.github/workflows"
git -C "$work/repo" init -q -b main
for kind in save restore; do
  cat > "$work/repo/.github/workflows/$kind.yml" <<YAML
on: push
jobs:
  $kind:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/cache/$kind@v4
        with:
          path: $work/tree
          key: bench-\${{ env.KEY }}
YAML
done
git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com add -A
git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -q -m bench
cd "$work/repo"

json="$work/save.json"
no_sha=()
if grep -qw sha_ni /proc/cpuinfo 2>/dev/null; then
  no_sha=(--prepare "rm -rf $work/store" -n "gantry save, no SHA-NI"
    "env OPENSSL_ia32cap=:~0x20000000 $gantry run -W .github/workflows/save.yml --env KEY=one")
fi
hyperfine -N --runs 3 --export-json "$json" \
  --prepare "rm -rf $work/store" -n "gantry save" "$gantry run -W .github/workflows/save.yml --env KEY=one" \
  "${no_sha[@]}" \
  --prepare "rm -f $work/tree.tar.zst" -n "tar+zstd" "sh -c 'tar -cf - -C $work tree | zstd -T0 --long=30 -q -o $work/tree.tar.zst'" \
  >/dev/null 2>&1
# The store as the last save left it; then the same tree under a new key.
resave="$("$gantry" run -W .github/workflows/save.yml --env KEY=two | grep -o "[0-9]* new bytes stored" || true)"
restore_json="$work/restore.json"
hyperfine -N --runs 3 --export-json "$restore_json" \
  --prepare "rm -rf $work/tree" -n "gantry restore" "$gantry run -W .github/workflows/restore.yml --env KEY=one" \
  --prepare "rm -rf $work/untar" -n "zstd+tar" "sh -c 'mkdir $work/untar && zstd -d --long=30 -q -c $work/tree.tar.zst | tar -xf - -C $work/untar'" \
  --prepare "rm -rf $work/cp" -n "cp -a" "cp -a $work/src $work/cp" \
  >/dev/null 2>&1
diff -r "$work/src" "$work/tree" >/dev/null && echo "restored tree identical to the source"
python3 - "$json" "$restore_json" "$resave" "$files" "$mib" <<'PY'
import json, sys
def means(path): return {r["command"]: r["mean"] for r in json.load(open(path))["results"]}
s, r = means(sys.argv[1]), means(sys.argv[2])
print(f"tree: {sys.argv[4]} files, {sys.argv[5]} MiB")
print(f"save     gantry {s['gantry save']:6.2f} s   tar+zstd {s['tar+zstd']:6.2f} s   gantry/tar+zstd {s['gantry save']/s['tar+zstd']:.2f}x")
if "gantry save, no SHA-NI" in s:
    t = s["gantry save, no SHA-NI"]
    print(f"save     without SHA-NI: gantry {t:6.2f} s   gantry/tar+zstd {t/s['tar+zstd']:.2f}x")
print(f"re-save  unchanged tree under a new key: {sys.argv[3]}")
print(f"restore  gantry {r['gantry restore']:6.2f} s   zstd+tar {r['zstd+tar']:6.2f} s   cp -a {r['cp -a']:6.2f} s   "
      f"gantry/cp -a {r['gantry restore']/r['cp -a']:.2f}x   gantry/zstd+tar {r['gantry restore']/r['zstd+tar']:.2f}x")
PY
