//! The run record: what one finished run changed and where the backups are, kept as JSON
//! under `/var/lib/mailsetup/runs/<stamp>.json` so that `mailsetup rollback` can undo it.
//! It is written when the run has succeeded (the journal, `super::journal`, covers the run
//! while it is in progress). Paths are system paths (`/etc/postfix/main.cf`), resolved beneath
//! the root when used; records written by older versions hold real paths, which [`RunRecord::load_all`]
//! turns back into system paths.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fence::Fence;
use super::state;
use crate::error::{Error, Result};
use crate::host::system::{Meta, STATE_DIR};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Written by versions before the journal, for a run in progress.
    Applying,
    Applied,
    RolledBack,
}

/// What a run was: an apply (a step, a fix, a whole `apply`), a rollback of earlier runs, or
/// a save of mailsetup's own files (answers, records), which leaves no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    #[default]
    Apply,
    Rollback,
    Own,
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
    #[serde(default)]
    pub kind: Kind,
    pub files: Vec<FileEntry>,
    pub dirs_created: Vec<PathBuf>,
    pub metas_changed: Vec<MetaEntry>,
    /// Private keys the run created (never deleted by a rollback: retired instead).
    pub keys_created: Vec<PathBuf>,
    /// `(user, group)` when the run added a supplementary group on the host.
    pub group_added: Option<(String, String)>,
    /// Services the run restarted or reloaded (`postfix`, `opendkim`); rollback does the same.
    pub services: Vec<String>,
    /// Runs of one wizard session (or one `apply`) share this; `rollback` undoes the whole
    /// session. Absent in records of a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// For a rollback: the stamps of the runs it undid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rolled_back: Vec<String>,
    /// For a rollback: where the keys it retired went.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys_retired: Vec<PathBuf>,
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
            status: Status::Applied,
            kind: Kind::Apply,
            files: Vec::new(),
            dirs_created: Vec::new(),
            metas_changed: Vec::new(),
            keys_created: Vec::new(),
            group_added: None,
            services: Vec::new(),
            session: None,
            rolled_back: Vec::new(),
            keys_retired: Vec::new(),
        }
    }

    /// The applied runs of the newest session still in force, newest first: the last applied
    /// apply and every applied apply that shares its session. Errors: as [`RunRecord::load_all`].
    pub fn last_session(fence: &Fence) -> Result<Vec<RunRecord>> {
        let all = Self::load_all(fence)?;
        let in_force = |r: &&RunRecord| r.status == Status::Applied && r.kind == Kind::Apply;
        let Some(last) = all.iter().rev().find(in_force) else {
            return Ok(Vec::new());
        };
        let Some(session) = last.session.clone() else {
            return Ok(vec![last.clone()]);
        };
        Ok(all
            .iter()
            .rev()
            .filter(in_force)
            .filter(|r| r.session.as_deref() == Some(&session))
            .cloned()
            .collect())
    }

    /// The applied runs of `session`, newest first.
    pub fn of_session(fence: &Fence, session: &str) -> Result<Vec<RunRecord>> {
        Ok(Self::load_all(fence)?
            .into_iter()
            .rev()
            .filter(|r| {
                r.status == Status::Applied
                    && r.kind == Kind::Apply
                    && r.session.as_deref() == Some(session)
            })
            .collect())
    }

    /// `stamp`, or `stamp-002`, `stamp-003`, … when a run with that stamp is already
    /// recorded (several applies within one second, as the wizard's steps can be). The
    /// suffixes sort after the bare stamp, so the order of the records stays right.
    pub fn free_stamp(fence: &Fence, stamp: &str) -> Result<String> {
        let runs = fence.dir(&Path::new(STATE_DIR).join("runs"))?;
        let mut candidate = stamp.to_string();
        let mut n = 1;
        while let Some(dir) = &runs
            && dir
                .stat(OsStr::new(&format!("{candidate}.json")))?
                .is_some()
        {
            n += 1;
            candidate = format!("{stamp}-{n:03}");
        }
        Ok(candidate)
    }

    /// Write the record whole (0600 root), creating `runs/` when needed.
    pub fn save(&self, fence: &Fence) -> Result<()> {
        let dir = state::create_sub(fence, "runs")?;
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::RunRecord {
            path: dir.real(OsStr::new(&self.stamp)),
            reason: e.to_string(),
        })?;
        state::write_file(
            &dir,
            &format!("{}.json", self.stamp),
            format!("{json}\n").as_bytes(),
        )
    }

    /// The newest applied apply, if any.
    pub fn last_applied(fence: &Fence) -> Result<Option<RunRecord>> {
        Ok(Self::last_session(fence)?.into_iter().next())
    }

    /// Every recorded run, oldest first. Errors: a record that cannot be read or parsed.
    pub fn load_all(fence: &Fence) -> Result<Vec<RunRecord>> {
        let Some(dir) = fence.dir(&Path::new(STATE_DIR).join("runs"))? else {
            return Ok(Vec::new());
        };
        let mut names: Vec<String> = dir
            .entries()?
            .into_iter()
            .map(|(n, _)| n.to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        // by stamp: `T…Z` before `T…Z-002` (the `.json` would put `-` before `.`)
        names.sort_by(|a, b| a.trim_end_matches(".json").cmp(b.trim_end_matches(".json")));
        let root = fence.root().dir().to_path_buf();
        names
            .iter()
            .map(|n| {
                let path = dir.real(OsStr::new(n));
                let (bytes, _) = dir.read(OsStr::new(n))?.ok_or_else(|| Error::RunRecord {
                    path: path.clone(),
                    reason: "it disappeared while being read".into(),
                })?;
                let rec: RunRecord =
                    serde_json::from_slice(&bytes).map_err(|e| Error::RunRecord {
                        path,
                        reason: e.to_string(),
                    })?;
                Ok(rec.with_system_paths(&root))
            })
            .collect()
    }

    /// Records of older versions hold real paths (beneath the root); make them system paths.
    fn with_system_paths(mut self, root: &Path) -> RunRecord {
        if root == Path::new("/") {
            return self;
        }
        let fix = |p: &mut PathBuf| {
            if let Ok(rel) = p.strip_prefix(root) {
                *p = Path::new("/").join(rel);
            }
        };
        for f in &mut self.files {
            fix(&mut f.path);
            if let Some(b) = &mut f.backup {
                fix(b);
            }
        }
        self.dirs_created.iter_mut().for_each(fix);
        self.metas_changed.iter_mut().for_each(|m| fix(&mut m.path));
        self.keys_created.iter_mut().for_each(fix);
        self
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC`, for messages.
pub fn utc_human(now: std::time::SystemTime) -> String {
    let [y, mo, d, h, mi, s] = utc_fields(now);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// Year, month, day, hour, minute, second (UTC) of `now`.
fn utc_fields(now: std::time::SystemTime) -> [i64; 6] {
    let (days, rem) = days_and_seconds(now);
    let (y, m, d) = civil_from_days(days as i64);
    let rem = rem as i64;
    [
        y,
        i64::from(m),
        i64::from(d),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
    ]
}

/// A UTC timestamp `YYYYMMDDTHHMMSSZ` for backup names and run records.
pub fn utc_stamp(now: std::time::SystemTime) -> String {
    let [y, mo, d, h, mi, s] = utc_fields(now);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
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
        let fence = Fence::new(&crate::host::system::Root::new(dir.path())).unwrap();
        let stamp = "20261121T213140Z";
        let mut stamps = Vec::new();
        for (i, session) in [None, Some("s1"), Some("s1"), Some("s1")]
            .into_iter()
            .enumerate()
        {
            let free = RunRecord::free_stamp(&fence, stamp).unwrap();
            let mut rec = RunRecord::new(&free);
            rec.session = session.map(str::to_string);
            rec.services = vec![format!("run {i}")];
            rec.save(&fence).unwrap();
            stamps.push(free);
        }
        assert_eq!(stamps[1], "20261121T213140Z-002");
        let last = RunRecord::last_applied(&fence).unwrap().unwrap();
        assert_eq!(last.stamp, "20261121T213140Z-004");
        let session: Vec<String> = RunRecord::last_session(&fence)
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
        // a rollback record is never a session to roll back
        let mut rb = RunRecord::new(&RunRecord::free_stamp(&fence, stamp).unwrap());
        rb.kind = Kind::Rollback;
        rb.save(&fence).unwrap();
        assert_eq!(
            RunRecord::last_applied(&fence).unwrap().unwrap().stamp,
            "20261121T213140Z-004"
        );
    }

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            utc_human(UNIX_EPOCH + Duration::from_secs(1_795_290_461)),
            "2026-11-21 19:47:41 UTC"
        );
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
