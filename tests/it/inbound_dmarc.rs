//! Inbound DMARC (answers `inbound_dmarc`) on a temporary Debian 12 tree: apply writes
//! opendmarc.conf, /etc/default/opendmarc, the socket directory, OpenDMARC after OpenDKIM in
//! smtpd_milters and postfix in group opendmarc; a second plan is empty; rollback restores the
//! tree; `fix opendmarc.order` puts OpenDMARC back after OpenDKIM; and the real OpenDMARC
//! starts with the configuration written and listens on its socket.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mailsetup::opendkim::OpendmarcConf;

use crate::support::{ANSWERS, Tree, fixture_text};

const STOCK_CONF: &str = fixture_text!("debian12/etc/opendmarc.conf");

/// The fixture answers with these lines added, written into the tree; returns its path.
fn answers(tree: &Tree, extra: &str) -> String {
    let text = format!(
        "{}{extra}",
        std::fs::read_to_string(ANSWERS).expect("answers")
    );
    let path = tree.root().join("answers-dmarc.toml");
    std::fs::write(&path, text).expect("write answers");
    path.display().to_string()
}

#[test]
fn off_plans_nothing_for_opendmarc() {
    let tree = Tree::debian12();
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    plan.expect_code(1);
    assert!(!plan.stdout.contains("opendmarc"), "{}", plan.stdout);
}

#[test]
fn apply_wires_opendmarc_after_opendkim_and_rollback_restores_everything() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let a = answers(&tree, "inbound_dmarc = true\n");
    let plan = tree.run(&["plan", "--answers", &a]);
    plan.expect_code(1);
    assert!(plan.stdout.contains("restart opendmarc"), "{}", plan.stdout);
    tree.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);

    let main_cf = tree.read("/etc/postfix/main.cf");
    assert!(
        main_cf.contains(
            "\nsmtpd_milters = local:opendkim/opendkim.sock, local:opendmarc/opendmarc.sock\n"
        ),
        "{main_cf}"
    );
    assert!(
        main_cf.contains("\nnon_smtpd_milters = local:opendkim/opendkim.sock\n"),
        "locally submitted mail is not judged: {main_cf}"
    );
    let conf = tree.read("/etc/opendmarc.conf");
    let parsed = OpendmarcConf::parse(&conf);
    for (k, v) in [
        (
            "Socket",
            "local:/var/spool/postfix/opendmarc/opendmarc.sock",
        ),
        ("AuthservID", "mail.example.org"),
        ("TrustedAuthservIDs", "mail.example.org"),
        ("IgnoreAuthenticatedClients", "true"),
        ("SPFSelfValidate", "true"),
        ("RejectFailures", "false"),
        ("UMask", "007"),
        // the stock lines stay
        ("PidFile", "/run/opendmarc/opendmarc.pid"),
        ("UserID", "opendmarc"),
    ] {
        assert_eq!(parsed.get(k), Some(v), "{k}: {conf}");
    }
    // the stock Socket line is rewritten in place, not shadowed by a second one
    assert_eq!(
        parsed.definitions().filter(|(k, _)| *k == "Socket").count(),
        1,
        "{conf}"
    );
    assert!(
        tree.read("/etc/default/opendmarc")
            .contains("\nSOCKET=local:/var/spool/postfix/opendmarc/opendmarc.sock\n")
    );
    assert!(
        tree.read("/etc/group")
            .contains("\nopendmarc:x:108:postfix\n"),
        "{}",
        tree.read("/etc/group")
    );
    assert!(tree.path("/var/spool/postfix/opendmarc").is_dir());

    // applied: nothing left to do
    let again = tree.run(&["plan", "--answers", &a]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );

    // rejecting failures: only RejectFailures changes
    let reject = answers(
        &tree,
        "inbound_dmarc = true\ndmarc_reject_failures = true\n",
    );
    let plan = tree.run(&["plan", "--answers", &reject]);
    plan.expect_code(1);
    assert!(plan.stdout.contains("+RejectFailures"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("main.cf"), "{}", plan.stdout);
    tree.run(&["apply", "--yes", "--answers", &reject])
        .expect_code(0);
    assert_eq!(
        OpendmarcConf::parse(&tree.read("/etc/opendmarc.conf")).get("RejectFailures"),
        Some("true")
    );

    // both runs undone (the last first): the tree as it was
    tree.run(&["rollback", "--yes"]).expect_code(0);
    assert_eq!(
        OpendmarcConf::parse(&tree.read("/etc/opendmarc.conf")).get("RejectFailures"),
        Some("false")
    );
    tree.run(&["rollback", "--yes"]).expect_code(0);
    let left = tree.snapshot_without_state();
    let mut before = before;
    before.retain(|p, _| !p.starts_with("answers-dmarc.toml"));
    let mut left = left;
    left.retain(|p, _| !p.starts_with("answers-dmarc.toml"));
    assert_eq!(left, before);
}

