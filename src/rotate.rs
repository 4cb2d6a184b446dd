//! DKIM key rotation as values: the state of a rotation in progress (kept on disk as
//! [`STATE_FILE`], so that `check` reports it and an interrupted `rotate` resumes it), the
//! new selector's name, the switch of KeyTable and SigningTable to it, the retirement of the
//! old selector, and the reasons a domain needs a rotation (what `plan` shows instead of an
//! error). Pure: reading and writing are `commands::rotate_cmd`'s job.
//!
//! The order follows RFC 6376 §3.1 (selectors exist so that keys can change without a gap):
//! publish the new key under a new selector, sign with it only once every authoritative
//! server serves it, keep the old record published while mail signed with it may still be
//! verified, then remove it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::opendkim::{KeyTable, SigningTable};
use crate::values::{Domain, Selector};

/// Where a rotation in progress is kept (beneath the root), with mailsetup's other state.
pub const STATE_FILE: &str = "/var/lib/mailsetup/rotation.json";
/// How long the old record stays published after the switch unless `--keep-old` says
/// otherwise: receivers verify mail when it arrives, but a message may sit in queues (and
/// be re-verified) for days.
pub const DEFAULT_KEEP_OLD_DAYS: u32 = 7;

/// One domain's rotation, from the new key to the old key's retirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub domain: String,
    /// The selector OpenDKIM signs with when the rotation starts.
    pub old_selector: String,
    pub new_selector: String,
    /// The private keys (system paths).
    pub old_key: PathBuf,
    pub new_key: PathBuf,
    /// The new key's `p=` (base64 SubjectPublicKeyInfo, RFC 6376 §3.6.1).
    pub new_p: String,
    /// Seconds since the epoch.
    pub started: u64,
    /// When KeyTable and SigningTable were switched to the new selector (seconds since the
    /// epoch); None while waiting for DNS.
    pub switched: Option<u64>,
    /// Days the old record stays published after the switch.
    pub keep_old_days: u32,
}

/// Every rotation in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub rotations: Vec<Rotation>,
}

impl State {
    /// Parse [`STATE_FILE`]'s text. Errors: a sentence saying what is wrong with it.
    pub fn parse(text: &str) -> Result<State, String> {
        serde_json::from_str(text).map_err(|e| format!("not a rotation state: {e}"))
    }

    /// The file's text (pretty JSON, a final newline).
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn of(&self, domain: &Domain) -> Option<&Rotation> {
        self.rotations
            .iter()
            .find(|r| r.domain.eq_ignore_ascii_case(domain.as_str()))
    }

    /// Put `r` in place of the domain's rotation (or add it).
    pub fn put(&mut self, r: Rotation) {
        self.rotations
            .retain(|o| !o.domain.eq_ignore_ascii_case(&r.domain));
        self.rotations.push(r);
    }

    pub fn remove(&mut self, domain: &str) {
        self.rotations
            .retain(|o| !o.domain.eq_ignore_ascii_case(domain));
    }
}

impl Rotation {
    /// When the old record may be removed: `keep_old_days` after the switch (None before it).
    pub fn removable_at(&self) -> Option<SystemTime> {
        self.switched
            .map(|s| UNIX_EPOCH + Duration::from_secs(s + u64::from(self.keep_old_days) * 86_400))
    }

    /// `<selector>._domainkey.<domain>` of the old and the new key.
    pub fn old_name(&self) -> String {
        format!("{}._domainkey.{}", self.old_selector, self.domain)
    }
    pub fn new_name(&self) -> String {
        format!("{}._domainkey.{}", self.new_selector, self.domain)
    }
}

/// Seconds since the epoch.
pub fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The selector the SigningTable signs `domain`'s mail with now: the one named by the first
/// `*@domain` entry (`<selector>._domainkey.<domain>`), if there is one of that shape.
pub fn signing_selector(st: &SigningTable, domain: &Domain) -> Option<String> {
    let value = st.get(&format!("*@{domain}"))?;
    let suffix = format!("._domainkey.{domain}");
    let lower = value.to_ascii_lowercase();
    lower
        .strip_suffix(&suffix.to_ascii_lowercase())
        .map(|s| value[..s.len()].to_string())
        .filter(|s| !s.is_empty() && !s.contains('.'))
}

/// The key file the KeyTable names for `<selector>._domainkey.<domain>` (absolute path).
pub fn key_of(kt: &KeyTable, domain: &Domain, selector: &str) -> Option<PathBuf> {
    let value = kt.get(&format!("{selector}._domainkey.{domain}"))?;
    let mut parts = value.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        // a fourth field names the key's signing algorithm (`…:/path:ed25519-sha256`)
        (Some(_), Some(_), Some(p)) if p.starts_with('/') => {
            Some(PathBuf::from(p.split(':').next().unwrap_or(p)))
        }
        _ => None,
    }
}

