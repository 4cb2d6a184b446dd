//! The local checks on states built as values: a healthy set-up, then each broken one.

use super::securefile::Node;
use super::*;
use crate::check::Status;
use crate::values::Domain;

fn settings() -> Settings {
    Settings::new(
        Domain::parse("mail.example.org").unwrap(),
        vec![
            Domain::parse("example.org").unwrap(),
            Domain::parse("example.net").unwrap(),
        ],
    )
}

const KEY: &str = "/etc/opendkim/keys/example.org/mail.private";

fn nodes(key_mode: u32) -> Vec<Node> {
    let dir = |path: &str, gid, mode| Node {
        path: path.into(),
        uid: 0,
        gid,
        mode,
        is_dir: true,
    };
    vec![
        dir("/", 0, 0o755),
        dir("/etc", 0, 0o755),
        dir("/etc/opendkim", 0, 0o755),
        dir("/etc/opendkim/keys", 117, 0o750),
        dir("/etc/opendkim/keys/example.org", 117, 0o750),
        Node {
            path: KEY.into(),
            uid: 110,
            gid: 117,
            mode: key_mode,
            is_dir: false,
        },
    ]
}

/// What mailsetup leaves behind, with both daemons running.
fn healthy() -> LocalState {
    LocalState {
        main_cf: Some(
            format!(
                "smtpd_milters = local:opendkim/opendkim.sock\nnon_smtpd_milters = $smtpd_milters\n\
                 inet_protocols = ipv4\n{}",
                super::tls::tests::HEALTHY
            ),
        ),
        opendkim_conf: Some(
            "Socket local:/var/spool/postfix/opendkim/opendkim.sock\nSigningTable refile:/etc/opendkim/SigningTable\n"
                .into(),
        ),
        default_file: Some("SOCKET=local:/var/spool/postfix/opendkim/opendkim.sock\n".into()),
        startup: startup::Startup::InitScript,
        key_table: Some(format!("mail._domainkey.example.org example.org:mail:{KEY}\n")),
        signing_table: Some(
            "*@example.org mail._domainkey.example.org\n*@example.net mail._domainkey.example.net\n"
                .into(),
        ),
        keys: vec![(KEY.into(), Ok(nodes(0o600)))],
        accounts: Accounts::parse(
            "root:x:0:0::/:/bin/sh\nopendkim:x:110:117::/:/bin/false\npostfix:x:105:112::/:/bin/false\n",
            "root:x:0:\nopendkim:x:117:postfix\npostfix:x:112:\n",
        ),
        running: Some((true, true)),
        master_cf: Some(
            "smtp      inet  n       -       y       -       -       smtpd\n".into(),
        ),
        socket: None,
        smtp_listeners: None,
        other_signers: vec![(
            "/etc/amavis/conf.d/21-ubuntu_defaults".into(),
            "# $enable_dkim_signing = 1;\n$enable_dkim_verification = 1;\n".into(),
        )],
        postconf_warnings: Some(vec![]),
        opendkim_n: Some(Ok(())),
        unread: vec![],
        policyd_spf: false,
        opendmarc: Default::default(),
        tls: super::tls::tests::healthy(),
        ed25519: Default::default(),
    }
}

/// main.cf `text` with the TLS lines the TLS step leaves (so that only the milter lines differ).
fn with_tls(text: &str) -> Option<String> {
    Some(format!("{text}{}", super::tls::tests::HEALTHY))
}

/// The finding ids; every message and fix read as one sentence (no run of spaces left by a
/// broken line continuation).
fn ids_of(state: &LocalState) -> Vec<&'static str> {
    let results = checks(state, &settings());
    for f in results.iter().flat_map(|r| &r.findings) {
        for text in [Some(&f.message), f.fix.as_ref()].into_iter().flatten() {
            assert!(
                !text.contains("  "),
                "{}: a run of spaces in {text:?}",
                f.id
            );
        }
    }
    results
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.id))
        .collect()
}

