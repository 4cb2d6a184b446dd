# tests/e2e/tls_checks.sh — sourced by run.sh: the certificate and STARTTLS checks (issue #15
# item 3) against the real Postfix.
#
# tls_lab_cert (run.sh calls it before phase 8): a throw-away CA made with openssl; a server
# certificate for $HOST signed by it is written over Debian's snake-oil pair
# (/etc/ssl/certs/ssl-cert-snakeoil.pem, /etc/ssl/private/ssl-cert-snakeoil.key), which the
# stock main.cf names, and the CA is appended to the system bundle
# (/etc/ssl/certs/ca-certificates.crt): every later `check` of this run then sees a trusted
# certificate without touching main.cf (which rollback compares). The three files are in
# RESTORE_SPECS: the cleanup puts them back byte-identical.
#
# tls_phase (phase 8b): `openssl s_client -starttls smtp -verify_return_error` verifies the
# certificate Postfix serves for $HOST; `check --tls-ca CA` has no tls.* finding and both tls
# lines pass (the configured certificate, and STARTTLS on 127.0.0.1:25); with another CA as
# --tls-ca it is tls.cert-untrusted; then Postfix is pointed (postconf -e, postfix reload) at
# an expired certificate and at one for another name: s_client refuses each, and check names
# tls.cert-expired, tls.cert-name-mismatch; main.cf is put back (cp -p) and reloaded, and the
# check passes again.

TLS_DIR='' TLS_CA=''
SNAKE_CERT=/etc/ssl/certs/ssl-cert-snakeoil.pem
SNAKE_KEY=/etc/ssl/private/ssl-cert-snakeoil.key
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

tls_ca() { # tls_ca NAME: a CA in $TLS_DIR (NAME.pem, NAME.key) and its `openssl ca` config NAME.cnf
  local d=$TLS_DIR n=$1
  mkdir -p "$d/$n.db"; : >"$d/$n.db/index.txt"; echo 1000 >"$d/$n.db/serial"
  openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mailsetup e2e $n" \
    -keyout "$d/$n.key" -out "$d/$n.pem" -config <(printf '[req]\ndistinguished_name=dn\nx509_extensions=v3\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n') 2>"$d/$n.err"
  printf '[ca]\ndefault_ca=lab\n[lab]\ndatabase=%s\nnew_certs_dir=%s\nserial=%s\ncertificate=%s\nprivate_key=%s\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n' \
    "$d/$n.db/index.txt" "$d/$n.db" "$d/$n.db/serial" "$d/$n.pem" "$d/$n.key" >"$d/$n.cnf"
}

tls_leaf() { # tls_leaf CA NAME START END DNSNAME... : $TLS_DIR/NAME.pem + NAME.key, signed by CA
  local d=$TLS_DIR ca=$1 n=$2 start=$3 end=$4; shift 4
  local san; san=$(printf 'DNS:%s,' "$@"); san=${san%,}
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$d/$n.key" -out "$d/$n.csr" 2>"$d/$n.err"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$san" >"$d/$n.ext"
  openssl ca -batch -notext -config "$d/$ca.cnf" -startdate "$start" -enddate "$end" \
    -extfile "$d/$n.ext" -in "$d/$n.csr" -out "$d/$n.pem" 2>>"$d/$n.err"
}

# s_client_verify : openssl verifies what Postfix on 127.0.0.1:25 serves for $HOST against the lab CA
s_client_verify() {
  openssl s_client -starttls smtp -connect 127.0.0.1:25 -servername "$HOST" -verify_return_error \
    -CAfile "$TLS_CA" -verify_hostname "$HOST" </dev/null >"$TLS_DIR/s_client.out" 2>&1
}

# serves NAME : the certificate Postfix serves now is $TLS_DIR/NAME.pem
serves() {
  local now want
  now=$(openssl s_client -starttls smtp -connect 127.0.0.1:25 </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null) || return 1
  want=$(openssl x509 -in "$TLS_DIR/$1.pem" -noout -fingerprint -sha256)
  [ -n "$now" ] && [ "$now" = "$want" ]
}

tls_lab_cert() {
  TLS_DIR=$LAB/tls; mkdir -p "$TLS_DIR"; TLS_CA=$TLS_DIR/ca.pem
  tls_ca ca
  tls_ca other
  tls_leaf ca good 20250101000000Z 20350101000000Z "$HOST"
  tls_leaf ca expired 20200101000000Z 20210101000000Z "$HOST"
  tls_leaf ca wrongname 20250101000000Z 20350101000000Z mail.example.com
  check "openssl made the lab CA and its server certificates" \
    test -s "$TLS_DIR/good.pem" -a -s "$TLS_DIR/expired.pem" -a -s "$TLS_DIR/wrongname.pem"
  # in place: the files keep their owner and mode (the key root:ssl-cert 0640)
  cat "$TLS_DIR/good.pem" >"$SNAKE_CERT"
  cat "$TLS_DIR/good.key" >"$SNAKE_KEY"
  cat "$TLS_CA" >>"$CA_BUNDLE"
  postfix reload >/dev/null 2>&1 || true
  check "Postfix serves the lab certificate for $HOST" wait_for 15 serves good
}

