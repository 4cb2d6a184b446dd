//! Where Postfix's local(8) delivers a recipient, and reading the messages back: for
//! `selftest --via-postfix`, which sends test messages and verifies them as they arrived.
//!
//! The recipient is local when its domain is in `mydestination` (postconf(5)); its local part
//! loses any address extension (`recipient_delimiter`), follows the aliases in `/etc/aliases`
//! (aliases(5)) to a user of `/etc/passwd`, and the mailbox is then `home_mailbox` beneath
//! the user's home (a Maildir when it ends in `/`), else `mail_spool_directory/user` (mbox).
//! A `mailbox_command` or `mailbox_transport` hands delivery to another program, whose
//! mailbox we cannot know. Every path is beneath the root.

use std::path::{Path, PathBuf};

use crate::system::Root;

/// The Postfix parameters [`locate`] needs, as `postconf -xh` prints them (expanded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalDelivery {
    pub mydestination: String,
    pub recipient_delimiter: String,
    pub mail_spool_directory: String,
    pub home_mailbox: String,
    pub mailbox_command: String,
    pub mailbox_transport: String,
}

/// The parameter names of [`LocalDelivery`], in its field order (for `postconf -xh`).
pub const PARAMETERS: [&str; 6] = [
    "mydestination",
    "recipient_delimiter",
    "mail_spool_directory",
    "home_mailbox",
    "mailbox_command",
    "mailbox_transport",
];

impl LocalDelivery {
    /// From `postconf -xh` output for [`PARAMETERS`]: one value per line, in order.
    pub fn from_postconf(out: &str) -> LocalDelivery {
        let mut lines = out.lines().map(|l| l.trim().to_string());
        let mut next = || lines.next().unwrap_or_default();
        LocalDelivery {
            mydestination: next(),
            recipient_delimiter: next(),
            mail_spool_directory: next(),
            home_mailbox: next(),
            mailbox_command: next(),
            mailbox_transport: next(),
        }
    }
}

/// A mailbox that messages can be read back from (paths beneath the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mailbox {
    /// One file of messages, each starting with a `From ` line (mbox(5)).
    Mbox(PathBuf),
    /// A Maildir: one message per file in `new/` and `cur/`.
    Maildir(PathBuf),
}

impl std::fmt::Display for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailbox::Mbox(p) => write!(f, "{}", p.display()),
            Mailbox::Maildir(p) => write!(f, "{}/ (Maildir)", p.display()),
        }
    }
}

/// Where Postfix delivers `address` (`local@domain`) on this root: Ok(mailbox) when it is a
/// local mailbox, Err(why not) otherwise (another host's address, a program, …).
/// `aliases`: the text of `/etc/aliases`; `passwd`: of `/etc/passwd`.
pub fn locate(
    root: &Root,
    address: &str,
    conf: &LocalDelivery,
    aliases: &str,
    passwd: &str,
) -> Result<Mailbox, String> {
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or_else(|| format!("{address} has no domain"))?;
    let destinations: Vec<&str> = conf
        .mydestination
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|d| !d.is_empty() && !d.contains(':') && !d.starts_with('/'))
        .collect();
    if !destinations.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return Err(format!(
            "{domain} is not in mydestination ({}): Postfix sends the message on to that \
             domain's MX",
            conf.mydestination
        ));
    }
    let mut user = strip_extension(local, &conf.recipient_delimiter).to_ascii_lowercase();
    for _ in 0..10 {
        let Some(targets) = alias(aliases, &user) else {
            break;
        };
        match targets.as_slice() {
            [one] if is_plain_local(one, &destinations) => {
                user = one.split('@').next().unwrap_or(one).to_ascii_lowercase();
            }
            _ => {
                return Err(format!(
                    "/etc/aliases sends {user} to {}: not one local mailbox",
                    targets.join(", ")
                ));
            }
        }
    }
    let home = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 7 && f[0] == user)
        .map(|f| f[5].to_string())
        .ok_or_else(|| format!("{user} is no user of /etc/passwd: local(8) bounces it"))?;
    for (name, value) in [
        ("mailbox_command", &conf.mailbox_command),
        ("mailbox_transport", &conf.mailbox_transport),
    ] {
        if !value.is_empty() {
            return Err(format!(
                "main.cf {name} = {value} delivers the mailbox; its place is not known here"
            ));
        }
    }
    if !conf.home_mailbox.is_empty() {
        let path = root.path(Path::new(&home).join(conf.home_mailbox.trim_end_matches('/')));
        return Ok(if conf.home_mailbox.ends_with('/') {
            Mailbox::Maildir(path)
        } else {
            Mailbox::Mbox(path)
        });
    }
    let spool = if conf.mail_spool_directory.is_empty() {
        "/var/mail"
    } else {
        conf.mail_spool_directory.trim_end_matches('/')
    };
    let path = root.path(Path::new(spool).join(&user));
    Ok(if conf.mail_spool_directory.ends_with('/') {
        Mailbox::Maildir(path)
    } else {
        Mailbox::Mbox(path)
    })
}

/// `user+ext` → `user` for each delimiter character (postconf(5) `recipient_delimiter`).
fn strip_extension<'a>(local: &'a str, delimiters: &str) -> &'a str {
    match local.find(|c: char| delimiters.contains(c)) {
        Some(i) if i > 0 => &local[..i],
        _ => local,
    }
}

