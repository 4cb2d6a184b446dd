# tests/e2e/inbound_dmarc.sh: phase 10a of tests/e2e/run.sh (sourced there, after the rollback
# of phase 10 and before 10b): inbound DMARC with Debian's real OpenDMARC (issue #14, item 2).
#
# - apply a copy of the answers with `inbound_dmarc = true`: opendmarc.conf and its socket in
#   Postfix's chroot, OpenDMARC after OpenDKIM in smtpd_milters (not in non_smtpd_milters),
#   postfix in group opendmarc, opendmarc (re)started;
# - a test domain in the lab's BIND with `v=DMARC1; p=reject` and `v=spf1 -all`: a message
#   from it, sent unsigned by swaks from $DMARC_SRC (a documentation address put on lo for the
#   phase: OpenDMARC ignores 127.0.0.1 (IgnoreHosts), and libspf2 passes every loopback address,
#   "localhost is always allowed"), gets `dmarc=fail` in Authentication-Results; with
#   `dmarc_reject_failures = true` it is refused with 550 at the end of DATA;
# - a message OpenDKIM signed for a configured domain (sendmail, read back from the mailbox)
#   sent again from $DMARC_SRC gets `dmarc=pass` (OpenDKIM verifies it, OpenDMARC trusts
#   OpenDKIM's Authentication-Results: TrustedAuthservIDs = the hostname);
# - break/fix (run.sh's break_fix): opendmarc.not-running and opendmarc.socket-permission on
#   the running server;
# - everything undone: `mailsetup rollback` until the inbound DMARC apply is undone (the last
#   run first), opendmarc stopped by PID, the address taken off lo.
#
# OpenDMARC resolves with the system resolver (libresolv, and libspf2 for SPFSelfValidate), so
# it runs in a mount namespace whose /etc/resolv.conf names the lab's named on 127.0.0.1:53;
# without :53 (ALSO_53=0 or the port in use) or unshare the phase is skipped, not failed.
# OpenDKIM, which verifies with libunbound, is restarted with a copy of its configuration that
# adds `Nameservers 127.0.0.1` (the lab's named) and no root trust anchor (the lab is unsigned).

DMARC_SOCK=/var/spool/postfix/opendmarc/opendmarc.sock
SPOOF=spoofed.example
DMARC_PIDFILE=/run/opendmarc/opendmarc.pid
DMARC_SRC=198.51.100.25   # RFC 5737 TEST-NET-2, on lo while the phase runs (run.sh's cleanup removes it too)

opendmarc_pids() { echo $(cat "$DMARC_PIDFILE" 2>/dev/null || true) $(pgrep -x opendmarc || true) | tr ' ' '\n' | awk 'NF && !seen[$0]++'; }
stop_opendmarc() { local p; p=$(not_in "${PRE_ODM:-}" $(opendmarc_pids)); [ -z "$p" ] || stop_pids opendmarc $p || true; }
stop_opendkim() { local p; p=$(not_in "$PRE_ODK" $(cat /run/opendkim/opendkim.pid 2>/dev/null || true) $(pgrep -x opendkim || true) | awk '!seen[$0]++'); [ -z "$p" ] || stop_pids opendkim $p || true; }

# OpenDMARC in a mount namespace that resolves through the lab's named (as the init script
# starts it: -c /etc/opendmarc.conf -u opendmarc -P pidfile), then wait for its socket.
start_opendmarc_lab() {
  stop_opendmarc
  install -d -o opendmarc -g opendmarc -m 0750 /run/opendmarc
  rm -f "$DMARC_SOCK"
  unshare -m sh -c "mount --bind '$LAB/resolv.conf' /etc/resolv.conf && exec /usr/sbin/opendmarc -c /etc/opendmarc.conf -u opendmarc -P $DMARC_PIDFILE" \
    >"$LAB/opendmarc.start" 2>&1 || sed 's/^/  | /' "$LAB/opendmarc.start"
  wait_for 15 test -S "$DMARC_SOCK"
}

