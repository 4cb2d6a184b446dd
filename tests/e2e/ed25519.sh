# tests/e2e/ed25519.sh — sourced by run.sh (phase 10a3), after 10a2: the stock set-up phase
# 10 rolled back, named serving the zones.
#
# Ed25519 dual signing (RFC 8463, answers `algorithms`) with the real daemons. Debian 12's
# OpenDKIM 2.11.0~beta2 signs every SigningTable match with its one SignatureAlgorithm, so
# mailsetup runs a second instance (/etc/opendkim-ed25519.conf, SignatureAlgorithm
# ed25519-sha256, its own tables) as a milter right after the first:
# - apply --yes with algorithms = ["rsa-sha256", "ed25519-sha256"]: the second instance's
#   files, its milter in main.cf, the instance started (no systemd here: directly);
# - both DKIM records published in the lab's named; check and selftest pass (the selftest
#   hands its message to both sockets and verifies both signatures);
# - a message by sendmail and one by SMTP, read back from the mailbox: each carries two
#   DKIM-Signatures, a=rsa-sha256 and a=ed25519-sha256, and dkimpy (python3-nacl) verifies
#   both against the lab's named;
# - apply with RSA only takes the milter out and stops the instance;
# - every run of the phase rolled back (the last first): the instance stopped, its files gone,
#   main.cf as before.

ED_CONF=/etc/opendkim-ed25519.conf
ED_PIDFILE=/run/opendkim/opendkim-ed25519.pid
ED_SOCK=$SOCKDIR/opendkim-ed25519.sock
ED_MILTERS="local:opendkim/opendkim.sock, local:opendkim/opendkim-ed25519.sock"

ed_running() { local p; p=$(cat "$ED_PIDFILE" 2>/dev/null) && [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = opendkim ]; }
ed_stopped() { ! ed_running; }

# dkimpy on the message with this subject in the mailbox: two signatures, one per algorithm,
# each verified with keys from the lab's named (PASS/FAIL lines for py_checks)
ed_verify() {
  "$PY" - "$MBOX" "$1" "$DNS_PORT" <<'EOF'
import mailbox, re, sys
import dkim, dns.resolver
box, subject, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = port
def txt(name, timeout=5):
    answer = r.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    return b"".join(b"".join(rr.strings) for rr in answer)
msgs = [m for m in mailbox.mbox(box) if str(m["Subject"]) == subject]
if len(msgs) != 1:
    print("FAIL %d messages with subject %r (want 1)" % (len(msgs), subject)); sys.exit(1)
m = msgs[0]
raw = m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
sigs = m.get_all("DKIM-Signature") or []
algs = [re.search(r"a=([^;\s]+)", re.sub(r"\s+", "", str(s))).group(1) for s in sigs]
print("INFO %r: DKIM-Signature a=%s" % (subject, ", a=".join(algs)))
fails = 0
def report(ok, what):
    global fails
    print("%s %s" % ("PASS" if ok else "FAIL", what)); fails += not ok
report(sorted(algs) == ["ed25519-sha256", "rsa-sha256"],
       "%r carries two DKIM-Signatures, a=rsa-sha256 and a=ed25519-sha256" % subject)
d = dkim.DKIM(raw)
for i, a in enumerate(algs):
    report(d.verify(idx=i, dnsfunc=txt), "dkimpy verifies the a=%s signature of %r" % (a, subject))
sys.exit(1 if fails else 0)
EOF
}

