//! The run record: what one apply changed and where the backups are, kept as JSON under
//! `/var/lib/mailsetup/runs/<stamp>.json` so that `mailsetup rollback` can undo it. It is written
//! before the first live file changes (status `applying`) and updated as the run proceeds.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fsops;
use crate::error::{Error, Result};
use crate::system::{Meta, Root, STATE_DIR};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Applying,
    Applied,
    RolledBack,
}

/// Owner and mode as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMeta {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

impl From<Meta> for SavedMeta {
    fn from(m: Meta) -> SavedMeta {
        SavedMeta {
            uid: m.uid,
            gid: m.gid,
            mode: m.mode,
        }
    }
}

impl From<SavedMeta> for Meta {
    fn from(m: SavedMeta) -> Meta {
        Meta {
            uid: m.uid,
            gid: m.gid,
            mode: m.mode,
        }
    }
}

/// One file the run wrote. `backup` is None for a file the run created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
    /// SHA-256 of what the run wrote, to notice later hand edits before a rollback.
    pub sha256: String,
}

/// An existing file or directory whose owner/mode the run changed, with the old values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaEntry {
    pub path: PathBuf,
    pub before: SavedMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub stamp: String,
    pub status: Status,
    pub files: Vec<FileEntry>,
    pub dirs_created: Vec<PathBuf>,
    pub metas_changed: Vec<MetaEntry>,
    /// Key files (and their `.txt`) the run created.
    pub keys_created: Vec<PathBuf>,
    /// `(user, group)` when the run added a supplementary group.
    pub group_added: Option<(String, String)>,
    /// Services the run restarted or reloaded (`postfix`, `opendkim`); rollback does the same.
    pub services: Vec<String>,
    /// Runs of one wizard session (or one `apply`, which applies step by step) share this;
    /// `rollback` undoes the whole session. Absent in records of a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// SHA-256 as lowercase hex.
pub fn sha256(text: &[u8]) -> String {
    Sha256::digest(text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl RunRecord {
    pub fn new(stamp: &str) -> RunRecord {
        RunRecord {
            stamp: stamp.into(),
            status: Status::Applying,
            files: Vec::new(),
            dirs_created: Vec::new(),
            metas_changed: Vec::new(),
            keys_created: Vec::new(),
            group_added: None,
            services: Vec::new(),
            session: None,
        }
    }

    /// The applied runs of the newest session, newest first: the last applied run and every
    /// applied run that shares its session. Errors: as [`RunRecord::last_applied`].
    pub fn last_session(root: &Root) -> Result<Vec<RunRecord>> {
        let Some(last) = Self::last_applied(root)? else {
            return Ok(Vec::new());
        };
        let Some(session) = last.session.clone() else {
            return Ok(vec![last]);
        };
        let mut runs: Vec<RunRecord> = Self::all(root)?
            .into_iter()
            .filter(|r| r.status == Status::Applied && r.session.as_deref() == Some(&session))
            .collect();
        runs.reverse();
        Ok(runs)
    }

    /// `stamp`, or `stamp-002`, `stamp-003`, … when a run with that stamp is already
    /// recorded (several applies within one second, as the wizard's steps can be). The
    /// suffixes sort after the bare stamp, so [`RunRecord::last_applied`] stays right.
    pub fn free_stamp(root: &Root, stamp: &str) -> String {
        let mut candidate = stamp.to_string();
        let mut n = 1;
        while Self::path(root, &candidate).exists() {
            n += 1;
            candidate = format!("{stamp}-{n:03}");
        }
        candidate
    }

    fn path(root: &Root, stamp: &str) -> PathBuf {
        root.path(format!("{STATE_DIR}/runs/{stamp}.json"))
    }

    /// Write the record atomically (0600 root), creating the state directory when needed.
    pub fn save(&self, root: &Root) -> Result<()> {
        let path = Self::path(root, &self.stamp);
        if let Some(dir) = path.parent() {
            fsops::ensure_dir(
                dir,
                Meta {
                    uid: 0,
                    gid: 0,
                    mode: 0o700,
                },
            )?;
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::RunRecord {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let tmp = fsops::stage(
            &path,
            &format!("{json}\n"),
            Meta {
                uid: 0,
                gid: 0,
                mode: 0o600,
            },
        )?;
        fsops::commit(&tmp, &path)
    }

    /// The newest record with status `applied`, if any.
    pub fn last_applied(root: &Root) -> Result<Option<RunRecord>> {
        Ok(Self::all(root)?
            .into_iter()
            .rev()
            .find(|r| r.status == Status::Applied))
    }

    /// Every recorded run, oldest first.
    fn all(root: &Root) -> Result<Vec<RunRecord>> {
        let dir = root.path(format!("{STATE_DIR}/runs"));
        let mut names: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", dir, e)),
        };
        // by stamp: `T…Z` before `T…Z-002` (the `.json` would put `-` before `.`)
        names.sort_by(|a, b| a.file_stem().cmp(&b.file_stem()));
        names.iter().map(|p| Self::load(p)).collect()
    }

    fn load(path: &Path) -> Result<RunRecord> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::RunRecord {
            path: path.into(),
            reason: e.to_string(),
        })
    }
}

/// A UTC timestamp `YYYYMMDDTHHMMSSZ` for backup names and run records.
pub fn utc_stamp(now: std::time::SystemTime) -> String {
    let (days, rem) = days_and_seconds(now);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An RFC 5322 §3.3 date in UTC: `Sat, 21 Nov 2026 23:59:00 +0000`.
pub fn mail_date(now: std::time::SystemTime) -> String {
    let (days, rem) = days_and_seconds(now);
    let (y, m, d) = civil_from_days(days as i64);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Whole days since 1970-01-01 (UTC) and the seconds into the last one; 0 before 1970.
fn days_and_seconds(now: std::time::SystemTime) -> (u64, u64) {
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86_400, secs % 86_400)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn mail_dates_name_the_weekday_and_month() {
        // 1795287019: Sat, 21 Nov 2026 18:50:19 +0000 (the Date of the lab's signed mbox)
        let t = UNIX_EPOCH + Duration::from_secs(1_795_287_019);
        assert_eq!(mail_date(t), "Sat, 21 Nov 2026 18:50:19 +0000");
        assert_eq!(mail_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 +0000");
    }

    #[test]
    fn runs_in_one_second_keep_their_order_and_sessions_group_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let stamp = "20261121T213140Z";
        let mut stamps = Vec::new();
        for (i, session) in [None, Some("s1"), Some("s1"), Some("s1")]
            .into_iter()
            .enumerate()
        {
            let free = RunRecord::free_stamp(&root, stamp);
            let mut rec = RunRecord::new(&free);
            rec.status = Status::Applied;
            rec.session = session.map(str::to_string);
            rec.services = vec![format!("run {i}")];
            rec.save(&root).unwrap();
            stamps.push(free);
        }
        assert_eq!(stamps[1], "20261121T213140Z-002");
        let last = RunRecord::last_applied(&root).unwrap().unwrap();
        assert_eq!(last.stamp, "20261121T213140Z-004");
        let session: Vec<String> = RunRecord::last_session(&root)
            .unwrap()
            .into_iter()
            .map(|r| r.stamp)
            .collect();
        assert_eq!(
            session,
            [
                "20261121T213140Z-004",
                "20261121T213140Z-003",
                "20261121T213140Z-002"
            ],
            "newest first, the run outside the session left alone"
        );
    }

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        // 2026-11-21 19:47:41 UTC
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(1_795_290_461)),
            "20261121T194741Z"
        );
        // a leap day
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }

    #[test]
    fn sha256_is_hex() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
