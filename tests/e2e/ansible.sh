#!/bin/bash
# tests/e2e/ansible.sh — the Ansible role (assets/ansible/roles/mailsetup) run by ansible-core
# against three inventory hosts on this one machine: connection local, each host a `--root` tree
# made from tests/fixtures/debian12 with its own answers (hostname, address, selector).
#
#   1. ansible-playbook (check skipped: nothing is published yet): every host changed, each
#      signing with its own selector; the merged records (`records --fleet`, on the controller)
#      hold one SPF record per domain with all three addresses and one DKIM record per selector
#   2. named on 127.0.0.1:$ANSIBLE_DNS_PORT serves the merged zone output unchanged (and the PTRs);
#      the play again, with its check: changed=0 on every host (idempotent), check passes
#   3. an SPF record without mx3's address published: the play fails at mx3's check, naming
#      spf.ip-not-permitted
#   4. mx2's main.cf edited: `ansible-playbook --check` (plan --json) reports mx2 changed, the
#      others not, and every tree is byte-identical afterwards (checksum listing of files + modes)
#   5. `--check -e mailsetup_inet_protocols=all`: every host's plan (of the answers as they would
#      be) has changes; nothing written, the answers files neither
#   6. a selector with a dot for mx3 only: mx3 fails at the answers task (mailsetup's validation
#      names the key) and is written nothing; mx1 and mx2 go on and are merged without it
#
# Stand-alone (as root, under the heavy lock: it starts a named) or from run.sh (phase 10e). It
# prints PASS/FAIL lines and exits 0 iff every assertion passed; it touches nothing outside its
# temporary directory, and stops its named by PID.
# Env: MAILSETUP (the binary), ANSIBLE_DNS_PORT (5354), KEEP_LAB (1: keep the directory),
#      ANSIBLE_SHOW (1: print every play's whole output, not only its failures and recap).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/named_conf.sh
source "$HERE/named_conf.sh"
REPO=$(cd "$HERE/../.." && pwd)
MAILSETUP=${MAILSETUP:-$REPO/target/debug/mailsetup}
PORT=${ANSIBLE_DNS_PORT:-5354}
PY=/usr/bin/python3
HOSTS=(mx1 mx2 mx3)
declare -A IP=([mx1]=192.0.2.11 [mx2]=192.0.2.12 [mx3]=192.0.2.13)
DOMAINS=(example.org example.net)
FAILS=0 NAMED_PID=''