tls_ids() { # tls_ids FILE : the tls.* ids of a check --json, sorted, space-separated
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(' '.join(sorted(f['id'] for f in d['findings'] if f['id'].startswith('tls.'))))" "$1"
}

tls_lines() { # tls_lines FILE : the certificate and STARTTLS tls lines of a check --json (the TLS step's main.cf line left out): 'status subject' per line
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print('\n'.join(c['status']+' '+c['subject'] for c in d['checked'] if c['check']=='tls' and c['subject']!='/etc/postfix/main.cf'))" "$1"
}

# point_postfix_at NAME : main.cf's smtpd_tls_cert_file/key_file to $TLS_DIR/NAME.{pem,key}, reloaded
point_postfix_at() {
  postconf -e "smtpd_tls_cert_file=$TLS_DIR/$1.pem" "smtpd_tls_key_file=$TLS_DIR/$1.key"
  postfix reload >/dev/null 2>&1 || true
  check "Postfix serves $1.pem after postconf -e and postfix reload" wait_for 15 serves "$1"
}

# refused NAME ID WHY : Postfix pointed at $TLS_DIR/NAME.pem; openssl s_client refuses it (WHY:
# the words of its refusal to show) and check (--tls-ca the lab CA) exits 1 naming exactly ID;
# the check's JSON is $LAB/tls-NAME.json
refused() {
  local n=$1 id=$2 why=$3 f=$LAB/tls-$1.json ids
  point_postfix_at "$n"
  if s_client_verify; then fail "s_client verified $n.pem"; else
    pass "s_client refuses $n.pem: $(grep -m1 -o "$why" "$TLS_DIR/s_client.out" || grep -m1 'Verify return code' "$TLS_DIR/s_client.out")"; fi
  ms_stdout "$f" check --answers "$ANSWERS" "${LABNS[@]}" --tls-ca "$TLS_CA" --json
  ids=$(tls_ids "$f")
  check "check with Postfix on $n.pem exits 1 with exactly $id (got: '$ids')" \
    sh -c "test $MS_RC = 1 && test '$ids' = $id"
}

tls_phase() {
  local f ids
  check "openssl s_client -starttls smtp -verify_return_error verifies $HOST against the lab CA" s_client_verify
  grep -m1 'Verify return code' "$TLS_DIR/s_client.out" | sed 's/^/  | /' || true
  f=$LAB/tls-good.json
  ms_stdout "$f" check --answers "$ANSWERS" "${LABNS[@]}" --tls-ca "$TLS_CA" --json
  ids=$(tls_ids "$f"); tls_lines "$f" | sed 's/^/  | /'
  check "check --tls-ca CA (the good certificate) exits 0 with no tls.* finding (got: '$ids')" \
    sh -c "test $MS_RC = 0 && test -z '$ids'"
  check "both tls lines pass: the configured certificate and STARTTLS on 127.0.0.1:25" \
    test "$(tls_lines "$f" | tr '\n' '|')" = "pass smtpd_tls_cert_file $SNAKE_CERT|pass STARTTLS on 127.0.0.1:25|"
  # another CA: the same certificate is untrusted (the configured one and the one served are
  # the same, so it is said once)
  f=$LAB/tls-other-ca.json
  ms_stdout "$f" check --answers "$ANSWERS" "${LABNS[@]}" --tls-ca "$TLS_DIR/other.pem" --json
  ids=$(tls_ids "$f")
  check "check --tls-ca OTHER-CA exits 1 with exactly tls.cert-untrusted (got: '$ids')" \
    sh -c "test $MS_RC = 1 && test '$ids' = tls.cert-untrusted"

  cp -p /etc/postfix/main.cf "$TLS_DIR/main.cf.saved"
  refused expired tls.cert-expired 'certificate has expired'
  grep -o '"message":"the certificate of [^"]*expired on 2021-01-01 00:00 UTC' "$LAB/tls-expired.json" |
    head -1 | sed 's/^/  | /' || fail "the tls.cert-expired message gives no date"
  refused wrongname tls.cert-name-mismatch 'hostname mismatch'   # a certificate for mail.example.com

  # Postfix's own settings back, byte-identical (rollback compares main.cf)
  cp -p "$TLS_DIR/main.cf.saved" /etc/postfix/main.cf
  postfix reload >/dev/null 2>&1 || true
  check "main.cf restored byte-identical" cmp -s "$TLS_DIR/main.cf.saved" /etc/postfix/main.cf
  check "Postfix serves the lab certificate again" wait_for 15 serves good
  f=$LAB/tls-back.json
  ms_stdout "$f" check --answers "$ANSWERS" "${LABNS[@]}" --json
  ids=$(tls_ids "$f")
  check "check (system store, the lab CA in it) exits 0 with no tls.* finding again (got: '$ids')" \
    sh -c "test $MS_RC = 0 && test -z '$ids'"
}