#[test]
fn a_healthy_setup_passes_every_local_check() {
    let results = checks(&healthy(), &settings());
    let lines: Vec<(&str, crate::check::Status)> = results
        .iter()
        .map(|r| (r.checked.check, r.checked.status))
        .collect();
    use crate::check::Status::Pass;
    assert_eq!(
        lines,
        [
            ("milter", Pass),
            ("opendkim", Pass),
            ("keys", Pass),
            ("running", Pass),
            ("tls", Pass)
        ]
    );
}

#[test]
fn milters_missing_from_either_list() {
    let mut s = healthy();
    s.main_cf = with_tls("smtpd_milters = inet:localhost:11332\n");
    assert_eq!(
        ids_of(&s),
        [ids::MILTER_NOT_CONFIGURED, ids::MILTER_NON_SMTPD_MISSING]
    );
    s.main_cf = with_tls("smtpd_milters = local:opendkim/opendkim.sock\n");
    assert_eq!(ids_of(&s), [ids::MILTER_NON_SMTPD_MISSING]);
    s.main_cf = with_tls(
        "smtpd_milters = local:opendkim/opendkim.sock\nnon_smtpd_milters = local:opendkim/opendkim.sock\n",
    );
    assert!(ids_of(&s).is_empty());
}

#[test]
fn the_socket_opendkim_is_started_with_must_match_postfix() {
    let mut s = healthy();
    // the stock /etc/default/opendkim: the init script ignores it while opendkim.conf has Socket
    s.default_file = Some("RUNDIR=/run/opendkim\nSOCKET=local:$RUNDIR/opendkim.sock\n".into());
    assert!(ids_of(&s).is_empty());
    // opendkim.conf's Socket changed: OpenDKIM listens elsewhere
    let chroot = s.opendkim_conf.clone().unwrap();
    s.opendkim_conf = Some(chroot.replace("/var/spool/postfix/opendkim", "/run/opendkim"));
    assert_eq!(ids_of(&s), [ids::MILTER_SOCKET_MISMATCH]);
    let f = checks(&s, &settings()).remove(0).findings.remove(0);
    // expected: what the OpenDKIM and Milter steps write (inside Postfix's chroot), not
    // where OpenDKIM happens to listen
    assert_eq!(
        f.expected.as_deref(),
        Some(
            "local:opendkim/opendkim.sock (with opendkim.conf Socket \
             local:/var/spool/postfix/opendkim/opendkim.sock)"
        )
    );
    assert_eq!(f.found.as_deref(), Some("local:opendkim/opendkim.sock"));
    assert!(
        f.message.ends_with("(Socket in /etc/opendkim.conf)"),
        "{}",
        f.message
    );
    // no Socket line: the init script passes the default file's SOCKET
    s.opendkim_conf = Some("SigningTable refile:/etc/opendkim/SigningTable\n".into());
    let f = checks(&s, &settings()).remove(0).findings.remove(0);
    assert_eq!(f.id, ids::MILTER_SOCKET_MISMATCH);
    assert!(
        f.message.contains("SOCKET in /etc/default/opendkim"),
        "{}",
        f.message
    );
    // under systemd, an override's ExecStart -p wins over a right opendkim.conf
    s.opendkim_conf = Some(chroot);
    s.startup = startup::Startup::Systemd {
        exec_start: Some(
            "/usr/sbin/opendkim -P /run/opendkim/opendkim.pid -p local:/run/opendkim/opendkim.sock"
                .into(),
        ),
    };
    assert_eq!(ids_of(&s), [ids::MILTER_SOCKET_MISMATCH]);
}

#[test]
fn a_signing_table_with_wildcards_needs_refile() {
    let mut s = healthy();
    s.opendkim_conf = Some(
        "Socket local:/var/spool/postfix/opendkim/opendkim.sock\nSigningTable /etc/opendkim/SigningTable\n"
            .into(),
    );
    assert_eq!(ids_of(&s), [ids::OPENDKIM_SIGNING_TABLE_NO_REFILE]);
}