ed25519_phase() {
  local EANSWERS=$LAB/answers-ed25519.toml
  { cat "$ANSWERS"; echo 'algorithms = ["rsa-sha256", "ed25519-sha256"]'; } >"$EANSWERS"
  local MAIN0; MAIN0=$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)

  ms plan --answers "$EANSWERS"
  check "10a3: plan writes $ED_CONF and restarts opendkim-ed25519 (exit 1)" \
    sh -c "test $MS_RC = 1 && grep -q '^# $ED_CONF: ' '$MS_OUT' && grep -q 'then restart opendkim-ed25519' '$MS_OUT'"
  ms apply --answers "$EANSWERS" --yes
  check "10a3: apply --yes with ed25519-sha256 exits 0" test "$MS_RC" = 0
  [ "$MS_RC" = 0 ] || { fail "10a3: apply failed; ed25519 not tested further"; return 0; }
  check "10a3: opendkim -n accepts $ED_CONF" quiet_ok opendkim -n -x "$ED_CONF"
  check "10a3: $ED_CONF signs with ed25519-sha256" grep -Eq '^SignatureAlgorithm[[:space:]]+ed25519-sha256$' "$ED_CONF"
  check "10a3: /etc/opendkim.conf keeps rsa-sha256 alone" \
    sh -c "grep -Eq '^SignatureAlgorithm[[:space:]]+rsa-sha256$' /etc/opendkim.conf && ! grep -q ed25519 /etc/opendkim.conf /etc/opendkim/KeyTable /etc/opendkim/SigningTable"
  check "10a3: main.cf smtpd_milters: OpenDKIM, then its Ed25519 instance" pc smtpd_milters "$ED_MILTERS"
  check "10a3: main.cf non_smtpd_milters likewise" pc non_smtpd_milters "$ED_MILTERS"
  check "10a3: opendkim-ed25519 runs (started by apply; its pid file names a live opendkim)" ed_running
  check "10a3: its socket $ED_SOCK exists" wait_for 10 test -S "$ED_SOCK"
  ms plan --answers "$EANSWERS"
  check "10a3: a second plan has nothing to do" test "$MS_RC" = 0

  # the apply made new keys (the rollback of phase 10 retired the old ones): publish both records
  local SERIAL4=$((SERIAL + 7))
  zones_from "$EANSWERS" "$SERIAL4"
  kill -HUP "$NAMED_PID"
  served "$DNS_PORT" "$SERIAL4" "${DOMAINS[@]}"
  check "10a3: the lab serves ed25519._domainkey.${DOMAINS[0]} (k=ed25519)" \
    sh -c "dig @127.0.0.1 -p $DNS_PORT +short ed25519._domainkey.${DOMAINS[0]} TXT | grep -q 'k=ed25519'"
  ms check --answers "$EANSWERS" "${LABNS[@]}"
  check "10a3: check passes with both records and both instances" test "$MS_RC" = 0
  ms_stdout "$LAB/ed-selftest.json" selftest --answers "$EANSWERS" "${LABNS[@]}" --json
  check "10a3: selftest (both sockets) exits 0" test "$MS_RC" = 0
  check "10a3: selftest verified two signatures per domain ($((2 * ${#DOMAINS[@]})) selftest.signed)" \
    test "$(grep -o '"selftest.signed"' "$LAB/ed-selftest.json" | wc -l)" = "$((2 * ${#DOMAINS[@]}))"

  # real mail: by sendmail (non_smtpd_milters) and by SMTP (smtpd_milters)
  local S1="e2e ed25519 sendmail $$" S2="e2e ed25519 smtp $$"
  printf 'From: sender@%s\nTo: %s\nSubject: %s\n\nsigned twice\n' "${DOMAINS[0]}" "$RCPT" "$S1" \
    | /usr/sbin/sendmail -f "sender@${DOMAINS[0]}" "$RCPT"
  swaks --silent 2 --server 127.0.0.1:25 --helo "$HOST" --from "sender@${DOMAINS[1]}" --to "$RCPT" \
    --h-From "sender@${DOMAINS[1]}" --h-Subject "$S2" --body "signed twice" >/dev/null 2>&1 ||
    fail "10a3: swaks to 127.0.0.1:25 failed"
  local S
  for S in "$S1" "$S2"; do
    if wait_for 20 sh -c "grep -q '^Subject: $S' $MBOX"; then
      py_checks ed_verify "$S"
    else
      fail "10a3: the message $S did not arrive in $MBOX"
    fi
  done

  # turned off: the milter out of main.cf, the instance stopped
  ms apply --answers "$ANSWERS" --yes
  check "10a3: apply with RSA only exits 0 and stops opendkim-ed25519" \
    sh -c "test $MS_RC = 0 && grep -q 'opendkim-ed25519' '$MS_OUT'"
  check "10a3: main.cf smtpd_milters names OpenDKIM only" pc smtpd_milters local:opendkim/opendkim.sock
  check "10a3: opendkim-ed25519 is stopped" wait_for 10 ed_stopped

  # undo the phase's runs, the last first, until the Ed25519 apply is undone
  local n=0
  while [ "$n" -lt 4 ] && [ -e "$ED_CONF" ]; do
    ms rollback --yes; n=$((n + 1))
    check "10a3: rollback $n exits 0" test "$MS_RC" = 0
    [ "$MS_RC" = 0 ] || break
  done
  check "10a3: $ED_CONF and /etc/opendkim/ed25519 are gone" sh -c "test ! -e '$ED_CONF' && test ! -e /etc/opendkim/ed25519"
  check "10a3: opendkim-ed25519 is not running after the rollback" ed_stopped
  check "10a3: main.cf is as before the phase" test "$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)" = "$MAIN0"
  check "10a3: opendkim runs again after the rollback" test -n "$(pgrep -x opendkim || true)"
}

phase "10a3. ed25519: a second OpenDKIM instance; two signatures per message, dkimpy verifies both"
t=$(date +%s%N)
ed25519_phase
timing "ed25519" "$(secs "$t")"
phase_end