pass() { echo "PASS ansible: $*"; }
fail() { echo "FAIL ansible: $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
info() { echo "INFO $*"; }
show() { sed 's/^/INFO   | /' "$1"; }

LAB=$(mktemp -d /tmp/mailsetup-ansible.XXXXXX)
chmod 0755 "$LAB"
cleanup() {
  if [ -n "$NAMED_PID" ] && kill -0 "$NAMED_PID" 2>/dev/null; then
    kill -TERM "$NAMED_PID"
    for _ in $(seq 100); do kill -0 "$NAMED_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$NAMED_PID" 2>/dev/null && { kill -KILL "$NAMED_PID"; fail "named pid $NAMED_PID ignored TERM"; }
  fi
  if [ "$FAILS" = 0 ] && [ "${KEEP_LAB:-0}" != 1 ]; then rm -rf "$LAB"; else info "ansible lab kept: $LAB"; fi
}
trap cleanup EXIT
[ -x "$MAILSETUP" ] || { fail "MAILSETUP=$MAILSETUP is not executable"; exit 1; }
command -v ansible-playbook >/dev/null || { fail "ansible-playbook missing (apt-get install ansible-core)"; exit 1; }
info "lab $LAB; $(ansible-playbook --version 2>&1 | sed -n 1p)"

# ---- three trees, one inventory, a config of our own (no host or user config is read)
for h in "${HOSTS[@]}"; do
  mkdir -p "$LAB/$h"
  cp -a "$REPO/tests/fixtures/debian12" "$LAB/$h/root"
  mkdir -p "$LAB/$h/root/var/spool/postfix"
done
mkdir -p "$LAB/ansible-tmp"
cat >"$LAB/ansible.cfg" <<EOF
[defaults]
roles_path = $REPO/assets/ansible/roles
inventory = $LAB/inventory.yml
local_tmp = $LAB/ansible-tmp/local
remote_tmp = $LAB/ansible-tmp/remote
interpreter_python = $PY
retry_files_enabled = false
host_key_checking = false
forks = 3
nocows = true
stdout_callback = default
EOF
{ cat <<EOF
all:
  children:
    mail:
      vars:
        ansible_connection: local
        mailsetup_install: false
        mailsetup_binary: $MAILSETUP
        mailsetup_merge_binary: $MAILSETUP
        mailsetup_fleet_dir: $LAB/fleet
        mailsetup_domains: [${DOMAINS[0]}, ${DOMAINS[1]}]
        mailsetup_dmarc_policy: quarantine
        mailsetup_dmarc_rua: mailto:postmaster@${DOMAINS[0]}
        mailsetup_key_bits: 1024
        mailsetup_allow_private_ip: true
        mailsetup_inet_protocols: ipv4
        mailsetup_global_args: [--nameserver, "127.0.0.1:$PORT", --authoritative-port, "$PORT"]
        mailsetup_check_args: [--offline]
      hosts:
EOF
  for h in "${HOSTS[@]}"; do cat <<EOF
        $h:
          mailsetup_root: $LAB/$h/root
          mailsetup_answers_path: $LAB/$h/answers.toml
          mailsetup_hostname: $h.${DOMAINS[0]}
          mailsetup_ipv4: ${IP[$h]}
EOF
  done; } >"$LAB/inventory.yml"
cp "$REPO/assets/ansible/playbook.yml" "$LAB/playbook.yml"
sed -i 's/^  become: true$/  become: false/' "$LAB/playbook.yml"
export ANSIBLE_CONFIG=$LAB/ansible.cfg ANSIBLE_HOME=$LAB/ansible-tmp/home ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0

# play NAME ARGS... : ansible-playbook, its output in $LAB/NAME.out (its failures and recap
# shown; the whole of it with ANSIBLE_SHOW=1, and kept with the lab on failure), PLAY_RC set
play() {
  local name=$1; shift
  info "\$ ansible-playbook playbook.yml $*"
  (cd "$LAB" && ansible-playbook playbook.yml "$@") >"$LAB/$name.out" 2>&1; PLAY_RC=$?
  if [ "${ANSIBLE_SHOW:-0}" = 1 ]; then show "$LAB/$name.out"; else
    grep -E '^(fatal|failed|ERROR|\[WARNING\])' "$LAB/$name.out" | cut -c1-400 | sed 's/^/INFO   | /'
    sed -n '/^PLAY RECAP/,$p' "$LAB/$name.out" | sed '/^$/d; s/^/INFO   | /'
  fi
  info "(exit $PLAY_RC)"
}
# recap HOST FIELD : the number PLAY RECAP gives HOST for FIELD (changed, failed, ok…)
recap() { sed -n "s/^$1 *: .*\\b$2=\\([0-9]*\\).*/\\1/p" "$LAB/$PLAY_NAME.out" | tail -1; }
listing() { # listing HOST... : every file and directory of the hosts' trees and answers: path, mode, sha256
  (cd "$LAB" && find "$@" -printf '%p %m %y\n' | sort && find "$@" -type f -print0 | sort -z | xargs -0 sha256sum)
}
# unchanged WHAT [HOST...] : the hosts (all three by default) byte-identical to $LAB/before.list
# (made by `listing` of the same hosts), else a FAIL with the difference
unchanged() {
  local what=$1 hosts=("${@:2}")
  [ $# -gt 1 ] || hosts=("${HOSTS[@]}")
  listing "${hosts[@]}" >"$LAB/after.list"
  if cmp -s "$LAB/before.list" "$LAB/after.list"; then pass "$what"; else
    fail "$what"; diff "$LAB/before.list" "$LAB/after.list" | head -20 | sed 's/^/INFO   /'; fi
}

# ---- 1. first run: changed everywhere, merged records
PLAY_NAME=first; play first --skip-tags mailsetup_check
check "first run exits 0" test "$PLAY_RC" = 0
for h in "${HOSTS[@]}"; do
  check "first run: $h changed (recap changed=$(recap "$h" changed))" test "$(recap "$h" changed)" -gt 0
  check "first run: $h's key under its own selector ($h)" \
    test -s "$LAB/$h/root/etc/opendkim/keys/${DOMAINS[0]}/$h.private"
  check "first run: $h's answers name selector $h and ${IP[$h]}" \
    sh -c "grep -qx 'selector = \"$h\"' '$LAB/$h/answers.toml' && grep -qx 'ipv4 = \"${IP[$h]}\"' '$LAB/$h/answers.toml'"
done
check "merged records written on the controller (records.json, records.zone)" \
  test -s "$LAB/fleet/records.json" -a -s "$LAB/fleet/records.zone"
[ -s "$LAB/fleet/records.zone" ] && show "$LAB/fleet/records.zone"
"$PY" - "$LAB/fleet/records.json" "${DOMAINS[*]}" "${HOSTS[*]}" "${IP[mx1]} ${IP[mx2]} ${IP[mx3]}" >"$LAB/merged.checks" 2>&1 <<'EOF' 
import json, sys
doc = json.load(open(sys.argv[1]))
domains, hosts, ips = sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
recs = doc.get("records", [])
for d in domains:
    spf = [r["value"] for r in recs if r["type"] == "TXT" and r["fqdn"].rstrip(".") == d
           and r["value"].startswith("v=spf1")]
    print("%s ansible: merged: one SPF record for %s (%d)" % ("PASS" if len(spf) == 1 else "FAIL", d, len(spf)))
    for ip in ips:
        ok = len(spf) == 1 and ("ip4:" + ip) in spf[0].split()
        print("%s ansible: merged SPF of %s holds ip4:%s" % ("PASS" if ok else "FAIL", d, ip))
    for h in hosts:
        dk = [r for r in recs if r["type"] == "TXT" and r["fqdn"].rstrip(".") == "%s._domainkey.%s" % (h, d)]
        ok = len(dk) == 1 and dk[0]["value"].startswith("v=DKIM1")
        print("%s ansible: merged: one DKIM record %s._domainkey.%s" % ("PASS" if ok else "FAIL", h, d))
EOF
while IFS= read -r line; do
  case $line in PASS\ *) echo "$line" ;; *) echo "FAIL ansible: merged records: $line"; FAILS=$((FAILS + 1)) ;; esac
