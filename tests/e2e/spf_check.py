"""Evaluate SPF with pyspf (independent of mailsetup) against a given DNS server.

Usage: /usr/bin/python3 -W ignore spf_check.py NAMESERVER PORT HELO IP,SENDER,WANT[|WANT...]...

Each check runs spf.check2(i=IP, s=SENDER, h=HELO) (RFC 7208 check_host) and must give one of the
WANT results (e.g. `pass`, or `fail|softfail`). Prints `PASS ...` / `FAIL ...` per check; exit 0 iff
all pass. Without the resolver override pyspf would use /etc/resolv.conf and report `none`.
"""
import sys

import dns.resolver
import spf


def main(argv):
    ns, port, helo = argv[1], int(argv[2]), argv[3]
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [ns]
    r.port = port
    r.lifetime = 5
    dns.resolver.default_resolver = r  # pyspf queries through dnspython's default resolver
    fails = 0
    for spec in argv[4:]:
        ip, sender, want = spec.split(",", 2)
        res, expl = spf.check2(i=ip, s=sender, h=helo)
        ok = res in want.split("|")
        fails += not ok
        print("%s spf(%s, %s) = %s (%s), want %s" % ("PASS" if ok else "FAIL", ip, sender, res, expl, want))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
