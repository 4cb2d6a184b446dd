# tests/e2e/amavis.sh — sourced by run.sh (phase 10c), with the set-up applied, named serving
# the zones ($N/db.<domain> including $N/records.<domain>) and postfix + opendkim running.
#
# amavisd-new (Debian 12's 2.13, stock /etc/amavis/conf.d) set up as an operator does from its
# README.postfix and README.dkim: content_filter smtp-amavis:[127.0.0.1]:10024 in main.cf, the
# smtp-amavis and 127.0.0.1:10025 services in master.cf, virus and spam checks bypassed in
# 50-user (no clamav/spamassassin here), the MYNETS policy bank (originating), and
# $enable_dkim_signing = 1 and a dkim_key(...) per
# domain (keys from `amavisd genrsa`, selector dkim). amavisd is started in the foreground
# (`amavisd foreground`, no systemd) and stopped by PID. Then both sound set-ups:
#   (a) signer = "opendkim": check names signer.double; `fix signer.double` turns amavisd-new's
#       signing off in 50-user (a one-line diff) and restarts it through /etc/init.d/amavis;
#       a message from each domain carries one DKIM-Signature (s=mail), verified by dkimpy;
#   (b) signer = "amavisd-new": signing on again; check names signer.double; `fix
#       signer.double` takes OpenDKIM out of main.cf; `records` names amavisd-new's selector and
#       key (amavisd showkeys), published in the zones; check passes; a message from each
#       domain carries one DKIM-Signature (s=dkim), verified by dkimpy.
# The files touched are put back at the end (and by the cleanup's restore: /etc/amavis,
# /var/lib/amavis and /run/amavis are in RESTORE_SPECS).

AMV_SEL=dkim
AMV_DIR=/var/lib/amavis/dkim
AMV_USER=/etc/amavis/conf.d/50-user
AMV_ORIG=$LAB/amavis-orig
AMV_PIDS=''

amavis_pids() { # the amavisd processes (comm is `/usr/sbin/amavi`, the name truncated)
  { cat /run/amavis/amavisd.pid 2>/dev/null; pgrep -f '^/usr/sbin/amavisd' 2>/dev/null; } | awk 'NF && !seen[$0]++'
}
amavis_stop() { # by PID: the master from the pid file and its children
  local p
  p=$(not_in "$PRE_AMAVIS" $(amavis_pids))
  [ -z "$p" ] || stop_pids amavisd $p || fail "amavisd did not stop on TERM"
}
amavis_send() { # amavis_send TAG : a message from each domain by SMTP; sets AMV_EXPECT
  local d subj
  AMV_EXPECT=()
  for d in "${DOMAINS[@]}"; do
    subj="e2e amavis $1 $d"
    check "swaks from sender@$d through amavisd-new accepted ($1)" \
      swaks --silent 2 --server 127.0.0.1:25 --helo "$HOST" --from "sender@$d" --to "$RCPT" --h-Subject "$subj" --body "e2e $1 via amavisd-new from $d"
    AMV_EXPECT+=("$subj=$d")
  done
  if ! wait_for 60 sh -c "[ \$(grep -c '^Subject: e2e amavis $1 ' $MBOX 2>/dev/null || echo 0) -ge ${#DOMAINS[@]} ]"; then
    fail "amavis $1: not every message was delivered to $MBOX within 60 s"
    find /var/spool/postfix/{incoming,active,deferred,hold} -type f 2>/dev/null | head | sed 's/^/  queued: /'
    show_logs
  fi
}

phase "10c. amavisd-new: one DKIM signer either way (signer = opendkim, then amavisd-new)"
t=$(date +%s%N)
mkdir -p "$AMV_ORIG"
cp -a /etc/postfix/main.cf /etc/postfix/master.cf "$AMV_USER" "$AMV_ORIG/"
# ---- the operator's amavisd-new set-up
mkdir -p "$AMV_DIR"
for d in "${DOMAINS[@]}"; do
  quiet_ok /usr/sbin/amavisd genrsa "$AMV_DIR/$d.pem" 2048 || fail "amavisd genrsa $d"
