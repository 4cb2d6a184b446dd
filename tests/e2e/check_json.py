"""Judge `mailsetup check --json` output for tests/e2e/run.sh, without relying on more of its shape
than this: a JSON object; the kinds of check appear as string values ("dkim", "spf", ...); problems
are listed under "findings" (objects; a "severity" other than error/warning is informational).

  check_json.py FILE clean KIND...           every KIND appears as a value, and no finding of
                                               severity error or warning
  check_json.py FILE findings SUBJECT KIND...  findings exist, and one of them names SUBJECT and
                                               each KIND (case-insensitive substring of its text)
  check_json.py FILE requirements SPEC...    the sender-requirements verdict ("requirements", an
                                               array of rule sets); each SPEC is
                                               RECEIVER:SENDERS=STATUS (met, not-met, not-verifiable);
                                               =met~RULE also accepts not-verifiable when RULE is the
                                               only setup rule not met; =not-met@ID,ID: each ID blocks
                                               a rule of the set. "findings", "checked" and "verdict"
                                               must be there too (scripts match on them).
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


def requirements(spec, sets, report):
    """Judge one RECEIVER:SENDERS=STATUS[~RULE|@ID,ID] against the rule sets."""
    name, want = spec.split("=", 1)
    receiver, senders = name.split(":", 1)
    found = [s for s in sets if s.get("receiver") == receiver and s.get("senders") == senders]
    if not found:
        report(False, "requirements has %s (%s senders)" % (receiver, senders))
        return
    rs = found[0]
    status = rs.get("status")
    open_rules = [r for r in rs.get("rules", []) if r.get("about") == "setup" and r.get("status") != "met"]
    print("INFO requirements %s (%s senders): %s; open: %s" % (
        receiver, senders, status,
        "; ".join("%s %s %s" % (r.get("rule"), r.get("status"),
                                [b.get("id") for b in r.get("blocking", [])] or r.get("unverified"))
                  for r in open_rules) or "none"))
    if "~" in want:
        want, rule = want.split("~", 1)
        ok = status == want or (status == "not-verifiable" and [r.get("rule") for r in open_rules] == [rule])
        report(ok, "requirements %s (%s senders) is %s, or not verifiable for %s alone" % (receiver, senders, want, rule))
    elif "@" in want:
        want, ids = want.split("@", 1)
        blocking = {b.get("id") for r in rs.get("rules", []) for b in r.get("blocking", [])}
        report(status == want and set(ids.split(",")) <= blocking,
               "requirements %s (%s senders) is %s, blocked by %s" % (receiver, senders, want, ids))
    else:
        report(status == want, "requirements %s (%s senders) is %s" % (receiver, senders, want))


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
    elif mode == "requirements":
        for field in ("findings", "checked", "verdict"):
            report(field in doc, "check --json still has %s" % field)
        sets = doc.get("requirements")
        report(isinstance(sets, list), "check --json has requirements (an array)")
        for spec in argv[3:]:
            requirements(spec, sets if isinstance(sets, list) else [], report)
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