# OpenDKIM with a copy of its configuration that asks the lab's named (unchanged otherwise).
start_opendkim_lab() {
  stop_opendkim
  sed -e '/^TrustAnchorFile/d' /etc/opendkim.conf >"$LAB/opendkim-lab.conf"
  echo "Nameservers 127.0.0.1" >>"$LAB/opendkim-lab.conf"
  install -d -o opendkim -g opendkim -m 0755 /run/opendkim
  /usr/sbin/opendkim -x "$LAB/opendkim-lab.conf" -u opendkim -P /run/opendkim/opendkim.pid \
    >"$LAB/opendkim.start" 2>&1 || sed 's/^/  | /' "$LAB/opendkim.start"
  wait_for 15 test -S "$SOCKDIR/opendkim.sock"
}

# the Authentication-Results OpenDMARC added to the message with this subject, from the mailbox
dmarc_ar() {
  "$PY" - "$MBOX" "$1" <<'EOF'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    if str(m["Subject"]) == sys.argv[2]:
        print("\n".join(" ".join(str(v).split()) for v in m.get_all("Authentication-Results") or []))
EOF
}
wait_ar() { # wait_ar SUBJECT PATTERN : the message arrived and an A-R line matches PATTERN
  wait_for 20 sh -c "'$PY' -c 'import mailbox,sys; sys.exit(0 if any(str(m[\"Subject\"])==sys.argv[2] for m in mailbox.mbox(sys.argv[1])) else 1)' '$MBOX' '$1'" || return 1
  dmarc_ar "$1" | sed 's/^/  A-R: /'
  dmarc_ar "$1" | grep -E "$2" >/dev/null   # not -q: an early exit breaks the pipe (pipefail)
}