#[test]
fn every_domain_needs_a_signing_table_entry() {
    let mut s = healthy();
    s.signing_table = Some("*@example.org mail._domainkey.example.org\n".into());
    assert_eq!(ids_of(&s), [ids::OPENDKIM_SIGNING_TABLE_MISSING_DOMAIN]);
    let f = checks(&s, &settings()).remove(1).findings.remove(0);
    assert!(f.message.contains("example.net"), "{}", f.message);
}

#[test]
fn keys_missing_or_insecure() {
    let mut s = healthy();
    s.keys = vec![(KEY.into(), Err("No such file or directory".into()))];
    assert_eq!(ids_of(&s), [ids::OPENDKIM_KEY_MISSING]);
    s.keys = vec![(KEY.into(), Ok(nodes(0o640)))]; // postfix is in group opendkim
    assert_eq!(ids_of(&s), [ids::OPENDKIM_KEY_INSECURE]);
    let f = checks(&s, &settings()).remove(2).findings.remove(0);
    assert!(
        f.message.contains(KEY) && f.message.contains("postfix"),
        "{}",
        f.message
    );
}

#[test]
fn no_key_table_or_no_key_in_it_is_not_a_pass() {
    let mut s = healthy();
    s.key_table = None;
    s.keys = vec![];
    assert_eq!(ids_of(&s), [ids::OPENDKIM_KEY_MISSING]);
    let keys = checks(&s, &settings()).remove(2);
    assert_eq!(keys.checked.check, "keys");
    assert_eq!(keys.checked.status, crate::check::Status::Fail);
    let f = &keys.findings[0];
    assert_eq!(
        f.message,
        "no KeyTable names a key: OpenDKIM has nothing to sign with"
    );
    assert_eq!(f.found.as_deref(), Some("no /etc/opendkim/KeyTable"));
    assert_eq!(
        f.fix.as_deref(),
        Some("mailsetup's Tables and Keys steps write the KeyTable and create the keys")
    );
    // a KeyTable with comments only
    s.key_table = Some("# KeyTable: managed by mailsetup; operator entries are kept\n".into());
    let f = checks(&s, &settings()).remove(2).findings.remove(0);
    assert_eq!(f.id, ids::OPENDKIM_KEY_MISSING);
    assert_eq!(
        f.found.as_deref(),
        Some("/etc/opendkim/KeyTable without an entry")
    );
    // an entry whose value names no key
    s.key_table = Some("mail._domainkey.example.org example.org:mail\n".into());
    assert_eq!(ids_of(&s), [ids::OPENDKIM_KEY_MISSING]);
    // an operator's single KeyFile is named, not taken for a KeyTable
    s.opendkim_conf = Some(format!(
        "{}KeyFile /etc/dkimkeys/example.private\n",
        healthy().opendkim_conf.unwrap()
    ));
    let f = checks(&s, &settings()).remove(2).findings.remove(0);
    assert!(
        f.message
            .contains("opendkim.conf's KeyFile /etc/dkimkeys/example.private"),
        "{}",
        f.message
    );
    // inline key data is a key (opendkim.conf(5) KeyTable): nothing to walk, nothing missing
    s.key_table = Some("mail._domainkey.example.org example.org:mail:MIIEvQ\n".into());
    assert!(ids_of(&s).is_empty(), "{:?}", ids_of(&s));
}

#[test]
fn nothing_read_passes_no_line() {
    // every file absent, or unreadable: LocalState holds None for both (the probe reads
    // with `.ok()`), and no line may pass on it
    let results = checks(&LocalState::default(), &settings());
    assert_eq!(results.len(), 3, "milter, opendkim, keys");
    for r in &results {
        assert_eq!(
            r.checked.status,
            crate::check::Status::Fail,
            "{}: {:?}",
            r.checked.check,
            r.findings
        );
    }
    // the daemons looked at and both stopped: the running line fails too
    let state = LocalState {
        running: Some((false, false)),
        ..LocalState::default()
    };
    let running = checks(&state, &settings()).remove(3);
    assert_eq!(running.checked.status, crate::check::Status::Fail);
}

