# shellcheck shell=bash
# Phase 8c (sourced by run.sh after 8b, named serving the zones of phase 5, Postfix and OpenDKIM
# running): records for a fleet (`records --fleet`, issue #17). A second server, mx2.<first
# domain> at $FL_IP with its own selector `mx2`, is applied beneath its own --root (a copy of
# tests/fixtures/debian12: its keys are made there, nothing of the host is touched); this host's
# and its `records --json` are merged, and the merged zone output, unchanged, is served by named
# in place of each domain's records. named-checkzone accepts it; pyspf gives pass for both hosts'
# addresses and not for another; dkimpy verifies a message signed with mx2's key under s=mx2;
# `check` on this host passes (SPF naming mx2's address too, mx2's selector beside its own), and
# on mx2's tree has no SPF or DKIM finding; a third server on this host's selector with its own
# key is refused by the merge. At the end named serves the zones of phase 5 again.
phase "8c. fleet: records --fleet merges two servers; named serves it; pyspf, dkimpy and check pass"
FL=$LAB/fleet; mkdir -p "$FL"
FL_IP=192.0.2.20
FL_HOST=mx2.${DOMAINS[0]}
FL_SERIAL=$((SERIAL + 50))

fleet_zone() { # fleet_zone DOMAIN RECORDS_FILE : db.DOMAIN includes these records, a new serial; wait
  FL_SERIAL=$((FL_SERIAL + 1))
  sed -e "s/( [0-9]* /( $FL_SERIAL /" -e "s|^\\\$INCLUDE .*|\\\$INCLUDE \"$2\"|" "$N/db.$1.fleet-orig" >"$N/db.$1"
  kill -HUP "$NAMED_PID"
  wait_for 10 sh -c "dig @127.0.0.1 -p $DNS_PORT +short $1 SOA | grep -q ' $FL_SERIAL '"
}
fleet_host() { # fleet_host NAME SELECTOR [KEY_BITS] : server NAME.<first domain> at $FL_IP, applied
  # beneath $FL/NAME with this host's answers but for hostname, address, selector (and key_bits)
  cp -a "$REPO/tests/fixtures/debian12" "$FL/$1"
  sed -e "s/^hostname = .*/hostname = \"$1.${DOMAINS[0]}\"/" -e "s/^ipv4 = .*/ipv4 = \"$FL_IP\"/" \
    -e "s/^selector = .*/selector = \"$2\"/" -e "s/^key_bits = .*/key_bits = ${3:-2048}/" \
    "$ANSWERS" >"$FL/$1.toml"
  ms apply --root "$FL/$1" --answers "$FL/$1.toml" --yes -q
  check "apply --yes beneath $1's root exits 0" test "$MS_RC" = 0
  ms_stdout "$FL/$1.json" records --root "$FL/$1" --answers "$FL/$1.toml" --json
  check "records --json of $1 exits 0" test "$MS_RC" = 0
}

fleet_host mx2 mx2
show_file "$FL/mx2.toml"
ms_stdout "$FL/this.json" records --answers "$ANSWERS" --json
check "records --json of this host exits 0" test "$MS_RC" = 0
for d in "${DOMAINS[@]}"; do
  ms_stdout "$FL/records.$d" records --fleet "$FL/this.json" "$FL/mx2.json" --format zone --domain "$d"
  check "records --fleet this.json mx2.json --domain $d exits 0" test "$MS_RC" = 0
  show_file "$FL/records.$d"
  check "the merged SPF record of $d names both servers' addresses" \
    grep -Eq "^@[[:space:]]+IN[[:space:]]+TXT[[:space:]]+\"v=spf1 a mx ip4:$IPV4 ip4:$FL_IP ~all\"$" "$FL/records.$d"
  check "the merged records of $d have one DKIM record per selector ($SELECTOR, mx2)" \
    sh -c "test \"\$(grep -Ec '^($SELECTOR|mx2)\._domainkey[[:space:]]' '$FL/records.$d')\" = 2"
  check "the merged records of $d have an MX for each server" \
    sh -c "grep -Eq '^@[[:space:]]+IN[[:space:]]+MX[[:space:]]+10 $HOST\.$' '$FL/records.$d' && grep -Eq '^@[[:space:]]+IN[[:space:]]+MX[[:space:]]+10 $FL_HOST\.$' '$FL/records.$d'"
  cp "$N/db.$d" "$N/db.$d.fleet-orig"
  sed "s|^\\\$INCLUDE .*|\\\$INCLUDE \"$FL/records.$d\"|" "$N/db.$d.fleet-orig" >"$FL/db.$d"
  check "named-checkzone $d accepts the header + the merged records" quiet_ok named-checkzone "$d" "$FL/db.$d"
  check "named serves the merged records of $d" fleet_zone "$d" "$FL/records.$d"
