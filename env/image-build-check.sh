#!/usr/bin/env bash
# image-build-check.sh — validates the Dockerfile without a container engine.
#
#   env/image-build-check.sh [--dockerfile FILE] [--binary PATH] [--build [--worktree]]
#
# Prints "ok: ..." per check passed and "error: ... — fix" per problem;
# exits 0, 1 (a check failed) or 2 (usage, a missing tool).
#   1. parse: every instruction is a Dockerfile instruction; a Debian 12
#      build stage (debian:bookworm AS build) and a debian:bookworm-slim
#      runtime stage last; COPY --from names an earlier stage; the runtime
#      stage runs as a non-root USER with ENTRYPOINT ["pgparity"] (exec form),
#      installs with --no-install-recommends and removes the apt lists.
#   2. libraries: for the binary (--binary, default build/cli/pgparity, or
#      the one --build made), each library it links directly (readelf -d
#      NEEDED) belongs to a package the runtime stage installs (libc6 aside:
#      every image has it), each library ldd reports belongs to one of those
#      packages' dependencies or to bookworm-slim's base (Essential or
#      Priority required packages and apt), and each package installed is
#      needed by some linked library. Libraries map to packages by dpkg -S,
#      so this machine must be Debian 12 with the build dependencies.
#   3. --build: the build stage's steps (WORKDIR, COPY, RUN) run as a script
#      in a throwaway directory on this machine, from `git archive HEAD`
#      (--worktree: the working tree, minus .dockerignore's build trees), then
#      check 2 on the binary they made. Takes minutes (ccache helps). The
#      apt-lists cleanup (rm -rf /var/lib/apt/lists/*) is not run on the host.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dockerfile=Dockerfile
binary=build/cli/pgparity
build=0
worktree=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dockerfile) dockerfile=${2:?--dockerfile needs a path}; shift 2 ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --build) build=1; shift ;;
    --worktree) worktree=1; shift ;;
    *) echo "image-build-check: error: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
for tool in python3 dpkg-query readelf ldd; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing — run env/install-deps.sh build" >&2; exit 2; }
done
work=$(mktemp -d /tmp/pgparity-image-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

# Parses the Dockerfile (check 1). Writes the runtime stage's apt packages to
# $work/runtime-packages and the build stage's steps, one JSON per line, to
# $work/build-steps.
python3 - "$dockerfile" "$work" <<'PY' || status=1
import json, re, shlex, sys
path, work = sys.argv[1], sys.argv[2]
KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
         "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"}
failed = False
def error(msg):
    global failed
    failed = True
    print(f"error: Dockerfile: {msg}")

# Logical lines: comments dropped, backslash continuations joined.
lines, buf, start = [], "", 0
for no, raw in enumerate(open(path, encoding="utf-8").read().splitlines(), 1):
    s = raw.strip()
    if not buf and (not s or s.startswith("#")):
        continue
    if buf and s.startswith("#"):
        continue  # a comment inside a continued instruction
    if not buf:
        start = no
    if s.endswith("\\"):
        buf += s[:-1] + " "
        continue
    lines.append((start, buf + s))
    buf = ""
if buf:
    error("the last instruction ends with a backslash — finish it")

stages = []  # {"image", "name", "line", "instrs": [(no, op, args)]}
for no, text in lines:
    op, _, args = text.partition(" ")
    op = op.upper()
    if op not in KNOWN:
        error(f"line {no}: unknown instruction {op} — use a Dockerfile instruction")
        continue
    if op == "FROM":
        m = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.I)
        if not m:
            error(f"line {no}: FROM {args} does not parse — write FROM IMAGE [AS NAME]")
            continue
        stages.append({"image": m[1], "name": m[2], "line": no, "instrs": []})
    elif not stages:
        if op != "ARG":
            error(f"line {no}: {op} before the first FROM — start with FROM")
    else:
        stages[-1]["instrs"].append((no, op, args.strip()))

if len(stages) < 2:
    error(f"{len(stages)} stage(s) — want a build stage and a runtime stage")
    sys.exit(1)
build, runtime = stages[0], stages[-1]
if build["image"] != "debian:bookworm" or build["name"] != "build":
    error(f"line {build['line']}: the first stage is {build['image']} AS {build['name']} — want debian:bookworm AS build (Debian 12)")
if runtime["image"] != "debian:bookworm-slim":
    error(f"line {runtime['line']}: the last stage is {runtime['image']} — want debian:bookworm-slim")
names = []
for st in stages:
    for no, op, args in st["instrs"]:
        m = re.match(r"--from=(\S+)", args)
        if op == "COPY" and m and m[1] not in names:
            error(f"line {no}: COPY --from={m[1]} names no earlier stage (stages: {', '.join(names) or 'none'}) — fix the name")
        if op == "ADD" and re.search(r"https?://", args):
            error(f"line {no}: ADD of a URL — download nothing at build time that Debian's packages do not ship")
    if st["name"]:
        names.append(st["name"])

