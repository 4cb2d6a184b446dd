"""Judge `mailsetup check --json` output for tests/e2e/run.sh, without relying on more of its shape
than this: a JSON object; the kinds of check appear as string values ("dkim", "spf", ...); problems
are listed under "findings" (objects; a "severity" other than error/warning is informational).

  check_json.py FILE clean KIND...           every KIND appears as a value, and no finding of
                                               severity error or warning
  check_json.py FILE findings SUBJECT KIND...  findings exist, and one of them names SUBJECT and
                                               each KIND (case-insensitive substring of its text)
Prints PASS/FAIL lines; exit 0 iff no FAIL.
"""
import json
import sys


def strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from strings(v)


def main(argv):
    path, mode = argv[1], argv[2]
    fails = 0

    def report(ok, what):
        nonlocal fails
        print("%s %s" % ("PASS" if ok else "FAIL", what))
        fails += not ok

    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        report(False, "check --json output parses as JSON (%s)" % e)
        return 1
    report(isinstance(doc, dict), "check --json output parses as a JSON object")
    if not isinstance(doc, dict):
        return 1
    findings = doc.get("findings") or []
    if mode == "clean":
        values = {s.lower() for s in strings(doc)}
        for kind in argv[3:]:
            report(kind in values, "check --json covers %s" % kind)
        bad = [f for f in findings
               if not isinstance(f, dict) or str(f.get("severity", "error")).lower() in ("error", "warning")]
        for f in findings:
            print("INFO finding: %s" % " ".join(strings(f))[:200])
        report(not bad, "check --json lists no error/warning findings (%d)" % len(bad))
    else:
        subject, kinds = argv[3].lower(), [k.lower() for k in argv[4:]]
        texts = [" ".join(strings(f)) for f in findings]
        for t in texts:
            print("INFO finding: %s" % t[:200])
        texts = [t.lower() for t in texts]
        for kind in kinds:
            report(any(subject in t and kind in t for t in texts),
                   "check --json has a finding naming %s and %s" % (subject, kind))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
