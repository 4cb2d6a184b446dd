#!/bin/bash
# Build mailsetup's Debian package and install it:
#   /usr/sbin/mailsetup, the man page mailsetup(8), bash/zsh/fish completions.
# It never edits mail configuration: that is what `mailsetup` does, after showing diffs.
#
#   ./install.sh          build; on a terminal, ask before installing cargo-deb or the package
#   ./install.sh --yes    the same without asking (also what happens without a terminal)
#   ./install.sh --build-only   build target/debian/mailsetup_<version>_<arch>.deb; install nothing
#
# Needs Rust (cargo) at least the rust-version in Cargo.toml, and a C linker (build-essential).
# Without them it says what to install and exits 2; it installs no toolchain itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

yes=false
install=true
for arg in "$@"; do
    case $arg in
        -y | --yes) yes=true ;;
        --build-only) install=false ;;
        -h | --help)
            sed -n '2,11s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *)
            echo "install.sh: unknown option $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

say() { echo "install.sh: $*" >&2; }

# ask QUESTION: on a terminal, true when the answer is y; with --yes, or without a terminal
# to ask on (CI, a pipe), true, saying what it goes on to do.
ask() {
    if $yes; then
        say "$1 yes (--yes)"
        return 0
    elif [ ! -t 0 ]; then
        say "$1 yes (no terminal to ask on)"
        return 0
    fi
    local reply
    read -r -p "install.sh: $1 [y/N] " reply
    [[ $reply == [yY]* ]]
}

[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

# --- the toolchain -------------------------------------------------------------------------
need=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml)
have=""
command -v cargo >/dev/null && have=$(cargo --version | awk '{print $2}')
# version_ge A B: A >= B, comparing major.minor.patch as numbers.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
if [ -z "$have" ] || ! version_ge "$have" "$need"; then
    if [ -z "$have" ]; then
        say "cargo not found; mailsetup needs Rust $need or newer."
    else
        say "cargo $have is too old; mailsetup needs Rust $need or newer (Debian 12's own rustc is 1.63)."
    fi
    cat >&2 <<EOF
Install Rust with rustup (https://rustup.rs), as the user who builds, and a C linker:

    sudo apt-get install -y build-essential curl
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
    . "\$HOME/.cargo/env"

then run ./install.sh again. (No OpenSSL or pkg-config is needed: mailsetup's crypto is pure Rust.)
EOF
    exit 2
fi
if ! command -v cc >/dev/null; then
    say "no C linker (cc) found; Rust needs one to link. Install it with:"
    echo "    sudo apt-get install -y build-essential" >&2
    exit 2
fi

if ! cargo deb --version >/dev/null 2>&1; then
    if ask "cargo-deb (which builds the .deb) is missing; install it with 'cargo install cargo-deb --locked' (about a minute)?"; then
        cargo install cargo-deb --locked
    else
        say "cargo-deb is needed to build the package; install it with: cargo install cargo-deb --locked"
        exit 2
    fi
fi

# --- the package ---------------------------------------------------------------------------
target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
[ -n "$target" ] || target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked
# The man page and completions come from the binary's own clap definitions; Cargo.toml's
# assets take them from target/docs (beneath this directory, whatever CARGO_TARGET_DIR says).
"$target/release/mailsetup" generate target/docs >/dev/null
deb=$(cargo deb --no-build --locked | tail -n1)
[ -f "$deb" ] || { say "cargo deb did not say where the package is (got: $deb)"; exit 2; }
say "built $deb ($(du -h "$deb" | cut -f1))"
$install || exit 0

# --- installing it -------------------------------------------------------------------------
sudo=()
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { say "run as root (or install sudo) to install $deb"; exit 2; }
    sudo=(sudo)
fi
# Postfix, OpenDKIM and opendkim-tools are only recommended: the wizard's first step installs
# the missing ones after showing the command, and `records`, `check` and `demo` need none.
ask "install $deb with apt-get (postfix and opendkim are not installed by this)?" || {
    say "not installed; install it later with: apt-get install --no-install-recommends $deb"
    exit 1
}
"${sudo[@]}" apt-get install -y --no-install-recommends "$deb"
say "installed: /usr/sbin/mailsetup ($(/usr/sbin/mailsetup --version)), man 8 mailsetup, bash/zsh/fish completions"
say "next: sudo mailsetup (the wizard), or see man 8 mailsetup"
