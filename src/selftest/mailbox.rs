//! Where Postfix's local(8) delivers a recipient, and reading the messages back: for
//! `selftest --via-postfix`, which sends test messages and verifies them as they arrived.
//!
//! The recipient is local when its domain is in `mydestination` (postconf(5)); its local part
//! loses any address extension (`recipient_delimiter`), follows the aliases in `/etc/aliases`
//! (aliases(5)) to a user of `/etc/passwd`, and the mailbox is then `home_mailbox` beneath
//! the user's home (a Maildir when it ends in `/`), else `mail_spool_directory/user` (mbox).
//! A `mailbox_command` or `mailbox_transport`, another `local_transport`, other `alias_maps`
//! or a `~/.forward` hand delivery elsewhere on this host: the message is delivered here, but
//! not to a mailbox known to us ([`NotHere::Unreadable`]). Every path is beneath the root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::host::system::Root;

/// The Postfix parameters [`locate`] needs, as `postconf -xh` prints them (expanded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalDelivery {
    pub mydestination: String,
    pub recipient_delimiter: String,
    pub mail_spool_directory: String,
    pub home_mailbox: String,
    pub mailbox_command: String,
    pub mailbox_transport: String,
    pub local_transport: String,
    pub alias_maps: String,
}

/// The parameter names of [`LocalDelivery`], in its field order (for `postconf -xh`).
pub const PARAMETERS: [&str; 8] = [
    "mydestination",
    "recipient_delimiter",
    "mail_spool_directory",
    "home_mailbox",
    "mailbox_command",
    "mailbox_transport",
    "local_transport",
    "alias_maps",
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
            local_transport: next(),
            alias_maps: next(),
        }
    }
}

/// Why messages to an address cannot be read back here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotHere {
    /// Another host's address: Postfix sends the message on.
    Elsewhere(String),
    /// Delivered on this host, but not to a mailbox we can find.
    Unreadable(String),
}

impl std::fmt::Display for NotHere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotHere::Elsewhere(why) | NotHere::Unreadable(why) => f.write_str(why),
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
/// local mailbox, Err(why not) otherwise: another host's address, or one delivered here by
/// other means (a program, other maps, a `~/.forward`, which is looked for beneath the root).
/// `aliases`: the text of `/etc/aliases`; `passwd`: of `/etc/passwd`.
pub fn locate(
    root: &Root,
    address: &str,
    conf: &LocalDelivery,
    aliases: &str,
    passwd: &str,
) -> Result<Mailbox, NotHere> {
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or_else(|| NotHere::Elsewhere(format!("{address} has no domain")))?;
    let destinations = delivered_here(conf, domain)?;
    let user = user_of(local, conf, aliases, &destinations)?;
    let home = home_of(passwd, &user)?;
    let forward = Path::new(&home).join(".forward");
    if root.path(&forward).exists() {
        return Err(NotHere::Unreadable(format!(
            "{} forwards {user}'s mail",
            forward.display()
        )));
    }
    mailbox_of(root, conf, &home, &user)
}

/// The local domains (`mydestination`), when `domain` is one of them and local(8) delivers
/// it with /etc/aliases alone. Err: an address literal, another host's domain, another
/// transport, other alias maps.
fn delivered_here<'c>(conf: &'c LocalDelivery, domain: &str) -> Result<Vec<&'c str>, NotHere> {
    use NotHere::Unreadable;
    if domain.starts_with('[') {
        return Err(Unreadable(format!(
            "{domain} is an address literal: where Postfix delivers it depends on \
             inet_interfaces and proxy_interfaces; use a name in mydestination"
        )));
    }
    let destinations: Vec<&str> = conf
        .mydestination
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|d| !d.is_empty() && !d.contains(':') && !d.starts_with('/'))
        .collect();
    if !destinations.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
        return Err(NotHere::Elsewhere(format!(
            "{domain} is not in mydestination ({}): Postfix sends the message on to that \
             domain's MX",
            conf.mydestination
        )));
    }
    if !conf.local_transport.is_empty() && !conf.local_transport.starts_with("local:") {
        return Err(Unreadable(format!(
            "main.cf local_transport = {} delivers the local domains, not local(8)",
            conf.local_transport
        )));
    }
    if let Some(other) = conf
        .alias_maps
        .split(|c: char| c == ',' || c.is_whitespace())
        .find(|m| !m.is_empty() && !m.ends_with(":/etc/aliases"))
    {
        return Err(Unreadable(format!(
            "main.cf alias_maps also names {other}, which is not read here"
        )));
    }
    Ok(destinations)
}

