# tests/e2e/rotate.sh — sourced by run.sh (phase 10d), after 10c: named serving the zones,
# postfix + opendkim running (amavisd-new stopped).
#
# `mailsetup rotate` with the real OpenDKIM and BIND: ${DOMAINS[0]} gets a second nameserver,
# ns2 (a second named on 127.0.0.2:$DNS_PORT, an address added to lo for it and taken away at
# the end; stopped by PID, and by the cleanup's sweep of named processes). The new record is withheld from ns2: rotate exits 1 naming ns2,
# the SigningTable keeps the old selector and mail still verifies with dkimpy under it; a
# rotate killed while waiting leaves its state, and the next one resumes it; published at both
# servers, rotate switches KeyTable and SigningTable, restarts OpenDKIM, and mail verifies with
# dkimpy under the new selector; `rotate --finish` retires the old key and names the record to
# delete. The cleanup's restore puts /etc/opendkim and /var/lib/mailsetup back.

phase "10d. DKIM key rotation gated on every nameserver (a second named withholds the record)"
t=$(date +%s%N)
RD=${DOMAINS[0]}
ROT_STATE=/var/lib/mailsetup/rotation.json
# the OpenDKIM set-up and its records again (10c published amavisd-new's keys)
ms apply --answers "$ANSWERS" --yes
check "rotate: apply --yes before the rotation exits 0" test "$MS_RC" = 0
SERIAL4=$((SERIAL + 100))
N2=$LAB/named2; mkdir -p "$N2/work"; chown bind:bind "$N2/work"
: >"$N/rotate-new.$RD"; : >"$N2/rotate-new.$RD"
rot_zone() { # rot_zone FILE SERIAL NEW-RECORD-FILE : the rotating domain's zone with ns1 and ns2
  cat >"$1" <<EOF
\$ORIGIN $RD.
\$TTL 60
@       IN SOA  ns1.$RD. hostmaster.$RD. ( $2 3600 600 86400 60 )
@       IN NS   ns1.$RD.
@       IN NS   ns2.$RD.
ns1     IN A    127.0.0.1
ns2     IN A    127.0.0.2
\$INCLUDE "$N/records.$RD"
\$INCLUDE "$3"
EOF
}
zones_from "$ANSWERS" "$SERIAL4"
rot_zone "$N/db.$RD" "$SERIAL4" "$N/rotate-new.$RD"
rot_zone "$N2/db.$RD" "$SERIAL4" "$N2/rotate-new.$RD"
named_conf "$N2" "listen-on port $DNS_PORT { 127.0.0.2; };" \
  "zone \"$RD\" { type primary; file \"$N2/db.$RD\"; };"
check "rotate: named-checkconf (ns2)" quiet_ok named-checkconf "$N2/named.conf"
kill -HUP "$NAMED_PID"
# named listens only on addresses an interface has: lo has 127.0.0.1/8, not 127.0.0.2
ROT_LO_ADDED=0
if ! ip -4 addr show dev lo | grep -q ' 127\.0\.0\.2/'; then
  ip addr add 127.0.0.2/32 dev lo && ROT_LO_ADDED=1 || fail "rotate: cannot add 127.0.0.2 to lo"
fi
setsid named -f -u bind -c "$N2/named.conf" </dev/null >"$N2/named.stdout" 2>&1 &
NAMED2_PID=$!
wait_for 20 sh -c "dig +time=1 +tries=1 @127.0.0.2 -p $DNS_PORT +short $RD SOA | grep -q ' $SERIAL4 '" \
  || { show_file "$N2/named.stdout"; show_file "$N2/work/named.log"; fail "rotate: ns2 (127.0.0.2:$DNS_PORT) does not serve $RD"; }
served "$DNS_PORT" "$SERIAL4" "${DOMAINS[@]}"
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "rotate: check passes with two nameservers for $RD before the rotation" test "$MS_RC" = 0