done
chown -R amavis:amavis "$AMV_DIR"; chmod 0750 "$AMV_DIR"
# mail from @mynetworks (127.0.0.0/8 here) is "originating", which amavisd-new signs only
# with the MYNETS policy bank defined (amavisd.conf-sample, README.dkim)
AMV_LINES="\$myhostname = \"$HOST\";\n@bypass_virus_checks_maps = (1);\n@bypass_spam_checks_maps = (1);\n\$policy_bank{'MYNETS'} = { originating => 1 };\n\$enable_dkim_signing = 1;"
for d in "${DOMAINS[@]}"; do AMV_LINES+="\ndkim_key('$d', '$AMV_SEL', '$AMV_DIR/$d.pem');"; done
sed -i "s|^#------------ Do not modify anything below this line -------------|$AMV_LINES\n&|" "$AMV_USER"
show_file "$AMV_USER"
cp -a "$AMV_USER" "$AMV_ORIG/50-user.signing"
postconf -e 'content_filter = smtp-amavis:[127.0.0.1]:10024'
cat >>/etc/postfix/master.cf <<'EOF'
# amavisd-new, as its README.postfix has it
smtp-amavis unix - - n - 2 smtp
    -o smtp_data_done_timeout=1200
    -o smtp_send_xforward_command=yes
    -o disable_dns_lookups=yes
    -o max_use=20
127.0.0.1:10025 inet n - n - - smtpd
    -o content_filter=
    -o local_recipient_maps=
    -o relay_recipient_maps=
    -o smtpd_restriction_classes=
    -o smtpd_delay_reject=no
    -o smtpd_client_restrictions=permit_mynetworks,reject
    -o smtpd_helo_restrictions=
    -o smtpd_sender_restrictions=
    -o smtpd_recipient_restrictions=permit_mynetworks,reject
    -o smtpd_data_restrictions=reject_unauth_pipelining
    -o smtpd_end_of_data_restrictions=
    -o mynetworks=127.0.0.0/8
    -o smtpd_error_sleep_time=0
    -o smtpd_soft_error_limit=1001
    -o smtpd_hard_error_limit=1000
    -o smtpd_client_connection_count_limit=0
    -o smtpd_client_connection_rate_limit=0
    -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters
EOF
quiet_ok postfix reload || fail "postfix reload with amavisd-new's services"
setsid /usr/sbin/amavisd foreground </dev/null >"$LAB/amavisd.out" 2>&1 &
AMV_PIDS=$!
if wait_for 60 listening 10024 && wait_for 20 listening 10025; then
  pass "amavisd-new listens on 127.0.0.1:10024 (pid $AMV_PIDS), postfix on 127.0.0.1:10025"
else
  fail "amavisd-new does not listen on 10024 (or postfix on 10025)"; show_file "$LAB/amavisd.out"
fi
timing "amavisd-new up" "$(secs "$t")"

# ---- (a) signer = "opendkim": amavisd-new's signing turned off
ms_stdout "$LAB/amv-a-check.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
check "(a) both sign: check exits 1 naming signer.double" \
  sh -c "test $MS_RC = 1 && grep -q '\"id\":\"signer.double\"' '$LAB/amv-a-check.json'"
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "(a) check prints the repair: mailsetup --answers … fix signer.double" \
  grep -q -- "fix: *mailsetup --answers .* fix signer.double\$" "$MS_OUT"
ms fix signer.double --yes --answers "$ANSWERS" "${LABNS[@]}"
check "(a) fix signer.double exits 0" test "$MS_RC" = 0
check "(a) its diff turns amavisd-new's signing off in 50-user, one line" \
  sh -c "grep -qxF -- '-\$enable_dkim_signing = 1;' '$MS_OUT' && grep -qxF -- '+\$enable_dkim_signing = 0;' '$MS_OUT'"
check "(a) it restarted amavisd-new" grep -q 'restarted amavis' "$MS_OUT"
check "(a) 50-user: only that line changed" \
  sh -c "diff '$AMV_ORIG/50-user.signing' '$AMV_USER' | grep '^[<>]' | tr '\n' ' ' | grep -qxF '< \$enable_dkim_signing = 1; > \$enable_dkim_signing = 0; '"
