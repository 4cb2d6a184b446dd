"""Snapshot, compare and restore the parts of the file system tests/e2e/run.sh may change.

A *spec* is `DIR` (the whole tree) or `DIR:PATTERN` (DIR itself, plus every entry directly in DIR
whose name matches the fnmatch PATTERN, each with its whole tree). DIR's own metadata is always
recorded. A *manifest* (JSON) maps each path to its type, mode, owner, mtime (ns) and, for regular
files, the sha256 of the content (for symlinks: the target).

  state.py snap OUT.json SPEC...            write the manifest of SPECs
  state.py tar MANIFEST.json OUT.tar        archive every file/symlink/fifo/dir of a manifest (tar -p)
  state.py diff A.json B.json [--no-mtime] [--ignore-new-dirs] [--ignore REGEX]...
                                            list differences; exit 1 if any
  state.py restore MANIFEST.json BACKUP.tar make the SPECs of MANIFEST match it again: remove
                                            new entries, re-extract changed ones from BACKUP.tar,
                                            reset mode/owner/mtime; prints each action
  state.py show MANIFEST.json PATH...       print "sha256 uid:gid mode" lines (for run.sh asserts)

Sockets are compared by type/mode/owner only; a missing socket cannot be restored and is reported.
"""
import fnmatch
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys

TYPES = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFSOCK: "s",
         stat.S_IFIFO: "p", stat.S_IFCHR: "c", stat.S_IFBLK: "b"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def entry(path):
    st = os.lstat(path)
    e = {"t": TYPES.get(stat.S_IFMT(st.st_mode), "?"), "mode": stat.S_IMODE(st.st_mode),
         "uid": st.st_uid, "gid": st.st_gid, "mtime": st.st_mtime_ns}
    if e["t"] == "f":
        e["sha"] = sha256(path)
        e["size"] = st.st_size
    elif e["t"] == "l":
        e["link"] = os.readlink(path)
    return e


def walk(path, out):
    try:
        e = entry(path)
    except FileNotFoundError:
        return
    out[path] = e
    if e["t"] == "d":
        for name in sorted(os.listdir(path)):
            walk(os.path.join(path, name), out)


def parse_spec(spec):
    d, _, pat = spec.partition(":")
    return d.rstrip("/") or "/", pat or None


def snap(specs):
    out = {}
    for spec in specs:
        d, pat = parse_spec(spec)
        if pat is None:
            walk(d, out)
            continue
        try:
            if d not in out or out[d].get("parent"):
                out[d] = dict(entry(d), parent=True)  # mode/owner compared, mtime restored only
            names = sorted(os.listdir(d))
        except FileNotFoundError:
            continue
        for name in names:
            if fnmatch.fnmatchcase(name, pat):
                walk(os.path.join(d, name), out)
    return {"specs": list(specs), "entries": out}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def differences(a, b, mtime=True, ignore=None, ignore_new_dirs=False):
    """Yield human-readable lines for every path that differs between entry maps a and b.
    ignore: compiled regex of paths to skip; ignore_new_dirs: skip directories only in b."""
    for p in sorted(set(a) | set(b)):
        if ignore is not None and ignore.search(p):
            continue
        x, y = a.get(p), b.get(p)
        if x is None:
            if not (ignore_new_dirs and y["t"] == "d"):
                yield "new      %s (%s)" % (p, y["t"])
            continue
        if y is None:
            yield "missing  %s (%s)" % (p, x["t"])
            continue
        why = []
        if x["t"] != y["t"]:
            why.append("type %s->%s" % (x["t"], y["t"]))
        else:
            if x.get("sha") != y.get("sha"):
                why.append("content")
            if x.get("link") != y.get("link"):
                why.append("link %s->%s" % (x.get("link"), y.get("link")))
        if x["mode"] != y["mode"]:
            why.append("mode %o->%o" % (x["mode"], y["mode"]))
        if (x["uid"], x["gid"]) != (y["uid"], y["gid"]):
            why.append("owner %d:%d->%d:%d" % (x["uid"], x["gid"], y["uid"], y["gid"]))
        if mtime and x["mtime"] != y["mtime"] and x["t"] != "s" and not x.get("parent"):
            why.append("mtime")
        if why:
            yield "changed  %s (%s)" % (p, ", ".join(why))


