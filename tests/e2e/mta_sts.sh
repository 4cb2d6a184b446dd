# shellcheck shell=bash
# Phase 8a (sourced by run.sh after phase 8, named serving the zones of phase 5): MTA-STS
# (RFC 8461) and TLS-RPT (RFC 8460). The answers plus mta_sts = "testing" and tls_rpt_rua give
# `mailsetup records`; its zone output, unchanged, is served by named in place of each domain's
# records (plus `mta-sts.<d> A 127.0.0.1`); the policy file from `records --format json` is
# served over HTTPS on 127.0.0.1 by python3's http.server with a certificate for
# mta-sts.<d> from a throw-away CA made here with openssl. `check` passes the mta-sts, tls-rpt
# and mta-sts-policy lines (the fetch with --tls-ca and --mta-sts-port); broken records (no
# v=STSv1, an id with a space, a TLS-RPT record without rua=) fail with their id. At the end
# named serves the zones of phase 5 again and the web server is stopped (by PID).
phase "8a. MTA-STS and TLS-RPT: records served by named pass check; broken ones fail with their id"
STS=$LAB/sts; mkdir -p "$STS/www/.well-known"
STS_ANSWERS=$STS/answers.toml
STS_PORT=${STS_PORT:-8443}
{ cat "$ANSWERS"; printf '\nmta_sts = "testing"\ntls_rpt_rua = "mailto:tlsrpt@%s"\n' "${DOMAINS[0]}"; } >"$STS_ANSWERS"
STS_SERIAL=$((SERIAL + 10))

sts_zone() { # sts_zone DOMAIN RECORDS_FILE : db.DOMAIN with these records and a new serial; wait
  STS_SERIAL=$((STS_SERIAL + 1))
  sed -e "s/( [0-9]* /( $STS_SERIAL /" -e "s|^\\\$INCLUDE .*|\\\$INCLUDE \"$2\"|" "$N/db.$1.sts-orig" >"$N/db.$1"
  kill -HUP "$NAMED_PID"
  wait_for 10 sh -c "dig @127.0.0.1 -p $DNS_PORT +short $1 SOA | grep -q ' $STS_SERIAL '"
}
sts_has() { # sts_has FILE ID SUBJECT : check --json FILE has finding ID about SUBJECT
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f['id']==sys.argv[2] and f['subject']==sys.argv[3] for f in d['findings']) else 1)" "$1" "$2" "$3"
}
sts_lines_pass() { # sts_lines_pass FILE CHECK... : every domain has each CHECK line, passing
  "$PY" - "$1" "${DOMAINS[*]}" "${@:2}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
lines = {(c["check"], c["subject"]): c["status"] for c in d["checked"]}
want = [(c, dom) for dom in sys.argv[2].split() for c in sys.argv[3:]]
bad = [(w, lines.get(w)) for w in want if lines.get(w) != "pass"]
print("  lines: " + ", ".join("%s %s %s" % (c, s, lines.get((c, s))) for c, s in want))
sys.exit(1 if bad else 0)
EOF
}

ms_stdout "$STS/records.json" records --answers "$STS_ANSWERS" --format json
check "records --format json with mta_sts and tls_rpt_rua exits 0" test "$MS_RC" = 0
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.stdout.write(d['mta_sts_policies'][0]['text'])" \
  "$STS/records.json" >"$STS/www/.well-known/mta-sts.txt" || true
show_file "$STS/www/.well-known/mta-sts.txt"
check "the policy file is version STSv1, mode testing, mx $HOST" \
  sh -c "head -3 '$STS/www/.well-known/mta-sts.txt' | tr '\n' '|' | grep -qx 'version: STSv1|mode: testing|mx: $HOST|'"
for d in "${DOMAINS[@]}"; do
  ms_stdout "$STS/records.$d" records --answers "$STS_ANSWERS" --format zone --domain "$d"
  check "records --format zone --domain $d has _mta-sts and _smtp._tls TXT" \
    sh -c "grep -Eq '^_mta-sts[[:space:]]+IN[[:space:]]+TXT[[:space:]]+\"v=STSv1; id=[0-9a-f]{32}\"' '$STS/records.$d' \
      && grep -q '^_smtp._tls.*\"v=TLSRPTv1; rua=mailto:tlsrpt@${DOMAINS[0]}\"' '$STS/records.$d'"
  { cat "$STS/records.$d"; echo "mta-sts.$d. IN A 127.0.0.1"; } >"$STS/served.$d"
  check "named-checkzone $d accepts the records with MTA-STS and TLS-RPT" \
    quiet_ok named-checkzone "$d" <(sed "s|^\\\$INCLUDE .*|\\\$INCLUDE \"$STS/served.$d\"|" "$N/db.$d")
  cp "$N/db.$d" "$N/db.$d.sts-orig"
  check "named serves $d with the MTA-STS and TLS-RPT records" sts_zone "$d" "$STS/served.$d"
  check "dig _mta-sts.$d TXT gives the record" \
    sh -c "dig @127.0.0.1 -p $DNS_PORT +short _mta-sts.$d TXT | grep -q 'v=STSv1; id='"
done