/// The user `local` ends at: its extension stripped (`recipient_delimiter`), then followed
/// through /etc/aliases while each alias names one local user (up to 10 hops). Err: an
/// alias to several targets, a program or another host.
fn user_of(
    local: &str,
    conf: &LocalDelivery,
    aliases: &str,
    destinations: &[&str],
) -> Result<String, NotHere> {
    let mut user = strip_extension(local, &conf.recipient_delimiter).to_ascii_lowercase();
    for _ in 0..10 {
        let Some(targets) = alias(aliases, &user) else {
            break;
        };
        match targets.as_slice() {
            [one] if is_plain_local(one, destinations) => {
                user = one.split('@').next().unwrap_or(one).to_ascii_lowercase();
            }
            _ => {
                return Err(NotHere::Unreadable(format!(
                    "/etc/aliases sends {user} to {}: not one local mailbox",
                    targets.join(", ")
                )));
            }
        }
    }
    Ok(user)
}

/// `user`'s home directory in passwd(5) text. Err: no such user (local(8) bounces it).
fn home_of(passwd: &str, user: &str) -> Result<String, NotHere> {
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 7 && f[0] == user)
        .map(|f| f[5].to_string())
        .ok_or_else(|| {
            NotHere::Unreadable(format!(
                "{user} is no user of /etc/passwd: local(8) bounces it"
            ))
        })
}

/// Where local(8) writes `user`'s mail (postconf(5) `home_mailbox`, else
/// `mail_spool_directory`; a trailing `/` means Maildir). Err: a `mailbox_command` or
/// `mailbox_transport` delivers it instead.
fn mailbox_of(
    root: &Root,
    conf: &LocalDelivery,
    home: &str,
    user: &str,
) -> Result<Mailbox, NotHere> {
    for (name, value) in [
        ("mailbox_command", &conf.mailbox_command),
        ("mailbox_transport", &conf.mailbox_transport),
    ] {
        if !value.is_empty() {
            return Err(NotHere::Unreadable(format!(
                "main.cf {name} = {value} delivers the mailbox; its place is not known here"
            )));
        }
    }
    if !conf.home_mailbox.is_empty() {
        let path = root.path(Path::new(home).join(conf.home_mailbox.trim_end_matches('/')));
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
    let path = root.path(Path::new(spool).join(user));
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

/// Where a mailbox ends now (taken before sending), so that [`read_since`] reads only what
/// arrives later: an mbox's length, or the names of a Maildir's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    offset: u64,
    seen: BTreeSet<PathBuf>,
}

/// The mailbox's [`Mark`] now (I/O); a mailbox that does not exist yet is empty.
pub fn mark(mailbox: &Mailbox) -> Mark {
    match mailbox {
        Mailbox::Mbox(path) => Mark {
            offset: std::fs::metadata(path).map_or(0, |m| m.len()),
            seen: BTreeSet::new(),
        },
        Mailbox::Maildir(dir) => Mark {
            offset: 0,
            seen: maildir_files(dir).into_iter().collect(),
        },
    }
}

/// The messages added to the mailbox since `mark` (I/O). An mbox that shrank (rotated) is
/// read whole. A Maildir file that an IMAP server renames (new/ → cur/) while it is read
/// is skipped now and read under its new name on the next call.
pub fn read_since(mailbox: &Mailbox, mark: &Mark) -> std::io::Result<Vec<String>> {
    use std::io::{Read, Seek, SeekFrom};
    let missing = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    match mailbox {
        Mailbox::Mbox(path) => {
            let mut file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) if missing(&e) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let len = file.metadata()?.len();
            file.seek(SeekFrom::Start(if len < mark.offset {
                0
            } else {
                mark.offset
            }))?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            Ok(mbox_messages(&String::from_utf8_lossy(&bytes)))
        }
        Mailbox::Maildir(dir) => {
            let mut out = Vec::new();
            for path in maildir_files(dir) {
                if mark.seen.contains(&path) {
                    continue;
                }
                match std::fs::read(&path) {
                    Ok(bytes) => out.push(String::from_utf8_lossy(&bytes).into_owned()),
                    Err(e) if missing(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
    }
}

/// The regular files in a Maildir's `new/` and `cur/`.
fn maildir_files(dir: &Path) -> Vec<PathBuf> {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests;