done <"$LAB/merged.checks"
grep -q 'The records to publish for the fleet' "$LAB/first.out" && grep -q 'v=spf1' "$LAB/first.out"
check "the play printed the merged records" test $? = 0

# ---- 2. named serves the merged records; the second run changes nothing, check passes
N=$LAB/named; mkdir -p "$N/work"; [ "$(id -u)" = 0 ] && chown bind:bind "$N/work"
SERIAL=$(date +%s)
ZONES=""
# zone_from SRC SERIAL : db.D for every domain: SOA/NS + that domain's part of SRC (the merged
# `records --fleet --format zone` output, cut at its $ORIGIN lines, otherwise unchanged)
zone_from() {
  local d
  for d in "${DOMAINS[@]}"; do
    awk -v o="\$ORIGIN $d." '/^\$ORIGIN /{on = ($0 == o)} on' "$1" >"$N/records.$d"
    cat >"$N/db.$d" <<EOF
\$TTL 300
@   IN SOA ns1.${DOMAINS[0]}. hostmaster.$d. ( $2 3600 600 86400 300 )
@   IN NS  ns1.${DOMAINS[0]}.
ns1.${DOMAINS[0]}. IN A 127.0.0.1
\$INCLUDE "$N/records.$d"
EOF
  done
}
zone_from "$LAB/fleet/records.zone" "$SERIAL"
for d in "${DOMAINS[@]}"; do
  check "named-checkzone $d (merged records)" named-checkzone -q "$d" "$N/db.$d"
  ZONES+="zone \"$d\" { type primary; file \"$N/db.$d\"; };"$'\n'