/// The new selector: `given` (`--selector`), else the answers' selector when it is not the
/// one signing now (the operator changed it), else `sYYYYMM` of `now` (`sYYYYMMDD` when that
/// is the current one). Errors: the result equals `current` (a rotation needs a new name:
/// a record under the old one is cached by resolvers).
pub fn new_selector(
    given: Option<&Selector>,
    answers: &Selector,
    current: &str,
    now: SystemTime,
) -> Result<Selector, String> {
    let stamp = crate::host::apply::record::utc_stamp(now);
    let pick = match given {
        Some(s) => s.clone(),
        None if !answers.as_str().eq_ignore_ascii_case(current) => answers.clone(),
        None => {
            let month = format!("s{}", &stamp[..6]);
            let day = format!("s{}", &stamp[..8]);
            let name = if month.eq_ignore_ascii_case(current) {
                day
            } else {
                month
            };
            Selector::parse(&name).map_err(|r| r.to_string())?
        }
    };
    if pick.as_str().eq_ignore_ascii_case(current) {
        return Err(format!(
            "the new selector {pick} is the one signing now; a rotation needs another name \
             (--selector NAME)"
        ));
    }
    Ok(pick)
}

/// KeyTable and SigningTable switched to the rotation's new selector: the new key's
/// KeyTable line added (the old one stays until `--finish`), and the domain's `*@domain`
/// SigningTable entry pointed at it in place. Returns the new texts. Errors: the tables
/// cannot hold the entry, or the new KeyTable name is taken by another key.
pub fn switch_tables(kt: &str, st: &str, r: &Rotation) -> Result<(String, String), String> {
    let mut kt = KeyTable::parse(kt);
    let mut st = SigningTable::parse(st);
    let path = r.new_key.display().to_string();
    if let crate::opendkim::Ensure::Conflict { existing } = kt
        .ensure_key(&r.domain, &r.new_selector, &path)
        .map_err(|e| e.to_string())?
    {
        return Err(format!(
            "the KeyTable already names {} as {existing}; remove that line or rotate to \
             another selector (--selector)",
            r.new_name()
        ));
    }
    let pattern = format!("*@{}", r.domain);
    if !st.set(&pattern, &r.new_name()).map_err(|e| e.to_string())? {
        st.ensure(&pattern, &r.new_name())
            .map_err(|e| e.to_string())?;
    }
    Ok((kt.to_string(), st.to_string()))
}

/// The KeyTable without the old selector's line, once nothing signs with it. Errors: a
/// SigningTable entry still names the old key (it would sign with a retired key).
pub fn finish_tables(kt: &str, st: &str, r: &Rotation) -> Result<String, String> {
    let st = SigningTable::parse(st);
    let old = r.old_name();
    if let Some((pattern, _)) = st
        .entries()
        .find(|(_, v)| v.is_some_and(|v| v.eq_ignore_ascii_case(&old)))
    {
        return Err(format!(
            "the SigningTable still signs {pattern} with {old}; point it at {} (or remove \
             that line) first",
            r.new_name()
        ));
    }
    let mut kt = KeyTable::parse(kt);
    kt.remove(&old);
    Ok(kt.to_string())
}

/// Why `domain` needs a rotation rather than an edit, if it does: the SigningTable signs
/// with a selector other than the answers' (`selector` changed), or the key signing now has
/// another size than `key_bits` (or is weaker than 1024 bits, RFC 8301 §3.2). `bits`: the
/// size of the key signing now, when it can be read.
pub fn reason(
    answers: &Selector,
    key_bits: usize,
    current: &str,
    bits: Option<usize>,
) -> Option<String> {
    if !answers.as_str().eq_ignore_ascii_case(current) {
        return Some(format!(
            "the answers' selector is {answers}, but OpenDKIM signs with {current}"
        ));
    }
    match bits {
        Some(b) if b != key_bits => Some(format!(
            "the key of selector {current} has {b} bits, but key_bits asks for {key_bits}"
        )),
        _ => None,
    }
}