def make_tar(manifest, out_tar):
    paths = [p.lstrip("/") for p, e in manifest["entries"].items() if e["t"] in ("f", "l", "p", "d")]
    lst = out_tar + ".list"
    with open(lst, "w", encoding="utf-8") as f:
        f.write("\n".join(paths) + "\n")
    subprocess.run(["tar", "-cpf", out_tar, "--numeric-owner", "--no-recursion", "-C", "/",
                    "-T", lst], check=True)


def set_meta(path, e):
    os.lchown(path, e["uid"], e["gid"])
    if e["t"] != "l":
        os.chmod(path, e["mode"])
    os.utime(path, ns=(e["mtime"], e["mtime"]), follow_symlinks=False)


def remove(path):
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def restore(manifest, backup_tar):
    before = manifest["entries"]
    now = snap(manifest["specs"])["entries"]
    actions = 0
    # 1. remove what is new (parents first: rmtree takes the children with it)
    for p in sorted(set(now) - set(before)):
        if os.path.lexists(p):
            print("restore: remove %s" % p)
            remove(p)
            actions += 1
    # 2. recreate / re-extract what is missing or changed in type or content
    extract = []
    for p in sorted(before):
        e, c = before[p], now.get(p)
        if c is not None and c["t"] != e["t"]:
            print("restore: remove %s (type %s, was %s)" % (p, c["t"], e["t"]))
            remove(p)
            c = None
        if e["t"] == "d":
            if c is None:
                print("restore: mkdir %s" % p)
                os.mkdir(p)
                actions += 1
        elif e["t"] == "s":
            if c is None:
                print("restore: cannot recreate socket %s" % p)
        elif c is None or c.get("sha") != e.get("sha") or c.get("link") != e.get("link"):
            if c is not None:
                os.unlink(p)
            extract.append(p.lstrip("/"))
    if extract:
        for p in extract:
            print("restore: extract /%s" % p)
        subprocess.run(["tar", "-xpf", backup_tar, "--numeric-owner", "--no-recursion",
                        "-C", "/"] + extract, check=True)
        actions += len(extract)
    # 3. metadata, deepest first so that directory mtimes are set after their contents
    now = snap(manifest["specs"])["entries"]
    for p in sorted(before, key=lambda q: q.count("/"), reverse=True):
        e, c = before[p], now.get(p)
        if c is None:
            continue
        if (c["mode"], c["uid"], c["gid"], c["mtime"]) != (e["mode"], e["uid"], e["gid"], e["mtime"]):
            if (c["mode"], c["uid"], c["gid"]) != (e["mode"], e["uid"], e["gid"]):
                print("restore: mode/owner %s" % p)
                actions += 1
            set_meta(p, e)
    return actions


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "snap":
        with open(argv[2], "w", encoding="utf-8") as f:
            json.dump(snap(argv[3:]), f, indent=0, sort_keys=True)
        return 0
    if cmd == "tar":
        make_tar(load(argv[2]), argv[3])
        return 0
    if cmd == "diff":
        a, b = load(argv[2])["entries"], load(argv[3])["entries"]
        opts = argv[4:]
        ign = [opts[i + 1] for i, o in enumerate(opts) if o == "--ignore"]
        lines = list(differences(a, b, mtime="--no-mtime" not in opts,
                                 ignore=re.compile("|".join(ign)) if ign else None,
                                 ignore_new_dirs="--ignore-new-dirs" in opts))
        for line in lines:
            print("    " + line)
        return 1 if lines else 0
    if cmd == "restore":
        n = restore(load(argv[2]), argv[3])
        print("restore: %d action(s)" % n)
        return 0
    if cmd == "show":
        for p in argv[2:]:
            try:
                e = entry(p)
            except FileNotFoundError:
                print("absent")
                continue
            print("%s %d:%d %o" % (e.get("sha", e.get("link", e["t"])), e["uid"], e["gid"], e["mode"]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