done
REV=2.0.192.in-addr.arpa
{ printf '$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. ( %s 3600 600 86400 300 )\n@ IN NS ns1.%s.\n' \
    "${DOMAINS[0]}" "${DOMAINS[0]}" "$SERIAL" "${DOMAINS[0]}"
  for h in "${HOSTS[@]}"; do "$PY" "$HERE/records_json.py" "$LAB/fleet/hosts/$h.json" ptr-zone "$REV"; done; } >"$N/db.rev"
named_conf "$N" "listen-on port $PORT { 127.0.0.1; };" \
  "${ZONES}zone \"$REV\" { type primary; file \"$N/db.rev\"; };"
USER_ARGS=(); [ "$(id -u)" = 0 ] && USER_ARGS=(-u bind)
if [ -n "$(ss -Hltun "sport = :$PORT" 2>/dev/null)" ]; then
  fail "port $PORT is in use: set ANSIBLE_DNS_PORT"; exit 1
fi
setsid named -f "${USER_ARGS[@]}" -c "$N/named.conf" </dev/null >"$N/named.stdout" 2>&1 &
NAMED_PID=$!
# served SERIAL DOMAIN... : named answers every DOMAIN with SERIAL (10 s each)
served() {
  local serial=$1 d ok=0; shift
  for d in "$@"; do
    for _ in $(seq 100); do
      dig @127.0.0.1 -p "$PORT" +short "$d" SOA 2>/dev/null | grep -q " $serial " && continue 2
      sleep 0.1
    done
    ok=1
  done
  return $ok
}
check "named on 127.0.0.1:$PORT serves the merged zones" served "$SERIAL" "${DOMAINS[@]}"
PLAY_NAME=second; play second
check "second run exits 0 (check passes)" test "$PLAY_RC" = 0
for h in "${HOSTS[@]}"; do
  check "second run: $h changed=0 (idempotent; recap changed=$(recap "$h" changed))" test "$(recap "$h" changed)" = 0
done
check "second run: the check task ran on every host" \
  test "$(grep -c '^ok: \[mx[123]\]' <(sed -n '/TASK \[mailsetup : Check (check --json)\]/,/^TASK/p' "$LAB/second.out"))" = 3

# ---- 3. an SPF record without mx3 (nor `a mx`, which name it too) published: the play fails
# at mx3's check, naming spf.ip-not-permitted; mx1 and mx2 pass
sed -i "s/\"v=spf1 [^\"]*\"/\"v=spf1 ip4:${IP[mx1]} ip4:${IP[mx2]} ~all\"/" "$N/records.${DOMAINS[0]}"
grep 'v=spf1' "$N/records.${DOMAINS[0]}" | sed 's/^/INFO   now served: /'
SERIAL=$((SERIAL + 1)); sed -i "s/( [0-9]* 3600 /( $SERIAL 3600 /" "$N/db.${DOMAINS[0]}"
kill -HUP "$NAMED_PID"
served "$SERIAL" "${DOMAINS[0]}" || fail "named did not load ${DOMAINS[0]} serial $SERIAL"
PLAY_NAME=broken; play broken
check "SPF without ${IP[mx3]}: the play fails" test "$PLAY_RC" != 0
check "SPF without ${IP[mx3]}: mx3 failed (recap failed=$(recap mx3 failed))" test "$(recap mx3 failed)" = 1
check "SPF without ${IP[mx3]}: mx1 and mx2 did not fail" test "$(recap mx1 failed)$(recap mx2 failed)" = 00
check "SPF without ${IP[mx3]}: mx3's failure names spf.ip-not-permitted (${DOMAINS[0]})" \
  grep -q "^fatal: \[mx3\].*spf\.ip-not-permitted (${DOMAINS[0]})" "$LAB/broken.out"