/// The servers (as `check` names them) that do not serve a DKIM record at the new name whose
/// `p=` is `p`, each with what it serves instead. `answers`: one per server.
pub fn lagging(
    servers: impl IntoIterator<Item = (String, Result<Vec<String>, String>)>,
    p: &str,
) -> Vec<String> {
    servers
        .into_iter()
        .filter_map(|(server, answer)| {
            let found = match answer {
                Err(e) => format!("no answer ({e})"),
                Ok(txts) => {
                    if txts
                        .iter()
                        .any(|t| crate::check::txt::dkim_p(t).is_ok_and(|q| q == p))
                    {
                        return None;
                    }
                    match txts.first() {
                        None => "nothing".into(),
                        Some(_) => "another key".into(),
                    }
                }
            };
            Some(format!("{server}: {found}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotation() -> Rotation {
        Rotation {
            domain: "example.org".into(),
            old_selector: "mail".into(),
            new_selector: "s202612".into(),
            old_key: "/etc/opendkim/keys/example.org/mail.private".into(),
            new_key: "/etc/opendkim/keys/example.org/s202612.private".into(),
            new_p: "AAAA".into(),
            started: 0,
            switched: None,
            keep_old_days: 7,
        }
    }

    #[test]
    fn the_selector_is_dated_unless_given_or_changed_in_the_answers() {
        let now = UNIX_EPOCH + Duration::from_secs(1_796_000_000); // 2026-11
        let mail = Selector::parse("mail").unwrap();
        assert_eq!(
            new_selector(None, &mail, "mail", now).unwrap().as_str(),
            "s202611"
        );
        assert_eq!(
            new_selector(None, &mail, "s202611", now).unwrap().as_str(),
            "mail",
            "the answers' changed selector wins"
        );
        let same = Selector::parse("s202611").unwrap();
        assert!(
            new_selector(None, &same, "s202611", now)
                .unwrap()
                .as_str()
                .starts_with("s202611")
        );
        assert_ne!(
            new_selector(None, &same, "s202611", now).unwrap().as_str(),
            "s202611"
        );
        assert!(new_selector(Some(&mail), &mail, "mail", now).is_err());
    }

    #[test]
    fn switch_points_the_signing_table_at_the_new_key_and_finish_drops_the_old_line() {
        let r = rotation();
        let kt = "# kt\nmail._domainkey.example.org example.org:mail:/etc/opendkim/keys/example.org/mail.private\n";
        let st = "# st\n*@example.org mail._domainkey.example.org\n*@example.net mail._domainkey.example.net\n";
        let (kt2, st2) = switch_tables(kt, st, &r).unwrap();
        assert_eq!(
            kt2,
            format!(
                "{kt}s202612._domainkey.example.org example.org:s202612:/etc/opendkim/keys/example.org/s202612.private\n"
            )
        );
        assert_eq!(
            st2,
            "# st\n*@example.org s202612._domainkey.example.org\n*@example.net mail._domainkey.example.net\n"
        );
        assert_eq!(
            signing_selector(
                &SigningTable::parse(&st2),
                &Domain::parse("example.org").unwrap()
            ),
            Some("s202612".into())
        );
        assert!(
            finish_tables(&kt2, st, &r)
                .unwrap_err()
                .contains("*@example.org")
        );
        let kt3 = finish_tables(&kt2, &st2, &r).unwrap();
        assert!(!kt3.contains("mail._domainkey.example.org"));
        assert!(kt3.contains("s202612._domainkey.example.org"));
    }

    /// With Ed25519 dual signing the domain has a second `*@domain` entry (after the RSA
    /// one): a rotation switches the RSA entry and leaves the Ed25519 entry and key alone.
    #[test]
    fn a_rotation_leaves_the_ed25519_entry_alone() {
        let r = rotation();
        let ed_line = "ed25519._domainkey.example.org example.org:ed25519:/etc/opendkim/keys/example.org/ed25519.private:ed25519-sha256\n";
        let kt = format!(
            "mail._domainkey.example.org example.org:mail:/etc/opendkim/keys/example.org/mail.private\n{ed_line}"
        );
        let st = "*@example.org mail._domainkey.example.org\n*@example.org ed25519._domainkey.example.org\n";
        let d = Domain::parse("example.org").unwrap();
        assert_eq!(
            signing_selector(&SigningTable::parse(st), &d),
            Some("mail".into()),
            "the RSA entry, first, is the one signing_selector reads"
        );
        assert_eq!(
            key_of(&KeyTable::parse(&kt), &d, "ed25519"),
            Some("/etc/opendkim/keys/example.org/ed25519.private".into()),
            "the path before the algorithm field"
        );
        let (kt2, st2) = switch_tables(&kt, st, &r).unwrap();
        assert_eq!(
            st2,
            "*@example.org s202612._domainkey.example.org\n*@example.org ed25519._domainkey.example.org\n"
        );
        let kt3 = finish_tables(&kt2, &st2, &r).unwrap();
        assert!(kt3.contains(ed_line), "{kt3}");
        assert!(!kt3.contains("mail._domainkey.example.org"), "{kt3}");
    }

    #[test]
    fn a_server_lags_until_it_serves_the_new_key() {
        let good = "v=DKIM1; k=rsa; p=AAAA".to_string();
        let lag = lagging(
            vec![
                ("ns1".to_string(), Ok(vec![good.clone()])),
                ("ns2".to_string(), Ok(vec![])),
                ("ns3".to_string(), Ok(vec!["v=DKIM1; p=BBBB".into()])),
                ("ns4".to_string(), Err("timed out".into())),
            ],
            "AAAA",
        );
        assert_eq!(
            lag,
            [
                "ns2: nothing",
                "ns3: another key",
                "ns4: no answer (timed out)"
            ]
        );
    }

    #[test]
    fn reasons() {
        let mail = Selector::parse("mail").unwrap();
        assert_eq!(reason(&mail, 2048, "mail", Some(2048)), None);
        assert!(
            reason(&mail, 2048, "mail", Some(1024))
                .unwrap()
                .contains("1024 bits")
        );
        assert!(
            reason(&mail, 2048, "old", Some(2048))
                .unwrap()
                .contains("signs with old")
        );
    }

    #[test]
    fn state_round_trips() {
        let mut s = State::default();
        s.put(rotation());
        let back = State::parse(&s.to_text()).unwrap();
        assert_eq!(back, s);
        s.remove("EXAMPLE.org");
        assert!(s.rotations.is_empty());
    }
}