done

FL_SPF=()
for d in "${DOMAINS[@]}"; do
  FL_SPF+=("$IPV4,sender@$d,pass" "$FL_IP,sender@$d,pass" "$BAD_IP,sender@$d,fail|softfail")
done
py_checks "$PY" -W ignore "$HERE/spf_check.py" 127.0.0.1 "$DNS_PORT" "$HOST" "${FL_SPF[@]}"
# mx2 runs no OpenDKIM here: dkimpy signs with its key, as its OpenDKIM would, and verifies
# against named
for d in "${DOMAINS[@]}"; do
  py_checks "$PY" - 127.0.0.1 "$DNS_PORT" "$FL/mx2/etc/opendkim/keys/$d/mx2.private" "$d" <<'EOF'
import sys
import dkim
import dns.resolver
ns, port, key, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = dns.resolver.Resolver(configure=False)
r.nameservers = [ns]
r.port = port
r.lifetime = 5
dns.resolver.default_resolver = r  # dkim.dnsplug uses dnspython's default resolver
msg = ("From: postmaster@%s\r\nTo: root@localhost\r\nSubject: e2e fleet\r\n"
       "Message-ID: <fleet.%s@mx2>\r\n\r\nsigned with mx2's key\r\n" % (d, d)).encode()
sig = dkim.sign(msg, b"mx2", d.encode(), open(key, "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"message-id"])
ok = dkim.verify(sig + msg)
print("%s dkimpy: a message from %s signed with mx2's key (s=mx2) verifies against the merged zone"
      % ("PASS" if ok else "FAIL", d))
EOF
done

ms_stdout "$FL/check.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
check "check of this host against the merged zones exits 0" test "$MS_RC" = 0
py_checks "$PY" "$HERE/check_json.py" "$FL/check.json" clean dkim spf dmarc mx a ptr ns rbl
ms_stdout "$FL/check-mx2.json" check --root "$FL/mx2" --answers "$FL/mx2.toml" "${LABNS[@]}" --json
py_checks "$PY" - "$FL/check-mx2.json" "${DOMAINS[@]}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ours = [f["id"] for f in d["findings"] if f["id"].split(".")[0] in ("spf", "dkim")]
print("%s check of mx2 (beneath its root): no spf.* or dkim.* finding %s"
      % ("FAIL" if ours else "PASS", ours))
lines = {(c["check"], c["subject"]): c["status"] for c in d["checked"]}
for dom in sys.argv[2:]:
    for kind in ("spf", "dkim"):
        st = lines.get((kind, dom))
        print("%s check of mx2: %s %s %s" % ("PASS" if st == "pass" else "FAIL", kind, dom, st))
EOF

# a third server on this host's selector with a key of its own: the merge refuses, naming both
fleet_host mx3 "$SELECTOR" 1024
ms records --fleet "$FL/this.json" "$FL/mx3.json"
check "records --fleet with two servers on selector $SELECTOR and different keys exits 2, naming both and the fix" \
  sh -c "test $MS_RC = 2 && grep -q '$HOST' '$MS_OUT' && grep -q 'mx3.${DOMAINS[0]}' '$MS_OUT' \
    && grep -q 'own selector' '$MS_OUT' && grep -q 'mailsetup rotate --selector mx3' '$MS_OUT'"

# back to the zones of phase 5
for d in "${DOMAINS[@]}"; do
  check "named serves the $d zone of phase 5 again" fleet_zone "$d" "$N/records.$d"
done
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "the stock answers check clean again after phase 8c" test "$MS_RC" = 0
phase_end