/// A bare user name, or `user@` one of the local destinations.
fn is_plain_local(target: &str, destinations: &[&str]) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    match target.split_once('@') {
        Some((user, domain)) => {
            plain(user) && destinations.iter().any(|d| d.eq_ignore_ascii_case(domain))
        }
        None => plain(target),
    }
}

/// The targets of `name` in aliases(5) text: `name: a, b`, continued on lines that start
/// with white space; `#` comments; names compared case-insensitively.
fn alias(text: &str, name: &str) -> Option<Vec<String>> {
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        match entries.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => entries.push(line.trim().to_string()),
        }
    }
    entries.iter().find_map(|e| {
        let (n, targets) = e.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| {
            targets
                .split(',')
                .map(|t| t.trim().trim_matches('"').to_string())
                .filter(|t| !t.is_empty())
                .collect()
        })
    })
}

/// The messages of an mbox, without their `From ` separator lines (mbox(5): a message
/// starts at a `From ` line at the file's start or after an empty line).
pub fn mbox_messages(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut blank_before = true;
    for line in text.split_inclusive('\n') {
        if blank_before && line.starts_with("From ") {
            out.push(String::new());
        } else if let Some(m) = out.last_mut() {
            m.push_str(line);
        }
        blank_before = line.trim_end_matches(['\r', '\n']).is_empty();
    }
    out
}

/// The message whose `Message-ID` header is `id` (with its angle brackets), as RFC 5322
/// text with CRLF line ends, ready for DKIM verification.
pub fn find(messages: &[String], id: &str) -> Option<String> {
    let wanted = id.to_ascii_lowercase();
    messages
        .iter()
        .find(|m| {
            header_block(m).lines().any(|l| {
                l.split_once(':').is_some_and(|(n, v)| {
                    n.eq_ignore_ascii_case("message-id") && v.trim().to_ascii_lowercase() == wanted
                })
            })
        })
        .map(|m| crlf(m))
}

fn header_block(message: &str) -> &str {
    message
        .find("\n\n")
        .or_else(|| message.find("\r\n\r\n"))
        .map_or(message, |i| &message[..i])
}

fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Every message in the mailbox now (I/O); a mailbox that does not exist yet holds none.
pub fn read(mailbox: &Mailbox) -> std::io::Result<Vec<String>> {
    let missing = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    match mailbox {
        Mailbox::Mbox(path) => match std::fs::read(path) {
            Ok(bytes) => Ok(mbox_messages(&String::from_utf8_lossy(&bytes))),
            Err(e) if missing(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        },
        Mailbox::Maildir(dir) => {
            let mut out = Vec::new();
            for sub in ["new", "cur"] {
                let entries = match std::fs::read_dir(dir.join(sub)) {
                    Ok(entries) => entries,
                    Err(e) if missing(&e) => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let bytes = std::fs::read(entry?.path())?;
                    out.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALIASES: &str = "# See man 5 aliases for format\npostmaster:    root\n\
        abuse: postmaster\nteam: alice,\n  bob\nlist: |/usr/bin/list\n";
    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        alice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n";

    fn conf() -> LocalDelivery {
        LocalDelivery::from_postconf(
            "mail.example.org, localhost.example.org, localhost\n+\n/var/mail\n\n\n\n",
        )
    }

    #[test]
    fn a_local_address_is_followed_through_aliases_to_its_mailbox() {
        let root = Root::new("/tmp/t");
        let at = |a: &str, c: &LocalDelivery| locate(&root, a, c, ALIASES, PASSWD);
        let spool = |u: &str| Ok(Mailbox::Mbox(format!("/tmp/t/var/mail/{u}").into()));
        assert_eq!(at("root@localhost", &conf()), spool("root"));
        assert_eq!(at("abuse@LOCALHOST", &conf()), spool("root"), "two levels");
        assert_eq!(
            at("alice+selftest@mail.example.org", &conf()),
            spool("alice")
        );
        let err = at("team@localhost", &conf()).unwrap_err();
        assert!(err.contains("alice, bob"), "{err}");
        assert!(at("list@localhost", &conf()).unwrap_err().contains("|/usr"));
        assert!(
            at("nobody@localhost", &conf())
                .unwrap_err()
                .contains("no user")
        );
        let err = at("me@gmail.com", &conf()).unwrap_err();
        assert!(err.contains("not in mydestination"), "{err}");
        let mut maildir = conf();
        maildir.home_mailbox = "Maildir/".into();
        assert_eq!(
            at("alice@localhost", &maildir),
            Ok(Mailbox::Maildir("/tmp/t/home/alice/Maildir".into()))
        );
        let mut procmail = conf();
        procmail.mailbox_command = "procmail -a \"$EXTENSION\"".into();
        assert!(
            at("root@localhost", &procmail)
                .unwrap_err()
                .contains("procmail")
        );
    }

    #[test]
    fn mbox_messages_are_split_at_from_lines_and_found_by_message_id() {
        // local(8) quotes a body line that starts with `From ` as `>From `
        let mbox = "From a@b  Sat Nov 21 18:50:19 2026\nMessage-ID: <one@x>\nSubject: 1\n\n\
                    >From here on, a body line\nFrom within a paragraph\n\n\
                    From c@d  Sat Nov 21 18:50:20 2026\nMessage-Id:  <Two@x>\n\nbody\n\n";
        let messages = mbox_messages(mbox);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("\nFrom within"), "not a separator");
        assert_eq!(
            find(&messages, "<two@x>").as_deref(),
            Some("Message-Id:  <Two@x>\r\n\r\nbody\r\n\r\n")
        );
        assert_eq!(find(&messages, "<three@x>"), None);
    }
}
