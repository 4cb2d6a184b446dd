#!/bin/bash
# tests/e2e/deps.sh — install the Debian 12 packages tests/e2e/run.sh needs, only those missing.
# Idempotent and silent when everything is present. Must run as root (apt-get).
# Service starts by package scripts are blocked while installing (a temporary policy-rc.d), so a
# freshly installed postfix/opendkim/bind9 is not left running: run.sh refuses to run next to them.
set -euo pipefail

PKGS=(postfix opendkim opendkim-tools bind9 bind9-utils dnsutils python3-dkim python3-spf
      python3-dnspython python3-nacl swaks tmux procps iproute2
      postfix-policyd-spf-python opendmarc amavisd-new ansible-core)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $st == ii* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" = 0 ] || { echo "deps.sh: missing ${missing[*]}; run as root to install them" >&2; exit 1; }
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  debconf-set-selections <<EOF
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string ${MAILNAME:-mail.example.org}
EOF
fi

POLICY=/usr/sbin/policy-rc.d
OUR_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, from mailsetup tests/e2e/deps.sh\nexit 101\n' > "$POLICY"
  chmod 0755 "$POLICY"
  OUR_POLICY=1
  trap 'rm -f "$POLICY"' EXIT
fi

apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
[ "$OUR_POLICY" = 1 ] && rm -f "$POLICY"
echo "deps.sh: done"