def last(stage, op):
    found = [(no, args) for no, o, args in stage["instrs"] if o == op]
    return found[-1] if found else (None, None)
no, user = last(runtime, "USER")
if user is None or user.split(":")[0] in ("root", "0"):
    error(f"the runtime stage runs as {user or 'root (no USER)'} — add USER with a non-root uid")
no, entry = last(runtime, "ENTRYPOINT")
try:
    entry_list = json.loads(entry) if entry else None
except json.JSONDecodeError:
    entry_list = None
if entry_list != ["pgparity"]:
    error(f"line {no}: ENTRYPOINT {entry} — want the exec form ENTRYPOINT [\"pgparity\"] (signals reach pgparity itself)")

# The runtime stage's apt-get install packages.
packages = []
for no, op, args in runtime["instrs"]:
    if op != "RUN" or "apt-get install" not in args:
        continue
    for cmd in re.split(r"&&|;", args):
        words = shlex.split(cmd)
        if words[:2] != ["apt-get", "install"]:
            continue
        if "--no-install-recommends" not in words:
            error(f"line {no}: apt-get install without --no-install-recommends — add it (recommends are not runtime libraries)")
        packages += [w for w in words[2:] if not w.startswith("-")]
    if "rm -rf /var/lib/apt/lists/*" not in args:
        error(f"line {no}: the apt lists stay in the image — end the RUN with rm -rf /var/lib/apt/lists/*")
if not packages:
    error("the runtime stage installs no packages with apt-get install — list the linked libraries' packages")
open(f"{work}/runtime-packages", "w").write("\n".join(packages) + "\n")

with open(f"{work}/build-steps", "w") as out:
    for no, op, args in build["instrs"]:
        if op in ("WORKDIR", "COPY", "RUN", "ENV"):
            out.write(json.dumps({"line": no, "op": op, "args": args}) + "\n")
        elif op not in ("ARG", "LABEL"):
            error(f"line {no}: {op} in the build stage — the host rehearsal (--build) knows WORKDIR, COPY, RUN and ENV only")
if not failed:
    print(f"ok: Dockerfile parses: {len(lines)} instructions, stages "
          + ", ".join(f"{s['image']}{' AS ' + s['name'] if s['name'] else ''}" for s in stages)
          + f"; runtime as USER {user}, ENTRYPOINT {entry}, {len(packages)} packages")
sys.exit(1 if failed else 0)
PY
[ -s "$work/runtime-packages" ] || { echo "image-build-check: FAILED (the Dockerfile does not parse)"; exit 1; }

# Check 3: the build stage's steps on the host, in $work/root (WORKDIR /src ->
# $work/root/src). Sets $binary to what they built.
rehearse() {
  local context=$work/context cwd=$work/root
  mkdir -p "$context" "$cwd"
  if [ "$worktree" = 1 ]; then
    tar -C "$root" --exclude=./.git --exclude=./build --exclude='./build-*' --exclude=./.run \
      --exclude=node_modules -cf - . | tar -C "$context" -xf -
  else
    git -C "$root" archive HEAD | tar -C "$context" -xf -
  fi
  export CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$work JOBS=${JOBS:-$(nproc)}
  local line op args
  while IFS= read -r step; do
    line=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["line"])' "$step")
    op=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["op"])' "$step")
    args=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["args"])' "$step")
    case "$op" in
      WORKDIR)
        case "$args" in /*) cwd=$work/root$args ;; *) cwd=$cwd/$args ;; esac
        mkdir -p "$cwd" ;;
      ENV) eval "export $args" ;;
      COPY)
        # shellcheck disable=SC2086
        set -- $args
        local dst=${!#} n=$(($# - 1)) i
        case "$dst" in /*) dst=$work/root$dst ;; *) dst=$cwd/$dst ;; esac
        for ((i = 1; i <= n; i++)); do
          local src=${!i}
          if [ "$src" = . ]; then
            mkdir -p "$dst" && cp -a "$context/." "$dst/"
          else
            mkdir -p "$(dirname "$dst")"
            case "$dst" in */) mkdir -p "$dst" ;; esac
            cp -a "$context/$src" "$dst"
          fi
        done ;;
      RUN)
        echo "image-build-check: line $line: RUN ${args:0:100}..." >&2
        if ! (cd "$cwd" && sh -c "${args//rm -rf \/var\/lib\/apt\/lists\/\*/: apt lists kept on the host}") \
          >"$work/run-$line.log" 2>&1; then
          tail -15 "$work/run-$line.log" | sed 's/^/  /'
          echo "error: Dockerfile line $line: the build stage's RUN failed on this Debian 12 machine (last lines above) — fix the step or what it builds"
          return 1
        fi ;;
    esac
  done <"$work/build-steps"
  binary=$work/root/src/pgparity
  [ -x "$binary" ] || { echo "error: the build stage made no $binary (what COPY --from=build takes) — fix the strip -o step"; return 1; }
  # shellcheck disable=SC1091
  echo "ok: the build stage's steps ran on this machine ($(. /etc/os-release && echo "$PRETTY_NAME"), from $([ "$worktree" = 1 ] && echo "the working tree" || echo "git HEAD $(git -C "$root" rev-parse --short HEAD)")): $(du -h "$binary" | cut -f1) stripped binary, --help runs"
}
if [ "$build" = 1 ]; then
  rehearse || status=1
