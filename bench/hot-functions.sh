#!/usr/bin/env bash
# Writes Sources/gantry/LinkOrder/hot-functions.txt: the sections of every function the release
# `gantry` runs for its short commands (`--version`, `validate`, `list`, `graph` and `plan` of
# startup.sh's inputs), which the release link places next to each other (see that folder's README).
# Run it after changes to what those commands run, then rebuild and compare with bench/startup.sh.
#
#   bench/hot-functions.sh
#
# Needs: valgrind (apt); builds gantry in release mode as README's first command does.
source "$(dirname "$0")/common.sh"
command -v valgrind >/dev/null || { echo "bench: valgrind is missing: apt-get install -y valgrind" >&2; exit 2; }
build_gantry
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GANTRY_STATE_DIR="$work/state"
startup_inputs
# valgrind cannot read the DWARF 5 of a Swift build: it runs a copy without debug sections.
objcopy --strip-debug "$gantry" "$work/gantry"
commands=("--version" "validate $work/one/ci.yml" "list -C $work/chain" "graph -C $work/chain"
  "plan -C $work/chain" "validate $work/chain/.github/workflows/w.yml")
for i in "${!commands[@]}"; do
  # shellcheck disable=SC2086 # each entry is a command line
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/profile.$i" "$work/gantry" ${commands[$i]} >/dev/null 2>"$work/valgrind.$i" || { cat "$work/valgrind.$i" >&2; exit 1; }
done
nm --defined-only "$work/gantry" | awk '{print $3}' | sort | uniq -d > "$work/repeated"
python3 - "$work" "$root/Sources/gantry/LinkOrder/hot-functions.txt" <<'PY'
import glob, re, sys
# A local name several objects define (`objectdestroyTm`) names a section in each of them: listing it
# would pull all of them in, so such names are left out.
repeated = set(open(f"{sys.argv[1]}/repeated").read().split())
# callgrind names each object and function once with its number, `ob=(3) path` or `fn=(12) name`, and
# then by number alone; the first naming may be in a call's line (`cob=`, `cfn=`). An `ob=` line says
# which object the functions that follow are in.
names = set()
for path in glob.glob(f"{sys.argv[1]}/profile.*"):
    objects, functions, current = {}, {}, None
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if m := re.match(r"^(c?)ob=\((\d+)\)(?: (.*))?$", line):
            if m[3]: objects.setdefault(m[2], m[3])
            if not m[1]: current = objects.get(m[2])
        elif m := re.match(r"^(c?)fn=\((\d+)\)(?: (.*))?$", line):
            if m[3]: functions.setdefault(m[2], m[3])
            if m[1]: continue
            name = functions.get(m[2])
            # Functions of gantry itself; addresses without a symbol and callgrind's own names skipped.
            if current and current.endswith("/gantry") and name and not name.startswith(("0x", "(")) and name not in repeated:
                names.add(name)
with open(sys.argv[2], "w") as out:
    out.write("".join(f".text.{name}\n" for name in sorted(names)))
print(f"{len(names)} functions -> {sys.argv[2]}")
PY