#[test]
fn stopped_daemons_are_named_and_not_checked_beneath_a_test_root() {
    let mut s = healthy();
    s.running = Some((true, false));
    assert_eq!(ids_of(&s), [ids::OPENDKIM_NOT_RUNNING]);
    s.running = Some((false, true));
    assert_eq!(ids_of(&s), [ids::POSTFIX_NOT_RUNNING]);
    let f = checks(&s, &settings()).remove(3).findings.remove(0);
    assert_eq!(
        f.fix.as_deref(),
        Some("start it: /etc/init.d/postfix start (systemctl start postfix with systemd)")
    );
    s.running = None;
    let lines: Vec<&str> = checks(&s, &settings())
        .iter()
        .map(|r| r.checked.check)
        .collect();
    assert_eq!(lines, ["milter", "opendkim", "keys", "tls"]);
}

#[test]
fn key_table_paths_skip_inline_keys() {
    let table = "# c\nmail._domainkey.example.org example.org:mail:/etc/k/a.private\nx example.net:mail:MIIEvQ\n";
    assert_eq!(key_paths(table), [PathBuf::from("/etc/k/a.private")]);
}

#[test]
fn postconf_warnings_and_opendkim_n_refusals_are_reported() {
    let mut s = healthy();
    s.postconf_warnings = Some(vec![
        "postconf: warning: /etc/postfix/main.cf: unused parameter: smtpd_milter=x".into(),
    ]);
    s.opendkim_n = Some(Err(
        "opendkim: /etc/opendkim.conf: configuration error at line 7".into(),
    ));
    assert_eq!(
        ids_of(&s),
        [ids::POSTFIX_CONFIG_WARNING, ids::OPENDKIM_CONFIG_INVALID]
    );
    let results = checks(&s, &settings());
    assert_eq!(results[0].findings[0].severity, Severity::Warning);
    assert!(
        results[0].findings[0]
            .found
            .as_deref()
            .unwrap()
            .contains("smtpd_milter=x")
    );
    assert!(results[1].findings[0].message.contains("line 7"));
    s.postconf_warnings = None; // no postconf installed: not checked
    s.opendkim_n = None; // beneath a test root: not run
    assert!(ids_of(&s).is_empty());
}

#[test]
fn a_socket_outside_the_chroot_is_unreachable_from_a_chrooted_smtpd() {
    let mut s = healthy();
    s.main_cf = with_tls(
        "smtpd_milters = unix:/run/opendkim/opendkim.sock\nnon_smtpd_milters = $smtpd_milters\n",
    );
    s.opendkim_conf = Some(
        "Socket local:/run/opendkim/opendkim.sock\nSigningTable refile:/etc/opendkim/SigningTable\n"
            .into(),
    );
    s.default_file = None;
    assert_eq!(ids_of(&s), [ids::MILTER_SOCKET_UNREACHABLE]);
    // not chrooted: reachable
    s.master_cf = Some("smtp      inet  n       -       n       -       -       smtpd\n".into());
    assert!(ids_of(&s).is_empty(), "{:?}", ids_of(&s));
}

#[test]
fn a_socket_that_does_not_answer_or_shuts_postfix_out() {
    let mut s = healthy();
    let probe = |connect: Result<(), String>, sock_mode: u32| socket::Probe {
        path: "/var/spool/postfix/opendkim/opendkim.sock".into(),
        nodes: vec![
            ("/".into(), Some((0, 0, 0o755))),
            (
                "/var/spool/postfix/opendkim".into(),
                Some((110, 117, 0o750)),
            ),
            (
                "/var/spool/postfix/opendkim/opendkim.sock".into(),
                Some((110, 117, sock_mode)),
            ),
        ],
        connect,
    };
    s.socket = Some(probe(Ok(()), 0o770));
    assert!(ids_of(&s).is_empty());
    s.socket = Some(probe(Err("Connection refused".into()), 0o770));
    assert_eq!(ids_of(&s), [ids::MILTER_SOCKET_UNREACHABLE]);
    s.socket = Some(probe(Ok(()), 0o755));
    assert_eq!(ids_of(&s), [ids::MILTER_SOCKET_PERMISSION]);
}

