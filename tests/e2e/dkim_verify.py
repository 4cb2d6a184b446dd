"""Verify the DKIM signatures of delivered test messages with dkimpy (independent of mailsetup).

Usage: /usr/bin/python3 dkim_verify.py NAMESERVER PORT MBOX SELECTOR SUBJECT=DOMAIN...

For each SUBJECT=DOMAIN pair, exactly one message with that Subject must be in the mbox; its
DKIM-Signature must verify (dkim.verify, public key fetched from NAMESERVER:PORT), with d=DOMAIN and
s=SELECTOR. Prints one `PASS <what>` or `FAIL <what>` line per assertion (run.sh counts them) and
`INFO` lines (d=, s=, h= of each signature; subjects of any other messages). Exit 0 iff no FAIL.
"""
import logging
import mailbox
import re
import sys

import dkim
import dns.resolver


def tags(header_value):
    """Tag=value pairs of a DKIM-Signature header (RFC 6376 §3.2), whitespace removed."""
    out = {}
    for part in re.sub(r"\s+", "", header_value).split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def main(argv):
    ns, port, path, selector = argv[1], int(argv[2]), argv[3], argv[4]
    expected = dict(a.split("=", 1) for a in argv[5:])
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [ns]
    r.port = port
    r.lifetime = 5
    dns.resolver.default_resolver = r  # dkim.dnsplug uses dnspython's default resolver

    box = mailbox.mbox(path, create=False)
    seen = {}
    fails = 0

    def report(ok, what):
        nonlocal fails
        print("%s %s" % ("PASS" if ok else "FAIL", what))
        fails += not ok

    for key in box.keys():
        msg = box[key]
        subject = str(msg["Subject"])
        if subject not in expected:
            print("INFO other message in mbox: subject=%r from=%r" % (subject, msg["From"]))
            continue
        seen[subject] = seen.get(subject, 0) + 1
        raw = box.get_bytes(key)  # without the mbox "From " line
        sigs = msg.get_all("DKIM-Signature") or []
        for s in sigs:
            t = tags(s)
            print("INFO %r: DKIM-Signature d=%s s=%s a=%s c=%s h=%s" % (
                subject, t.get("d"), t.get("s"), t.get("a"), t.get("c"), t.get("h")))
        want = expected[subject]
        report(len(sigs) == 1, "%r carries exactly one DKIM-Signature (found %d)" % (subject, len(sigs)))
        if not sigs:
            continue
        t = tags(sigs[0])
        report(t.get("d") == want and t.get("s") == selector,
               "%r signed with d=%s s=%s (want d=%s s=%s)" % (subject, t.get("d"), t.get("s"), want, selector))
        log = logging.getLogger("dkim")
        lines = []

        class Keep(logging.Handler):
            def emit(self, rec):
                lines.append(rec.getMessage())

        log.handlers = [Keep()]
        log.setLevel(logging.DEBUG)
        ok = dkim.verify(raw, logger=log)
        report(ok, "%r dkim=%s (dkimpy, key from %s:%d)" % (subject, "pass" if ok else "fail", ns, port))
        if not ok:
            for line in lines[-5:]:
                print("INFO   dkimpy: %s" % line)
    for subject in expected:
        n = seen.get(subject, 0)
        if n != 1:
            report(False, "%r delivered exactly once (found %d)" % (subject, n))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
