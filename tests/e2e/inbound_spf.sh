# tests/e2e/inbound_spf.sh — phase 10a of run.sh (sourced; uses its helpers and variables):
# inbound SPF with Debian's postfix-policyd-spf-python, wired by `mailsetup apply` with
# `inbound_spf = true` (issue #14 item 1).
#
# 1. apply the answers plus inbound_spf = true on the stock set-up phase 10 left; master.cf has
#    the policyd-spf spawn service, main.cf asks it after reject_unauth_destination; check passes
#    with no spf-policy finding
# 2. the zone gets spf-e2e.example.org "v=spf1 ip4:127.0.0.3 -all"; mynetworks = 127.0.0.1/32
#    (main.cf saved first, put back after); Postfix is started in a mount namespace whose
#    /etc/resolv.conf names 127.0.0.1 (named on :53) and whose policyd-spf.conf skips only
#    127.0.0.1 (the package skips 127.0.0.0/8), both bind mounts: the real files stay as they are
# 3. swaks from 127.0.0.2: refused at RCPT with policyd-spf's 550 5.7.23 (SPF fail); from
#    127.0.0.3: accepted and delivered with `Received-SPF: Pass`
# 4. break: the service lines removed from master.cf: check names spf-policy.service-missing and
#    prints its fix; `mailsetup fix spf-policy.service-missing --yes` clears it
# 5. main.cf back, Postfix back in the host's namespace, the runs rolled back: main.cf and
#    master.cf as before the phase
# Skipped with a message (not failed) when named does not serve on 127.0.0.1:53, or the agent
# or unshare/mount is not there.

spf_skip() { echo "  SKIP (inbound SPF): $*"; }

spf_phase() {
  local spf_answers=$LAB/answers-spf.toml zone=$N/db.${DOMAINS[0]} domain=spf-e2e.${DOMAINS[0]}
  local main0 master0 main_applied serial out mb rc
  if [ "$USE_53" != 1 ] || [ -z "$(dig +time=1 +tries=1 @127.0.0.1 -p 53 "${DOMAINS[0]}" SOA +short 2>/dev/null)" ]; then
    spf_skip "named does not serve on 127.0.0.1:53 (ALSO_53=0, or the port was busy): policyd-spf resolves through the system resolver"
    return 0
  fi
  if [ ! -x /usr/bin/policyd-spf ] || ! id policyd-spf >/dev/null 2>&1; then
    spf_skip "postfix-policyd-spf-python is not installed (tests/e2e/deps.sh installs it)"
    return 0
  fi
  if ! unshare -m sh -c "mount --bind /dev/null /dev/null" 2>/dev/null; then
    spf_skip "unshare -m with mount --bind is not available"
    return 0
  fi
  main0=$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)
  master0=$("$PY" "$HERE/state.py" show /etc/postfix/master.cf)

  # 1. apply
  { cat "$ANSWERS"; echo "inbound_spf = true"; } >"$spf_answers"
  ms apply --answers "$spf_answers" --yes
  check "apply --yes with inbound_spf = true exits 0" test "$MS_RC" = 0
  [ "$MS_RC" = 0 ] || return 0
  check "master.cf runs policyd-spf as a spawn service" \
    sh -c "postconf -M policyd-spf/unix | grep -q 'spawn user=policyd-spf argv=/usr/bin/policyd-spf'"
  check "main.cf: policyd-spf_time_limit = 3600" test "$(postconf -h policyd-spf_time_limit)" = 3600
  check "main.cf asks the agent after reject_unauth_destination" \
    sh -c "postconf -h smtpd_recipient_restrictions | grep -q 'reject_unauth_destination, check_policy_service unix:private/policyd-spf'"
  check "Debian's smtpd_relay_restrictions are untouched" \
    test "$(postconf -h smtpd_relay_restrictions)" = "permit_mynetworks permit_sasl_authenticated defer_unauth_destination"
  ms plan --answers "$spf_answers"
  check "plan after it exits 0 (nothing pending)" test "$MS_RC" = 0
  ms_stdout "$LAB/spf-check.json" check --answers "$spf_answers" "${LABNS[@]}" --json
  check "check with inbound_spf = true: no spf-policy finding" sh -c "! grep -q '\"id\":\"spf-policy\\.' '$LAB/spf-check.json'"
  grep -q '"check":"spf-policy"' "$LAB/spf-check.json" && pass "check has an spf-policy line" || fail "check has no spf-policy line"

  # 2. a sender domain whose SPF permits 127.0.0.3 only; mynetworks = 127.0.0.1/32; Postfix in
  #    a mount namespace resolving through named on :53, the agent skipping 127.0.0.1 only
  serial=$((SERIAL + 5))
  printf '%s\n' "spf-e2e IN TXT \"v=spf1 ip4:127.0.0.3 -all\"" >>"$zone"
  sed -i "s/( [0-9]* 3600 /( $serial 3600 /" "$zone"
  kill -HUP "$NAMED_PID"
  wait_for 10 sh -c "dig @127.0.0.1 -p 53 +short $domain TXT | grep -q 127.0.0.3" \
    || fail "named does not serve the TXT of $domain"
  main_applied=$LAB/main.cf.applied
  cat /etc/postfix/main.cf >"$main_applied"
  postconf -e "mynetworks = 127.0.0.1/32"
  echo "nameserver 127.0.0.1" >"$LAB/resolv.conf"
  sed 's|^skip_addresses *=.*|skip_addresses = 127.0.0.1/32,::1|' \
    /etc/postfix-policyd-spf-python/policyd-spf.conf >"$LAB/policyd-spf.conf"
  grep -q '^skip_addresses = 127.0.0.1/32,::1$' "$LAB/policyd-spf.conf" \
    || echo "skip_addresses = 127.0.0.1/32,::1" >>"$LAB/policyd-spf.conf"
  postfix stop >/dev/null 2>&1 || true
  wait_for 20 no_postfix_procs || fail "postfix did not stop"
  unshare -m sh -c "mount --bind '$LAB/resolv.conf' /etc/resolv.conf \
    && mount --bind '$LAB/policyd-spf.conf' /etc/postfix-policyd-spf-python/policyd-spf.conf \
    && postfix start" >"$LAB/spf-postfix-start.log" 2>&1 || { show_file "$LAB/spf-postfix-start.log"; fail "postfix start in a mount namespace"; }
  wait_for 15 listening 25 || fail "postfix does not listen on 25 in its namespace"

  # 3. the agent at work
  out=$LAB/spf-fail.swaks
  swaks --server 127.0.0.1:25 --local-interface 127.0.0.2 --helo client.${DOMAINS[1]} \
    --from "sender@$domain" --to "$RCPT" --h-Subject "e2e inbound spf fail" >"$out" 2>&1 || true
  check "from 127.0.0.2 (not permitted by $domain's SPF): refused at RCPT with policyd-spf's 550 5.7.23" \
    sh -c "grep -A2 '^ *-> RCPT TO' '$out' | grep -Eq '^ *<\\*\\* *550 5\\.7\\.23 .*SPF fail'"
  grep -E '^ *(<\*\*|->) ' "$out" | head -8 | sed 's/^/  | /' || true
  out=$LAB/spf-pass.swaks
  swaks --server 127.0.0.1:25 --local-interface 127.0.0.3 --helo client.${DOMAINS[1]} \
    --from "sender@$domain" --to "$RCPT" --h-Subject "e2e inbound spf pass" >"$out" 2>&1 \
    && rc=0 || rc=$?
  check "from 127.0.0.3 (permitted): accepted" test "$rc" = 0
  [ "$rc" = 0 ] || sed 's/^/  | /' "$out"
  if wait_for 30 grep -q '^Subject: e2e inbound spf pass' "$MBOX"; then
    mb=$LAB/spf-pass.eml
    "$PY" - "$MBOX" "$mb" <<'EOF'
