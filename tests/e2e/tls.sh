# tests/e2e/tls.sh: phase 10b2 of tests/e2e/run.sh (sourced there, after 10b, which leaves the
# set-up applied, Postfix running and named serving the zones; before 10c): TLS with the real
# Postfix and OpenSSL (issue #15, items 1-2).
#
# - a throw-away CA made with openssl in the lab directory, and a server certificate for
#   $HOST signed by it (the key left 0644, for the TLS step to make root-only), both in
#   /etc/postfix/e2e-tls (in the restore set: /etc/postfix);
# - apply a copy of the answers with tls_cert/tls_key: main.cf names them, the key is 0600
#   root, Postfix is reloaded; `openssl s_client -starttls smtp -verify_return_error -CAfile CA
#   -verify_hostname $HOST` verifies the certificate Postfix presents on 127.0.0.1:25 (and the
#   same for another name fails: the verification is real);
# - `check` passes with its tls line; then `smtpd_tls_protocols = !SSLv2` (postconf -e) is
#   tls.weak-protocol and `smtp_tls_security_level = none` is tls.outbound-off, each cleared
#   by `mailsetup fix ID --yes` (run.sh's break_fix);
# - every run of the phase rolled back (main.cf as 10b left it, the key 0644 again).

phase "10b2. TLS: a certificate from a throw-away CA, served by Postfix and verified by openssl s_client"
TLS_DIR=/etc/postfix/e2e-tls
TANSWERS=$LAB/answers-tls.toml
TLS_MAIN0=$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)
TLS_RUNS=0
mkdir -p "$LAB/ca" "$TLS_DIR"
{
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=mailsetup e2e CA" \
    -keyout "$LAB/ca/ca.key" -out "$LAB/ca/ca.pem"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" \
    -keyout "$TLS_DIR/key.pem" -out "$LAB/ca/server.csr"
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$HOST" >"$LAB/ca/ext"
  openssl x509 -req -in "$LAB/ca/server.csr" -CA "$LAB/ca/ca.pem" -CAkey "$LAB/ca/ca.key" \
    -CAcreateserial -days 365 -extfile "$LAB/ca/ext" -out "$TLS_DIR/cert.pem"
} >"$LAB/ca/openssl.log" 2>&1 || show_file "$LAB/ca/openssl.log"
chmod 0644 "$TLS_DIR/key.pem"
# the CA into the system bundle (tls_lab_cert's; put back by the cleanup), so that every check
# of this phase (break_fix's too) verifies the chain; valid a year: no tls.cert-expiring
cat "$LAB/ca/ca.pem" >>/etc/ssl/certs/ca-certificates.crt
check "10b2: a server certificate for $HOST signed by the throw-away CA" \
  openssl verify -CAfile "$LAB/ca/ca.pem" "$TLS_DIR/cert.pem"
{ cat "$ANSWERS"; printf 'tls_cert = "%s"\ntls_key = "%s"\n' "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem"; } >"$TANSWERS"

ms apply --answers "$TANSWERS" --yes
check "10b2: apply with tls_cert/tls_key exits 0" test "$MS_RC" = 0
[ "$MS_RC" = 0 ] && TLS_RUNS=$((TLS_RUNS + 1))
check "10b2: the plan made the key root-only" grep -q "fix owner/mode of $TLS_DIR/key.pem to root:root 0600" "$MS_OUT"
check "10b2: Postfix was reloaded" grep -q 'reload.*postfix\|postfix.*reload' "$MS_OUT"
check "10b2: main.cf names the certificate (postconf)" \
  test "$(postconf -h smtpd_tls_cert_file)" = "$TLS_DIR/cert.pem" -a "$(postconf -h smtpd_tls_key_file)" = "$TLS_DIR/key.pem"
check "10b2: smtpd_tls_protocols and smtp_tls_protocols are >=TLSv1.2, smtp_tls_loglevel 1" \
  test "$(postconf -h smtpd_tls_protocols) $(postconf -h smtp_tls_protocols) $(postconf -h smtp_tls_loglevel)" = ">=TLSv1.2 >=TLSv1.2 1"
check "10b2: the key is 0600 root:root" test "$(stat -c '%a %U %G' "$TLS_DIR/key.pem")" = "600 root root"
wait_for 10 listening 25 || true
s_client() { # s_client NAME : STARTTLS on 127.0.0.1:25, verified against the CA for NAME
  openssl s_client -starttls smtp -connect 127.0.0.1:25 -servername "$1" -verify_return_error \
    -CAfile "$LAB/ca/ca.pem" -verify_hostname "$1" </dev/null >"$LAB/s_client-$1.out" 2>&1
}
# a reload lets running smtpd processes finish first: ask until the new certificate is served
if wait_for 20 s_client "$HOST"; then
  pass "10b2: openssl s_client -starttls smtp -verify_return_error verifies Postfix's certificate for $HOST"
  check "10b2: ... with TLS 1.2 or newer" grep -Eq 'Protocol *: TLSv1\.[23]|TLSv1\.[23], Cipher' "$LAB/s_client-$HOST.out"
else
  fail "10b2: openssl s_client -starttls smtp -verify_return_error verifies Postfix's certificate for $HOST"
  show_file "$LAB/s_client-$HOST.out" | tail -20
fi
check "10b2: the same certificate for another name fails verification (the check is real)" \
  sh -c "! openssl s_client -starttls smtp -connect 127.0.0.1:25 -verify_return_error \
    -CAfile '$LAB/ca/ca.pem' -verify_hostname other.example.org </dev/null >/dev/null 2>&1"

ms_stdout "$LAB/check-tls.json" check --answers "$TANSWERS" "${LABNS[@]}" --json
check "10b2: check exits 0 with the certificate" test "$MS_RC" = 0
py_checks "$PY" "$HERE/check_json.py" "$LAB/check-tls.json" clean tls milter dkim
check "10b2: no tls.* finding (not even the snake-oil note)" sh -c "! grep -q '\"id\":\"tls\.' '$LAB/check-tls.json'"

# break and fix, with the TLS answers (break_fix reads $ANSWERS); each fix is one more run
TLS_ANSWERS_SAVED=$ANSWERS; ANSWERS=$TANSWERS
break_fix tls.weak-protocol "postconf -e 'smtpd_tls_protocols=!SSLv2'" fix
TLS_RUNS=$((TLS_RUNS + 1))
check "10b2: smtpd_tls_protocols is >=TLSv1.2 again" test "$(postconf -h smtpd_tls_protocols)" = ">=TLSv1.2"
break_fix tls.outbound-off "postconf -e 'smtp_tls_security_level=none'" fix
TLS_RUNS=$((TLS_RUNS + 1))
check "10b2: smtp_tls_security_level is may again" test "$(postconf -h smtp_tls_security_level)" = may
ANSWERS=$TLS_ANSWERS_SAVED

# undo the phase, the last run first: each fix's rollback brings back the line broken by hand
# before it, so the runs before it need --force (main.cf changed since they wrote it); the
# apply's rollback ends at main.cf as 10b left it
for _ in $(seq "$TLS_RUNS"); do
  ms rollback --yes --force
  check "10b2: rollback exits 0" test "$MS_RC" = 0
done
check "10b2: main.cf is back as 10b left it" test "$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)" = "$TLS_MAIN0"
check "10b2: the key has its mode back (0644)" test "$(stat -c '%a' "$TLS_DIR/key.pem")" = 644
rm -rf "$TLS_DIR"
wait_for 15 test -S "$SOCKDIR/opendkim.sock" || true
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "10b2: check passes again with the answers of 10b" test "$MS_RC" = 0
phase_end