#[test]
fn a_key_only_root_can_read_is_missing_for_opendkim() {
    let mut s = healthy();
    let mut nodes = nodes(0o600);
    if let Some(key) = nodes.last_mut() {
        key.uid = 0;
        key.gid = 0;
    }
    s.keys = vec![(KEY.into(), Ok(nodes))];
    assert_eq!(ids_of(&s), [ids::OPENDKIM_KEY_MISSING]);
    let f = checks(&s, &settings()).remove(2).findings.remove(0);
    assert!(f.message.contains("cannot read"), "{}", f.message);
}

#[test]
fn inet_protocols_or_inet_interfaces_changed_but_only_reloaded() {
    let mut s = healthy();
    let main_cf = s.main_cf.clone().unwrap();
    let listening = |addrs: &[&str]| {
        Some(super::listeners::Listeners {
            addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            ipv6_available: true,
        })
    };
    s.smtp_listeners = listening(&["0.0.0.0"]);
    assert!(ids_of(&s).is_empty(), "ipv4 asked, IPv4 listened on");
    s.main_cf = Some(main_cf.replace("inet_protocols = ipv4", "inet_protocols = all"));
    // still IPv4 only: the master read the old value
    assert_eq!(ids_of(&s), [ids::POSTFIX_RESTART_PENDING]);
    s.smtp_listeners = listening(&["0.0.0.0", "::"]); // after a stop and start
    assert!(ids_of(&s).is_empty());
    s.main_cf = Some(format!("{main_cf}inet_interfaces = loopback-only\n"));
    s.smtp_listeners = listening(&["0.0.0.0"]);
    let f = checks(&s, &settings()).remove(3).findings.remove(0);
    assert_eq!(f.id, ids::POSTFIX_RESTART_PENDING);
    assert!(
        f.message.starts_with(
            "main.cf says inet_interfaces = loopback-only, but Postfix listens on every address"
        ),
        "{}",
        f.message
    );
    s.smtp_listeners = listening(&["127.0.0.1"]); // after a stop and start
    assert!(ids_of(&s).is_empty());
    s.smtp_listeners = listening(&[]); // nothing on port 25: not compared
    assert!(ids_of(&s).is_empty());
}

#[test]
fn amavis_signing_too_is_a_double_signer() {
    let mut s = healthy();
    s.other_signers.push((
        "/etc/amavis/conf.d/50-user".into(),
        "use strict;\n$enable_dkim_signing = 1; # sign\n".into(),
    ));
    assert_eq!(ids_of(&s), [ids::SIGNER_DOUBLE]);
    let f = checks(&s, &settings()).remove(0).findings.remove(0);
    assert_eq!(f.found.as_deref(), Some("/etc/amavis/conf.d/50-user"));
    // OpenDKIM not wired in: amavis is the only signer
    s.main_cf = with_tls("smtpd_milters =\n");
    assert!(!ids_of(&s).contains(&ids::SIGNER_DOUBLE));
}

#[test]
fn what_this_user_may_not_read_is_unknown_not_missing() {
    let mut s = healthy();
    // a user who is not root cannot look into the 0750 key directory
    s.keys = vec![(
        KEY.into(),
        Err(format!("{KEY}: Permission denied (os error 13)")),
    )];
    s.unread = vec![(KEY.into(), "this user may not read it".into())];
    let results = checks(&s, &settings());
    let keys = results.iter().find(|r| r.checked.check == "keys").unwrap();
    assert_eq!(keys.checked.status, Status::Unknown);
    let found: Vec<&str> = keys.findings.iter().map(|f| f.id).collect();
    assert_eq!(found, [ids::LOCAL_UNREADABLE], "not opendkim.key-missing");
    assert!(keys.findings[0].fix.as_deref().unwrap().contains("as root"));
    // the other lines are judged as usual
    assert!(
        results
            .iter()
            .filter(|r| r.checked.check != "keys")
            .all(|r| r.checked.status == Status::Pass)
    );
    // an unreadable SigningTable: the opendkim line is not judged either
    s.unread
        .push(("/etc/opendkim/SigningTable".into(), "a link".into()));
    let results = checks(&s, &settings());
    let tables = results
        .iter()
        .find(|r| r.checked.check == "opendkim")
        .unwrap();
    assert_eq!(tables.checked.status, Status::Unknown);
}

