# tests/e2e/watch.sh — phase 8w, sourced by run.sh right after phase 8's `check --watch` (named
# serving the zones of phase 5, $BROKEN's intact at serial SERIAL+2; Postfix and OpenDKIM
# running): the daily check, with the command line of the packaged unit
# (assets/systemd/mailsetup-check.service's ExecStart, the state in
# /var/lib/mailsetup/check-state.json, `--mail-to root`) plus the lab's answers and DNS options,
# mailing through the real Postfix sendmail into root's mailbox ($MBOX):
#   - the baseline: exit 0, the state stored 0600; mailed when it holds findings (here the lab's
#     notes: dmarc.monitor-only, rbl.unknown), `Subject: mailsetup check: baseline, N new, …`;
#   - $BROKEN's SPF record withdrawn (serial +3): exactly `1 new, 0 cleared`, spf.missing, exit 1,
#     and one message in $MBOX: `Subject: mailsetup check: 1 new, 0 cleared on $HOST`, the
#     finding in its body;
#   - the same again: `no change`, exit 0, nothing mailed;
#   - the record back (serial +4): `0 new, 1 cleared`, exit 0, mailed.
# The state file is removed at the end (and /var/lib/mailsetup is in the restore set anyway).
phase "8w. check --state: the daily check, mailed to root through Postfix's sendmail"
W_UNIT="$REPO/assets/systemd/mailsetup-check.service"
W_EXEC=$(sed -n 's/^ExecStart=//p' "$W_UNIT")
read -r -a W_ARGS <<<"${W_EXEC#* }"   # the unit's arguments, without /usr/sbin/mailsetup
W_STATE=/var/lib/mailsetup/check-state.json
check "the unit runs: check --state $W_STATE --mail-to root" \
  test "${W_ARGS[*]}" = "check --state $W_STATE --mail-to root"
rm -f "$W_STATE"
w_mails() { local n; n=$(grep -c '^Subject: mailsetup check: ' "$MBOX" 2>/dev/null) || true; echo "${n:-0}"; }
w_run() { ms "${W_ARGS[@]}" --answers "$ANSWERS" "${LABNS[@]}"; }
# w_mailed N SUBJECT TEXT : the N-th "mailsetup check" message arrives (30 s) with SUBJECT and
# TEXT in its body
w_mailed() {
  local rc=0
  if ! wait_for 30 sh -c "[ \"\$(grep -c '^Subject: mailsetup check: ' '$MBOX' 2>/dev/null)\" -ge $1 ]"; then
    fail "no mailsetup check message number $1 in $MBOX after 30 s"
    return
  fi
  "$PY" - "$MBOX" "$1" "$2" "$3" >"$LAB/watch-mail-$1.txt" 2>&1 <<'EOF' || rc=$?
import mailbox, sys
msgs = [m for m in mailbox.mbox(sys.argv[1]) if str(m["Subject"] or "").startswith("mailsetup check: ")]
m = msgs[int(sys.argv[2]) - 1]
print(m.as_string())
ok = m["Subject"] == sys.argv[3] and sys.argv[4] in m.get_payload(decode=True).decode()
sys.exit(0 if ok and m["Auto-Submitted"] == "auto-generated" else 1)
EOF
  check "mail $1 in $MBOX: '$2', its body says '$3'" test "$rc" = 0
  show_file "$LAB/watch-mail-$1.txt" | head -20
}
W_BEFORE=$(w_mails)

w_run
check "baseline: exit 0, said to be the baseline" \
  sh -c "test $MS_RC = 0 && grep -q '^baseline: no earlier state' '$MS_OUT'"
check "baseline: the state is stored, root's, 0600" test "$(stat -c '%U %a' "$W_STATE")" = "root 600"
W_N=$(grep -c '^  [a-z]* [a-z0-9-]*\.[a-z0-9-]*: ' "$MS_OUT") || true
if [ "${W_N:-0}" = 0 ]; then
  sleep 3
  check "baseline without findings: nothing mailed" test "$(w_mails)" = "$W_BEFORE"
else
  W_BEFORE=$((W_BEFORE + 1))
  w_mailed "$W_BEFORE" "mailsetup check: baseline, $W_N new, 0 cleared on $HOST" "baseline: no earlier state"
fi

grep -v -E '^@[[:space:]]+IN[[:space:]]+TXT[[:space:]]+"v=spf1' "$N/records.$BROKEN" >"$N/records.$BROKEN.nospf"
if set_zone $((SERIAL + 3)) "$N/records.$BROKEN.nospf"; then
  w_run
  check "$BROKEN's SPF record withdrawn: exit 1, exactly one change" \
    sh -c "test $MS_RC = 1 && grep -q '^1 new, 0 cleared since the last check (' '$MS_OUT'"
  check "the new finding is spf.missing for $BROKEN" grep -q "^  error spf.missing: $BROKEN " "$MS_OUT"
  w_mailed $((W_BEFORE + 1)) "mailsetup check: 1 new, 0 cleared on $HOST" "error spf.missing: $BROKEN"
  w_run
  check "the same again: no change, exit 0" \
    sh -c "test $MS_RC = 0 && grep -q '^no change since the last check (' '$MS_OUT'"
  sleep 3
  check "nothing changed: nothing mailed" test "$(w_mails)" = "$((W_BEFORE + 1))"
else
  fail "named did not load $BROKEN without its SPF record (serial $((SERIAL + 3)))"
fi
if set_zone $((SERIAL + 4)) "$N/records.$BROKEN"; then
  w_run
  check "$BROKEN's SPF record back: cleared, exit 0" \
    sh -c "test $MS_RC = 0 && grep -q '^0 new, 1 cleared since the last check (' '$MS_OUT' && grep -q '^  error spf.missing: $BROKEN ' '$MS_OUT'"
  w_mailed $((W_BEFORE + 2)) "mailsetup check: 0 new, 1 cleared on $HOST" "cleared:"
else
  fail "named did not load the intact $BROKEN zone again (serial $((SERIAL + 4)))"
fi
rm -f "$W_STATE"
