//! How OpenDKIM is started, read beneath the root: opendkim.service and its drop-ins when
//! systemd runs the system, reduced to the effective `ExecStart` (judged by
//! `local::startup`, which says which socket that makes OpenDKIM listen on).

use crate::host::system::Root;
use crate::local::startup::{Startup, exec_start};

const UNITS: [&str; 3] = [
    "/etc/systemd/system/opendkim.service",
    "/lib/systemd/system/opendkim.service",
    "/usr/lib/systemd/system/opendkim.service",
];
/// Drop-in directories, in precedence order: a file name in an earlier one hides the same
/// name in later ones; the survivors apply sorted by file name (systemd.unit(5)).
const DROP_INS: [&str; 4] = [
    "/etc/systemd/system/opendkim.service.d",
    "/run/systemd/system/opendkim.service.d",
    "/usr/lib/systemd/system/opendkim.service.d",
    "/lib/systemd/system/opendkim.service.d",
];

/// Read how OpenDKIM is started: the unit and its drop-ins beneath the root, when systemd
/// runs it (/run/systemd/system); the init script otherwise.
pub fn read(root: &Root) -> Startup {
    if !crate::host::system::has_systemd(root) {
        return Startup::InitScript;
    }
    let mut texts: Vec<String> = UNITS
        .iter()
        .find_map(|u| std::fs::read_to_string(root.path(u)).ok())
        .into_iter()
        .collect();
    let mut drop_ins: std::collections::BTreeMap<std::ffi::OsString, std::path::PathBuf> =
        std::collections::BTreeMap::new();
    for dir in DROP_INS {
        for entry in std::fs::read_dir(root.path(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "conf") {
                drop_ins.entry(entry.file_name()).or_insert(path);
            }
        }
    }
    texts.extend(
        drop_ins
            .values()
            .filter_map(|p| std::fs::read_to_string(p).ok()),
    );
    Startup::Systemd {
        exec_start: exec_start(&texts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_and_its_drop_ins_are_read_beneath_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::new(dir.path());
        let write = |p: &str, text: &str| {
            let path = root.path(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            UNITS[1],
            "[Service]\nType=forking\nExecStart=/usr/sbin/opendkim\n",
        );
        assert_eq!(read(&root), Startup::InitScript, "no /run/systemd/system");
        std::fs::create_dir_all(root.path("/run/systemd/system")).unwrap();
        assert_eq!(
            read(&root),
            Startup::Systemd {
                exec_start: Some("/usr/sbin/opendkim".into())
            }
        );
        write(
            &format!("{}/override.conf", DROP_INS[0]),
            "[Service]\nExecStart=\nExecStart=/usr/sbin/opendkim -p inet:8891@127.0.0.1\n",
        );
        write(
            &format!("{}/zz-notes.txt", DROP_INS[0]),
            "ExecStart=/bin/false\n",
        );
        // the same name under /usr/lib is hidden by /etc's
        write(
            &format!("{}/override.conf", DROP_INS[2]),
            "[Service]\nExecStart=/bin/false\n",
        );
        assert_eq!(
            read(&root),
            Startup::Systemd {
                exec_start: Some("/usr/sbin/opendkim -p inet:8891@127.0.0.1".into())
            },
            "drop-ins ending in .conf only"
        );
    }
}
