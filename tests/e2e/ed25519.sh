# tests/e2e/ed25519.sh — sourced by run.sh (phase 10a3), after 10a2: the stock set-up phase
# 10 rolled back, named serving the zones.
#
# Ed25519 dual signing (RFC 8463, answers `algorithms`) with the real OpenDKIM: Debian 12's
# 2.11.0~beta2 signs every SigningTable match with its one SignatureAlgorithm, so mailsetup
# asks it first (`opendkim -t` with an RSA and an Ed25519 key) and refuses: `plan` and
# `apply --yes` exit 2 naming `algorithms` and what OpenDKIM did, and nothing under /etc
# changes. The same OpenDKIM, given the KeyTable and SigningTable with both keys, defers the
# message instead of signing it twice, which is what the refusal spares the mail.

phase "10a3. ed25519: the real OpenDKIM cannot sign twice; plan and apply refuse, nothing written"
t=$(date +%s%N)
ED_ANSWERS=$LAB/answers-ed25519.toml
{ cat "$ANSWERS"; echo 'algorithms = ["rsa-sha256", "ed25519-sha256"]'; } >"$ED_ANSWERS"
snap "$LAB/ed-before.json" /etc/postfix "/etc:opendkim*" "/etc/default:opendkim*" "/var/lib:mailsetup*"
ms plan --answers "$ED_ANSWERS"
check "ed25519: plan exits 2" test "$MS_RC" = 2
check "... naming algorithms and what OpenDKIM did" \
  sh -c "grep -q 'answers: \`algorithms\`' '$MS_OUT' && grep -q 'cannot sign a message with an RSA and an Ed25519 key' '$MS_OUT' && grep -q 'deferred the message' '$MS_OUT'"
ms apply --answers "$ED_ANSWERS" --yes
check "ed25519: apply --yes exits 2" test "$MS_RC" = 2
snap "$LAB/ed-after.json" /etc/postfix "/etc:opendkim*" "/etc/default:opendkim*" "/var/lib:mailsetup*"
check "... and nothing under /etc/postfix, /etc/opendkim* or /var/lib/mailsetup changed" \
  "$PY" "$HERE/state.py" diff "$LAB/ed-before.json" "$LAB/ed-after.json"
# the tables mailsetup would write, given to this OpenDKIM in test mode: no second signature
ED_DIR=$LAB/ed25519; mkdir -p "$ED_DIR"; chmod 700 "$ED_DIR"
openssl genpkey -algorithm ed25519 -out "$ED_DIR/ed.private" 2>/dev/null
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out "$ED_DIR/rsa.private" 2>/dev/null
printf 'rsa._domainkey.%s %s:rsa:%s\ned._domainkey.%s %s:ed:%s:ed25519-sha256\n' \
  "${DOMAINS[0]}" "${DOMAINS[0]}" "$ED_DIR/rsa.private" "${DOMAINS[0]}" "${DOMAINS[0]}" "$ED_DIR/ed.private" >"$ED_DIR/KeyTable"
printf '*@%s rsa._domainkey.%s\n*@%s ed._domainkey.%s\n' "${DOMAINS[0]}" "${DOMAINS[0]}" "${DOMAINS[0]}" "${DOMAINS[0]}" >"$ED_DIR/SigningTable"
printf 'Syslog no\nMode s\nKeyTable %s\nSigningTable refile:%s\nMultipleSignatures yes\nRequireSafeKeys false\n' \
  "$ED_DIR/KeyTable" "$ED_DIR/SigningTable" >"$ED_DIR/opendkim.conf"
printf 'From: a@%s\r\nTo: b@example.invalid\r\nSubject: t\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\nt\r\n' "${DOMAINS[0]}" >"$ED_DIR/msg"
opendkim -vvv -x "$ED_DIR/opendkim.conf" -t "$ED_DIR/msg" >"$ED_DIR/out" 2>&1 || true
show_file "$ED_DIR/out"
check "OpenDKIM $(opendkim -V | head -1 | sed 's/.* //') does not sign with both keys (no a=ed25519-sha256)" \
  sh -c "! grep -q 'a=ed25519-sha256' '$ED_DIR/out'"
timing "ed25519" "$(secs "$t")"
phase_end