/// Inbound DMARC on, wired as the Inbound DMARC step leaves it.
fn dmarc_healthy() -> (LocalState, Settings) {
    let mut s = healthy();
    s.main_cf = with_tls(
        "smtpd_milters = local:opendkim/opendkim.sock, local:opendmarc/opendmarc.sock\n\
         non_smtpd_milters = local:opendkim/opendkim.sock\ninet_protocols = ipv4\n",
    );
    s.opendmarc = opendmarc::DmarcState {
        conf: Some("Socket local:/var/spool/postfix/opendmarc/opendmarc.sock\nUMask 007\n".into()),
        default_file: Some("RUNDIR=/run/opendmarc\nSOCKET=local:$RUNDIR/opendmarc.sock\n".into()),
        running: Some(true),
        socket: None,
    };
    let mut settings = settings();
    settings.inbound_dmarc = true;
    (s, settings)
}

fn dmarc_ids(state: &LocalState, settings: &Settings) -> Vec<&'static str> {
    checks(state, settings)
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.id))
        .collect()
}

#[test]
fn the_opendmarc_line_is_there_with_inbound_dmarc_only() {
    let (s, on) = dmarc_healthy();
    let lines: Vec<&str> = checks(&s, &on).iter().map(|r| r.checked.check).collect();
    assert_eq!(
        lines,
        ["milter", "opendkim", "keys", "running", "opendmarc", "tls"]
    );
    assert!(dmarc_ids(&s, &on).is_empty(), "{:?}", dmarc_ids(&s, &on));
    // off: no line, even with OpenDMARC missing everywhere
    let mut bare = s.clone();
    bare.opendmarc = Default::default();
    assert_eq!(checks(&bare, &settings()).len(), 5);
    assert_eq!(dmarc_ids(&bare, &on), [ids::OPENDMARC_PACKAGE_MISSING]);
}

#[test]
fn opendmarc_findings() {
    let (mut s, on) = dmarc_healthy();
    let healthy_cf = s.main_cf.clone().unwrap();
    // not in smtpd_milters
    s.main_cf = Some(healthy_cf.replace(", local:opendmarc/opendmarc.sock", ""));
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_NOT_CONFIGURED]);
    // before OpenDKIM
    s.main_cf = Some(healthy_cf.replace(
        "local:opendkim/opendkim.sock, local:opendmarc/opendmarc.sock",
        "local:opendmarc/opendmarc.sock, local:opendkim/opendkim.sock",
    ));
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_ORDER]);
    // OpenDMARC listens elsewhere (the stock Socket)
    s.main_cf = Some(healthy_cf.clone());
    s.opendmarc.conf = Some("Socket local:/run/opendmarc/opendmarc.sock\n".into());
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_SOCKET_MISMATCH]);
    // no Socket line: the init script passes the default file's SOCKET
    s.opendmarc.conf = Some("UMask 007\n".into());
    let f = checks(&s, &on).remove(4).findings.remove(0);
    assert_eq!(f.id, ids::OPENDMARC_SOCKET_MISMATCH);
    assert!(
        f.message.contains("SOCKET in /etc/default/opendmarc"),
        "{}",
        f.message
    );
    // Postfix names a socket outside its chroot
    s.opendmarc.conf = Some("Socket local:/run/opendmarc/opendmarc.sock\n".into());
    s.main_cf = Some(healthy_cf.replace(
        "local:opendmarc/opendmarc.sock",
        "local:/run/opendmarc/opendmarc.sock",
    ));
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_SOCKET_UNREACHABLE]);
    // stopped
    let (mut s, on) = dmarc_healthy();
    s.opendmarc.running = Some(false);
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_NOT_RUNNING]);
}