reload_zone() { # reload_zone DIR PID SERIAL ADDR : new serial in DIR/db.$RD, HUP, wait for it
  sed -i "s/( [0-9]* 3600 /( $3 3600 /" "$1/db.$RD"
  kill -HUP "$2"
  wait_for 10 sh -c "dig @$4 -p $DNS_PORT +short $RD SOA | grep -q ' $3 '"
}
rot_send() { # rot_send TAG : one message from $RD by SMTP, delivered to $MBOX
  check "rotate: swaks from sender@$RD accepted ($1)" \
    swaks --silent 2 --server 127.0.0.1:25 --helo "$HOST" --from "sender@$RD" --to "$RCPT" --h-Subject "e2e rotate $1" --body "e2e rotate $1"
  wait_for 30 grep -q "^Subject: e2e rotate $1\$" "$MBOX" || fail "rotate: 'e2e rotate $1' not delivered within 30 s"
}

# ---- 1. the new key; nothing published yet: rotate waits, then gives up naming the servers
ms rotate --answers "$ANSWERS" "${LABNS[@]}" --yes --timeout 3 --interval 1
check "rotate: exits 1 while no nameserver serves the new record" test "$MS_RC" = 1
NEWSEL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["rotations"][0]["new_selector"])' "$ROT_STATE" 2>/dev/null || true)
check "rotate: the state is on disk with a new selector ($NEWSEL)" test -n "$NEWSEL" -a "$NEWSEL" != "$SELECTOR"
NEWKEY=/etc/opendkim/keys/$RD/$NEWSEL.private
check "rotate: the new key is opendkim:opendkim 0600" test "$(stat -c '%U:%G %a' "$NEWKEY" 2>/dev/null)" = "opendkim:opendkim 600"
check "rotate: its record is printed in zone form" grep -q "^  zone file: $NEWSEL._domainkey 3600 IN TXT \"v=DKIM1; k=rsa; \"" "$MS_OUT"
check "rotate: the SigningTable still signs $RD with $SELECTOR" grep -q "^\*@$RD $SELECTOR._domainkey.$RD\$" /etc/opendkim/SigningTable

# ---- 2. published at ns1 (every domain), withheld from ns2: ns2 is named, the old key signs
for d in "${DOMAINS[@]}"; do
  cp "/etc/opendkim/keys/$d/$NEWSEL.txt" "$N/rotate-new.$d.rr" 2>/dev/null || fail "rotate: no record file for $d"
done
cp "$N/rotate-new.$RD.rr" "$N/rotate-new.$RD"
for d in "${DOMAINS[@]:1}"; do
  printf '$INCLUDE "%s"\n' "$N/rotate-new.$d.rr" >>"$N/db.$d"
done
SERIAL4=$((SERIAL4 + 1))
for d in "${DOMAINS[@]:1}"; do sed -i "s/( [0-9]* 3600 /( $SERIAL4 3600 /" "$N/db.$d"; done
check "rotate: ns1 serves the new records" reload_zone "$N" "$NAMED_PID" "$SERIAL4" 127.0.0.1
ms rotate --answers "$ANSWERS" "${LABNS[@]}" --yes --timeout 3 --interval 1
check "rotate: exits 1 while ns2 withholds the new record" test "$MS_RC" = 1
check "rotate: it names ns2 as the server that lags" grep -q "ns2.$RD (127.0.0.2:$DNS_PORT): nothing" "$MS_OUT"
check "rotate: ... and not ns1" sh -c "! grep -q 'ns1.$RD (127.0.0.1:$DNS_PORT)' '$MS_OUT'"
check "rotate: it resumed the same rotation" grep -q "resuming the rotation of $RD from $SELECTOR to $NEWSEL" "$MS_OUT"
check "rotate: the SigningTable still signs with $SELECTOR" grep -q "^\*@$RD $SELECTOR._domainkey.$RD\$" /etc/opendkim/SigningTable
ms_stdout "$LAB/rot-check.json" check --answers "$ANSWERS" "${LABNS[@]}" --json --domain "$RD"
check "rotate: check names dkim.rotation-pending with ns2" \
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f['id']=='dkim.rotation-pending' and 'ns2.' in (f['found'] or '') for f in d['findings']) else 1)" "$LAB/rot-check.json"
rot_send old
py_checks "$PY" "$HERE/dkim_verify.py" 127.0.0.1 "$DNS_PORT" "$MBOX" "$SELECTOR" "e2e rotate old=$RD"

