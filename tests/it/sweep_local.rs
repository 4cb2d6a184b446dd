//! The local sweep: every local finding a `--root` tree can show is produced on a tree
//! `apply` set up (its keys published in the lab, so `check` passes first), then repaired the
//! way `check` says — `mailsetup fix <id> --yes` where it prints that, else its printed fix
//! followed by hand — and then the finding is gone and no other finding appeared: `check`
//! passes again. The findings only a running server shows (sockets, daemons, `opendkim -n`,
//! the selftest) go through the same sweep on the real daemons in `tests/e2e/run.sh`
//! (`break_fix`); [`every_local_id_has_a_sweep`] holds both lists against the ids.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::check_cli::{answers_2048, applied, command, field_of};
use crate::support::Tree;
use crate::support::lab::Lab;

/// How a case breaks the tree, and how its printed fix is followed when it is not `fix`.
struct Case {
    id: &'static str,
    break_it: fn(&Tree),
    /// `None`: `check` prints `mailsetup fix <id>`, which the sweep runs with `--yes`.
    by_hand: Option<fn(&Tree)>,
}

fn edit(tree: &Tree, file: &str, f: impl Fn(&str) -> String) {
    let text = tree.read(file);
    let edited = f(&text);
    assert_ne!(edited, text, "{file} changed");
    tree.write(file, &edited);
}

fn drop_lines(tree: &Tree, file: &str, prefix: &str) {
    edit(tree, file, |t| {
        t.lines()
            .filter(|l| !l.starts_with(prefix))
            .map(|l| format!("{l}\n"))
            .collect()
    });
}

const MAIN_CF: &str = "/etc/postfix/main.cf";
const OPENDKIM_CONF: &str = "/etc/opendkim.conf";
const KEY: &str = "/etc/opendkim/keys/example.org/mail.private";

fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "milter.not-configured",
            break_it: |t| drop_lines(t, MAIN_CF, "smtpd_milters"),
            by_hand: None,
        },
        Case {
            id: "milter.non-smtpd-missing",
            break_it: |t| drop_lines(t, MAIN_CF, "non_smtpd_milters"),
            by_hand: None,
        },
        Case {
            id: "milter.socket-mismatch",
            break_it: |t| {
                edit(t, OPENDKIM_CONF, |c| {
                    c.replace(
                        "Socket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock",
                        "Socket\t\t\tlocal:/run/opendkim/opendkim.sock",
                    )
                })
            },
            by_hand: None,
        },
        Case {
            // both sides agree, outside the chroot smtpd runs in
            id: "milter.socket-unreachable",
            break_it: |t| {
                edit(t, OPENDKIM_CONF, |c| {
                    c.replace(
                        "Socket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock",
                        "Socket\t\t\tlocal:/run/opendkim/opendkim.sock",
                    )
                });
                edit(t, MAIN_CF, |c| {
                    c.replace(
                        "local:opendkim/opendkim.sock",
                        "local:/run/opendkim/opendkim.sock",
                    )
                });
            },
            by_hand: None,
        },
        Case {
            id: "opendkim.signing-table-no-refile",
            break_it: |t| {
                edit(t, OPENDKIM_CONF, |c| {
                    c.replace(
                        "refile:/etc/opendkim/SigningTable",
                        "/etc/opendkim/SigningTable",
                    )
                })
            },
            by_hand: None,
        },
        Case {
            id: "opendkim.signing-table-missing-domain",
            break_it: |t| drop_lines(t, "/etc/opendkim/SigningTable", "*@example.net"),
            by_hand: None,
        },
        Case {
            id: "opendkim.key-insecure",
            break_it: |t| chmod(t, KEY, 0o640),
            by_hand: None,
        },
        Case {
            id: "opendkim.key-missing",
            break_it: |t| {
                std::os::unix::fs::chown(t.path(KEY), Some(0), Some(0)).unwrap();
            },
            by_hand: None,
        },
        Case {
            // printed fix: "correct or remove the parameters postconf names"
            id: "postfix.config-warning",
            break_it: |t| edit(t, MAIN_CF, |c| format!("{c}mailsetup_typo = 1\n")),
            by_hand: Some(|t| drop_lines(t, MAIN_CF, "mailsetup_typo")),
        },
        Case {
            // the Signer step turns amavisd-new's signing off (signer = "opendkim")
            id: "signer.double",
            break_it: |t| {
                t.write(
                    "/etc/amavis/conf.d/50-user",
                    "use strict;\n$enable_dkim_signing = 1;\n1;\n",
                )
            },
            by_hand: None,
        },
    ]
}

