#!/bin/bash
# tests/e2e/run.sh — end-to-end test of the real `mailsetup` binary against the real /etc (Debian 12).
#
# Must run as root, on a machine where postfix, opendkim and named are NOT running (it refuses
# otherwise), without systemd. It leaves the machine as it found it: every daemon it (or mailsetup)
# started is stopped by PID, and a safety net restores every file under the paths it may touch
# (see RESTORE_SPECS) to the recorded content, owner, mode and mtime, then checks it.
#
#   1. preflight: deps.sh, tools, refuse if daemons run / ports busy; snapshot + tar backup
#   2. syslog sink on /dev/log (no syslog daemon on CI; OpenDKIM logs only through syslog)
#   3. answers file; `mailsetup plan` -> 1 (writes nothing); the wizard in tmux (`mailsetup
#      --answers`, y on every step) applies it and restarts the services at its summary
#      (E2E_VIA=apply: `mailsetup apply --yes` instead)
#   4. postfix and opendkim running (started by mailsetup via /etc/init.d); config sanity
#   5. zones = SOA/NS header + `mailsetup records --format zone --domain D` unchanged; reverse zone
#      from `records --format json`; named on 127.0.0.1:$DNS_PORT (and :53 if free)
#   6. mail: swaks (SMTP) + sendmail from each domain to root@localhost; all in /var/mail/root
#   7. independent verification: dkimpy (dkim=pass, d=, s=), pyspf (pass / not pass),
#      opendkim-testkey, and the dkimverify CLI (when named can also listen on :53)
#   8. `mailsetup check --nameserver 127.0.0.1:$DNS_PORT --authoritative-port $DNS_PORT` (+ --json)
#      -> 0, its sender-requirements verdict met for Yahoo's rule sets (Gmail's: met, or not
#      verifiable for outbound TLS alone); with a wrong DKIM key and no DMARC record published
#      for example.net -> 1 naming both, the bulk rule sets not met for them; `check --watch`, started while it is broken, exits 0 once the zone is put back;
#      `selftest` -> 0 touching no file, queue or mailbox; `selftest --via-postfix --to
#      root@localhost` -> every domain by SMTP and by sendmail read back from /var/mail/root, verified;
#      the outbound port-25 probe: `--port25-domain smtp-probe.example` (MX served by named ->
#      127.0.0.1, Postfix itself) passes, a closed loopback port is smtp.port25-blocked, the
#      default target (gmail.com's MX, which named does not serve) is smtp.port25-unknown (exit 3);
#      every other `check` here runs with --offline (the break/fix sweep stops Postfix).
#      Before it, tls_lab_cert (tests/e2e/tls_checks.sh) puts a certificate for $HOST from a
#      throw-away CA over the snake-oil pair the stock main.cf names and that CA into the system
#      bundle (both restored at the end), so the certificate checks of every `check` pass
#  8w. the daily check (tests/e2e/watch.sh): the packaged unit's `check --state
#      /var/lib/mailsetup/check-state.json --mail-to root`: a baseline, then $BROKEN's SPF record
#      withdrawn is exactly `1 new` (spf.missing, exit 1) and one message in /var/mail/root through
#      Postfix's sendmail; unchanged: nothing mailed; put back: `1 cleared`, mailed
#  8a. MTA-STS and TLS-RPT (tests/e2e/mta_sts.sh): answers with mta_sts and tls_rpt_rua, records
#      served by named, the policy over HTTPS (python3 http.server, openssl test CA): check passes
#      mta-sts, tls-rpt, mta-sts-policy; broken records fail with mta-sts.syntax, mta-sts.id-stale,
#      tls-rpt.syntax; the zones of phase 5 served again
#   8b. TLS (tests/e2e/tls_checks.sh): `openssl s_client -starttls smtp -verify_return_error`
#      verifies it for $HOST, `check --tls-ca CA` agrees (no tls.* finding, both tls lines pass),
#      another CA is tls.cert-untrusted; Postfix pointed (postconf -e, reload) at an expired
#      certificate and at one for another name: s_client refuses each and check names
#      tls.cert-expired, tls.cert-name-mismatch; main.cf put back byte-identical, passing again
#   8c. fleet (tests/e2e/fleet.sh): a second server (its own --root, selector mx2) applied; this
#      host's and its `records --json` merged by `records --fleet`, served by named unchanged:
#      named-checkzone accepts it, pyspf passes both addresses, dkimpy verifies mx2's key under
#      s=mx2, check passes on both; a third server on this host's selector is refused (exit 2)
#   9. idempotence: `plan` -> 0, `apply --yes` -> no changes, nothing written (sha256 + mtime)
#  10. `mailsetup rollback --yes` -> the 4 config files byte-identical with owner/mode, group as before
#  10a. inbound SPF (tests/e2e/inbound_spf.sh): apply with inbound_spf = true; with mynetworks =
#      127.0.0.1/32, mail from 127.0.0.2 for a domain whose SPF permits only 127.0.0.3 is refused at
#      RCPT with policyd-spf's 550 5.7.23, from 127.0.0.3 it is delivered with Received-SPF: Pass;
#      check names spf-policy.service-missing and its fix clears it; the runs rolled back (skipped
#      with a message when named cannot listen on 127.0.0.1:53)
#  10a3. ed25519 (tests/e2e/ed25519.sh): with algorithms = ["rsa-sha256", "ed25519-sha256"], apply runs a
#      second OpenDKIM instance (ed25519-sha256) as a milter after the first; a message by sendmail and
#      one by SMTP each carry two DKIM-Signatures (a=rsa-sha256, a=ed25519-sha256), both verified by
#      dkimpy; RSA only again stops it; the phase's runs rolled back
#  10b. an operator's DAEMON_OPTS (group nogroup): apply restarts, finds Postfix shut out of the socket, rolls the
#      whole run back and exits 2; then apply again, and break each thing on purpose (non_smtpd_milters,
#      smtpd_milters, a domain missing from the SigningTable, SigningTable without
#      refile:, key 0640 with postfix in group opendkim, key root-owned, postfix out of the socket's
#      group, socket outside the chroot, OpenDKIM stopped, Postfix stopped, another Socket in opendkim.conf (and
#      another SOCKET in /etc/default/opendkim, which the init script ignores: no finding),
#      an unknown opendkim.conf option, an unused main.cf parameter, amavisd-new signing too
#      (its 50-user put back afterwards: /etc/amavis is the package's),
#      inet_protocols or inet_interfaces changed and only reloaded): `check` names the id, the fix
#      (`mailsetup fix ID --yes` where check prints it, else the printed command) clears it,
#      `selftest` passes again
#  10b2. TLS (tests/e2e/tls.sh): a certificate for $HOST from a throw-away CA (openssl), applied
#      with tls_cert/tls_key; `openssl s_client -starttls smtp -verify_return_error -CAfile CA
#      -verify_hostname $HOST` verifies what Postfix serves; check passes; tls.weak-protocol and
#      tls.outbound-off broken with postconf -e and cleared by their fix; the runs rolled back
#  10c. amavisd-new (tests/e2e/amavis.sh) set up as its README.postfix/README.dkim say, signing
#      too: with signer = "opendkim" the fix turns its signing off, with signer = "amavisd-new"
#      it unwires OpenDKIM and the records carry amavisd-new's keys; one DKIM-Signature per
#      message either way, verified by dkimpy; amavisd stopped by PID, its files put back
#  10d. DKIM key rotation (tests/e2e/rotate.sh): a second named on 127.0.0.2 as ns2 of the first
#      domain withholds the new record: `rotate` exits 1 naming ns2 and the old key keeps signing
#      (dkimpy); a rotate killed while waiting resumes; published at ns2, it switches and mail
#      verifies under the new selector; `rotate --finish` retires the old key
#  10e. the Ansible role (tests/e2e/ansible.sh): ansible-core runs assets/ansible on three inventory
#      hosts (connection local, each a --root tree with its own answers and selector): changed,
#      then changed=0 with check passing against its own named serving the merged records
#      (`records --fleet`: one SPF with all three addresses); an SPF without mx3 fails mx3's
#      check; `--check` (plan --json) reports an edited tree changed and writes nothing
#  11. cleanup (trap): stop daemons by PID, restore, verify the machine state, summary + timings
#
# Env: MAILSETUP (binary; default $REPO/target/debug/mailsetup, built with cargo if absent),
#      DNS_PORT (5353), ALSO_53 (1: named also on 127.0.0.1:53 when free), KEEP_LAB (1: keep the
#      temp dir even on success). Exit 0 iff every assertion passed.
set -euo pipefail
trap 'echo "  ERROR: line $LINENO: \`$BASH_COMMAND\` failed (status $?)" >&2' ERR

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/named_conf.sh
source "$HERE/named_conf.sh"
REPO=$(cd "$HERE/../.." && pwd)
MAILSETUP=${MAILSETUP:-$REPO/target/debug/mailsetup}
PY=/usr/bin/python3            # NOT `python3` from PATH: a pyenv/venv python lacks dkim/spf/dns
DNS_PORT=${DNS_PORT:-5353}
ALSO_53=${ALSO_53:-1}
KEEP_LAB=${KEEP_LAB:-0}

