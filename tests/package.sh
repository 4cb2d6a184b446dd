#!/bin/bash
# The Debian package, end to end, as root: `./install.sh --yes` builds the .deb and installs
# it; then the installed files are checked (the binary, mailsetup.8.gz, the three completion
# files), `man 8 mailsetup` renders and the bash completion loads; then the package is
# removed again (`dpkg -r mailsetup`), also when a check fails, so the machine is left as it
# was. It refuses to run when a mailsetup package is installed already.
#
# Not part of .ci/run: a release build takes minutes (see the README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$(id -u)" = 0 ] || { echo "tests/package.sh: must run as root (it installs the package)" >&2; exit 2; }
if dpkg-query -W -f '${Status}' mailsetup 2>/dev/null | grep -q ' installed$'; then
    echo "tests/package.sh: a mailsetup package is installed already; remove it first (dpkg -r mailsetup)" >&2
    exit 2
fi

fail=0
check() { # check DESCRIPTION COMMAND...: run it, say ok or FAIL.
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
remove() {
    if dpkg-query -W -f '${Status}' mailsetup 2>/dev/null | grep -q ' installed$'; then
        dpkg -r mailsetup >/dev/null && echo "removed the mailsetup package"
    fi
}
trap remove EXIT

start=$SECONDS
./install.sh --yes </dev/null
echo "install.sh took $((SECONDS - start)) s"

files=$(dpkg -L mailsetup)
for path in /usr/sbin/mailsetup \
    /usr/share/man/man8/mailsetup.8.gz \
    /usr/share/bash-completion/completions/mailsetup \
    /usr/share/zsh/vendor-completions/_mailsetup \
    /usr/share/fish/vendor_completions.d/mailsetup.fish \
    /usr/share/doc/mailsetup/copyright \
    /usr/share/doc/mailsetup/examples/answers.example.toml \
    /lib/systemd/system/mailsetup-check.service \
    /lib/systemd/system/mailsetup-check.timer; do
    check "dpkg -L lists $path and it is there" bash -c 'grep -qx "$1" <<<"$2" && [ -e "$1" ]' _ "$path" "$files"
done
check "the daily check's timer is installed, not enabled" \
    test ! -e /etc/systemd/system/timers.target.wants/mailsetup-check.timer
check "/usr/sbin/mailsetup --version" /usr/sbin/mailsetup --version
check "mailsetup records runs (needs neither postfix nor opendkim)" \
    /usr/sbin/mailsetup --root / records --answers assets/answers.example.toml
check "Recommends: postfix, opendkim, opendkim-tools" \
    bash -c 'dpkg-query -W -f "\${Recommends}" mailsetup | grep -qx "postfix, opendkim, opendkim-tools"'
check "the bash completion loads and completes subcommands" bash -c \
    '. /usr/share/bash-completion/completions/mailsetup && complete -p mailsetup'
if command -v man >/dev/null; then
    check "man 8 mailsetup renders, warnings on and none given" bash -c \
        'out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings 8 mailsetup 2>&1 >/dev/null) && [ -z "$out" ] &&
         MANWIDTH=80 man 8 mailsetup | grep -qx "EXIT STATUS"'
else
    check "the man page is gzip-compressed roff" bash -c 'zcat /usr/share/man/man8/mailsetup.8.gz | grep -q "^\.TH mailsetup 8"'
fi

remove
check "dpkg -r took /usr/sbin/mailsetup away" test ! -e /usr/sbin/mailsetup
echo "tests/package.sh: $([ $fail = 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s"
exit $fail
