//! Inbound SPF (`inbound_spf = true`, issue #14 item 1) on a `--root` tree: plan, apply,
//! a second apply that plans nothing, rollback, an operator's service adopted, the package
//! missing; and the `spf-policy.*` sweep: each finding produced on an applied tree, then
//! repaired the way `check` prints (`fix <id> --yes`, or its printed fix by hand), and
//! `check` passes again. The real agent answering Postfix is proven in the e2e
//! (`tests/e2e/inbound_spf.sh`).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::check_cli::{answers_2048, applied, command, field_of};
use crate::support::lab::Lab;
use crate::support::{ANSWERS, Tree};

const MAIN_CF: &str = "/etc/postfix/main.cf";
const MASTER_CF: &str = "/etc/postfix/master.cf";
/// What the Inbound SPF step appends to Debian's stock master.cf.
const ENTRY: &str =
    "policyd-spf unix - n n - 0 spawn\n  user=policyd-spf argv=/usr/bin/policyd-spf\n";

/// Installs what the postfix-policyd-spf-python package brings into the tree: its user and
/// group (Debian 12's ids) and the program.
fn install_package(tree: &Tree) {
    let passwd = tree.read("/etc/passwd");
    tree.write(
        "/etc/passwd",
        &format!("{passwd}policyd-spf:x:105:109::/home/policyd-spf:/usr/sbin/nologin\n"),
    );
    let group = tree.read("/etc/group");
    tree.write("/etc/group", &format!("{group}policyd-spf:x:109:\n"));
    tree.write(
        "/usr/bin/policyd-spf",
        "#!/usr/bin/python3\nfrom spf_engine import policyd_spf\npolicyd_spf.main()\n",
    );
}

/// `answers` with `inbound_spf = true`, written beside the tree's root; its path.
fn spf_answers(tree: &Tree, answers: &str) -> String {
    let text = std::fs::read_to_string(answers).unwrap();
    let path = tree.root().join("answers-spf.toml");
    std::fs::write(&path, format!("{text}inbound_spf = true\n")).unwrap();
    path.display().to_string()
}

#[test]
fn apply_wires_the_agent_losslessly_and_a_second_apply_plans_nothing() {
    let tree = Tree::debian12();
    install_package(&tree);
    let (main_before, master_before) = (tree.read(MAIN_CF), tree.read(MASTER_CF));
    let answers = spf_answers(&tree, ANSWERS);
    let plan = tree.run(&["plan", "--answers", &answers]);
    plan.expect_code(1);
    assert!(
        plan.stdout.contains("+policyd-spf unix - n n - 0 spawn\n")
            && plan
                .stdout
                .contains("+  user=policyd-spf argv=/usr/bin/policyd-spf\n"),
        "the plan shows master.cf's diff:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("+policyd-spf_time_limit = 3600\n"));
    tree.run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);
    let master = tree.read(MASTER_CF);
    assert_eq!(master, format!("{master_before}{ENTRY}"), "only appended");
    let main = tree.read(MAIN_CF);
    let wiring = "policyd-spf_time_limit = 3600\nsmtpd_recipient_restrictions = \
                  permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, \
                  check_policy_service unix:private/policyd-spf\n";
    // appended after the milter lines (the TLS step's lines come after it)
    assert!(
        main.contains(&format!("milter_protocol = 6\n{wiring}")),
        "{main}"
    );
    // Debian's relay rule is the operator's and stays
    assert!(main.contains(
        "\nsmtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated \
         defer_unauth_destination\n"
    ));
    // every line of the stock file is still there, in order (the DKIM parts edit some)
    let kept = main_before
        .lines()
        .filter(|l| main.lines().any(|m| m == *l))
        .count();
    // (the TLS step points the certificate and key lines at certbot's)
    assert!(kept + 8 >= main_before.lines().count(), "{main}");

    let after = tree.snapshot();
    let again = tree.run(&["plan", "--answers", &answers]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    tree.run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);
    assert_eq!(tree.snapshot(), after, "a second apply writes nothing");

    // and the rollback of the run restores both files
    let run = tree.run(&["rollback", "--yes"]);
    run.expect_code(0);
    assert_eq!(tree.read(MASTER_CF), master_before, "{}", run.stdout);
    assert_eq!(tree.read(MAIN_CF), main_before, "{}", run.stdout);
}