inbound_dmarc_phase() {
  local DANSWERS=$LAB/answers-dmarc.toml RANSWERS=$LAB/answers-dmarc-reject.toml
  { cat "$ANSWERS"; echo "inbound_dmarc = true"; } >"$DANSWERS"
  { cat "$DANSWERS"; echo "dmarc_reject_failures = true"; } >"$RANSWERS"
  local GROUP_ODM0=0; if id -nG postfix | grep -qw opendmarc; then GROUP_ODM0=1; fi
  local CONF0; CONF0=$("$PY" "$HERE/state.py" show /etc/opendmarc.conf)

  ms plan --answers "$DANSWERS"
  check "10a: plan with inbound_dmarc = true edits opendmarc.conf and restarts opendmarc" \
    sh -c "grep -q '^# /etc/opendmarc.conf: ' '$MS_OUT' && grep -q 'then restart opendmarc' '$MS_OUT'"
  ms apply --answers "$DANSWERS" --yes
  check "10a: apply --yes with inbound_dmarc = true exits 0" test "$MS_RC" = 0
  [ "$MS_RC" = 0 ] || { fail "10a: apply failed; inbound DMARC not tested further"; return 0; }
  check "10a: main.cf smtpd_milters: OpenDKIM, then OpenDMARC" \
    pc smtpd_milters "local:opendkim/opendkim.sock, local:opendmarc/opendmarc.sock"
  check "10a: main.cf non_smtpd_milters without OpenDMARC" pc non_smtpd_milters local:opendkim/opendkim.sock
  check "10a: opendmarc -n accepts /etc/opendmarc.conf" quiet_ok opendmarc -n -c /etc/opendmarc.conf
  check "10a: opendmarc runs (started by apply)" test -n "$(pgrep -x opendmarc || true)"
  check "10a: its socket $DMARC_SOCK exists" wait_for 10 test -S "$DMARC_SOCK"
  check "10a: /var/spool/postfix/opendmarc is opendmarc:opendmarc 0750" \
    test "$(stat -c '%U:%G %a' /var/spool/postfix/opendmarc 2>/dev/null)" = "opendmarc:opendmarc 750"
  check "10a: postfix is in group opendmarc" sh -c 'id -nG postfix | grep -qw opendmarc'
  ms plan --answers "$DANSWERS"
  check "10a: a second plan has nothing to do" test "$MS_RC" = 0

  # the rollback of phase 10 removed the keys and this apply made new ones: publish those,
  # and the test domain whose policy is p=reject and whose SPF permits nobody
  local SERIAL3=$((SERIAL + 5)) d
  zones_from "$DANSWERS" "$SERIAL3"
  cat >"$N/db.$SPOOF" <<EOF
\$ORIGIN $SPOOF.
\$TTL 300
@       IN SOA  ns1.${DOMAINS[0]}. hostmaster.$SPOOF. ( $SERIAL3 3600 600 86400 300 )
@       IN NS   ns1.${DOMAINS[0]}.
@       IN TXT  "v=spf1 -all"
_dmarc  IN TXT  "v=DMARC1; p=reject"
EOF
  grep -q "zone \"$SPOOF\"" "$N/named.conf" || echo "zone \"$SPOOF\" { type primary; file \"$N/db.$SPOOF\"; };" >>"$N/named.conf"
  kill -HUP "$NAMED_PID"
  served 53 "$SERIAL3" "${DOMAINS[@]}" "$SPOOF"
  check "10a: _dmarc.$SPOOF says p=reject (on 127.0.0.1:53)" sh -c "dig @127.0.0.1 +short _dmarc.$SPOOF TXT | grep -q 'p=reject'"
  ms check --answers "$DANSWERS" "${LABNS[@]}"
  check "10a: check passes with inbound DMARC on" test "$MS_RC" = 0

  # a sender address that is neither 127.0.0.1 nor loopback at all
  ip addr add "$DMARC_SRC/32" dev lo 2>/dev/null || true
  check "10a: $DMARC_SRC is on lo for the phase" sh -c "ip -o addr show dev lo | grep -q ' $DMARC_SRC/32 '"
  # both milters resolving through the lab
  check "10a: OpenDMARC restarted in a namespace resolving through 127.0.0.1:53" start_opendmarc_lab
  check "10a: OpenDKIM restarted asking the lab's named" start_opendkim_lab

  # 1. unsigned, From a p=reject domain whose SPF fails: dmarc=fail, delivered (RejectFailures false)
  local S1="e2e dmarc fail $$"
  check "10a: swaks from $DMARC_SRC as $SPOOF accepted (RejectFailures false)" \
    swaks --silent 2 --server $DMARC_SRC:25 --local-interface $DMARC_SRC --helo "mx.$SPOOF" \
      --from "someone@$SPOOF" --to "$RCPT" --h-From "someone@$SPOOF" --h-Subject "$S1" --body "spoofed"
  check "10a: it arrived with Authentication-Results: dmarc=fail header.from=$SPOOF" \
    wait_ar "$S1" "^$HOST; dmarc=fail .*header\.from=$SPOOF"

  # 2. signed by OpenDKIM for a configured domain: sendmail (signed on the way out), then the
  # message as delivered sent again from $DMARC_SRC (verified on the way in): dmarc=pass
  local S2="e2e dmarc signed $$" S3="e2e dmarc pass $$"
  printf 'From: sender@%s\nTo: %s\nSubject: %s\n\nsigned by OpenDKIM\n' "${DOMAINS[0]}" "$RCPT" "$S2" \
    | /usr/sbin/sendmail -f "sender@${DOMAINS[0]}" "$RCPT"
  if wait_for 20 sh -c "grep -q '^Subject: $S2' $MBOX"; then
    "$PY" - "$MBOX" "$S2" "$S3" "$LAB/dmarc-pass.eml" <<'EOF'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    if str(m["Subject"]) == sys.argv[2]:
        for h in ("Return-Path", "Delivered-To", "Received", "Authentication-Results"):
            del m[h]
        raw = m.as_bytes()
        # the Subject is not among the signed headers that must stay: it is, so keep it and
        # only tell the copy apart by an extra, unsigned header
        raw = raw.replace(b"\nSubject: ", b"\nX-E2E-Copy: " + sys.argv[3].encode() + b"\nSubject: ", 1)
        open(sys.argv[4], "wb").write(raw.replace(b"\n", b"\r\n"))
EOF
    check "10a: the OpenDKIM-signed message carries a DKIM-Signature d=${DOMAINS[0]}" grep -q "d=${DOMAINS[0]}" "$LAB/dmarc-pass.eml"
    check "10a: the signed message sent again from $DMARC_SRC is accepted" \
      swaks --silent 2 --server $DMARC_SRC:25 --local-interface $DMARC_SRC --helo "$HOST" \
        --from "sender@${DOMAINS[0]}" --to "$RCPT" --data "@$LAB/dmarc-pass.eml"
    check "10a: it arrived with Authentication-Results: dkim=pass and dmarc=pass header.from=${DOMAINS[0]}" \
      sh -c "sleep 2; '$PY' - '$MBOX' '$S3' <<'EOF'
import mailbox, sys
for m in mailbox.mbox(sys.argv[1]):
    if str(m.get('X-E2E-Copy')) == sys.argv[2]:
        ar = [' '.join(str(v).split()) for v in m.get_all('Authentication-Results') or []]
        print('\n'.join('  A-R: ' + a for a in ar))
        sys.exit(0 if any('dmarc=pass' in a and 'header.from=${DOMAINS[0]}' in a for a in ar) else 1)
sys.exit(1)
EOF"
  else
    fail "10a: the sendmail message from ${DOMAINS[0]} did not arrive"
  fi

  # 3. RejectFailures: the same spoofed message is refused at the end of DATA
  ms apply --answers "$RANSWERS" --yes
  check "10a: apply with dmarc_reject_failures = true exits 0" test "$MS_RC" = 0
  check "10a: only opendmarc.conf changed (RejectFailures true)" grep -q '^+RejectFailures.*true' "$MS_OUT"
  check "10a: OpenDMARC restarted in the lab namespace" start_opendmarc_lab
  local S4="e2e dmarc reject $$" out
  out=$(swaks --server $DMARC_SRC:25 --local-interface $DMARC_SRC --helo "mx.$SPOOF" \
    --from "someone@$SPOOF" --to "$RCPT" --h-From "someone@$SPOOF" --h-Subject "$S4" --body "spoofed" 2>&1 || true)
  echo "$out" | grep -E '^<\*\* |^<~\* ' | sed 's/^/  | /' || true
  check "10a: with RejectFailures the p=reject failure is refused with 550 at the end of DATA" \
    sh -c "printf '%s\n' \"\$1\" | grep -Eq '^<\\*\\* +550[ -]'" _ "$out"
  sleep 1
  check "10a: ... and was not delivered" sh -c "! grep -q '^Subject: $S4' $MBOX"

  # break and repair on the running server (break_fix of 10b, with the dmarc answers)
  local ANSWERS_SAVED=$ANSWERS; ANSWERS=$RANSWERS
  break_fix opendmarc.not-running "kill \$(cat $DMARC_PIDFILE); i=0; while pgrep -x opendmarc >/dev/null && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i + 1)); done" "/etc/init.d/opendmarc start; i=0; while [ ! -S $DMARC_SOCK ] && [ \$i -lt 150 ]; do sleep 0.1; i=\$((i + 1)); done"
  break_fix opendmarc.socket-permission "gpasswd -d postfix opendmarc && postfix reload" fix
  ANSWERS=$ANSWERS_SAVED

  ip addr del "$DMARC_SRC/32" dev lo 2>/dev/null || true
  # undo this phase's runs (the two applies, and the fix of opendmarc.socket-permission), the
  # last first, until the inbound DMARC apply is undone; then OpenDMARC is stopped as before
  local n=0
  while [ "$n" -lt 4 ] && postconf -h smtpd_milters | grep -q opendmarc; do
    ms rollback --yes; n=$((n + 1))
    check "10a: rollback $n exits 0" test "$MS_RC" = 0
    [ "$MS_RC" = 0 ] || break
  done
  stop_opendmarc
  check "10a: opendmarc.conf restored" test "$("$PY" "$HERE/state.py" show /etc/opendmarc.conf)" = "$CONF0"
  local NOW_ODM=0; if id -nG postfix | grep -qw opendmarc; then NOW_ODM=1; fi
  check "10a: postfix in group opendmarc as before ($GROUP_ODM0)" test "$NOW_ODM" = "$GROUP_ODM0"
  check "10a: main.cf names no OpenDMARC" sh -c "! postconf -h smtpd_milters | grep -q opendmarc"
  # the rollback restarted OpenDKIM with its restored configuration (the lab's copy is gone)
  check "10a: opendkim runs again after the rollback" test -n "$(pgrep -x opendkim || true)"
}

phase "10a2. inbound DMARC: OpenDMARC after OpenDKIM, dmarc=fail / pass / 550"
if [ "$USE_53" != 1 ]; then
  echo "  SKIP: inbound DMARC needs the lab's named on 127.0.0.1:53 (OpenDMARC resolves with the"
  echo "        system resolver), and :53 was in use or ALSO_53=0"
elif ! unshare -m true 2>/dev/null; then
  echo "  SKIP: inbound DMARC needs unshare -m (a private /etc/resolv.conf for OpenDMARC)"
elif [ ! -x /usr/sbin/opendmarc ]; then
  echo "  SKIP: opendmarc is not installed (tests/e2e/deps.sh installs it)"
else
  inbound_dmarc_phase
fi
phase_end