#[test]
fn opendmarc_socket_reachability_uses_the_milter_socket_checks() {
    let (mut s, on) = dmarc_healthy();
    let path = "/var/spool/postfix/opendmarc/opendmarc.sock";
    let probe = |sock_mode, connect: Result<(), String>| socket::Probe {
        path: path.into(),
        nodes: vec![
            ("/".into(), Some((0, 0, 0o755))),
            ("/var".into(), Some((0, 0, 0o755))),
            ("/var/spool".into(), Some((0, 0, 0o755))),
            ("/var/spool/postfix".into(), Some((0, 0, 0o755))),
            (
                "/var/spool/postfix/opendmarc".into(),
                Some((106, 110, 0o750)),
            ),
            (path.into(), Some((106, 110, sock_mode))),
        ],
        connect,
    };
    s.accounts = Accounts::parse(
        "root:x:0:0::/:/bin/sh\nopendkim:x:110:117::/:/bin/false\npostfix:x:105:112::/:/bin/false\nopendmarc:x:106:110::/:/bin/false\n",
        "root:x:0:\nopendkim:x:117:postfix\npostfix:x:112:\nopendmarc:x:110:\n",
    );
    s.opendmarc.socket = Some(probe(0o770, Ok(())));
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_SOCKET_PERMISSION]);
    s.accounts = Accounts::parse(
        "root:x:0:0::/:/bin/sh\nopendkim:x:110:117::/:/bin/false\npostfix:x:105:112::/:/bin/false\nopendmarc:x:106:110::/:/bin/false\n",
        "root:x:0:\nopendkim:x:117:postfix\npostfix:x:112:\nopendmarc:x:110:postfix\n",
    );
    assert!(dmarc_ids(&s, &on).is_empty());
    s.opendmarc.socket = Some(probe(0o770, Err("Connection refused".into())));
    assert_eq!(dmarc_ids(&s, &on), [ids::OPENDMARC_SOCKET_UNREACHABLE]);
}

#[test]
fn the_ed25519_instance_is_judged_with_ed25519_on_only() {
    let mut s = healthy();
    s.main_cf = with_tls(
        "smtpd_milters = local:opendkim/opendkim.sock, local:opendkim/opendkim-ed25519.sock\n\
         non_smtpd_milters = $smtpd_milters\ninet_protocols = ipv4\n",
    );
    s.ed25519.running = Some(true);
    let mut on = settings();
    on.ed25519 = Some(crate::values::Selector::parse("ed25519").unwrap());
    let ids_of = |state: &LocalState, settings: &Settings| -> Vec<(&'static str, String)> {
        checks(state, settings)
            .iter()
            .flat_map(|r| r.findings.iter().map(|f| (f.id, f.subject.clone())))
            .collect()
    };
    assert_eq!(ids_of(&s, &on), vec![], "healthy with both instances");
    // the first instance's checks do not take the second for a duplicate OpenDKIM entry
    assert_eq!(ids_of(&s, &settings()), vec![]);
    let mut stopped = s.clone();
    stopped.ed25519.running = Some(false);
    assert_eq!(
        ids_of(&stopped, &on),
        vec![(ids::OPENDKIM_NOT_RUNNING, "opendkim-ed25519".to_string())]
    );
    assert_eq!(ids_of(&stopped, &settings()), vec![], "off: not judged");
    let mut unwired = healthy();
    unwired.ed25519.running = Some(true);
    assert_eq!(
        ids_of(&unwired, &on),
        vec![(ids::MILTER_NOT_CONFIGURED, system::MAIN_CF.to_string())]
    );
    let mut deaf = s.clone();
    deaf.ed25519.socket = Some(socket::Probe {
        path: "/var/spool/postfix/opendkim/opendkim-ed25519.sock".into(),
        nodes: Vec::new(),
        connect: Err("Connection refused".into()),
    });
    assert_eq!(
        ids_of(&deaf, &on),
        vec![(
            ids::MILTER_SOCKET_UNREACHABLE,
            "/var/spool/postfix/opendkim/opendkim-ed25519.sock".to_string()
        )]
    );
}