fi

# Check 2: the runtime packages cover the binary's libraries.
if [ ! -x "$binary" ]; then
  echo "error: no binary at $binary to check the runtime libraries against — run make build-cli, or pass --binary PATH or --build"
  status=1
else
  dpkg-query -W -f '${Package}\t${Essential}\t${Priority}\t${Depends}, ${Pre-Depends}\t${Provides}\n' >"$work/status"
  python3 - "$binary" "$work/runtime-packages" "$work/status" <<'PY' || status=1
import re, subprocess, sys
binary, pkgfile, statusfile = sys.argv[1:4]
listed = [p for p in open(pkgfile).read().split() if p]
failed = False
def error(msg):
    global failed
    failed = True
    print(f"error: {msg}")

# Installed packages: dependencies (first installed alternative), provides.
deps, provides, base = {}, {}, set()
for row in open(statusfile).read().splitlines():
    name, essential, priority, depends, prov = (row.split("\t") + [""] * 5)[:5]
    alts = []
    for group in depends.split(","):
        names = [re.sub(r"[\s(:].*", "", a.strip()) for a in group.split("|") if a.strip()]
        if names:
            alts.append(names)
    deps[name] = alts
    for p in prov.split(","):
        if p.strip():
            provides.setdefault(re.sub(r"[\s(].*", "", p.strip()), name)
    if essential == "yes" or priority == "required" or name == "apt":
        base.add(name)
def closure(roots):
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        p = p if p in deps else provides.get(p, p)
        if p in seen or p not in deps:
            continue
        seen.add(p)
        for names in deps[p]:
            pick = next((n for n in names if n in deps or n in provides), None)
            if pick:
                todo.append(pick)
    return seen

def package_of(path):
    # usrmerge: dpkg may know the file under /lib or under /usr/lib.
    cands = [path]
    for a, b in (("/usr/lib/", "/lib/"), ("/lib/", "/usr/lib/")):
        if path.startswith(a):
            cands.append(b + path[len(a):])
    for c in cands:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    return None

ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
libs = {}  # soname -> path
for line in ldd.splitlines():
    m = re.match(r"\s*(\S+) => (\S+)", line)
    if m and m[2] == "not":
        error(f"ldd: {m[1]} not found on this machine — install its package (env/install-deps.sh build)")
    elif m:
        libs[m[1]] = m[2]
dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
pkg = {}
for so, p in libs.items():
    pkg[so] = package_of(p) or package_of(subprocess.run(["readlink", "-f", p], capture_output=True, text=True).stdout.strip())
    if not pkg[so]:
        error(f"{so} ({p}) belongs to no Debian package (dpkg -S) — a library built by hand cannot be installed in the image")

direct = {}
for so in needed:
    if so not in pkg:
        error(f"{so} is NEEDED but ldd does not resolve it — install its package")
    elif pkg[so]:
        direct.setdefault(pkg[so], []).append(so)
for p, sos in sorted(direct.items()):
    if p != "libc6" and p not in listed:
        error(f"the binary links {', '.join(sos)} of package {p}, which the runtime stage does not install — add {p} to its apt-get install")
for p in listed:
    if p not in direct:
        error(f"the runtime stage installs {p}, which provides no library the binary links — remove it")
covered = closure(listed) | closure(base)
indirect = sorted({p for p in pkg.values() if p and p not in direct})
for so, p in sorted(pkg.items()):
    if p and p not in covered:
        error(f"{so} (ldd) is in package {p}, which neither the runtime packages nor bookworm-slim's base depend on — add {p}")
if not failed:
    print(f"ok: the runtime stage's {len(listed)} packages link every library: {len(needed)} NEEDED "
          f"({len(direct)} packages, libc6 from the base), {len(libs)} in ldd, the rest from their dependencies "
          f"({', '.join(indirect[:6])}{', ...' if len(indirect) > 6 else ''})")
sys.exit(1 if failed else 0)
PY
fi

if [ "$status" = 0 ]; then
  echo "image-build-check: all checks passed"
else
  echo "image-build-check: FAILED (see the error lines above)"
fi
exit "$status"
