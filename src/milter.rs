//! The OpenDKIM milter socket, named consistently on both sides: OpenDKIM's `Socket`
//! (opendkim.conf(5): `local:PATH`, `inet:PORT@HOST`) and Postfix's milter address (MILTER_README:
//! `local:PATH` relative to the queue directory, `inet:HOST:PORT`).
//!
//! Why these forms: Debian's Postfix runs smtpd chrooted in /var/spool/postfix, so a unix socket must
//! live below it and Postfix must name it relative (`local:opendkim/opendkim.sock` resolves inside and
//! outside the chroot; an absolute path does not). For TCP the literal 127.0.0.1 is used on both
//! sides: `localhost` does not resolve in a chroot whose etc/ was never populated.

use crate::host::system::{OPENDMARC_SOCKET_DIR, QUEUE_DIR, SOCKET_DIR};
use crate::values::MilterSocket;

/// The socket file name inside [`SOCKET_DIR`].
pub const SOCKET_FILE: &str = "opendkim.sock";

/// OpenDKIM's `Socket` value for this choice.
pub fn opendkim_socket(s: MilterSocket) -> String {
    match s {
        MilterSocket::Local => format!("local:{SOCKET_DIR}/{SOCKET_FILE}"),
        MilterSocket::Inet(port) => format!("inet:{}@127.0.0.1", port.get()),
    }
}

/// Postfix's milter address (`smtpd_milters` element) for this choice.
pub fn postfix_milter(s: MilterSocket) -> String {
    match s {
        MilterSocket::Local => {
            let rel = SOCKET_DIR
                .strip_prefix(QUEUE_DIR)
                .unwrap_or(SOCKET_DIR)
                .trim_start_matches('/');
            format!("local:{rel}/{SOCKET_FILE}")
        }
        MilterSocket::Inet(port) => format!("inet:127.0.0.1:{}", port.get()),
    }
}

/// How Postfix would name the socket an OpenDKIM `Socket` value listens on, when it can be told:
/// `local:/var/spool/postfix/x` → `local:x`, `inet:8891@localhost` → `inet:localhost:8891`,
/// `inet:8891` (all addresses) → `inet:127.0.0.1:8891`.
pub fn postfix_form_of(opendkim_socket: &str) -> Option<String> {
    let (kind, rest) = opendkim_socket.split_once(':')?;
    match kind {
        "local" | "unix" => {
            let path = rest.trim();
            let rel = path
                .strip_prefix(QUEUE_DIR)
                .map(|r| r.trim_start_matches('/').to_string())
                .unwrap_or_else(|| path.to_string());
            Some(format!("local:{rel}"))
        }
        "inet" | "inet6" => match rest.split_once('@') {
            Some((port, host)) => Some(format!("{kind}:{host}:{port}")),
            None => Some(format!("{kind}:127.0.0.1:{rest}")),
        },
        _ => None,
    }
}

/// Is this `smtpd_milters` element an OpenDKIM milter? It is when it names the socket OpenDKIM is
/// configured with now (`current`, its opendkim.conf `Socket`), mentions `opendkim`, or uses
/// OpenDKIM's conventional port 8891; never the second, Ed25519 instance's socket
/// ([`ED25519_SOCKET_FILE`]).
pub fn is_opendkim_entry(entry: &str, current: Option<&str>) -> bool {
    let e = entry.trim().trim_start_matches('{').trim();
    let e = e.split([',', ' ']).next().unwrap_or(e);
    if e.to_ascii_lowercase().contains("opendkim-ed25519") {
        return false;
    }
    if e.to_ascii_lowercase().contains("opendkim") {
        return true;
    }
    if current.and_then(postfix_form_of).is_some_and(|p| p == e) {
        return true;
    }
    e.starts_with("inet:") && e.ends_with(":8891")
}

/// The socket file of the second OpenDKIM instance, which signs `ed25519-sha256` (answers
/// `algorithms`), inside [`SOCKET_DIR`] beside the first one's.
pub const ED25519_SOCKET_FILE: &str = "opendkim-ed25519.sock";

/// The port of the second instance when the milters speak TCP: 8892, or 8893 when the first
/// instance has 8892.
fn ed25519_port(main: MilterSocket) -> u16 {
    match main {
        MilterSocket::Inet(p) if p.get() == 8892 => 8893,
        _ => 8892,
    }
}

/// The second (Ed25519) instance's `Socket` for the answers' `socket` choice `main`:
/// `local:/var/spool/postfix/opendkim/opendkim-ed25519.sock`, or `inet:8892@127.0.0.1`.
pub fn ed25519_socket(main: MilterSocket) -> String {
    match main {
        MilterSocket::Local => format!("local:{SOCKET_DIR}/{ED25519_SOCKET_FILE}"),
        inet => format!("inet:{}@127.0.0.1", ed25519_port(inet)),
    }
}

/// Postfix's milter address of the second instance (`local:opendkim/opendkim-ed25519.sock`,
/// `inet:127.0.0.1:8892`).
pub fn postfix_ed25519_milter(main: MilterSocket) -> String {
    postfix_form_of(&ed25519_socket(main)).unwrap_or_default()
}

