//! The sender-requirements verdict through the real binary: `mailsetup check` on a `--root`
//! tree `apply` set up, against the in-process DNS lab, prints one line per receiver rule set
//! after the report and carries them in `--json` as `requirements` (the other fields as they
//! were); a missing DKIM record makes the bulk sets not met with its id, the exit code
//! unchanged; the remote check (`check DOMAIN`) judges what DNS shows.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use serde_json::Value;

use crate::check_cli::{answers_2048, applied, command};
use crate::support::lab::Lab;
use crate::support::scenario::{blocklists, forward};
use crate::support::{Run, Tree};

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// The rule set of `receiver` for `senders` in a `check --json` output.
fn set<'a>(v: &'a Value, receiver: &str, senders: &str) -> &'a Value {
    v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["receiver"] == receiver && s["senders"] == senders)
        .unwrap_or_else(|| panic!("no {receiver} {senders} in {v}"))
}

/// The rule `rule` of a rule set.
fn rule<'a>(set: &'a Value, rule: &str) -> &'a Value {
    set["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no rule {rule} in {set}"))
}

/// The line of the human output that starts with `prefix`.
fn line_of<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_up_tree_meets_the_rules_for_all_senders_and_says_why_bulk_is_not_verifiable() {
    let (tree, lab) = applied(true).await;
    let run = command(&tree, &lab, "check", &answers_2048(&tree), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // after the report's summary, before the deliverability step
    assert!(
        run.stdout.contains(
            "checks passed, no problems.\n\nSender requirements (Gmail, Yahoo; February 2024):\n"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n\nNext:\nTest deliverability"));
    assert_eq!(
        line_of(&run.stdout, "  yahoo (all senders):"),
        "  yahoo (all senders): met"
    );
    // beneath a --root other than /, whether the daemons run and sign is not looked at
    assert_eq!(
        line_of(&run.stdout, "  yahoo (bulk senders):"),
        "  yahoo (bulk senders): not verifiable — spf-and-dkim: whether Postfix and OpenDKIM \
         run and sign is checked with --root / only"
    );
    assert!(
        run.stdout
            .contains("  not verifiable by check, yours to keep: rfc5322, spam-rate, unsubscribe"),
        "{}",
        run.stdout
    );

    let run = command(&tree, &lab, "check", &answers_2048(&tree), &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("\"verdict\":\"pass\",\"requirements\":[{\"receiver\":\"gmail\""),
        "requirements comes after the fields scripts match on: {}",
        run.stdout
    );
    let v = json(&run);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["checked", "findings", "requirements", "verdict"]);
    let gmail = set(&v, "gmail", "all");
    for r in ["spf-or-dkim", "ptr", "tls"] {
        assert_eq!(rule(gmail, r)["status"], "met", "{r}: {gmail}");
    }
    assert_eq!(rule(gmail, "rfc5322")["about"], "messages");
    assert_eq!(rule(gmail, "rfc5322")["status"], "not-verifiable");
    let bulk = set(&v, "gmail", "bulk");
    assert_eq!(rule(bulk, "dmarc")["status"], "met");
    assert_eq!(rule(bulk, "spf-and-dkim")["status"], "not-verifiable");
    assert_eq!(bulk["status"], "not-verifiable");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_dkim_record_blocks_the_bulk_rules_with_its_id() {
    // example.net publishes no DKIM record
    let (tree, lab) = applied(false).await;
    let run = command(&tree, &lab, "check", &answers_2048(&tree), &[]);
    assert_eq!(run.code, 1, "exit code as before: {}", run.stdout);
    assert_eq!(
        line_of(&run.stdout, "  yahoo (all senders):"),
        "  yahoo (all senders): met",
        "SPF passes for example.net"
    );
    assert_eq!(
        line_of(&run.stdout, "  yahoo (bulk senders):"),
        "  yahoo (bulk senders): not met — spf-and-dkim: dkim.missing (example.net)"
    );
    let v = json(&command(
        &tree,
        &lab,
        "check",
        &answers_2048(&tree),
        &["--json"],
    ));
    assert_eq!(v["verdict"], "fail");
    let bulk = set(&v, "gmail", "bulk");
    assert_eq!(bulk["status"], "not-met");
    assert_eq!(
        rule(bulk, "spf-and-dkim")["blocking"],
        serde_json::json!([{"id": "dkim.missing", "subject": "example.net"}])
    );
    assert_eq!(rule(bulk, "alignment")["status"], "met", "SPF is aligned");
    // -q: no verdict lines (they add nothing to the exit code)
    let quiet = command(&tree, &lab, "check", &answers_2048(&tree), &["-q"]);
    assert_eq!(quiet.code, 1);
    assert!(
        !quiet.stdout.contains("Sender requirements"),
        "{}",
        quiet.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_remote_check_gives_the_verdict_for_what_dns_shows() {
    let mut zones = vec![forward(&[])];
    zones.extend(blocklists());
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let tree = Tree::debian12();
    let mut args = lab.args();
    args.extend(["check", "example.org", "--selector", "mail"].map(String::from));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = tree.run(&refs);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        line_of(&run.stdout, "  yahoo (all senders):").starts_with(
            "  yahoo (all senders): not verifiable — ptr: the sending addresses are not in DNS"
        ),
        "{}",
        run.stdout
    );
    let mut json_args = refs.clone();
    json_args.push("--json");
    let v = json(&tree.run(&json_args));
    let bulk = set(&v, "yahoo", "bulk");
    for r in ["spf-and-dkim", "dmarc", "alignment"] {
        assert_eq!(rule(bulk, r)["status"], "met", "{r}: {bulk}");
    }
    assert_eq!(rule(bulk, "ptr")["status"], "not-verifiable");
    assert_eq!(
        rule(set(&v, "gmail", "all"), "tls")["status"],
        "not-verifiable"
    );
}