fn chmod(tree: &Tree, file: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tree.path(file), PermissionsExt::from_mode(mode)).unwrap();
}

/// Findings of `check --json` on the tree: `(id, subject)`, and the exit code.
fn findings(tree: &Tree, lab: &Lab) -> (Vec<(String, String)>, i32) {
    let run = command(tree, lab, "check", &answers_2048(tree), &["--json"]);
    let ids = field_of(&run.stdout, "findings", "id");
    let subjects = field_of(&run.stdout, "findings", "subject");
    (ids.into_iter().zip(subjects).collect(), run.code)
}

/// The `expected:` of a milter finding followed by hand, as a sysadmin would with postconf
/// and an editor: `ENTRY (with opendkim.conf Socket SOCKET)` → both milter lists name ENTRY,
/// opendkim.conf's Socket is SOCKET.
fn follow_milter_expected(tree: &Tree, expected: &str) {
    let (entry, socket) = expected
        .strip_suffix(')')
        .and_then(|e| e.split_once(" (with opendkim.conf Socket "))
        .unwrap_or_else(|| panic!("not the milter form: {expected}"));
    let main_cf: String = tree
        .read(MAIN_CF)
        .lines()
        .filter(|l| !l.starts_with("smtpd_milters") && !l.starts_with("non_smtpd_milters"))
        .map(|l| format!("{l}\n"))
        .collect();
    tree.write(
        MAIN_CF,
        &format!("{main_cf}smtpd_milters = {entry}\nnon_smtpd_milters = {entry}\n"),
    );
    let conf: String = tree
        .read(OPENDKIM_CONF)
        .lines()
        .map(|l| {
            if l.starts_with("Socket") {
                format!("Socket {socket}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    tree.write(OPENDKIM_CONF, &conf);
}

/// The milter findings again, each repaired by following its printed `expected:` by hand
/// instead of `fix`: what it names must be what works.
#[tokio::test(flavor = "multi_thread")]
async fn every_milter_expected_followed_by_hand_clears_it() {
    let (base, lab) = applied(true).await;
    let mut failures = Vec::new();
    for case in cases().iter().filter(|c| c.id.starts_with("milter.")) {
        let tree = base.copy();
        (case.break_it)(&tree);
        let run = command(&tree, &lab, "check", &answers_2048(&tree), &["--json"]);
        let ids = field_of(&run.stdout, "findings", "id");
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let at = ids.iter().position(|i| i == case.id).unwrap();
        let expected = v["findings"][at]["expected"].as_str().unwrap();
        follow_milter_expected(&tree, expected);
        let (after, code) = findings(&tree, &lab);
        if code != 0 || !after.is_empty() {
            failures.push(format!(
                "{}: expected `{expected}` followed: {after:?} (exit {code})",
                case.id
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_local_finding_is_cleared_by_what_check_prints() {
    let (base, lab) = applied(true).await;
    assert_eq!(
        findings(&base, &lab),
        (vec![], 0),
        "the applied tree passes"
    );
    let mut failures = Vec::new();
    for case in cases() {
        let tree = base.copy();
        (case.break_it)(&tree);
        let human = command(&tree, &lab, "check", &answers_2048(&tree), &[]);
        let (broken, code) = findings(&tree, &lab);
        assert_eq!(code, 1, "{}: check fails", case.id);
        assert!(
            broken.iter().any(|(id, _)| id == case.id),
            "{}: produced: {broken:?}",
            case.id
        );
        // as printed: with this run's tree, answers and DNS options
        let printed = format!(
            "mailsetup --root [ROOT] --answers [ROOT]/answers-2048.toml {} fix {}\n",
            lab.args().join(" "),
            case.id
        );
        match case.by_hand {
            None => {
                assert!(
                    human.stdout.contains(&printed),
                    "{}: check prints `{printed}`:\n{}",
                    case.id,
                    human.stdout
                );
                let run = command(
                    &tree,
                    &lab,
                    "fix",
                    &answers_2048(&tree),
                    &[case.id, "--yes"],
                );
                if run.code != 0 {
                    failures.push(format!(
                        "{}: fix exit {}:\n{}",
                        case.id, run.code, run.stdout
                    ));
                }
            }
            Some(follow) => {
                let fix = format!(" fix {}\n", case.id);
                assert!(!human.stdout.contains(&fix), "{}", human.stdout);
                follow(&tree);
            }
        }
        let (after, code) = findings(&tree, &lab);
        if code != 0 || !after.is_empty() {
            failures.push(format!(
                "{}: after the repair: {after:?} (exit {code})",
                case.id
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The local ids the sweep above cannot produce on a tree, each in the e2e sweep on the real
/// daemons (`break_fix ID` in tests/e2e/run.sh), or why neither can.
const ON_THE_RUNNING_SERVER: &[&str] = &[
    "milter.socket-permission",
    "opendkim.config-invalid",
    "opendkim.not-running",
    "postfix.not-running",
    "postfix.restart-pending",
];

/// Ids that are not a problem a repair clears, each with where it is produced instead.
const NOT_REPAIRS: &[(&str, &str)] = &[(
    "local.unreadable",
    "this user may not read a file: tests/it/check_unknown.rs runs check as nobody",
)];

#[test]
fn every_local_id_has_a_sweep() {
    let read = |rel: &str| {
        std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let e2e = read("tests/e2e/run.sh");
    // the selftest's findings are produced by the selftest tests, on the real OpenDKIM and
    // Postfix, and in the e2e
    let selftests = [
        read("tests/it/selftest.rs"),
        read("tests/it/selftest_via_postfix.rs"),
        e2e.clone(),
    ]
    .concat();
    let swept: Vec<&str> = cases().iter().map(|c| c.id).collect();
    for id in mailsetup::check::ids::ALL {
        if !crate::sweep_dns::LOCAL.iter().any(|p| id.starts_with(p)) {
            continue;
        }
        if id.starts_with("selftest.") {
            assert!(selftests.contains(id), "{id}: no selftest test produces it");
            continue;
        }
        // with `inbound_spf = true` only: swept on their own applied tree
        if id.starts_with("spf-policy.") {
            assert!(
                read("tests/it/inbound_spf.rs").contains(&format!("id: \"{id}\"")),
                "{id}: no case in tests/it/inbound_spf.rs"
            );
            continue;
        }
        if let Some((_, where_)) = NOT_REPAIRS.iter().find(|(i, _)| i == id) {
            assert!(
                read("tests/it/check_unknown.rs").contains(id),
                "{id}: {where_}"
            );
            continue;
        }
        // the certificate and STARTTLS ids: produced by their tests on trees and loopback
        // listeners, their unit tests, or the e2e against the real Postfix
        if mailsetup::check::tls::IDS.contains(id) {
            let konst = format!("ids::{}", id.to_uppercase().replace(['.', '-'], "_"));
            assert!(
                read("tests/it/tls_checks.rs").contains(&format!("\"{id}\""))
                    || read("tests/e2e/tls_checks.sh").contains(id)
                    || read("src/check/tls_cert_tests.rs").contains(&konst)
                    || read("src/check/starttls_tests.rs").contains(&konst),
                "{id}: no certificate or STARTTLS test produces it"
            );
            continue;
        }
        // TLS's configuration ids: their own sweep on a tree (tests/it/tls.rs)
        if id.starts_with("tls.") {
            assert!(
                crate::tls::SWEPT.contains(id),
                "{id}: tests/it/tls.rs does not produce it and follow its fix"
            );
            continue;
        }
        let in_e2e = e2e.contains(&format!("break_fix {id} "));
        // inbound DMARC's ids: its own sweep on a tree, or on the running server in its e2e
        if id.starts_with("opendmarc.") {
            let dmarc_e2e = read("tests/e2e/inbound_dmarc.sh");
            assert!(
                crate::inbound_dmarc::SWEPT.contains(id)
                    || dmarc_e2e.contains(&format!("break_fix {id} ")),
                "{id}: neither tests/it/inbound_dmarc.rs nor tests/e2e/inbound_dmarc.sh sweeps it"
            );
            continue;
        }
        assert!(
            swept.contains(id) || (ON_THE_RUNNING_SERVER.contains(id) && in_e2e),
            "{id}: no sweep produces it and follows its fix"
        );
    }
}