#[test]
fn fix_opendmarc_order_moves_it_after_opendkim() {
    let tree = Tree::debian12();
    let a = answers(&tree, "inbound_dmarc = true\n");
    tree.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);
    let main_cf = tree.read("/etc/postfix/main.cf");
    let swapped = main_cf.replace(
        "local:opendkim/opendkim.sock, local:opendmarc/opendmarc.sock",
        "local:opendmarc/opendmarc.sock, local:opendkim/opendkim.sock",
    );
    assert_ne!(swapped, main_cf);
    tree.write("/etc/postfix/main.cf", &swapped);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt
        .block_on(crate::support::dns_server::dead_addr())
        .to_string();
    let check = tree.run(&["check", "--answers", &a, "--nameserver", &dead, "--json"]);
    assert!(
        check.stdout.contains("\"opendmarc.order\""),
        "{}",
        check.stdout
    );
    let fix = tree.run(&[
        "fix",
        "opendmarc.order",
        "--yes",
        "--answers",
        &a,
        "--nameserver",
        &dead,
    ]);
    fix.expect_code(0);
    assert_eq!(tree.read("/etc/postfix/main.cf"), main_cf, "{}", fix.stdout);
    let check = tree.run(&["check", "--answers", &a, "--nameserver", &dead, "--json"]);
    assert!(!check.stdout.contains("\"opendmarc."), "{}", check.stdout);
}

#[test]
fn reject_without_inbound_dmarc_is_refused() {
    let tree = Tree::debian12();
    let a = answers(&tree, "dmarc_reject_failures = true\n");
    let run = tree.run(&["plan", "--answers", &a]);
    run.expect_code(2);
    assert!(run.stderr.contains("inbound_dmarc"), "{}", run.stderr);
}

