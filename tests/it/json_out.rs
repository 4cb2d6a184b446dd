//! Issue 13 item 6: `plan --json` and `apply --json` for config management (`changed`, each
//! change with its diff, the services), and `records --json` as `--format json`. stdout is
//! the JSON alone; every line for people goes to stderr.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use serde_json::Value;

use crate::support::{ANSWERS, Run, Tree};

fn parse(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

#[test]
fn plan_and_apply_report_changed_as_data() {
    let tree = Tree::debian12();
    let plan = tree.run(&["plan", "--json", "--answers", ANSWERS]);
    plan.expect_code(1);
    let p = parse(&plan);
    assert_eq!(p["changed"], true);
    let files = p["files"].as_array().unwrap();
    let main_cf = files
        .iter()
        .find(|f| f["path"] == "/etc/postfix/main.cf")
        .unwrap();
    assert_eq!(main_cf["new"], false);
    assert_eq!(main_cf["owner"], Value::Null);
    let diff = main_cf["diff"].as_str().unwrap();
    assert!(
        diff.starts_with("--- /etc/postfix/main.cf\n+++ /etc/postfix/main.cf\n@@ "),
        "{diff}"
    );
    assert!(
        diff.contains("\n+myhostname = mail.example.org\n"),
        "{diff}"
    );
    let table = files
        .iter()
        .find(|f| f["path"] == "/etc/opendkim/KeyTable")
        .unwrap();
    assert_eq!(table["new"], true);
    assert!(
        table["owner"].is_string() && table["mode"].is_string(),
        "{table}"
    );
    assert!(
        table["diff"]
            .as_str()
            .unwrap()
            .starts_with("--- /dev/null\n")
    );
    assert_eq!(p["keys"].as_array().unwrap().len(), 2, "{p}");
    assert_eq!(p["groups"][0]["user"], "postfix");
    let services: Vec<&str> = p["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert!(
        services.contains(&"opendkim") && services.contains(&"postfix"),
        "{p}"
    );

    let first = tree.run(&["apply", "--json", "--yes", "--answers", ANSWERS]);
    first.expect_code(0);
    let a = parse(&first);
    assert_eq!(a["changed"], true);
    assert_eq!(a["files"], p["files"], "apply applied what plan showed");
    assert!(
        a["run_record"]
            .as_str()
            .unwrap()
            .starts_with("/var/lib/mailsetup/runs/")
    );
    assert!(
        first.stderr.contains("applied 6 step(s)"),
        "people's text on stderr: {}",
        first.stderr
    );

    let second = tree.run(&["apply", "--json", "--yes", "--answers", ANSWERS]);
    second.expect_code(0);
    let a2 = parse(&second);
    assert_eq!(a2["changed"], false, "{a2}");
    assert_eq!(a2["files"], serde_json::json!([]));

    let after = tree.run(&["plan", "--json", "--answers", ANSWERS]);
    after.expect_code(0);
    assert_eq!(parse(&after)["changed"], false);
}

#[test]
fn apply_json_needs_yes_and_writes_nothing_without_it() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let run = tree.run(&["apply", "--json", "--answers", ANSWERS]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("apply --json") && run.stderr.contains("--yes"),
        "{}",
        run.stderr
    );
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn records_json_is_format_json() {
    let tree = Tree::debian12();
    let alias = tree.run(&["records", "--json", "--answers", ANSWERS]);
    alias.expect_code(0);
    let format = tree.run(&["records", "--format", "json", "--answers", ANSWERS]);
    assert_eq!(alias.stdout, format.stdout);
    parse(&alias);
    tree.run(&[
        "records",
        "--json",
        "--format",
        "zone",
        "--answers",
        ANSWERS,
    ])
    .expect_code(2);
}