# the throw-away CA and a certificate for mta-sts.<d> of every domain
SANS=$(printf 'DNS:mta-sts.%s,' "${DOMAINS[@]}"); SANS=${SANS%,}
(
  cd "$STS" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=mailsetup e2e CA" &&
  openssl req -newkey rsa:2048 -nodes -keyout web.key -out web.csr -subj "/CN=mta-sts.${DOMAINS[0]}" &&
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$SANS" >web.ext &&
  openssl x509 -req -in web.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out web.pem -days 2 -extfile web.ext
) >"$STS/openssl.log" 2>&1 || show_file "$STS/openssl.log"
check "openssl made the CA and the certificate for $SANS" test -s "$STS/web.pem"
cat >"$STS/serve.py" <<'EOF'
import functools, http.server, ssl, sys
root, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
srv = http.server.HTTPServer(("127.0.0.1", port), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
setsid "$PY" "$STS/serve.py" "$STS/www" "$STS_PORT" "$STS/web.pem" "$STS/web.key" </dev/null >"$STS/web.log" 2>&1 &
STS_WEB_PID=$!
check "the HTTPS server listens on 127.0.0.1:$STS_PORT" wait_for 10 listening "$STS_PORT"
check "curl fetches the policy with the test CA" \
  sh -c "curl -sf --cacert '$STS/ca.pem' --resolve 'mta-sts.${DOMAINS[0]}:$STS_PORT:127.0.0.1' \
    'https://mta-sts.${DOMAINS[0]}:$STS_PORT/.well-known/mta-sts.txt' | grep -q '^mode: testing'"

STSNS=(--nameserver "127.0.0.1:$DNS_PORT" --authoritative-port "$DNS_PORT")
ms_stdout "$STS/check-offline.json" check --answers "$STS_ANSWERS" "${STSNS[@]}" --offline --json
check "check --offline exits 0 with MTA-STS and TLS-RPT published" test "$MS_RC" = 0
py_checks "$PY" "$HERE/check_json.py" "$STS/check-offline.json" clean mta-sts tls-rpt dkim spf dmarc mx
check "check --offline: mta-sts and tls-rpt pass for every domain" sts_lines_pass "$STS/check-offline.json" mta-sts tls-rpt
check "check --offline fetches no policy (no mta-sts-policy line)" \
  sh -c "! grep -q '\"check\":\"mta-sts-policy\"' '$STS/check-offline.json'"
# the fetch: the port-25 probe goes to Postfix on 127.0.0.1 (phase 8), the policy to the
# HTTPS server, mta-sts.<d> resolved through named
ms_stdout "$STS/check-fetch.json" check --answers "$STS_ANSWERS" "${STSNS[@]}" --json \
  --port25-target 127.0.0.1:25 --tls-ca "$STS/ca.pem" --mta-sts-port "$STS_PORT"
check "check with the HTTPS fetch: mta-sts, tls-rpt and mta-sts-policy pass for every domain" \
  sts_lines_pass "$STS/check-fetch.json" mta-sts tls-rpt mta-sts-policy
ms_stdout "$STS/check-untrusted.json" check --answers "$STS_ANSWERS" "${STSNS[@]}" --json \
  --port25-target 127.0.0.1:25 --mta-sts-port "$STS_PORT"
check "without --tls-ca the test CA is not trusted: mta-sts.policy-unreachable" \
  sts_has "$STS/check-untrusted.json" mta-sts.policy-unreachable "${DOMAINS[0]}"

# broken records, one at a time, in the second domain's zone
B=${DOMAINS[1]}
sts_break() { # sts_break NAME AWK-REPLACEMENT-LINE ID WHAT
  awk -v name="$1" -v line="$2" '$1 == name { print line; next } { print }' "$STS/served.$B" >"$STS/broken.$B"
  if sts_zone "$B" "$STS/broken.$B"; then
    ms_stdout "$STS/check-broken.json" check --answers "$STS_ANSWERS" "${STSNS[@]}" --offline --json
    check "$4: check exits 1" test "$MS_RC" = 1
    check "$4: check names $3 for $B" sts_has "$STS/check-broken.json" "$3" "$B"
  else
    fail "named did not load the broken $B zone ($4)"
  fi
}
sts_break _mta-sts '_mta-sts IN TXT "id=abc"' mta-sts.syntax "_mta-sts without v=STSv1"
sts_break _mta-sts '_mta-sts IN TXT "v=STSv1; id=abc def"' mta-sts.syntax "_mta-sts id with a space"
sts_break _mta-sts '_mta-sts IN TXT "v=STSv1; id=20240101"' mta-sts.id-stale "_mta-sts with another id"
sts_break _smtp._tls '_smtp._tls IN TXT "v=TLSRPTv1"' tls-rpt.syntax "_smtp._tls without rua="

# back to the zones of phase 5, the web server stopped
for d in "${DOMAINS[@]}"; do
  check "named serves the $d zone of phase 5 again" sts_zone "$d" "$N/records.$d"
done
stop_pids sts-web "$STS_WEB_PID"; STS_WEB_PID=
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "the stock answers check clean again after phase 8a" test "$MS_RC" = 0
phase_end
