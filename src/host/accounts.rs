//! The system users and groups mailsetup cares about (`opendkim`, `postfix`), read from the root's
//! `/etc/passwd` and `/etc/group` (passwd(5), group(5)). On the host (`--root /`) the users are looked
//! up through NSS with nix, as every other tool on the machine sees them; beneath a test root the
//! tree's own files are read. Changing a group membership is [`crate::host::apply`]'s job.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::host::system::{Root, read_file};

/// A user: uid and primary gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
}

/// A group: gid and its supplementary members (the fourth field of group(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub gid: u32,
    pub members: Vec<String>,
}

/// The users and groups of a root, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
}

impl Accounts {
    /// Read the accounts named in `users` / `groups` from the root.
    pub fn read(root: &Root, users: &[&str], groups: &[&str]) -> Result<Accounts> {
        if root.is_host() {
            return Ok(Accounts::from_nss(users, groups));
        }
        let passwd = read_file(root, "/etc/passwd")?.text.unwrap_or_default();
        let group = read_file(root, "/etc/group")?.text.unwrap_or_default();
        Ok(Accounts::parse(&passwd, &group))
    }

    fn from_nss(users: &[&str], groups: &[&str]) -> Accounts {
        let mut out = Accounts::default();
        for name in users {
            if let Ok(Some(u)) = nix::unistd::User::from_name(name) {
                out.users.insert(
                    (*name).to_string(),
                    User {
                        uid: u.uid.as_raw(),
                        gid: u.gid.as_raw(),
                    },
                );
            }
        }
        for name in groups {
            if let Ok(Some(g)) = nix::unistd::Group::from_name(name) {
                out.groups.insert(
                    (*name).to_string(),
                    Group {
                        gid: g.gid.as_raw(),
                        members: g.mem,
                    },
                );
            }
        }
        out
    }

    /// Parse passwd(5) and group(5) text. Malformed lines are skipped, as getpwent(3) does.
    pub fn parse(passwd: &str, group: &str) -> Accounts {
        let mut out = Accounts::default();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let [name, _, uid, gid, ..] = f[..]
                && let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse())
            {
                out.users.insert(name.to_string(), User { uid, gid });
            }
        }
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let [name, _, gid, members] = f[..]
                && let Ok(gid) = gid.parse()
            {
                let members = members
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect();
                out.groups.insert(name.to_string(), Group { gid, members });
            }
        }
        out
    }

    pub fn user(&self, name: &str) -> Option<User> {
        self.users.get(name).copied()
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(name)
    }

    /// Is `user` a member of `group`, as primary group or supplementary member?
    pub fn in_group(&self, user: &str, group: &str) -> bool {
        let Some(g) = self.groups.get(group) else {
            return false;
        };
        g.members.iter().any(|m| m == user) || self.user(user).is_some_and(|u| u.gid == g.gid)
    }
}

/// Add `user` to the member list of `group` in group(5) text; None when the group is absent or the
/// user is already listed. Used beneath a test root only (the host uses `gpasswd`).
pub fn add_member(group_text: &str, group: &str, user: &str) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(group_text.len() + user.len() + 1);
    for line in group_text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let f: Vec<&str> = body.split(':').collect();
        if !changed && f.len() == 4 && f[0] == group && !f[3].split(',').any(|m| m == user) {
            let sep = if f[3].is_empty() { "" } else { "," };
            out.push_str(&format!("{body}{sep}{user}"));
            out.push_str(&line[body.len()..]);
            changed = true;
        } else {
            out.push_str(line);
        }
    }
    changed.then_some(out)
}

/// Remove `user` from the member list of `group`; None when nothing changes.
pub fn remove_member(group_text: &str, group: &str, user: &str) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(group_text.len());
    for line in group_text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let f: Vec<&str> = body.split(':').collect();
        if f.len() == 4 && f[0] == group && f[3].split(',').any(|m| m == user) {
            let kept: Vec<&str> = f[3].split(',').filter(|m| *m != user).collect();
            out.push_str(&format!("{}:{}:{}:{}", f[0], f[1], f[2], kept.join(",")));
            out.push_str(&line[body.len()..]);
            changed = true;
        } else {
            out.push_str(line);
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nopendkim:x:103:107::/run/opendkim:/usr/sbin/nologin\npostfix:x:104:105::/var/spool/postfix:/usr/sbin/nologin\n";
    const GROUP: &str = "root:x:0:\npostfix:x:105:\nopendkim:x:107:\n";

    #[test]
    fn reads_users_groups_and_membership() {
        let a = Accounts::parse(PASSWD, GROUP);
        assert_eq!(a.user("opendkim"), Some(User { uid: 103, gid: 107 }));
        assert_eq!(a.group("opendkim").map(|g| g.gid), Some(107));
        assert!(!a.in_group("postfix", "opendkim"));
        assert!(a.in_group("opendkim", "opendkim"), "primary group counts");
    }

    #[test]
    fn add_and_remove_member_round_trip() {
        let added = add_member(GROUP, "opendkim", "postfix").expect("changed");
        assert_eq!(added, "root:x:0:\npostfix:x:105:\nopendkim:x:107:postfix\n");
        assert!(Accounts::parse(PASSWD, &added).in_group("postfix", "opendkim"));
        assert_eq!(add_member(&added, "opendkim", "postfix"), None);
        let two = add_member(&added, "opendkim", "amavis").expect("changed");
        assert!(two.contains("opendkim:x:107:postfix,amavis\n"));
        assert_eq!(
            remove_member(&two, "opendkim", "postfix").as_deref(),
            Some("root:x:0:\npostfix:x:105:\nopendkim:x:107:amavis\n")
        );
        assert_eq!(remove_member(GROUP, "opendkim", "postfix"), None);
    }
}
