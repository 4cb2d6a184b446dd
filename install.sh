#!/bin/bash
# Build mailsetup in release mode and install the binary as /usr/local/sbin/mailsetup.
# It never edits /etc: configuring the mail system is what `mailsetup apply` does, after showing diffs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "install.sh: cargo not found; install Rust (rustup) first" >&2; exit 2; }
cargo build --release --locked
DEST=${DESTDIR:-}/usr/local/sbin
install -d "$DEST"
install -m 0755 target/release/mailsetup "$DEST/mailsetup"
echo "installed $DEST/mailsetup ($("$DEST/mailsetup" --version))"
