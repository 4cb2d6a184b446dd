"""Read `mailsetup records --format json` output for tests/e2e/run.sh.

  records_json.py FILE summary HOSTNAME IPV4 SELECTOR DOMAIN...
      Checks the shape {"records":[{"domain","name","fqdn","type","value",...}],"ptr":[{"ip","name","value"}]}
      and that every DOMAIN has MX, an SPF TXT, a DKIM TXT at SELECTOR._domainkey, a DMARC TXT, and
      that HOSTNAME's A record (IPV4) and the PTR IPV4 -> HOSTNAME are there. Prints PASS/FAIL lines,
      then `DIG <fqdn> <type>` lines naming every record (run.sh queries them).
  records_json.py FILE ptr-zone ZONE
      Prints the PTR records that fall inside reverse ZONE as absolute zone-file lines; exit 1 if none.
"""
import json
import sys


def fqdn(name):
    return name.rstrip(".").lower() + "."


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    recs, ptrs = doc.get("records"), doc.get("ptr")
    if argv[2] == "ptr-zone":
        zone = fqdn(argv[3])
        lines = ["%s IN PTR %s" % (fqdn(p["name"]), fqdn(p["value"]))
                 for p in ptrs or [] if fqdn(p["name"]).endswith("." + zone)]
        print("\n".join(lines))
        return 0 if lines else 1

    hostname, ipv4, selector, domains = argv[3], argv[4], argv[5], argv[6:]
    fails = 0

    def report(ok, what):
        nonlocal fails
        print("%s %s" % ("PASS" if ok else "FAIL", what))
        fails += not ok

    shape = isinstance(recs, list) and isinstance(ptrs, list) and all(
        isinstance(r, dict) and {"domain", "name", "fqdn", "type", "value"} <= set(r) for r in recs) and all(
        isinstance(p, dict) and {"ip", "name", "value"} <= set(p) for p in ptrs)
    report(shape, "records JSON has records[{domain,name,fqdn,type,value}] and ptr[{ip,name,value}]")
    if not shape:
        return 1
    have = [(fqdn(r["fqdn"]), r["type"].upper(), str(r["value"])) for r in recs]
    for d in domains:
        apex = fqdn(d)
        got = lambda name, typ, prefix="": any(
            n == name and t == typ and v.strip('"').startswith(prefix) for n, t, v in have)
        report(got(apex, "MX"), "JSON: %s MX" % d)
        report(got(apex, "TXT", "v=spf1"), "JSON: %s TXT v=spf1" % d)
        report(got(fqdn("%s._domainkey.%s" % (selector, d)), "TXT", "v=DKIM1"), "JSON: %s._domainkey.%s TXT v=DKIM1" % (selector, d))
        report(got(fqdn("_dmarc." + d), "TXT", "v=DMARC1"), "JSON: _dmarc.%s TXT v=DMARC1" % d)
    report(any(n == fqdn(hostname) and t == "A" and v == ipv4 for n, t, v in have), "JSON: %s A %s" % (hostname, ipv4))
    report(any(p["ip"] == ipv4 and fqdn(p["value"]) == fqdn(hostname) for p in ptrs), "JSON: PTR %s -> %s" % (ipv4, hostname))
    for n, t in sorted({(n, t) for n, t, _ in have}):
        print("DIG %s %s" % (n, t))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