import mailbox, sys
box = mailbox.mbox(sys.argv[1])
for key in box.keys():
    if str(box[key]["Subject"]) == "e2e inbound spf pass":
        open(sys.argv[2], "wb").write(box.get_bytes(key))
EOF
    grep -m1 '^Received-SPF:' "$mb" | sed 's/^/  | /' || true
    check "... delivered with Received-SPF: Pass (client-ip=127.0.0.3)" \
      sh -c "grep -q '^Received-SPF: Pass .*client-ip=127.0.0.3' '$mb'"
  else
    fail "the message from 127.0.0.3 was not delivered to $MBOX in 30 s"
  fi

  # 4. break and repair
  sed -i '/^policyd-spf unix - n n - 0 spawn$/,/^  user=policyd-spf argv=\/usr\/bin\/policyd-spf$/d' /etc/postfix/master.cf
  postfix reload >/dev/null 2>&1 || true
  ms_stdout "$LAB/spf-broken.json" check --answers "$spf_answers" "${LABNS[@]}" --json
  check "spf-policy.service-missing: produced by master.cf without the service" \
    sh -c "test $MS_RC = 1 && grep -q '\"id\":\"spf-policy.service-missing\"' '$LAB/spf-broken.json'"
  ms check --answers "$spf_answers" "${LABNS[@]}"
  check "spf-policy.service-missing: check prints the repair: mailsetup --answers … fix spf-policy.service-missing" \
    grep -q -- "fix: *mailsetup --answers .* fix spf-policy.service-missing\$" "$MS_OUT"
  ms fix spf-policy.service-missing --yes --answers "$spf_answers" "${LABNS[@]}"
  check "spf-policy.service-missing: fix exits 0" test "$MS_RC" = 0
  ms_stdout "$LAB/spf-fixed.json" check --answers "$spf_answers" "${LABNS[@]}" --json
  check "spf-policy.service-missing: cleared by its fix" \
    sh -c "! grep -q '\"id\":\"spf-policy\\.' '$LAB/spf-fixed.json'"
  check "... the service is back in master.cf" \
    sh -c "postconf -M policyd-spf/unix | grep -q 'argv=/usr/bin/policyd-spf'"

  # 5. put everything back: main.cf's mynetworks, Postfix in the host's namespace, the runs
  #    (the fix's run first, which brings back the master.cf this phase broke; the entry is
  #    then put back by hand as the fix wrote it, so that the apply's run is not "edited")
  cat /etc/postfix/master.cf >"$LAB/master.cf.fixed"
  cat "$main_applied" >/etc/postfix/main.cf
  postfix stop >/dev/null 2>&1 || true
  wait_for 20 no_postfix_procs || fail "postfix did not stop"
  /etc/init.d/postfix start >/dev/null 2>&1 || fail "postfix did not start again"
  wait_for 15 listening 25 || true
  ms rollback --yes
  check "rollback --yes (the fix's run) exits 0" test "$MS_RC" = 0
  check "... which brings back master.cf as it was broken (no policyd-spf service)" \
    sh -c "! postconf -M policyd-spf/unix | grep -q ."
  cat "$LAB/master.cf.fixed" >/etc/postfix/master.cf
  ms rollback --yes
  check "rollback --yes (the inbound_spf apply) exits 0" test "$MS_RC" = 0
  check "main.cf is as before the phase" test "$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)" = "$main0"
  check "master.cf is as before the phase" test "$("$PY" "$HERE/state.py" show /etc/postfix/master.cf)" = "$master0"
}

t=$(date +%s%N)
spf_phase
timing "inbound SPF" "$(secs "$t")"