# ---- 4. --check on a modified tree: plan --json reports it, nothing is written
sed -i '/^smtpd_milters *=/d' "$LAB/mx2/root/etc/postfix/main.cf"
listing "${HOSTS[@]}" >"$LAB/before.list"
PLAY_NAME=dry; play dry --check
check "--check exits 0" test "$PLAY_RC" = 0
check "--check: mx2 changed (recap changed=$(recap mx2 changed))" test "$(recap mx2 changed)" -gt 0
check "--check: mx1 and mx3 unchanged" test "$(recap mx1 changed)$(recap mx3 changed)" = 00
check "--check: mx2's change comes from plan --json" \
  grep -q '^changed: \[mx2\]' <(sed -n '/TASK \[mailsetup : Plan the answers/,/^TASK/p' "$LAB/dry.out")
check "--check: the check task did not run" \
  sh -c "! sed -n '/TASK \[mailsetup : Check (check --json)\]/,/^TASK/p' '$LAB/dry.out' | grep -q '^ok:'"
unchanged "--check: every host byte-identical (trees and answers: paths, modes, sha256)"

# ---- 5. --check with another inventory value: plan sees the answers as they would be written
PLAY_NAME=dry2; play dry2 --check -e mailsetup_inet_protocols=all
check "--check -e mailsetup_inet_protocols=all exits 0" test "$PLAY_RC" = 0
for h in "${HOSTS[@]}"; do
  check "--check -e mailsetup_inet_protocols=all: $h's plan has changes" \
    grep -q "^changed: \[$h\]" <(sed -n '/TASK \[mailsetup : Plan the answers/,/^TASK/p' "$LAB/dry2.out")
done
unchanged "--check -e mailsetup_inet_protocols=all: every host byte-identical"

# ---- 6. a bad value on mx3 only: mx3 fails at the answers task naming the key, its answers and
# tree stay; mx1 and mx2 go on (mx2's edited main.cf repaired), merged without mx3, which is named
listing mx3 >"$LAB/before.list"
PLAY_NAME=bad; play bad -e '{"mailsetup_selector": "{{ \"mx.3\" if inventory_hostname == \"mx3\" else inventory_hostname }}"}'
check "selector mx.3 on mx3: the play fails" test "$PLAY_RC" != 0
check "selector mx.3 on mx3: mx3 fails at the answers task, naming selector" \
  grep -q '^fatal: \[mx3\].*`selector` = \\"mx.3\\" is not a valid DKIM selector' \
  <(sed -n '/TASK \[mailsetup : Write the answers/,/^TASK/p' "$LAB/bad.out")
unchanged "selector mx.3 on mx3: mx3 byte-identical (its old answers kept)" mx3
check "selector mx.3 on mx3: mx1 and mx2 did not fail" test "$(recap mx1 failed)$(recap mx2 failed)" = 00
check "selector mx.3 on mx3: mx2's edited main.cf applied again (changed), mx1 unchanged" \
  test "$(recap mx2 changed)" -gt 0 -a "$(recap mx1 changed)" = 0
check "selector mx.3 on mx3: mx2's main.cf has smtpd_milters again" grep -q '^smtpd_milters *=' "$LAB/mx2/root/etc/postfix/main.cf"
check "selector mx.3 on mx3: the merge names mx3 as left out" \
  grep -q 'not merged, having failed earlier in the play.*: mx3"' "$LAB/bad.out"
check "selector mx.3 on mx3: merged records of mx1 and mx2 only" \
  sh -c "grep -q 'mx2._domainkey' '$LAB/fleet/records.zone' && ! grep -q 'mx3._domainkey' '$LAB/fleet/records.zone'"

echo "INFO ansible: $FAILS failed"
[ "$FAILS" = 0 ]