check "(a) 50-user keeps its owner and mode" \
  test "$(stat -c '%U:%G %a' "$AMV_USER")" = "$(stat -c '%U:%G %a' "$AMV_ORIG/50-user.signing")"
wait_for 60 listening 10024 || fail "(a) amavisd-new is not back on 10024 after the restart"
amavis_send opendkim
py_checks "$PY" "$HERE/dkim_verify.py" 127.0.0.1 "$DNS_PORT" "$MBOX" "$SELECTOR" "${AMV_EXPECT[@]}"

# ---- (b) signer = "amavisd-new": OpenDKIM unwired, records from amavisd-new's keys
AMV_ANSWERS=$LAB/answers-amavis.toml
{ cat "$ANSWERS"; echo 'signer = "amavisd-new"'; } >"$AMV_ANSWERS"
cp "$AMV_ORIG/50-user.signing" "$AMV_USER"
quiet_ok /etc/init.d/amavis restart || fail "(b) /etc/init.d/amavis restart"
wait_for 60 listening 10024 || fail "(b) amavisd-new is not back on 10024"
ms_stdout "$LAB/amv-b-check.json" check --answers "$AMV_ANSWERS" "${LABNS[@]}" --json
check "(b) both sign: check exits 1 naming signer.double, not milter.* or opendkim.*" \
  sh -c "test $MS_RC = 1 && grep -q '\"id\":\"signer.double\"' '$LAB/amv-b-check.json' && ! grep -Eq '\"id\":\"(milter|opendkim)\\.' '$LAB/amv-b-check.json'"
ms fix signer.double --yes --answers "$AMV_ANSWERS" "${LABNS[@]}"
check "(b) fix signer.double exits 0" test "$MS_RC" = 0
check "(b) OpenDKIM is out of smtpd_milters and non_smtpd_milters" \
  sh -c "! postconf -h smtpd_milters non_smtpd_milters | grep -q opendkim"
check "(b) amavisd-new still signs (50-user untouched)" cmp -s "$AMV_USER" "$AMV_ORIG/50-user.signing"
SERIAL3=$((SERIAL2 + 10))
zones_from "$AMV_ANSWERS" "$SERIAL3"
for d in "${DOMAINS[@]}"; do
  check "(b) records for $d name amavisd-new's selector $AMV_SEL" grep -q "^$AMV_SEL._domainkey" "$N/records.$d"
  want=$(/usr/sbin/amavisd showkeys 2>/dev/null | awk -v d="d=$d," '/^; key#/ {f = index($0, d) > 0; next} f' \
    | grep -o '"[^"]*"' | tr -d '"\n' | sed 's/.*p=//')
  got=$(tr -d '"\n\t ()' <"$N/records.$d" | grep -o 'p=[A-Za-z0-9+/=]*' | head -1 | cut -c3-)
  check "(b) the record for $d carries the key amavisd showkeys prints" test -n "$want" -a "$got" = "$want"
done
kill -HUP "$NAMED_PID"
served "$DNS_PORT" "$SERIAL3" "${DOMAINS[@]}"
ms_stdout "$LAB/amv-b-after.json" check --answers "$AMV_ANSWERS" "${LABNS[@]}" --json
check "(b) check passes: amavisd-new signs alone, with the published keys" test "$MS_RC" = 0
[ "$MS_RC" = 0 ] || head -c 1500 "$LAB/amv-b-after.json" | sed 's/^/  | /'
amavis_send amavisd-new
py_checks "$PY" "$HERE/dkim_verify.py" 127.0.0.1 "$DNS_PORT" "$MBOX" "$AMV_SEL" "${AMV_EXPECT[@]}"

# ---- put back what this phase changed; stop amavisd-new by PID
amavis_stop
cp -a "$AMV_ORIG/main.cf" "$AMV_ORIG/master.cf" /etc/postfix/
cp -a "$AMV_ORIG/50-user" "$AMV_USER"
rm -f /etc/amavis/conf.d/50-user.mailsetup-*
rm -rf "$AMV_DIR"
quiet_ok postfix reload || true
check "amavisd-new stopped" test -z "$(not_in "$PRE_AMAVIS" $(amavis_pids))"