#[test]
fn inbound_spf_on_top_of_an_applied_set_up_is_its_own_run_and_rolls_back_alone() {
    let tree = Tree::debian12();
    install_package(&tree);
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let (main_dkim, master_dkim) = (tree.read(MAIN_CF), tree.read(MASTER_CF));
    let answers = spf_answers(&tree, ANSWERS);
    let apply = tree.run(&["apply", "--yes", "--answers", &answers]);
    apply.expect_code(0);
    assert!(
        apply.stdout.contains("postfix") && apply.stdout.contains("reload"),
        "Postfix is reloaded: {}",
        apply.stdout
    );
    assert_ne!(tree.read(MAIN_CF), main_dkim);
    assert_eq!(tree.read(MASTER_CF), format!("{master_dkim}{ENTRY}"));
    tree.run(&["rollback", "--yes"]).expect_code(0);
    assert_eq!(tree.read(MAIN_CF), main_dkim, "the DKIM run stays");
    assert_eq!(tree.read(MASTER_CF), master_dkim);
}

#[test]
fn an_operators_service_and_list_are_adopted_as_they_are() {
    let tree = Tree::debian12();
    install_package(&tree);
    let theirs = "policyd-spf  unix  -  n  n  -  0  spawn\n    user=policyd-spf \
                  argv=/usr/bin/policyd-spf /etc/postfix-policyd-spf-python/policyd-spf.conf\n";
    let master = format!("{}{theirs}", tree.read(MASTER_CF));
    tree.write(MASTER_CF, &master);
    let list = "smtpd_recipient_restrictions =\n    permit_mynetworks,\n    \
                reject_unauth_destination,\n    check_client_access hash:/etc/postfix/access\n";
    let main = format!("{}{list}", tree.read(MAIN_CF));
    tree.write(MAIN_CF, &main);
    let answers = spf_answers(&tree, ANSWERS);
    tree.run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);
    assert_eq!(
        tree.read(MASTER_CF),
        master,
        "the operator's entry is adopted"
    );
    let after = tree.read(MAIN_CF);
    assert!(
        after.contains(
            "smtpd_recipient_restrictions =\n    permit_mynetworks,\n    \
             reject_unauth_destination, check_policy_service unix:private/policyd-spf,\n    \
             check_client_access hash:/etc/postfix/access\n"
        ),
        "inserted after reject_unauth_destination, the layout kept:\n{after}"
    );
}

#[test]
fn without_the_package_the_plan_names_it_and_with_inbound_spf_off_nothing_is_planned() {
    let tree = Tree::debian12();
    let answers = spf_answers(&tree, ANSWERS);
    let run = tree.run(&["plan", "--answers", &answers]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("apt-get install postfix-policyd-spf-python"),
        "{}",
        run.stderr
    );
    let before = tree.snapshot();
    let off = tree.run(&["plan", "--answers", ANSWERS]);
    off.expect_code(1);
    assert!(!off.stdout.contains("policyd"), "{}", off.stdout);
    assert_eq!(tree.snapshot(), before);

    // with the package but inbound_spf off, an operator's service is never removed
    install_package(&tree);
    let master = format!("{}{ENTRY}", tree.read(MASTER_CF));
    tree.write(MASTER_CF, &master);
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    assert_eq!(tree.read(MASTER_CF), master);
}

/// How a case breaks the applied tree, and how its printed fix is followed when `check`
/// prints no `fix` (the package, the operator's own entry and order).
struct Case {
    id: &'static str,
    break_it: fn(&Tree),
    by_hand: Option<fn(&Tree)>,
}

fn replace(tree: &Tree, file: &str, from: &str, to: &str) {
    let text = tree.read(file);
    assert!(text.contains(from), "{file} has {from:?}:\n{text}");
    tree.write(file, &text.replacen(from, to, 1));
}

const WIRED: &str = "reject_unauth_destination, check_policy_service unix:private/policyd-spf";

fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "spf-policy.service-missing",
            break_it: |t| replace(t, MASTER_CF, ENTRY, ""),
            by_hand: None,
        },
        Case {
            id: "spf-policy.not-wired",
            break_it: |t| replace(t, MAIN_CF, WIRED, "reject_unauth_destination"),
            by_hand: None,
        },
        Case {
            // printed fix: move it after reject_unauth_destination
            id: "spf-policy.order",
            break_it: |t| {
                replace(
                    t,
                    MAIN_CF,
                    "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, \
                     check_policy_service unix:private/policyd-spf",
                    "check_policy_service unix:private/policyd-spf, permit_mynetworks, \
                     permit_sasl_authenticated, reject_unauth_destination",
                )
            },
            by_hand: Some(|t| {
                replace(
                    t,
                    MAIN_CF,
                    "check_policy_service unix:private/policyd-spf, permit_mynetworks, \
                     permit_sasl_authenticated, reject_unauth_destination",
                    "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, \
                     check_policy_service unix:private/policyd-spf",
                )
            }),
        },
        Case {
            // printed fix: edit the entry to read ENTRY
            id: "spf-policy.service-mismatch",
            break_it: |t| replace(t, MASTER_CF, "user=policyd-spf", "user=nobody"),
            by_hand: Some(|t| replace(t, MASTER_CF, "user=nobody", "user=policyd-spf")),
        },
        Case {
            // printed fix: apt-get install postfix-policyd-spf-python
            id: "spf-policy.package-missing",
            break_it: |t| std::fs::remove_file(t.path("/usr/bin/policyd-spf")).unwrap(),
            by_hand: Some(|t| {
                t.write("/usr/bin/policyd-spf", "#!/usr/bin/python3\n");
            }),
        },
        Case {
            id: "spf-policy.user-missing",
            break_it: |t| {
                let passwd = t.read("/etc/passwd");
                let kept: String = passwd
                    .lines()
                    .filter(|l| !l.starts_with("policyd-spf:"))
                    .map(|l| format!("{l}\n"))
                    .collect();
                t.write("/etc/passwd", &kept);
            },
            by_hand: Some(|t| {
                let passwd = t.read("/etc/passwd");
                t.write(
                    "/etc/passwd",
                    &format!(
                        "{passwd}policyd-spf:x:105:109::/home/policyd-spf:/usr/sbin/nologin\n"
                    ),
                );
            }),
        },
    ]
}

/// `check --json` findings `(id, subject)` with `answers`, and the exit code.
fn findings(tree: &Tree, lab: &Lab, answers: &str) -> (Vec<(String, String)>, i32) {
    let run = command(tree, lab, "check", answers, &["--json"]);
    let ids = field_of(&run.stdout, "findings", "id");
    let subjects = field_of(&run.stdout, "findings", "subject");
    (ids.into_iter().zip(subjects).collect(), run.code)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_spf_policy_finding_is_cleared_by_what_check_prints() {
    let (base, lab) = applied(true).await;
    install_package(&base);
    let answers = spf_answers(&base, &answers_2048(&base));
    // check names the missing pieces before the step, and passes after it
    let (before, code) = findings(&base, &lab, &answers);
    assert_eq!(code, 1);
    let ids: Vec<&str> = before.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        ["spf-policy.service-missing", "spf-policy.not-wired"],
        "{before:?}"
    );
    base.run(&["apply", "--yes", "--answers", &answers])
        .expect_code(0);
    assert_eq!(findings(&base, &lab, &answers), (vec![], 0));
    // the same tree with inbound_spf off: no spf-policy line at all
    let off = command(&base, &lab, "check", &answers_2048(&base), &["--json"]);
    assert!(!off.stdout.contains("spf-policy"), "{}", off.stdout);

    let mut failures = Vec::new();
    for case in cases() {
        let tree = base.copy();
        let answers = tree.root().join("answers-spf.toml").display().to_string();
        (case.break_it)(&tree);
        let human = command(&tree, &lab, "check", &answers, &[]);
        let (broken, code) = findings(&tree, &lab, &answers);
        assert_eq!(code, 1, "{}: check fails", case.id);
        assert!(
            broken.iter().any(|(id, _)| id == case.id),
            "{}: produced: {broken:?}",
            case.id
        );
        let fix = format!(" fix {}\n", case.id);
        match case.by_hand {
            None => {
                assert!(human.stdout.contains(&fix), "{}: {}", case.id, human.stdout);
                let run = command(&tree, &lab, "fix", &answers, &[case.id, "--yes"]);
                if run.code != 0 {
                    failures.push(format!(
                        "{}: fix exit {}:\n{}",
                        case.id, run.code, run.stdout
                    ));
                }
            }
            Some(follow) => {
                assert!(!human.stdout.contains(&fix), "{}", human.stdout);
                // `fix` on it changes nothing and says to follow the printed fix
                let before = tree.snapshot();
                let run = command(&tree, &lab, "fix", &answers, &[case.id, "--yes"]);
                assert_eq!(run.code, 1, "{}: {}", case.id, run.stdout);
                assert!(
                    run.stdout.contains("do what the fix line says"),
                    "{}: {}",
                    case.id,
                    run.stdout
                );
                assert_eq!(tree.snapshot(), before, "{}", case.id);
                follow(&tree);
            }
        }
        let (after, code) = findings(&tree, &lab, &answers);
        if code != 0 || !after.is_empty() {
            failures.push(format!(
                "{}: after the repair: {after:?} (exit {code})",
                case.id
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