/// Is this milter list element the second (Ed25519) instance? It is when it mentions
/// `opendkim-ed25519`, or is `ours` ([`postfix_ed25519_milter`]).
pub fn is_ed25519_entry(entry: &str, ours: &str) -> bool {
    let e = entry.trim().trim_start_matches('{').trim();
    let e = e.split([',', ' ']).next().unwrap_or(e);
    e == ours || e.to_ascii_lowercase().contains("opendkim-ed25519")
}

/// The OpenDMARC socket file name inside [`OPENDMARC_SOCKET_DIR`].
pub const OPENDMARC_SOCKET_FILE: &str = "opendmarc.sock";

/// OpenDMARC's `Socket` (opendmarc.conf(5): `local:PATH`): always a Unix socket inside
/// Postfix's chroot, for the same reason as OpenDKIM's local one.
pub fn opendmarc_socket() -> String {
    format!("local:{OPENDMARC_SOCKET_DIR}/{OPENDMARC_SOCKET_FILE}")
}

/// Postfix's milter address for OpenDMARC, relative to the queue directory
/// (`local:opendmarc/opendmarc.sock`).
pub fn postfix_dmarc_milter() -> String {
    postfix_form_of(&opendmarc_socket()).unwrap_or_default()
}

/// Is this `smtpd_milters` element an OpenDMARC milter? It is when it names the socket
/// OpenDMARC is configured with now (`current`, its opendmarc.conf `Socket`), or mentions
/// `opendmarc`.
pub fn is_opendmarc_entry(entry: &str, current: Option<&str>) -> bool {
    let e = entry.trim().trim_start_matches('{').trim();
    let e = e.split([',', ' ']).next().unwrap_or(e);
    e.to_ascii_lowercase().contains("opendmarc")
        || current.and_then(postfix_form_of).is_some_and(|p| p == e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Port;

    #[test]
    fn both_sides_name_the_same_socket() {
        assert_eq!(
            opendkim_socket(MilterSocket::Local),
            "local:/var/spool/postfix/opendkim/opendkim.sock"
        );
        assert_eq!(
            postfix_milter(MilterSocket::Local),
            "local:opendkim/opendkim.sock"
        );
        assert_eq!(
            postfix_form_of(&opendkim_socket(MilterSocket::Local)).as_deref(),
            Some("local:opendkim/opendkim.sock")
        );
        let inet = MilterSocket::Inet(Port::new(8891).expect("port"));
        assert_eq!(opendkim_socket(inet), "inet:8891@127.0.0.1");
        assert_eq!(postfix_milter(inet), "inet:127.0.0.1:8891");
        assert_eq!(
            postfix_form_of(&opendkim_socket(inet)).as_deref(),
            Some("inet:127.0.0.1:8891")
        );
    }

    #[test]
    fn the_ed25519_instance_is_named_alike_on_both_sides_and_is_not_the_first() {
        let local = MilterSocket::Local;
        assert_eq!(
            ed25519_socket(local),
            "local:/var/spool/postfix/opendkim/opendkim-ed25519.sock"
        );
        assert_eq!(
            postfix_ed25519_milter(local),
            "local:opendkim/opendkim-ed25519.sock"
        );
        let inet = MilterSocket::Inet(Port::new(8891).expect("port"));
        assert_eq!(ed25519_socket(inet), "inet:8892@127.0.0.1");
        assert_eq!(postfix_ed25519_milter(inet), "inet:127.0.0.1:8892");
        let taken = MilterSocket::Inet(Port::new(8892).expect("port"));
        assert_eq!(postfix_ed25519_milter(taken), "inet:127.0.0.1:8893");
        assert!(!is_opendkim_entry(&postfix_ed25519_milter(local), None));
        assert!(is_ed25519_entry(
            "local:opendkim/opendkim-ed25519.sock",
            "inet:127.0.0.1:8892"
        ));
        assert!(is_ed25519_entry(
            "inet:127.0.0.1:8892",
            "inet:127.0.0.1:8892"
        ));
        assert!(!is_ed25519_entry("local:opendkim/opendkim.sock", "x"));
    }

    #[test]
    fn opendmarc_is_named_alike_on_both_sides() {
        assert_eq!(
            opendmarc_socket(),
            "local:/var/spool/postfix/opendmarc/opendmarc.sock"
        );
        assert_eq!(postfix_dmarc_milter(), "local:opendmarc/opendmarc.sock");
        assert!(is_opendmarc_entry("local:opendmarc/opendmarc.sock", None));
        assert!(is_opendmarc_entry(
            "inet:127.0.0.1:8893",
            Some("inet:8893@127.0.0.1")
        ));
        assert!(!is_opendmarc_entry("local:opendkim/opendkim.sock", None));
        assert!(!is_opendkim_entry("local:opendmarc/opendmarc.sock", None));
    }

    #[test]
    fn recognises_old_opendkim_entries_and_only_those() {
        assert!(is_opendkim_entry("inet:localhost:8891", None));
        assert!(is_opendkim_entry("local:/run/opendkim/opendkim.sock", None));
        assert!(is_opendkim_entry(
            "inet:127.0.0.1:12301",
            Some("inet:12301@127.0.0.1")
        ));
        assert!(
            !is_opendkim_entry("inet:127.0.0.1:11332", None),
            "rspamd's milter stays"
        );
        assert!(!is_opendkim_entry(
            "unix:/run/clamav/clamav-milter.ctl",
            Some("local:/run/opendkim/opendkim.sock")
        ));
    }
}