HOST=mail.example.org
IPV4=192.0.2.10
BAD_IP=192.0.2.99
SELECTOR=mail
DOMAINS=(example.org example.net)   # not *.test: libunbound has a built-in NXDOMAIN zone for test.
RCPT=root@localhost
MBOX=/var/mail/root
SOCKDIR=/var/spool/postfix/opendkim
MANAGED=(/etc/postfix/main.cf /etc/postfix/master.cf /etc/opendkim.conf /etc/default/opendkim)
# Paths the run may change; the cleanup makes them match the snapshot again (state.py DIR:PATTERN).
RESTORE_SPECS=(/etc/postfix "/etc:opendkim*" "/etc/default:opendkim*" "/etc:opendmarc*" "/etc/default:opendmarc*" "/etc:mailsetup*" "/etc:dkimkeys" "/etc:amavis"
  "/etc:group*" "/etc:gshadow*" "/etc:passwd*" "/etc:shadow*" "/etc:.pwd.lock" "/etc:mailname*"
  "/etc:aliases*" "/var/spool:postfix" "/var/lib:postfix" "/var/lib:mailsetup*" "/var/mail:*"
  "/run:opendkim*" "/run:opendmarc*" "/run:named" "/run:mount" "/var/lib:amavis" "/run:amavis"   # /run/mount: libmount's utab (unshare + mount)
  "/etc:postfix-policyd-spf-python"              # inbound_spf.sh bind-mounts over it, never writes it
  "/etc/ssl/certs:ssl-cert-snakeoil.pem" "/etc/ssl/certs:ca-certificates.crt" "/etc/ssl/private:ssl-cert-snakeoil.key")  # tls_checks.sh
# Checked at the end: the restore set plus all of /etc.
VERIFY_SPECS=(/etc "${RESTORE_SPECS[@]}")
# What `apply` manages; a no-op apply / a plan must not change any of it (content, mode, mtime).
IDEM_SPECS=(/etc/postfix "/etc:opendkim*" "/etc/default:opendkim*" "/var/lib:mailsetup*" "/etc:group"
  "/etc:gshadow")

# ---------------------------------------------------------------- helpers
T_START=$(date +%s%N)
PASSED=0 FAILED=0
FAILURES=() TIMES=()
PH_NAME='' PH_T=0
LAB='' SYSLOG='' SYSLOG_LINE0=0
PREFLIGHT_DONE=0 SINK_PID='' NAMED_PID='' CREATED_DEVLOG=0
PRE_MASTER='' PRE_ODK='' PRE_NAMED='' PRE_AMAVIS='' PRE_ODM=''

