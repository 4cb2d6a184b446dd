//! OpenDKIM's key-file check, ported: `dkimf_securefile` / `dkimf_checkfsnode` (opendkim.c)
//! walk the key's real path from `/` and refuse the key ("key data is not secure") when any
//! component could be changed, or the key read, by someone other than root and the opendkim
//! user (reliability.md §3). The [`Node`]s of the walk are read by `host::probe`;
//! [`judge`] is pure.

use std::path::PathBuf;

use crate::host::accounts::Accounts;

/// Owner, group and mode of one path component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The system path (not beneath the root).
    pub path: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub is_dir: bool,
}

/// Why OpenDKIM would refuse the key, naming the component and the fix; `None` when it
/// accepts it. `opendkim_uid`: the user OpenDKIM runs as; `accounts`: every user and group
/// (for the single-member rule: group access is allowed only when no user but root and
/// OpenDKIM has that group as primary or supplementary group).
pub fn judge(nodes: &[Node], opendkim_uid: u32, accounts: &Accounts) -> Option<String> {
    let trusted = |uid: u32| uid == 0 || uid == opendkim_uid;
    for node in nodes {
        let path = node.path.display();
        let others = group_others(accounts, node.gid, opendkim_uid);
        if node.is_dir {
            if node.mode & 0o002 != 0 {
                return Some(format!(
                    "the directory {path} is writable by every user (mode {:04o}): chmod o-w {path}",
                    node.mode
                ));
            }
            if node.mode & 0o020 != 0 && !others.is_empty() {
                return Some(format!(
                    "the directory {path} is group-writable and its group has other members ({}): \
                     chmod g-w {path}",
                    others.join(", ")
                ));
            }
            if node.mode & 0o200 != 0 && !trusted(node.uid) {
                return Some(format!(
                    "the directory {path} belongs to uid {} and is writable by it: chown root {path}",
                    node.uid
                ));
            }
        } else {
            if !trusted(node.uid) {
                return Some(format!(
                    "the key {path} belongs to uid {}, not root or opendkim: chown opendkim {path}",
                    node.uid
                ));
            }
            if node.mode & 0o007 != 0 {
                return Some(format!(
                    "the key {path} is readable or writable by every user (mode {:04o}): chmod 600 {path}",
                    node.mode
                ));
            }
            if node.mode & 0o070 != 0 && !others.is_empty() {
                return Some(format!(
                    "the key {path} is group-accessible (mode {:04o}) and its group has other \
                     members ({}): chmod 600 {path}",
                    node.mode,
                    others.join(", ")
                ));
            }
        }
    }
    None
}

/// Users other than root and OpenDKIM in group `gid` (primary or supplementary), sorted.
fn group_others(accounts: &Accounts, gid: u32, opendkim_uid: u32) -> Vec<String> {
    let mut out: Vec<String> = accounts
        .users
        .iter()
        .filter(|(_, u)| u.gid == gid && u.uid != 0 && u.uid != opendkim_uid)
        .map(|(n, _)| n.clone())
        .collect();
    for g in accounts.groups.values().filter(|g| g.gid == gid) {
        for m in &g.members {
            let uid = accounts.user(m).map(|u| u.uid);
            if uid != Some(0) && uid != Some(opendkim_uid) && !out.contains(m) {
                out.push(m.clone());
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0::/root:/bin/sh\nopendkim:x:110:117::/run/opendkim:/usr/sbin/nologin\npostfix:x:105:112::/var/spool/postfix:/usr/sbin/nologin\n";

    fn accounts(postfix_in_opendkim: bool) -> Accounts {
        let members = if postfix_in_opendkim { "postfix" } else { "" };
        Accounts::parse(
            PASSWD,
            &format!("root:x:0:\nopendkim:x:117:{members}\npostfix:x:112:\n"),
        )
    }

    fn dir(path: &str, uid: u32, gid: u32, mode: u32) -> Node {
        Node {
            path: path.into(),
            uid,
            gid,
            mode,
            is_dir: true,
        }
    }

    /// The layout mailsetup makes: keys dirs root:opendkim 0750, key opendkim:opendkim 0600.
    fn layout(key_uid: u32, key_gid: u32, key_mode: u32) -> Vec<Node> {
        vec![
            dir("/", 0, 0, 0o755),
            dir("/etc", 0, 0, 0o755),
            dir("/etc/opendkim", 0, 0, 0o755),
            dir("/etc/opendkim/keys", 0, 117, 0o750),
            dir("/etc/opendkim/keys/example.org", 0, 117, 0o750),
            Node {
                path: "/etc/opendkim/keys/example.org/mail.private".into(),
                uid: key_uid,
                gid: key_gid,
                mode: key_mode,
                is_dir: false,
            },
        ]
    }

    #[test]
    fn mailsetups_layout_is_secure_even_with_postfix_in_the_group() {
        assert_eq!(judge(&layout(110, 117, 0o600), 110, &accounts(true)), None);
        assert_eq!(
            judge(&layout(0, 0, 0o600), 110, &accounts(true)),
            None,
            "root 0600 too"
        );
    }

    #[test]
    fn a_group_readable_key_is_insecure_once_postfix_joins_the_group() {
        assert_eq!(judge(&layout(0, 117, 0o640), 110, &accounts(false)), None);
        let why = judge(&layout(0, 117, 0o640), 110, &accounts(true)).unwrap();
        assert!(
            why.contains("group-accessible") && why.contains("postfix"),
            "{why}"
        );
        assert!(
            why.ends_with("chmod 600 /etc/opendkim/keys/example.org/mail.private"),
            "{why}"
        );
    }

    #[test]
    fn other_bits_and_foreign_owners_are_insecure() {
        let why = judge(&layout(110, 117, 0o604), 110, &accounts(false)).unwrap();
        assert!(why.contains("every user"), "{why}");
        let why = judge(&layout(105, 117, 0o600), 110, &accounts(false)).unwrap();
        assert!(why.contains("uid 105"), "{why}");
    }

    #[test]
    fn every_directory_from_the_root_is_walked() {
        let mut nodes = layout(110, 117, 0o600);
        nodes[1].mode = 0o777;
        let why = judge(&nodes, 110, &accounts(false)).unwrap();
        assert!(
            why.starts_with("the directory /etc is writable by every user"),
            "{why}"
        );
        let mut nodes = layout(110, 117, 0o600);
        nodes[4] = dir("/etc/opendkim/keys/example.org", 105, 117, 0o750);
        let why = judge(&nodes, 110, &accounts(false)).unwrap();
        assert!(why.contains("belongs to uid 105"), "{why}");
        let mut nodes = layout(110, 117, 0o600);
        nodes[3].mode = 0o770;
        assert!(
            judge(&nodes, 110, &accounts(true))
                .unwrap()
                .contains("group-writable")
        );
    }
}
