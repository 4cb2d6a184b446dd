//! Which socket OpenDKIM listens on, as Debian 12 starts it. OpenDKIM reads `Socket` from
//! /etc/opendkim.conf, but a `-p SOCKET` on its command line wins (opendkim(8)), and what
//! is on the command line depends on who starts it:
//! - systemd: the unit's `ExecStart` (Debian's is a bare `/usr/sbin/opendkim`), as replaced
//!   by drop-ins such as the `override.conf` that `/lib/opendkim/opendkim.service.generate`
//!   writes from /etc/default/opendkim (`-p $SOCKET`);
//! - the init script: `-p $SOCKET` from /etc/default/opendkim, but only when
//!   `awk '$1 == "Socket"'` finds no `Socket` line in /etc/opendkim.conf (case as written).
//!
//! Pure: the unit and its drop-ins are read by `host::probe`, which gives the
//! [`Startup`] these functions judge.

use crate::opendkim::{DefaultFile, OpendkimConf};

/// How OpenDKIM is started on the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Startup {
    /// systemd runs the host (/run/systemd/system): the command line of the effective
    /// `ExecStart` of opendkim.service, when there is one.
    Systemd { exec_start: Option<String> },
    /// /etc/init.d/opendkim (or the daemon started by hand, as the init script would).
    #[default]
    InitScript,
}

/// The effective `ExecStart=` of a unit followed by its drop-ins (systemd.service(5): an
/// empty assignment resets the list; a service of `Type=forking` has one). Lines ending in
/// a backslash continue on the next; spaces around `=` are allowed (systemd.syntax(7)).
pub fn exec_start(texts: &[String]) -> Option<String> {
    let mut current = None;
    for text in texts {
        for line in text.replace("\\\n", " ").lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if key.trim() == "ExecStart" {
                let value = value.trim().trim_start_matches(['-', '@', '+', '!', ':']);
                current = (!value.is_empty()).then(|| value.to_string());
            }
        }
    }
    current
}

/// The value of `-p` on a command line (`-p X` or `-pX`).
fn dash_p(command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-p" {
            return words.next().map(str::to_string);
        }
        if let Some(v) = w.strip_prefix("-p").filter(|v| !v.is_empty()) {
            return Some(v.to_string());
        }
    }
    None
}

/// The socket OpenDKIM listens on (`local:/path` or `inet:port@host`, as written), from
/// how it is started and the two files' texts; `None` when nothing names one.
pub fn effective_socket(
    startup: &Startup,
    opendkim_conf: Option<&str>,
    default_file: Option<&str>,
) -> Option<String> {
    socket_and_source(startup, opendkim_conf, default_file).map(|(s, _)| s)
}

/// [`effective_socket`] and where it comes from, in words.
pub fn socket_and_source(
    startup: &Startup,
    opendkim_conf: Option<&str>,
    default_file: Option<&str>,
) -> Option<(String, &'static str)> {
    let conf = opendkim_conf
        .map(OpendkimConf::parse)
        .and_then(|c| c.get("Socket").map(str::to_string))
        .map(|s| (s, "Socket in /etc/opendkim.conf"));
    match startup {
        Startup::Systemd { exec_start } => match exec_start.as_deref().and_then(dash_p) {
            // `-p $SOCKET` from an EnvironmentFile: not known here, so not compared
            Some(p) if p.contains('$') => None,
            Some(p) => Some((p, "-p in the ExecStart of opendkim.service")),
            None => conf,
        },
        Startup::InitScript => {
            let init_sees_conf = opendkim_conf.is_some_and(|t| {
                t.lines()
                    .any(|l| l.split_whitespace().next() == Some("Socket"))
            });
            let default = default_file
                .and_then(|t| DefaultFile::parse(t).socket_expanded())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    (
                        s,
                        "SOCKET in /etc/default/opendkim, which the init script passes with -p \
                         while /etc/opendkim.conf has no `Socket` line",
                    )
                });
            if init_sees_conf {
                conf
            } else {
                default.or(conf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "Socket local:/var/spool/postfix/opendkim/opendkim.sock\n";
    const DEFAULT: &str = "RUNDIR=/run/opendkim\nSOCKET=local:$RUNDIR/opendkim.sock\n";
    const CHROOT: &str = "local:/var/spool/postfix/opendkim/opendkim.sock";
    const RUN: &str = "local:/run/opendkim/opendkim.sock";

    #[test]
    fn the_init_script_passes_socket_only_when_opendkim_conf_has_none() {
        let init = Startup::InitScript;
        let at = |conf, default| effective_socket(&init, conf, default);
        assert_eq!(at(Some(CONF), Some(DEFAULT)).as_deref(), Some(CHROOT));
        assert_eq!(at(Some("#Socket x\n"), Some(DEFAULT)).as_deref(), Some(RUN));
        assert_eq!(at(None, Some(DEFAULT)).as_deref(), Some(RUN));
        // awk '$1 == "Socket"' is case-sensitive; OpenDKIM is not: -p wins
        let lower = "socket local:/var/spool/postfix/opendkim/opendkim.sock\n";
        assert_eq!(at(Some(lower), Some(DEFAULT)).as_deref(), Some(RUN));
        assert_eq!(at(Some(lower), None).as_deref(), Some(CHROOT));
        assert_eq!(at(None, None), None);
    }

    #[test]
    fn under_systemd_the_effective_exec_start_decides() {
        let stock = "[Service]\nType=forking\nExecStart=/usr/sbin/opendkim\n".to_string();
        let generated = "[Service]\nExecStart=\n\
            ExecStart=/usr/sbin/opendkim -P /run/opendkim/opendkim.pid -p local:/run/opendkim/opendkim.sock\n"
            .to_string();
        let bare = Startup::Systemd {
            exec_start: exec_start(std::slice::from_ref(&stock)),
        };
        assert_eq!(
            effective_socket(&bare, Some(CONF), Some(DEFAULT)).as_deref(),
            Some(CHROOT),
            "a bare ExecStart: opendkim.conf; /etc/default is not read"
        );
        let overridden = Startup::Systemd {
            exec_start: exec_start(&[stock.clone(), generated]),
        };
        assert_eq!(
            effective_socket(&overridden, Some(CONF), None).as_deref(),
            Some(RUN)
        );
        let reset = Startup::Systemd {
            exec_start: exec_start(&[stock, "[Service]\nExecStart=\n".into()]),
        };
        assert_eq!(reset, Startup::Systemd { exec_start: None });
        let continued = "[Service]\nExecStart = /usr/sbin/opendkim -P /run/opendkim/opendkim.pid \\\n  -p inet:8892@127.0.0.1\n".to_string();
        assert_eq!(
            exec_start(&[continued]).as_deref(),
            Some("/usr/sbin/opendkim -P /run/opendkim/opendkim.pid    -p inet:8892@127.0.0.1")
        );
        let from_env = Startup::Systemd {
            exec_start: Some("/usr/sbin/opendkim -p $SOCKET".into()),
        };
        assert_eq!(
            effective_socket(&from_env, Some(CONF), None),
            None,
            "unknown"
        );
        assert_eq!(
            dash_p("/usr/sbin/opendkim -pinet:8891@127.0.0.1 -f").as_deref(),
            Some("inet:8891@127.0.0.1")
        );
    }
}