secs() { local d=$(( $(date +%s%N) - $1 )); printf '%d.%03d' $((d / 1000000000)) $(((d / 1000000) % 1000)); }
timing() { TIMES+=("$1=$2"); }
phase_end() { if [ -n "$PH_NAME" ]; then timing "phase ${PH_NAME%%:*}" "$(secs "$PH_T")"; PH_NAME=''; fi; }
phase() { phase_end; PH_NAME=$1; PH_T=$(date +%s%N); printf '\n=== %s\n' "$1"; }
pass() { PASSED=$((PASSED + 1)); echo "  PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); echo "  FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
DIED=0
die() { fail "FATAL: $*"; DIED=1; exit 1; }
wait_for() { # wait_for TIMEOUT_S CMD... : 0 as soon as CMD succeeds, 1 on timeout
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.05; done
}
# zones_from ANSWERS SERIAL : each domain's records from `mailsetup records --answers ANSWERS` into
# $N/records.D (its zone $N/db.D includes it, phase 5), the zone's SOA serial set to SERIAL; then
# `kill -HUP "$NAMED_PID"` and `served` (the caller may change more zones first)
zones_from() {
  local d
  for d in "${DOMAINS[@]}"; do
    ms_stdout "$N/records.$d" records --answers "$1" --format zone --domain "$d"
    sed -i "s/( [0-9]* 3600 /( $2 3600 /" "$N/db.$d"
  done
}
# served PORT SERIAL DOMAIN... : named on 127.0.0.1:PORT serves serial SERIAL for every DOMAIN
# (10 s each), else a FAIL naming it
served() {
  local port=$1 serial=$2 d; shift 2
  for d in "$@"; do
    wait_for 10 sh -c "dig @127.0.0.1 -p $port +short $d SOA | grep -q ' $serial '" ||
      fail "named on 127.0.0.1:$port did not load $d serial $serial"
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
listening() { [ -n "$(ss -Hltun "sport = :$1" 2>/dev/null)" ]; }
postfix_master_pids() { # postfix master(8) processes (exe check: "master" is a generic name)
  local p
  for p in $(pgrep -x master || true); do
    if [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = /usr/lib/postfix/sbin/master ]; then echo "$p"; fi
  done
}
no_postfix_procs() { [ -z "$(postfix_child_pids)" ]; }
postfix_child_pids() { # every process running a postfix daemon program (smtpd, qmgr, pickup...)
  local p e
  for p in /proc/[0-9]*; do
    e=$(readlink "$p/exe" 2>/dev/null || true)
    case $e in /usr/lib/postfix/sbin/*) echo "${p#/proc/}" ;; esac
  done
}
not_in() { # not_in "PIDS" PID... : print the PIDs absent from the first list
  local pre=" $(echo $1) " p; shift
  for p in "$@"; do case $pre in *" $p "*) ;; *) echo "$p" ;; esac; done
}
stop_pids() { # stop_pids NAME PID... : TERM, wait up to 20 s, then KILL; by PID only
  local name=$1 p t0 ok=0; shift
  for p in "$@"; do
    kill -0 "$p" 2>/dev/null || continue
    t0=$(date +%s%N); kill -TERM "$p" 2>/dev/null || true
    if wait_for 20 sh -c "! kill -0 $p"; then
      echo "  stopped $name pid $p in $(secs "$t0")s"; timing "stop $name" "$(secs "$t0")"
    else
      echo "  $name pid $p ignored TERM for 20s; KILL"; kill -KILL "$p" 2>/dev/null || true; ok=1
      wait_for 5 sh -c "! kill -0 $p" || true
    fi
  done
  return $ok
}
show_file() { sed 's/^/  | /' "$1"; }
quiet_ok() { # quiet_ok CMD... : run CMD with its output indented; keep its exit status
  local rc=0; "$@" >"$LAB/cmd.out" 2>&1 || rc=$?; show_file "$LAB/cmd.out"; return $rc
}
py_checks() { # py_checks CMD... : run a helper printing PASS/FAIL/INFO lines; count them
  local out rc=0 nf=0 line
  out=$(mktemp "$LAB/py.XXXXXX")
  "$@" >"$out" 2>&1 || rc=$?
  while IFS= read -r line; do
    case $line in
      PASS\ *) pass "${line#PASS }" ;;
      FAIL\ *) fail "${line#FAIL }"; nf=$((nf + 1)) ;;
      *) echo "  ${line#INFO }" ;;
    esac
  done <"$out"
  if [ "$rc" != 0 ] && [ "$nf" = 0 ]; then fail "$(printf '%s\n' "$@" | grep -m1 '\.py$' | xargs basename) exited $rc"; fi
  return 0
}
MS_N=0 MS_RC=0 MS_OUT=''
ms() { # ms ARGS... : run the binary (no stdin), show stdout+stderr, set MS_RC, MS_OUT, MS_SECS
  local t; MS_N=$((MS_N + 1)); MS_OUT=$LAB/ms-$MS_N-$1.out
  echo "  \$ mailsetup $*"; t=$(date +%s%N)
  set +e; "$MAILSETUP" "$@" </dev/null >"$MS_OUT" 2>&1; MS_RC=$?; set -e
  MS_SECS=$(secs "$t"); show_file "$MS_OUT"; echo "  (exit $MS_RC, ${MS_SECS}s)"
}
ms_stdout() { # ms_stdout FILE ARGS... : stdout to FILE unchanged, stderr shown; sets MS_RC
  local f=$1; shift; MS_N=$((MS_N + 1))
  echo "  \$ mailsetup $* > $(basename "$f")"
  set +e; "$MAILSETUP" "$@" </dev/null >"$f" 2>"$f.stderr"; MS_RC=$?; set -e
  [ -s "$f.stderr" ] && show_file "$f.stderr"
  echo "  (exit $MS_RC)"
}
snap() { "$PY" "$HERE/state.py" snap "$@"; }
# break_fix ID BREAK FIX [WHILE-BROKEN]: check names ID after BREAK; FIX (`fix`: the
# `mailsetup fix ID` check prints) clears it; selftest passes again (phases 10a and 10b)
break_fix() { # break_fix ID BREAK-COMMAND FIX-COMMAND [WHILE-BROKEN-FUNCTION]
  local id=$1 brk=$2 fix=$3 while_broken=${4:-}
  echo "  -- $id: break: $brk"
  sh -c "$brk" >"$LAB/bf-$id.break" 2>&1 || sed 's/^/  | /' "$LAB/bf-$id.break"
  ms_stdout "$LAB/bf-$id.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
  check "$id: produced by its broken set-up" \
    sh -c "test $MS_RC = 1 && grep -q '\"id\":\"$id\"' '$LAB/bf-$id.json'"
  grep -q "\"id\":\"$id\"" "$LAB/bf-$id.json" || head -c 1500 "$LAB/bf-$id.json" | sed 's/^/  | /'
  [ -z "$while_broken" ] || "$while_broken"
  if [ "$fix" = fix ]; then # the repair check prints: mailsetup fix ID, through the wizard's step
    ms check --answers "$ANSWERS" "${LABNS[@]}"
    check "$id: check prints the repair: mailsetup --answers … fix $id" \
      grep -q -- "fix: *mailsetup --answers .* fix $id\$" "$MS_OUT"
    fix="'$MAILSETUP' fix $id --yes --answers '$ANSWERS' ${LABNS[*]}"
  fi
  echo "  -- $id: fix: $fix"
  sh -c "$fix" >"$LAB/bf-$id.fix" 2>&1 || sed 's/^/  | /' "$LAB/bf-$id.fix"
  wait_for 15 test -S "$SOCKDIR/opendkim.sock" || true
  ms_stdout "$LAB/bf-$id-after.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
  check "$id: cleared by its fix" test "$MS_RC" = 0
  [ "$MS_RC" = 0 ] || head -c 1500 "$LAB/bf-$id-after.json" | sed 's/^/  | /'
  ms_stdout "$LAB/bf-$id-st.json" selftest --answers "$ANSWERS" "${LABNS[@]}" --json
  check "$id: selftest passes again" test "$MS_RC" = 0
}
show_logs() { # relevant syslog lines since the start of the run
  [ -n "$SYSLOG" ] && [ -f "$SYSLOG" ] || return 0
  echo "  --- syslog (postfix/opendkim, last 60 lines of this run) ---"
  tail -n +$((SYSLOG_LINE0 + 1)) "$SYSLOG" | grep -E ' (postfix/[a-z-]+|opendkim|usermod|gpasswd|mailsetup)\[[0-9]+\]:' | tail -60 | sed 's/^/  | /' || true
  if [ -f "$LAB/named/work/named.log" ]; then
    echo "  --- named.log (last 15) ---"; tail -15 "$LAB/named/work/named.log" | sed 's/^/  | /'
  fi
}

cleanup() {
  local rc=$? t0 p round
  set +e
  trap - EXIT INT TERM ERR
  phase "11. cleanup"; echo "  exit status so far: $rc"
  if [ "$rc" != 0 ] && [ "$DIED" = 0 ]; then fail "aborted with exit status $rc"; fi
  t0=$(date +%s%N)
  if [ "$PREFLIGHT_DONE" = 1 ]; then
    if [ "$FAILED" != 0 ] || [ "$rc" != 0 ]; then show_logs; fi
    # daemons this run (or mailsetup on its behalf) started; none ran before (preflight refused)
    stop_pids postfix-master $(not_in "$PRE_MASTER" $(postfix_master_pids)) || fail "postfix master did not stop on TERM"
    wait_for 10 no_postfix_procs || true   # children exit on their own once master is gone
    stop_pids postfix-child $(postfix_child_pids) || true
    for round in 1 2 3; do   # pidfile first: with AutoRestart it is the parent that restarts children
      p=$(not_in "$PRE_ODK" $(cat /run/opendkim/opendkim.pid 2>/dev/null || true) $(pgrep -x opendkim || true) | awk '!seen[$0]++')
      [ -n "$p" ] || break
      stop_pids opendkim $p || fail "opendkim did not stop on TERM"
    done
    p=$(not_in "$PRE_AMAVIS" $( { cat /run/amavis/amavisd.pid; pgrep -f '^/usr/sbin/amavisd'; } 2>/dev/null | awk 'NF && !seen[$0]++'))
    [ -z "$p" ] || stop_pids amavisd $p || fail "amavisd did not stop on TERM"
    p=$(not_in "$PRE_ODM" $(cat /run/opendmarc/opendmarc.pid 2>/dev/null || true) $(pgrep -x opendmarc || true) | awk '!seen[$0]++')
    [ -z "$p" ] || stop_pids opendmarc $p || fail "opendmarc did not stop on TERM"
    stop_pids named $NAMED_PID $(not_in "$PRE_NAMED" $(pgrep -x named || true)) || fail "named did not stop on TERM"
    [ -z "${STS_WEB_PID:-}" ] || stop_pids sts-web "$STS_WEB_PID"   # phase 8a's HTTPS server
    stop_pids syslog-sink $SINK_PID
    ip addr del 198.51.100.25/32 dev lo 2>/dev/null || true   # phase 10a's sender address
    [ "${ROT_LO_ADDED:-0}" != 1 ] || ip addr del 127.0.0.2/32 dev lo 2>/dev/null || true   # phase 10d's ns2
    if [ "$CREATED_DEVLOG" = 1 ]; then rm -f /dev/log; fi
    check "no postfix/opendkim/opendmarc/named process left running" \
      test -z "$(postfix_master_pids)$(postfix_child_pids)$(not_in "$PRE_ODK" $(pgrep -x opendkim || true))$(not_in "$PRE_ODM" $(pgrep -x opendmarc || true))$(not_in "$PRE_NAMED" $(pgrep -x named || true))"
    [ -f "$MBOX" ] && cp -a "$MBOX" "$LAB/delivered.mbox"
    echo "  safety-net restore of: ${RESTORE_SPECS[*]}"
    "$PY" "$HERE/state.py" restore "$LAB/restore-before.json" "$LAB/restore-before.tar" 2>&1 | sed 's/^/  /'
    snap "$LAB/verify-after.json" "${VERIFY_SPECS[@]}"
    check "machine state restored (content, owner, mode, mtime of /etc and the restore set)" \
      "$PY" "$HERE/state.py" diff "$LAB/verify-before.json" "$LAB/verify-after.json"
    timing "cleanup" "$(secs "$t0")"
  fi
  phase_end
  echo
  echo "=== timings"
  for p in "${TIMES[@]}"; do printf '  %-44s %8ss\n' "${p%%=*}" "${p#*=}"; done
  printf '  %-44s %8ss\n' "total" "$(secs "$T_START")"
  echo
  if [ "$FAILED" != 0 ]; then
    echo "=== failures"; for p in "${FAILURES[@]}"; do echo "  - $p"; done
  fi
  if [ -n "$LAB" ]; then
    if [ "$FAILED" = 0 ] && [ "$rc" = 0 ] && [ "$KEEP_LAB" != 1 ]; then rm -rf "$LAB"; else echo "lab dir kept: $LAB"; fi
  fi
  echo "E2E: $PASSED passed, $FAILED failed"
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" = 0 ] && [ "$rc" = 0 ]; then exit 0; fi
  [ "$rc" = 0 ] && rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- 1. preflight
phase "1. preflight"
[ "$(id -u)" = 0 ] || die "run as root"
bash "$HERE/deps.sh"
if [ ! -x "$MAILSETUP" ]; then
  [ "$MAILSETUP" = "$REPO/target/debug/mailsetup" ] || die "MAILSETUP=$MAILSETUP is not executable"
  echo "  building $MAILSETUP (cargo build)"
  t=$(date +%s%N); (cd "$REPO" && cargo build 2>&1) || die "cargo build failed"; timing "cargo build" "$(secs "$t")"
  [ -x "$MAILSETUP" ] || die "cargo build did not produce $MAILSETUP"
fi
echo "  binary: $MAILSETUP (built $(stat -c %y "$MAILSETUP" | cut -d. -f1), $("$MAILSETUP" --version 2>/dev/null || echo "no --version"))"
for b in postconf postfix opendkim opendkim-testkey named named-checkconf named-checkzone dig swaks ss pgrep tar tmux; do
  command -v "$b" >/dev/null || die "missing $b"
done
[ -x /usr/sbin/sendmail ] || die "missing /usr/sbin/sendmail"
"$PY" -c 'import dkim, spf, dns.resolver' || die "$PY lacks dkim/spf/dnspython"
echo "  PID 1 is: $(ps -p 1 -o comm=)"
PRE_MASTER=$(postfix_master_pids); PRE_ODK=$(pgrep -x opendkim || true); PRE_NAMED=$(pgrep -x named || true)
PRE_ODM=$(pgrep -x opendmarc || true)
[ -z "$PRE_MASTER" ] || die "postfix is running (master pid $PRE_MASTER); stop it first: this test starts and stops it"
[ -z "$PRE_ODK" ] || die "opendkim is running (pid $PRE_ODK); stop it first"
[ -z "$PRE_NAMED" ] || die "named is running (pid $PRE_NAMED); stop it first"
PRE_AMAVIS=$(pgrep -f '^/usr/sbin/amavisd' || true)
[ -z "$PRE_AMAVIS" ] || die "amavisd-new is running (pid $PRE_AMAVIS); stop it first: phase 10c starts and stops it"
[ -z "$PRE_ODM" ] || die "opendmarc is running (pid $PRE_ODM); stop it first"
for port in 25 "$DNS_PORT" 10024 10025; do listening "$port" && die "port $port is in use"; done
USE_53=0; if [ "$ALSO_53" = 1 ] && ! listening 53; then USE_53=1; fi

LAB=$(mktemp -d /tmp/mailsetup-e2e.XXXXXX)
chmod 0755 "$LAB"
echo "  lab dir: $LAB"
declare -A ORIG
for f in "${MANAGED[@]}"; do ORIG[$f]=$("$PY" "$HERE/state.py" show "$f"); echo "  before: $f ${ORIG[$f]}"; done
PRE_GROUP=0; if id -nG postfix | grep -qw opendkim; then PRE_GROUP=1; fi
echo "  postfix in group opendkim before: $PRE_GROUP"
t=$(date +%s%N)
snap "$LAB/verify-before.json" "${VERIFY_SPECS[@]}"
snap "$LAB/restore-before.json" "${RESTORE_SPECS[@]}"
"$PY" "$HERE/state.py" tar "$LAB/restore-before.json" "$LAB/restore-before.tar"
timing "snapshot + backup" "$(secs "$t")"
PREFLIGHT_DONE=1
[ -e "$MBOX" ] && mv "$MBOX" "$LAB/mbox.before"   # in the backup too; restored by the cleanup

# ---------------------------------------------------------------- 2. syslog sink
phase "2. syslog sink"
if [ ! -S /dev/log ]; then
  SYSLOG=$LAB/syslog.log; touch "$SYSLOG"
  setsid "$PY" "$HERE/syslog_sink.py" "$SYSLOG" </dev/null >"$LAB/sink.stderr" 2>&1 &
  SINK_PID=$!; CREATED_DEVLOG=1
  wait_for 5 test -S /dev/log || die "syslog sink did not start: $(cat "$LAB/sink.stderr")"
  echo "  sink pid $SINK_PID writes $SYSLOG"
else
  SYSLOG=/var/log/mail.log; [ -f "$SYSLOG" ] || SYSLOG=/var/log/syslog
  SYSLOG_LINE0=$(wc -l <"$SYSLOG" 2>/dev/null || echo 0)
  echo "  /dev/log exists (a syslog daemon runs); reading $SYSLOG"
fi

# ---------------------------------------------------------------- 3. plan + apply
phase "3. plan + apply (through the wizard in tmux)"
ANSWERS=$LAB/answers.toml
cat >"$ANSWERS" <<EOF
hostname = "$HOST"
ipv4 = "$IPV4"
allow_private_ip = true   # $IPV4 is a documentation address (RFC 5737)
inet_protocols = "ipv4"
domains = ["${DOMAINS[0]}", "${DOMAINS[1]}"]
selector = "$SELECTOR"
key_bits = 2048
socket = "local"
dmarc_policy = "none"
dmarc_rua = "mailto:postmaster@${DOMAINS[0]}"
EOF
show_file "$ANSWERS"
snap "$LAB/idem-0.json" "${IDEM_SPECS[@]}"
ms plan --answers "$ANSWERS"
check "plan before apply exits 1 (changes pending)" test "$MS_RC" = 1
snap "$LAB/idem-1.json" "${IDEM_SPECS[@]}"
check "plan wrote nothing" "$PY" "$HERE/state.py" diff "$LAB/idem-0.json" "$LAB/idem-1.json"
if [ "${E2E_VIA:-wizard}" = apply ]; then
  ms apply --answers "$ANSWERS" --yes
  timing "mailsetup apply (first)" "$MS_SECS"
  check "apply --yes exits 0" test "$MS_RC" = 0
  [ "$MS_RC" = 0 ] || die "apply failed; nothing further to test"
else
  # the wizard on the real /etc, in tmux (80x24): y on every step; the services restart at
  # the summary. (E2E_VIA=apply uses `apply --yes` instead; both drive the same core.)
  W=mailsetup-e2e-$$
  tw() { # tw TEXT SECS : wait until the wizard's screen shows TEXT
    local i=0
    while [ "$i" -lt $(($2 * 10)) ]; do
      tmux capture-pane -p -t "$W" 2>/dev/null | grep -qF -- "$1" && return 0
      sleep 0.1; i=$((i + 1))
    done
    echo "  waited $2 s for: $1"; tmux capture-pane -p -t "$W" | sed 's/^/  | /'; return 1
  }
  t=$(date +%s%N)
  echo "  \$ mailsetup --answers $ANSWERS --nameserver 127.0.0.1:$DNS_PORT --authoritative-port $DNS_PORT   (in tmux)"
  tmux new-session -d -s "$W" -x 80 -y 24 \
    "'$MAILSETUP' --answers '$ANSWERS' --nameserver 127.0.0.1:$DNS_PORT --authoritative-port $DNS_PORT; echo \$? >'$LAB/wizard.rc'; sleep 600"
  tw_done() { # tw_done SECS : the step's plan is on screen; ALREADY=1 when it has nothing to do
    local i=0 screen
    while [ "$i" -lt $(($1 * 10)) ]; do
      screen=$(tmux capture-pane -p -t "$W" 2>/dev/null)
      if grep -qF "already done" <<<"$screen"; then ALREADY=1; return 0; fi
      if grep -qF "n skip" <<<"$screen"; then ALREADY=0; return 0; fi
      sleep 0.1; i=$((i + 1))
    done
    echo "  waited $1 s for the step's plan"; tmux capture-pane -p -t "$W" | sed 's/^/  | /'; return 1
  }
  # amavisd-new installed: the Signer step (3) is shown, already done with its stock conf.d
  TOTAL=12; [ -d /etc/amavis/conf.d ] && TOTAL=13
  ok=1
  { tw "Debian GNU/Linux 12" 30 && tmux send-keys -t "$W" Enter && tw "step 1/$TOTAL" 10 && tmux send-keys -t "$W" Enter; } || ok=0
  for n in $(seq 2 $((TOTAL - 3))); do
    [ "$ok" = 1 ] || break
    { tw "step $n/$TOTAL" 30 && tw_done 60; } || { ok=0; break; }
    if [ "$ALREADY" = 1 ]; then
      echo "  step $n/$TOTAL: already done"; tmux send-keys -t "$W" Enter
    else
      { tmux send-keys -t "$W" y && tw "done, the files now match" 120 && tmux send-keys -t "$W" Enter; } || ok=0
    fi
  done
  [ "$ok" = 1 ] && { { tw "step $((TOTAL - 2))/$TOTAL" 30 && tw '$ORIGIN' 30 && tmux send-keys -t "$W" Enter \
    && tw "step $((TOTAL - 1))/$TOTAL" 30 && tmux send-keys -t "$W" Enter && tw "step $TOTAL/$TOTAL" 30 && tw "ed postfix: " 120; } || ok=0; }
  tmux capture-pane -p -t "$W" | sed 's/^/  | /'
  [ "$ok" = 1 ] && tmux send-keys -t "$W" Enter
  for _ in $(seq 1 100); do [ -s "$LAB/wizard.rc" ] && break; sleep 0.1; done
  tmux kill-session -t "$W" 2>/dev/null || true
  timing "mailsetup wizard (first apply)" "$(secs "$t")"
  check "the wizard walked every step, applied them and exited 0" test "$ok" = 1 -a "$(cat "$LAB/wizard.rc" 2>/dev/null)" = 0
  check "the wizard saved its answers to /etc/mailsetup/answers.toml" test -s /etc/mailsetup/answers.toml
  [ "$ok" = 1 ] || die "the wizard did not apply; nothing further to test"
fi

# ---------------------------------------------------------------- 4. services + config sanity
phase "4. services and configuration after apply"
t=$(date +%s%N)
check "postfix accepts on 127.0.0.1:25" wait_for 20 port_open 25
check "postfix master is running" test -n "$(postfix_master_pids)"
check "opendkim is running" test -n "$(pgrep -x opendkim || true)"
check "opendkim socket $SOCKDIR/opendkim.sock exists" wait_for 10 test -S "$SOCKDIR/opendkim.sock"
timing "services up after apply returned" "$(secs "$t")"
ps_daemons() { ps -o pid,ppid,user,args -p "$(echo $(postfix_master_pids) $(pgrep -x opendkim || true) | tr ' ' ,)" 2>/dev/null | sed 's/^/  ps: /' || true; }
ps_daemons
if [ -z "$(postfix_master_pids)" ] || [ -z "$(pgrep -x opendkim || true)" ]; then die "services not running after apply"; fi
pc() { [ "$(postconf -xh "$1" 2>/dev/null)" = "$2" ]; }
check "main.cf myhostname = $HOST" pc myhostname "$HOST"
check "main.cf inet_protocols = ipv4" pc inet_protocols ipv4
check "main.cf smtpd_milters = local:opendkim/opendkim.sock" pc smtpd_milters local:opendkim/opendkim.sock
check "main.cf non_smtpd_milters expands to local:opendkim/opendkim.sock" pc non_smtpd_milters local:opendkim/opendkim.sock
check "main.cf milter_default_action = accept" pc milter_default_action accept
check "main.cf milter_protocol = 6" pc milter_protocol 6
check "main.cf smtpd_tls_protocols and smtp_tls_protocols = >=TLSv1.2 (the TLS step)" \
  sh -c "[ \"\$(postconf -h smtpd_tls_protocols smtp_tls_protocols | tr '\n' ' ')\" = '>=TLSv1.2 >=TLSv1.2 ' ]"
check "postfix check exits 0" quiet_ok postfix check
check "opendkim -n accepts /etc/opendkim.conf" quiet_ok opendkim -n -x /etc/opendkim.conf
for d in "${DOMAINS[@]}"; do
  check "key /etc/opendkim/keys/$d/$SELECTOR.private is opendkim:opendkim 0600" \
    test "$(stat -c '%U:%G %a' "/etc/opendkim/keys/$d/$SELECTOR.private" 2>/dev/null)" = "opendkim:opendkim 600"
done
check "$SOCKDIR is opendkim:opendkim 0750" test "$(stat -c '%U:%G %a' "$SOCKDIR" 2>/dev/null)" = "opendkim:opendkim 750"
check "postfix is in group opendkim" sh -c 'id -nG postfix | grep -qw opendkim'
for f in "${MANAGED[@]}"; do
  now=$("$PY" "$HERE/state.py" show "$f")
  if [ "$now" != "${ORIG[$f]}" ]; then
    b=$(ls -1t "$f".mailsetup-* 2>/dev/null | tail -1 || true)
    check "changed $f has a backup $f.mailsetup-* identical to the original" \
      test -n "$b" -a "$("$PY" "$HERE/state.py" show "${b:-/nonexistent}" | cut -d' ' -f1)" = "${ORIG[$f]%% *}"
  else
    echo "  $f unchanged by apply"
  fi
done
check "run record under /var/lib/mailsetup" test -n "$(find /var/lib/mailsetup -type f 2>/dev/null | head -1)"

# ---------------------------------------------------------------- 5. DNS
phase "5. DNS: zones from mailsetup records, named on 127.0.0.1:$DNS_PORT"
N=$LAB/named; mkdir -p "$N/work"; chown bind:bind "$N/work"
SERIAL=$(date +%s)
ZONES=""
for d in "${DOMAINS[@]}"; do
  ms_stdout "$N/records.$d" records --answers "$ANSWERS" --format zone --domain "$d"
  check "records --format zone --domain $d exits 0" test "$MS_RC" = 0
  show_file "$N/records.$d"
  check "zone output for $d starts with \$ORIGIN $d." \
    test "$(grep -v -e '^[[:space:]]*;' -e '^[[:space:]]*$' "$N/records.$d" | head -1 | tr -s ' \t' ' ' | sed 's/ $//')" = "\$ORIGIN $d."
  check "zone output for $d has PTR only as a comment" \
    sh -c "! grep -v '^[[:space:]]*;' '$N/records.$d' | grep -qw PTR"
  NS_A=""; [ "$d" = "${DOMAINS[0]}" ] && NS_A="ns1     IN A    127.0.0.1"
  cat >"$N/db.$d" <<EOF
\$ORIGIN $d.
\$TTL 300
@       IN SOA  ns1.${DOMAINS[0]}. hostmaster.$d. ( $SERIAL 3600 600 86400 300 )
@       IN NS   ns1.${DOMAINS[0]}.
$NS_A
; ---- mailsetup records --format zone --domain $d, unchanged:
\$INCLUDE "$N/records.$d"
EOF
  check "named-checkzone $d accepts header + records output" quiet_ok named-checkzone "$d" "$N/db.$d"
  ZONES+="zone \"$d\" { type primary; file \"$N/db.$d\"; };"$'\n'
done
ms_stdout "$N/records.json" records --answers "$ANSWERS" --format json
check "records --format json exits 0" test "$MS_RC" = 0
py_checks "$PY" "$HERE/records_json.py" "$N/records.json" summary "$HOST" "$IPV4" "$SELECTOR" "${DOMAINS[@]}"
REV=2.0.192.in-addr.arpa
{ cat <<EOF
\$ORIGIN $REV.
\$TTL 300
@   IN SOA ns1.${DOMAINS[0]}. hostmaster.${DOMAINS[0]}. ( $SERIAL 3600 600 86400 300 )
@   IN NS  ns1.${DOMAINS[0]}.
; ---- PTR from mailsetup records --format json:
EOF
  "$PY" "$HERE/records_json.py" "$N/records.json" ptr-zone "$REV" || true; } >"$N/db.$REV"
check "reverse zone $REV has the PTR from the JSON" grep -q ' IN PTR ' "$N/db.$REV"
show_file "$N/db.$REV"
check "named-checkzone $REV" quiet_ok named-checkzone "$REV" "$N/db.$REV"
cat >"$N/db.127" <<EOF
\$ORIGIN 127.in-addr.arpa.
\$TTL 300
@      IN SOA ns1.${DOMAINS[0]}. hostmaster.${DOMAINS[0]}. ( $SERIAL 3600 600 86400 300 )
@      IN NS  ns1.${DOMAINS[0]}.
1.0.0  IN PTR localhost.
EOF
# the port-25 probe's target (phase 8): a receiving domain whose MX is this machine's Postfix
cat >"$N/db.smtp-probe" <<EOF
\$ORIGIN smtp-probe.example.
\$TTL 300
@      IN SOA ns1.${DOMAINS[0]}. hostmaster.${DOMAINS[0]}. ( $SERIAL 3600 600 86400 300 )
@      IN NS  ns1.${DOMAINS[0]}.
@      IN MX  10 mx.smtp-probe.example.
mx     IN A   127.0.0.1
EOF
LISTEN53=""; [ "$USE_53" = 1 ] && LISTEN53="listen-on port 53 { 127.0.0.1; };"
named_conf "$N" "listen-on port $DNS_PORT { 127.0.0.1; }; $LISTEN53" \
  "${ZONES}zone \"$REV\" { type primary; file \"$N/db.$REV\"; };
zone \"127.in-addr.arpa\" { type primary; file \"$N/db.127\"; };
zone \"smtp-probe.example\" { type primary; file \"$N/db.smtp-probe\"; };"
check "named-checkconf" quiet_ok named-checkconf "$N/named.conf"
t=$(date +%s%N)
setsid named -f -u bind -c "$N/named.conf" </dev/null >"$N/named.stdout" 2>&1 &
NAMED_PID=$!
for z in "${DOMAINS[@]}" "$REV"; do
  wait_for 20 dig +time=1 +tries=1 @127.0.0.1 -p "$DNS_PORT" "$z" SOA +short \
    || { show_file "$N/named.stdout"; show_logs; die "named does not answer for $z"; }
done
timing "named up (all zones answer)" "$(secs "$t")"
echo "  named pid $NAMED_PID on 127.0.0.1:$DNS_PORT$([ "$USE_53" = 1 ] && echo ' and :53')"
while read -r _ name type; do
  printf '  %-40s %-5s -> %s\n' "$name" "$type" "$(dig @127.0.0.1 -p "$DNS_PORT" +short "$name" "$type" | tr '\n' ' ' | cut -c1-110)"
done < <("$PY" "$HERE/records_json.py" "$N/records.json" summary "$HOST" "$IPV4" "$SELECTOR" "${DOMAINS[@]}" | grep '^DIG ' || true)
check "dig -x $IPV4 gives $HOST." test "$(dig @127.0.0.1 -p "$DNS_PORT" +short -x "$IPV4")" = "$HOST."
# opendkim-testkey (libunbound) against our named: published key == private key
cat >"$LAB/testkey.conf" <<EOF
Nameservers 127.0.0.1@$DNS_PORT
EOF
for d in "${DOMAINS[@]}"; do
  out=$(opendkim-testkey -x "$LAB/testkey.conf" -d "$d" -s "$SELECTOR" -k "/etc/opendkim/keys/$d/$SELECTOR.private" -vvv 2>&1) && r=0 || r=$?
  echo "$out" | sed 's/^/  | /'
  check "opendkim-testkey $SELECTOR._domainkey.$d: key OK" test "$r" = 0 -a -n "$(echo "$out" | grep 'key OK')"
done

# ---------------------------------------------------------------- 6. mail
phase "6. send: swaks (SMTP) + sendmail from each domain"
EXPECT=()
t=$(date +%s%N)
for d in "${DOMAINS[@]}"; do
  subj="e2e smtp $d"
  check "swaks from sender@$d accepted" \
    swaks --silent 2 --server 127.0.0.1:25 --helo "$HOST" --from "sender@$d" --to "$RCPT" --h-Subject "$subj" --body "e2e via SMTP from $d"
  EXPECT+=("$subj=$d")
  subj="e2e sendmail $d"
  check "sendmail -f sender@$d accepted" sh -c "printf 'From: sender@%s\nTo: %s\nSubject: %s\n\ne2e via sendmail from %s\n' '$d' '$RCPT' '$subj' '$d' | /usr/sbin/sendmail -f 'sender@$d' '$RCPT'"
  EXPECT+=("$subj=$d")
done
mbox_count() { grep -c '^From ' "$MBOX" 2>/dev/null || echo 0; }
if wait_for 30 sh -c "[ \$(grep -c '^From ' $MBOX 2>/dev/null || echo 0) -ge ${#EXPECT[@]} ]"; then
  pass "${#EXPECT[@]} messages delivered to $MBOX"; timing "all messages delivered" "$(secs "$t")"
else
  fail "only $(mbox_count) of ${#EXPECT[@]} messages in $MBOX after 30s"
  find /var/spool/postfix/{incoming,active,deferred,hold} -type f 2>/dev/null | head | sed 's/^/  queued: /'
  show_logs
fi
grep -E '(postfix|opendkim)[^ ]*\[[0-9]+\]: .*(DKIM-Signature field added|status=|milter|warning|error|fatal)' "$SYSLOG" 2>/dev/null \
  | tail -n 12 | sed 's/^/  | /' || true

# ---------------------------------------------------------------- 7. verify
phase "7. verify: dkimpy, pyspf, dkimverify against 127.0.0.1:$DNS_PORT"
if [ -f "$MBOX" ]; then
  py_checks "$PY" "$HERE/dkim_verify.py" 127.0.0.1 "$DNS_PORT" "$MBOX" "$SELECTOR" "${EXPECT[@]}"
else
  fail "no $MBOX to verify"
fi
SPF_CHECKS=()
for d in "${DOMAINS[@]}"; do SPF_CHECKS+=("$IPV4,sender@$d,pass" "$BAD_IP,sender@$d,fail|softfail"); done
py_checks "$PY" -W ignore "$HERE/spf_check.py" 127.0.0.1 "$DNS_PORT" "$HOST" "${SPF_CHECKS[@]}"
# the unmodified dkimverify CLI, with a private resolv.conf (port 53 only) in a mount namespace
echo "nameserver 127.0.0.1" >"$LAB/resolv.conf"
if [ "$USE_53" = 1 ] && [ -f "$MBOX" ] && command -v dkimverify >/dev/null \
  && unshare -m sh -c "mount --bind '$LAB/resolv.conf' /etc/resolv.conf" 2>/dev/null; then
  "$PY" - "$MBOX" "$LAB" <<'EOF'
import mailbox, sys
b = mailbox.mbox(sys.argv[1])
for i, k in enumerate(k for k in b.keys() if str(b[k]["Subject"]).startswith("e2e ")):
    open("%s/msg%d.eml" % (sys.argv[2], i), "wb").write(b.get_bytes(k))
EOF
  for m in "$LAB"/msg*.eml; do
    out=$(unshare -m sh -c "mount --bind '$LAB/resolv.conf' /etc/resolv.conf && dkimverify < '$m'" 2>&1 || true)
    check "dkimverify CLI on $(basename "$m") ($(grep -m1 '^Subject:' "$m" | cut -c10-)): $out" test "$out" = "signature ok"
  done
else
  echo "  (dkimverify CLI check skipped: needs named on 127.0.0.1:53 and unshare -m with mount --bind)"
fi

# ---------------------------------------------------------------- 8. mailsetup check
phase "8. mailsetup check"
# shellcheck source=tests/e2e/tls_checks.sh
. "$HERE/tls_checks.sh"
tls_lab_cert   # the lab CA's certificate for $HOST where the stock main.cf looks (tls_checks.sh)
LABNS=(--nameserver "127.0.0.1:$DNS_PORT" --authoritative-port "$DNS_PORT" --offline)
ms check --answers "$ANSWERS" "${LABNS[@]}"
timing "mailsetup check" "$MS_SECS"
CHECK_OUT=$MS_OUT
check "check --nameserver 127.0.0.1:$DNS_PORT exits 0" test "$MS_RC" = 0
ms_stdout "$LAB/check.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
show_file "$LAB/check.json" | head -40
check "check --json exits 0" test "$MS_RC" = 0
py_checks "$PY" "$HERE/check_json.py" "$LAB/check.json" clean dkim spf dmarc mx a ptr ns rbl
# the sender-requirements verdict on the real daemons (--root /: whether they run and sign is
# seen): Yahoo's and Gmail's rule sets met (Gmail's TLS rule by the TLS step's check of main.cf)
check "check prints the sender-requirements verdict: yahoo (all senders): met" \
  grep -qx '  yahoo (all senders): met' "$CHECK_OUT"
check "check prints the sender-requirements verdict: yahoo (bulk senders): met" \
  grep -qx '  yahoo (bulk senders): met' "$CHECK_OUT"
grep -E '^  (gmail|yahoo) \(' "$CHECK_OUT" | sed 's/^  /  verdict: /'
py_checks "$PY" "$HERE/check_json.py" "$LAB/check.json" requirements \
  yahoo:all=met yahoo:bulk=met gmail:all=met gmail:bulk=met
check "check --offline has no smtp line" sh -c "! grep -q '\"check\":\"smtp\"' '$LAB/check.json'"
# outbound port 25: the MX of smtp-probe.example (named) is 127.0.0.1, where Postfix listens
P25NS=(--nameserver "127.0.0.1:$DNS_PORT" --authoritative-port "$DNS_PORT")
ms check --answers "$ANSWERS" "${P25NS[@]}" --port25-domain smtp-probe.example
check "check --port25-domain smtp-probe.example exits 0, its smtp line passes (Postfix on 127.0.0.1:25)" \
  sh -c "test $MS_RC = 0 && grep -q '✓ smtp *port 25 → MX of smtp-probe.example' '$MS_OUT'"
check "a passing check prints the deliverability next step (selftest --via-postfix --to ADDRESS)" \
  grep -q 'selftest --via-postfix --to ADDRESS' "$MS_OUT"
ms_stdout "$LAB/check-p25.json" check --answers "$ANSWERS" "${P25NS[@]}" --port25-domain smtp-probe.example --json
py_checks "$PY" "$HERE/check_json.py" "$LAB/check-p25.json" clean smtp dkim spf dmarc mx a ptr ns rbl
ms_stdout "$LAB/check-p25-closed.json" check --answers "$ANSWERS" "${P25NS[@]}" --port25-target 127.0.0.1:1 --json
check "check --port25-target 127.0.0.1:1 (closed) exits 1 with smtp.port25-blocked" \
  sh -c "test $MS_RC = 1 && grep -q '\"id\":\"smtp.port25-blocked\"' '$LAB/check-p25-closed.json'"
# by default (--root /) the probe asks for gmail.com's MX, which named (no recursion) refuses:
# could not verify, never a pass, and no connection leaves loopback
ms_stdout "$LAB/check-p25-default.json" check --answers "$ANSWERS" "${P25NS[@]}" --json
check "check with the default port-25 target and no Internet DNS exits 3 with smtp.port25-unknown" \
  sh -c "test $MS_RC = 3 && grep -q '\"id\":\"smtp.port25-unknown\"' '$LAB/check-p25-default.json'"
# selftest: a message from each domain through the socket Postfix uses, verified against DNS;
# it leaves every file, the queue and the mailbox untouched
SELFTEST_SPECS=(/etc /var/spool/postfix /var/mail)
snap "$LAB/selftest-1.json" "${SELFTEST_SPECS[@]}"
ms_stdout "$LAB/selftest.json" selftest --answers "$ANSWERS" "${LABNS[@]}" --json
show_file "$LAB/selftest.json"
check "selftest exits 0 (every domain signed, verified against the published key)" test "$MS_RC" = 0
check "selftest verified all ${#DOMAINS[@]} domains" \
  test "$(grep -o '"selftest.signed"' "$LAB/selftest.json" | wc -l)" = "${#DOMAINS[@]}"
snap "$LAB/selftest-2.json" "${SELFTEST_SPECS[@]}"
check "selftest left /etc, Postfix's queue and /var/mail untouched (sha256, mode, owner, mtime)" \
  "$PY" "$HERE/state.py" diff "$LAB/selftest-1.json" "$LAB/selftest-2.json" --ignore 'opendkim\.sock$'
# selftest --via-postfix: real messages by SMTP and by sendmail to root@localhost, read back
# from /var/mail/root as delivered and verified
ms_stdout "$LAB/selftest-via.json" selftest --answers "$ANSWERS" "${LABNS[@]}" \
  --via-postfix --to "$RCPT" --json
show_file "$LAB/selftest-via.json"
check "selftest --via-postfix --to $RCPT exits 0" test "$MS_RC" = 0
via_signed() { # via_signed FILE SUBJECT : FILE has selftest.signed for SUBJECT
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f['id']=='selftest.signed' and f['subject']==sys.argv[2] for f in d['findings']) else 1)" "$1" "$2"
}
for d in "${DOMAINS[@]}"; do
  check "selftest --via-postfix: $d by SMTP arrived signed and verified" via_signed "$LAB/selftest-via.json" "$d by SMTP"
  check "selftest --via-postfix: $d by sendmail arrived signed and verified" via_signed "$LAB/selftest-via.json" "$d by sendmail"
done
MBOX_SUM=$(sha256sum "$MBOX")
ms --dry-run selftest --answers "$ANSWERS" "${LABNS[@]}" --via-postfix --to "$RCPT"
check "--dry-run selftest --via-postfix: exit 1, says what it would send, sends nothing" \
  sh -c "test $MS_RC = 1 && grep -q 'nothing sent: --dry-run' '$MS_OUT' && sleep 2 && test \"\$(sha256sum '$MBOX')\" = '$MBOX_SUM'"
check "the messages it sent are in $MBOX" \
  test "$(grep -c '^Message-ID: <selftest\.' "$MBOX")" -ge $((2 * ${#DOMAINS[@]}))

# negative: publish example.org's DKIM key under example.net and drop example.net's DMARC record;
# `check` must now exit 1 and name both problems. Then put the zone back.
BROKEN=${DOMAINS[1]}
set_zone() { # set_zone SERIAL INCLUDE_FILE : rewrite db.$BROKEN, reload named, wait for the serial
  sed -e "s/( $SERIAL /( $1 /" -e "s|^\\\$INCLUDE .*|\\\$INCLUDE \"$2\"|" "$N/db.$BROKEN.orig" >"$N/db.$BROKEN"
  kill -HUP "$NAMED_PID"
  wait_for 10 sh -c "dig @127.0.0.1 -p $DNS_PORT +short $BROKEN SOA | grep -q ' $1 '"
}
dkim_block() { # the SELECTOR._domainkey record of a zone output (one line, or a ( ... ) group)
  awk -v s="$SELECTOR._domainkey" '!p && $1 == s { p = 1; print; if ($0 !~ /\(/ || $0 ~ /\)/) exit; next }
    p { print; if ($0 ~ /\)/) exit }' "$1"
}
cp "$N/db.$BROKEN" "$N/db.$BROKEN.orig"
{ awk -v s="$SELECTOR._domainkey" 'skip { if ($0 ~ /\)/) skip = 0; next }
    $1 == s { if ($0 ~ /\(/ && $0 !~ /\)/) skip = 1; next }
    $1 == "_dmarc" { next } { print }' "$N/records.$BROKEN"
  dkim_block "$N/records.${DOMAINS[0]}"; } >"$N/records.$BROKEN.broken"
if set_zone $((SERIAL + 1)) "$N/records.$BROKEN.broken"; then
  ms_stdout "$LAB/check-broken.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
  check "check exits 1 when $BROKEN has a wrong DKIM key and no DMARC record" test "$MS_RC" = 1
  py_checks "$PY" "$HERE/check_json.py" "$LAB/check-broken.json" findings "$BROKEN" dkim dmarc
  # SPF still passes for $BROKEN: all senders met; bulk not met, blocked by both ids
  py_checks "$PY" "$HERE/check_json.py" "$LAB/check-broken.json" requirements \
    yahoo:all=met yahoo:bulk=not-met@dkim.key-mismatch,dmarc.missing \
    gmail:bulk=not-met@dkim.key-mismatch,dmarc.missing
  ms_stdout "$LAB/selftest-broken.json" selftest --answers "$ANSWERS" "${LABNS[@]}" --json
  check "selftest exits 1 when $BROKEN publishes another key" test "$MS_RC" = 1
  check "selftest names selftest.dkim-fail-published for $BROKEN" \
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f['id']=='selftest.dkim-fail-published' and f['subject']==sys.argv[2] for f in d['findings']) else 1)" \
    "$LAB/selftest-broken.json" "$BROKEN"
else
  fail "named did not load the broken $BROKEN zone (serial $((SERIAL + 1)))"
fi
# --watch: started while the zone is broken, it must end with 0 once the fix is published
"$MAILSETUP" check --answers "$ANSWERS" "${LABNS[@]}" --watch --interval 1 --timeout 60 \
  </dev/null >"$LAB/watch.out" 2>"$LAB/watch.err" &
WATCH_PID=$!
sleep 2
check "check --watch is still waiting while $BROKEN is broken" kill -0 "$WATCH_PID"
check "named serves the intact $BROKEN zone again" set_zone $((SERIAL + 2)) "$N/records.$BROKEN"
t=$(date +%s%N)
wait "$WATCH_PID" && WATCH_RC=0 || WATCH_RC=$?
timing "check --watch saw the fix" "$(secs "$t")"
show_file "$LAB/watch.err"
check "check --watch exits 0 once the fix is published" test "$WATCH_RC" = 0

# ---------------------------------------------------------------- 8w. the daily check
# shellcheck source=tests/e2e/watch.sh
. "$HERE/watch.sh"

# ---------------------------------------------------------------- 8a. MTA-STS and TLS-RPT
# shellcheck source=tests/e2e/mta_sts.sh
. "$HERE/mta_sts.sh"
# ---------------------------------------------------------------- 8b. TLS
phase "8b. TLS: the certificate Postfix serves, verified by openssl s_client and by check"
tls_phase
# ---------------------------------------------------------------- 8c. fleet
# shellcheck source=tests/e2e/fleet.sh
. "$HERE/fleet.sh"

# ---------------------------------------------------------------- 9. idempotence
phase "9. idempotence: second plan and apply"
P_MASTER=$(postfix_master_pids); P_ODK=$(pgrep -x opendkim || true)
snap "$LAB/idem-2.json" "${IDEM_SPECS[@]}"
ms plan --answers "$ANSWERS"
check "second plan exits 0 (nothing pending)" test "$MS_RC" = 0
ms apply --answers "$ANSWERS" --yes
timing "mailsetup apply (no-op)" "$MS_SECS"
check "second apply --yes exits 0" test "$MS_RC" = 0
check "second apply reports no changes" grep -Eiq 'no changes|nothing to (do|change|apply)|up to date|already' "$MS_OUT"
snap "$LAB/idem-3.json" "${IDEM_SPECS[@]}"
check "second plan + apply wrote nothing (sha256, mode, owner, mtime)" \
  "$PY" "$HERE/state.py" diff "$LAB/idem-2.json" "$LAB/idem-3.json"
if [ "$P_MASTER" != "$(postfix_master_pids)" ] || [ "$P_ODK" != "$(pgrep -x opendkim || true)" ]; then
  echo "  WARNING: the no-op apply restarted postfix or opendkim (pids $P_MASTER/$P_ODK -> $(postfix_master_pids)/$(pgrep -x opendkim || true))"
fi

# ---------------------------------------------------------------- 10. rollback
phase "10. rollback"
ms rollback --yes
timing "mailsetup rollback" "$MS_SECS"
check "rollback --yes exits 0" test "$MS_RC" = 0
for f in "${MANAGED[@]}"; do
  now=$("$PY" "$HERE/state.py" show "$f")
  check "rollback restored $f (sha256 owner mode: ${ORIG[$f]})" test "$now" = "${ORIG[$f]}"
  [ "$now" = "${ORIG[$f]}" ] || echo "    now: $now"
done
NOW_GROUP=0; if id -nG postfix | grep -qw opendkim; then NOW_GROUP=1; fi
check "postfix in group opendkim as before ($PRE_GROUP)" test "$NOW_GROUP" = "$PRE_GROUP"
snap "$LAB/after-rollback.json" "${RESTORE_SPECS[@]}"
# the answers the wizard saved stay: they pre-fill the next run (and are not configuration)
check "rollback removed the files apply created in /etc (backups, empty dirs and saved answers aside)" \
  "$PY" "$HERE/state.py" diff "$LAB/restore-before.json" "$LAB/after-rollback.json" --no-mtime --ignore-new-dirs \
  --ignore '\.mailsetup-' --ignore '^/(var|run)/' --ignore '^/etc/(group|gshadow|passwd|shadow)-$' --ignore '^/etc/\.pwd\.lock$' \
  --ignore '^/etc/mailsetup(/answers\.toml)?$' --ignore '^/etc/ssl/'   # /etc/ssl: tls_lab_cert's, until the cleanup
echo "  daemons after rollback:"; ps_daemons
phase_end

# ---------------------------------------------------------------- 10a. inbound SPF
phase "10a. inbound SPF: policyd-spf rejects an SPF fail at RCPT and passes a permitted client"
# needs the answers, named with the zones (on :53: the agent resolves through the system
# resolver) and the daemons; it applies inbound_spf = true on the stock set-up phase 10 left,
# and rolls its runs back at its end, so 10b starts from the same place
source "$HERE/inbound_spf.sh"
phase_end
# ---------------------------------------------------------------- 10a2. inbound DMARC
# shellcheck source=tests/e2e/inbound_dmarc.sh
. "$HERE/inbound_dmarc.sh"
# ---------------------------------------------------------------- 10a3. ed25519
# shellcheck source=tests/e2e/ed25519.sh
. "$HERE/ed25519.sh"

# ---------------------------------------------------------------- 10b. break and repair
phase "10b. break each thing on purpose; check names it, its fix clears it, selftest passes again"
# a restart that comes up without a socket Postfix may use rolls the whole run back: an
# operator's DAEMON_OPTS runs OpenDKIM in group nogroup, so its socket shuts Postfix out
MAIN0=$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)
echo 'DAEMON_OPTS="-u opendkim:nogroup"' >>/etc/default/opendkim
ms apply --answers "$ANSWERS" --yes
check "apply exits 2 when OpenDKIM's socket shuts Postfix out after the restart" test "$MS_RC" = 2
check "it says what failed and that every step was rolled back" \
  sh -c "grep -q 'may not write to the socket' '$MS_OUT' && grep -q 'every change was undone and the services restarted' '$MS_OUT'"
check "main.cf is back as it was" test "$("$PY" "$HERE/state.py" show /etc/postfix/main.cf)" = "$MAIN0"
sed -i '/^DAEMON_OPTS="-u opendkim:nogroup"$/d' /etc/default/opendkim
ms apply --answers "$ANSWERS" --yes
check "apply --yes sets everything up again" test "$MS_RC" = 0
check "apply shows the selftest after its restart" grep -q 'selftest (a message from each domain through OpenDKIM)' "$MS_OUT"
# the rollback removed the keys and the apply made new ones: publish those
SERIAL2=$((SERIAL + 10))
zones_from "$ANSWERS" "$SERIAL2"
kill -HUP "$NAMED_PID"
served "$DNS_PORT" "$SERIAL2" "${DOMAINS[@]}"
ms_stdout "$LAB/bf-baseline.json" check --answers "$ANSWERS" "${LABNS[@]}" --json
check "check passes before anything is broken" test "$MS_RC" = 0
[ "$MS_RC" = 0 ] || head -c 2000 "$LAB/bf-baseline.json" | sed 's/^/  | /'
KEY0=/etc/opendkim/keys/${DOMAINS[0]}/$SELECTOR.private
t=$(date +%s%N)
# while non_smtpd_milters is empty, mail by SMTP is signed but mail by sendmail is not
unsigned_by_sendmail() {
  ms_stdout "$LAB/bf-via.json" selftest --answers "$ANSWERS" "${LABNS[@]}" --via-postfix --to "$RCPT" --json
  check "selftest --via-postfix: exit 1, ${DOMAINS[0]} by sendmail arrives unsigned (selftest.unsigned)" \
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f['id']=='selftest.unsigned' and f['subject']==sys.argv[2] for f in d['findings']) else 1)" \
    "$LAB/bf-via.json" "${DOMAINS[0]} by sendmail"
  check "... while ${DOMAINS[0]} by SMTP still arrives signed" via_signed "$LAB/bf-via.json" "${DOMAINS[0]} by SMTP"
  [ "$MS_RC" = 1 ] || fail "selftest --via-postfix exited $MS_RC, not 1"
}
break_fix milter.non-smtpd-missing "postconf -e non_smtpd_milters= && postfix reload" fix unsigned_by_sendmail
break_fix milter.not-configured "postconf -e smtpd_milters= && postfix reload" fix
break_fix opendkim.signing-table-missing-domain \
  "sed -i '/@${DOMAINS[1]} /d' /etc/opendkim/SigningTable && /etc/init.d/opendkim restart" fix
break_fix opendkim.signing-table-no-refile \
  "sed -i 's|^SigningTable.*|SigningTable /etc/opendkim/SigningTable|' /etc/opendkim.conf" fix
break_fix opendkim.key-insecure "chmod 640 $KEY0" fix
break_fix opendkim.key-missing "chown root:root $KEY0" fix
break_fix milter.socket-permission "gpasswd -d postfix opendkim" fix
break_fix milter.socket-unreachable \
  "postconf -e smtpd_milters=unix:/run/opendkim/opendkim.sock && postfix reload" fix
break_fix opendkim.not-running "/etc/init.d/opendkim stop" "/etc/init.d/opendkim start"
break_fix postfix.not-running "postfix stop" "/etc/init.d/postfix start && sleep 1"
break_fix milter.socket-mismatch \
  "sed -i 's|^Socket.*|Socket local:/run/opendkim/opendkim.sock|' /etc/opendkim.conf && /etc/init.d/opendkim restart" \
  fix
# another SOCKET in /etc/default/opendkim while opendkim.conf has a Socket line: the init script
# does not pass it (it adds -p $SOCKET only when opendkim.conf has none), so nothing is wrong
sed -i 's|^SOCKET=.*|SOCKET=local:/run/opendkim/opendkim.sock|' /etc/default/opendkim
/etc/init.d/opendkim restart >/dev/null 2>&1 || true
wait_for 15 test -S "$SOCKDIR/opendkim.sock" || true
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "another SOCKET in /etc/default/opendkim, ignored by the init script: check passes" test "$MS_RC" = 0
check "... and OpenDKIM still listens in the chroot" test -S "$SOCKDIR/opendkim.sock"
ms selftest --answers "$ANSWERS" "${LABNS[@]}"
check "... and selftest passes" test "$MS_RC" = 0
ms apply --answers "$ANSWERS" --yes
check "apply --yes writes SOCKET back to match" sh -c "test $MS_RC = 0 && grep -q '^SOCKET=local:/var/spool/postfix/opendkim/opendkim.sock' /etc/default/opendkim"
break_fix opendkim.config-invalid "echo 'Bogusoption yes' >>/etc/opendkim.conf" \
  "sed -i '/^Bogusoption/d' /etc/opendkim.conf"
break_fix postfix.config-warning "postconf -e mailsetup_typo=1" "postconf -X mailsetup_typo"
# amavisd-new is installed (deps.sh): its 50-user turns signing on; the Signer step turns
# it off again (signer = "opendkim"); /etc/amavis is the package's, so 50-user is put back
cp -a /etc/amavis/conf.d/50-user "$LAB/50-user.orig"
break_fix signer.double \
  "sed -i 's/^1;/\$enable_dkim_signing = 1;\\n1;/' /etc/amavis/conf.d/50-user" fix
cp -a "$LAB/50-user.orig" /etc/amavis/conf.d/50-user
rm -f /etc/amavis/conf.d/50-user.mailsetup-*
if grep -q . /proc/net/if_inet6 2>/dev/null; then
  break_fix postfix.restart-pending "postconf -e inet_protocols=all && postfix reload" \
    "postfix stop && postfix start && sleep 1"
  ms apply --answers "$ANSWERS" --yes
  check "apply --yes puts inet_protocols back (and stops and starts Postfix)" test "$MS_RC" = 0
else
  echo "  (no IPv6 on this host: postfix.restart-pending cannot be produced by inet_protocols here)"
fi
# inet_interfaces too: the master keeps listening on every address after a reload
IFACES0=$(postconf -h inet_interfaces)
break_fix postfix.restart-pending "postconf -e inet_interfaces=loopback-only && postfix reload" \
  "postfix stop && postfix start && sleep 1"
postconf -e "inet_interfaces=$IFACES0" && postfix stop >/dev/null 2>&1 && postfix start >/dev/null 2>&1
wait_for 10 listening 25 || true
ms check --answers "$ANSWERS" "${LABNS[@]}"
check "inet_interfaces = $IFACES0 again, after a stop and start: check passes" test "$MS_RC" = 0
timing "break and repair" "$(secs "$t")"

# ---------------------------------------------------------------- 10b2. TLS
# after 10b (the set-up applied, Postfix running, named serving the zones); undone at its end
# shellcheck source=tests/e2e/tls.sh
source "$HERE/tls.sh"

# ---------------------------------------------------------------- 10c. amavisd-new
# after 10b: it needs the set-up applied (phase 10 rolled it back; 10b applied it again),
# named serving the zones and the daemons running
# shellcheck source=tests/e2e/amavis.sh
source "$HERE/amavis.sh"

# ---------------------------------------------------------------- 10d. key rotation
# after 10c: named serving the zones, postfix + opendkim running; the last phase on the host's
# /etc, since it moves the answers to a new selector and retires the old keys (the cleanup
# restores them); 10e works on trees of its own
# shellcheck source=tests/e2e/rotate.sh
source "$HERE/rotate.sh"

# ---------------------------------------------------------------- 10e. the Ansible role
# independent of the phases before it: three --root trees, its own named on 127.0.0.1:5354
phase "10e. Ansible: the role on three local hosts, merged records, idempotent, --check writes nothing"
py_checks env MAILSETUP="$MAILSETUP" bash "$HERE/ansible.sh"
phase_end