# ---- 3. killed while waiting: the state stays, the next run resumes it
"$MAILSETUP" rotate --answers "$ANSWERS" "${LABNS[@]}" --yes --timeout 120 --interval 1 </dev/null >"$LAB/rot-kill.out" 2>&1 &
ROT_PID=$!
sleep 3
kill -TERM "$ROT_PID" 2>/dev/null; wait "$ROT_PID" 2>/dev/null || true
check "rotate: killed while waiting, its state stays ($NEWSEL)" grep -q "\"new_selector\": \"$NEWSEL\"" "$ROT_STATE"

# ---- 4. published at ns2 too: the switch; mail verifies under the new selector
cp "$N/rotate-new.$RD.rr" "$N2/rotate-new.$RD"
check "rotate: ns2 serves the new record" reload_zone "$N2" "$NAMED2_PID" "$((SERIAL4 + 1))" 127.0.0.2
ms rotate --answers "$ANSWERS" "${LABNS[@]}" --yes --timeout 30 --interval 1
check "rotate: exits 0 once every nameserver serves the new record" test "$MS_RC" = 0
check "rotate: resumed, not a new rotation" grep -q "resuming the rotation of $RD from $SELECTOR to $NEWSEL" "$MS_OUT"
check "rotate: SigningTable signs $RD with $NEWSEL" grep -q "^\*@$RD $NEWSEL._domainkey.$RD\$" /etc/opendkim/SigningTable
check "rotate: KeyTable names the new key" grep -q "^$NEWSEL._domainkey.$RD $RD:$NEWSEL:$NEWKEY\$" /etc/opendkim/KeyTable
check "rotate: the old key is still there" test -f "/etc/opendkim/keys/$RD/$SELECTOR.private"
check "rotate: it says until when the old record stays" grep -q "Keep the record $SELECTOR._domainkey.$RD published until" "$MS_OUT"
check "rotate: the answers name $NEWSEL" grep -q "^selector = \"$NEWSEL\"" "$ANSWERS"
wait_for 15 test -S "$SOCKDIR/opendkim.sock" || true
rot_send new
py_checks "$PY" "$HERE/dkim_verify.py" 127.0.0.1 "$DNS_PORT" "$MBOX" "$NEWSEL" "e2e rotate new=$RD"

# ---- 5. finish: the old key retired, its KeyTable line gone, the record to delete named
OLDKEY_SUM=$( (sha256sum <"/etc/opendkim/keys/$RD/$SELECTOR.private" || true) 2>/dev/null | cut -d' ' -f1)
retired_same() { # a retired copy of the old key (phase 10's rollback retired earlier ones)
  local f
  for f in /var/lib/mailsetup/retired-keys/*/"$RD/$SELECTOR.private"; do
    [ -f "$f" ] && [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$OLDKEY_SUM" ] && return 0
  done
  return 1
}
ms rotate --answers "$ANSWERS" "${LABNS[@]}" --yes --finish
check "rotate --finish exits 0" test "$MS_RC" = 0
check "rotate --finish: the old key is gone from /etc/opendkim/keys" test ! -e "/etc/opendkim/keys/$RD/$SELECTOR.private"
check "rotate --finish: ... and kept under retired-keys (the same key)" retired_same
check "rotate --finish: the KeyTable has no $SELECTOR line for $RD" sh -c "! grep -q '^$SELECTOR._domainkey.$RD ' /etc/opendkim/KeyTable"
check "rotate --finish: it names the record to delete" grep -q "$RD: delete the record $SELECTOR._domainkey" "$MS_OUT"
check "rotate --finish: the state is gone" test ! -e "$ROT_STATE"
ms selftest --answers "$ANSWERS" "${LABNS[@]}"
check "rotate: selftest passes after --finish" test "$MS_RC" = 0
check "rotate: ... and OpenDKIM signs $RD with s=$NEWSEL" grep -q "d=$RD, s=$NEWSEL," "$MS_OUT"

stop_pids named2 "$NAMED2_PID" || fail "named (ns2) did not stop on TERM"
if [ "$ROT_LO_ADDED" = 1 ]; then ip addr del 127.0.0.2/32 dev lo 2>/dev/null || true; ROT_LO_ADDED=0; fi
timing "key rotation" "$(secs "$t")"