/// The real OpenDMARC (`opendmarc -c CONF -f`, opendmarc(8)) reads the stock file as
/// mailsetup edits it and listens on the socket it names. The socket and pid file are moved
/// into a temporary directory, and UserID is this user, so that nothing of the host's is used.
#[test]
fn the_real_opendmarc_starts_with_the_written_configuration() {
    let bin = "/usr/sbin/opendmarc";
    if !Path::new(bin).exists() {
        eprintln!("note: {bin} not installed; skipping the real-OpenDMARC check");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = Tree::debian12();
    let a = answers(
        &tree,
        "inbound_dmarc = true\ndmarc_reject_failures = true\n",
    );
    tree.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);
    let written = tree.read("/etc/opendmarc.conf");
    assert_ne!(written, STOCK_CONF);
    let mut conf = OpendmarcConf::parse(&written);
    let sock = dir.path().join("opendmarc.sock");
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".into());
    conf.set("Socket", &format!("local:{}", sock.display()))
        .unwrap();
    conf.set("PidFile", &dir.path().join("pid").display().to_string())
        .unwrap();
    conf.set("UserID", &user).unwrap();
    // no public suffix list outside Debian's package: keep the stock path only where it is
    if !Path::new("/usr/share/publicsuffix/public_suffix_list.dat").exists() {
        eprintln!("note: no public suffix list; the check runs without it");
    }
    let conf_path = dir.path().join("opendmarc.conf");
    std::fs::write(&conf_path, conf.to_string()).unwrap();
    let test = Command::new(bin)
        .args(["-n", "-c"])
        .arg(&conf_path)
        .output()
        .expect("opendmarc -n");
    assert!(
        test.status.success(),
        "opendmarc -n refuses the configuration: {}",
        String::from_utf8_lossy(&test.stderr)
    );
    let mut child = Command::new(bin)
        .args(["-f", "-c"])
        .arg(&conf_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start opendmarc");
    let until = Instant::now() + Duration::from_secs(10);
    let mut connected = false;
    while Instant::now() < until {
        if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
            connected = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            panic!(
                "opendmarc exited ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(connected, "opendmarc did not listen on {}", sock.display());
}

/// The opendmarc ids the sweep below produces on a tree and clears the way `check` says;
/// the others (a socket Postfix may not open, a stopped daemon) only a running server shows:
/// `break_fix` in tests/e2e/inbound_dmarc.sh. `sweep_local::every_local_id_has_a_sweep`
/// holds both lists against the ids.
pub const SWEPT: &[&str] = &[
    "opendmarc.not-configured",
    "opendmarc.order",
    "opendmarc.socket-mismatch",
    "opendmarc.socket-unreachable",
    "opendmarc.package-missing",
];

/// An id and how to break the applied tree so that `check` names it.
type Case = (&'static str, fn(&Tree));

/// `from` replaced by `to` in a file of the tree (which must hold `from`).
fn edit(t: &Tree, file: &str, from: &str, to: &str) {
    let text = t.read(file);
    assert!(text.contains(from), "{file}: {from}");
    t.write(file, &text.replace(from, to));
}

/// The opendmarc ids of `check --json`.
fn dmarc_ids(tree: &Tree, answers: &str, ns: &str) -> Vec<String> {
    let run = tree.run(&["check", "--answers", answers, "--nameserver", ns, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("opendmarc."))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_opendmarc_finding_on_a_tree_is_cleared_by_its_fix() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dead = rt
        .block_on(crate::support::dns_server::dead_addr())
        .to_string();
    let base = Tree::debian12();
    let a = answers(&base, "inbound_dmarc = true\n");
    base.run(&["apply", "--yes", "--answers", &a])
        .expect_code(0);
    assert!(dmarc_ids(&base, &a, &dead).is_empty());
    let cases: [Case; 5] = [
        ("opendmarc.not-configured", |t| {
            edit(
                t,
                "/etc/postfix/main.cf",
                ", local:opendmarc/opendmarc.sock",
                "",
            )
        }),
        ("opendmarc.order", |t| {
            edit(
                t,
                "/etc/postfix/main.cf",
                "local:opendkim/opendkim.sock, local:opendmarc/opendmarc.sock",
                "local:opendmarc/opendmarc.sock, local:opendkim/opendkim.sock",
            )
        }),
        ("opendmarc.socket-mismatch", |t| {
            edit(
                t,
                "/etc/opendmarc.conf",
                "Socket local:/var/spool/postfix/opendmarc/",
                "Socket local:/run/opendmarc/",
            )
        }),
        ("opendmarc.socket-unreachable", |t| {
            edit(
                t,
                "/etc/opendmarc.conf",
                "Socket local:/var/spool/postfix/opendmarc/",
                "Socket local:/run/opendmarc/",
            );
            edit(
                t,
                "/etc/postfix/main.cf",
                "local:opendmarc/opendmarc.sock",
                "local:/run/opendmarc/opendmarc.sock",
            );
        }),
        ("opendmarc.package-missing", |t| {
            std::fs::remove_file(t.path("/etc/opendmarc.conf")).unwrap()
        }),
    ];
    assert_eq!(cases.map(|c| c.0), SWEPT);
    let mut failures = Vec::new();
    for (id, break_it) in cases {
        let tree = base.copy();
        let a = a.replace(
            &base.root().display().to_string(),
            &tree.root().display().to_string(),
        );
        break_it(&tree);
        let found = dmarc_ids(&tree, &a, &dead);
        if found != [id] {
            failures.push(format!("{id}: broken, check says {found:?}"));
            continue;
        }
        if id == "opendmarc.package-missing" {
            // its fix: install the package (which brings the stock file back), then the step
            tree.write("/etc/opendmarc.conf", STOCK_CONF);
        }
        let fix = tree.run(&["fix", id, "--yes", "--answers", &a, "--nameserver", &dead]);
        let fixed = if id == "opendmarc.package-missing" {
            tree.run(&["apply", "--yes", "--answers", &a])
        } else {
            fix
        };
        let after = dmarc_ids(&tree, &a, &dead);
        if fixed.code != 0 || !after.is_empty() {
            failures.push(format!(
                "{id}: after its fix (exit {}): {after:?}\n{}{}",
                fixed.code, fixed.stdout, fixed.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Off, the step brings no earlier step into its diff (the wizard's dry run walked into the
/// Milter wiring at step 7 before); on, it brings the Milter wiring and what that needs.
#[test]
fn the_step_brings_its_prerequisites_only_when_on() {
    use mailsetup::plan::{Current, Part, with_earlier_prerequisites};
    let tree = Tree::debian12();
    let root = mailsetup::host::system::Root::new(tree.root());
    let off = mailsetup::answers::parse(&std::fs::read_to_string(ANSWERS).unwrap()).unwrap();
    let cur = Current::read(&root, &off).unwrap();
    assert_eq!(
        with_earlier_prerequisites(&off, &cur, Part::InboundDmarc).unwrap(),
        [Part::InboundDmarc]
    );
    let mut on = off.clone();
    on.inbound_dmarc = true;
    let parts = with_earlier_prerequisites(&on, &cur, Part::InboundDmarc).unwrap();
    assert!(
        parts.contains(&Part::Milter) && parts.contains(&Part::Opendkim),
        "{parts:?}"
    );
    assert_eq!(parts.last(), Some(&Part::InboundDmarc));
}
