//! `mailsetup selftest --via-postfix`: messages as Postfix delivered them (signed by the real
//! OpenDKIM in the lab, `tests/fixtures/lab/`) are read back from an mbox and verified
//! against the key an in-process DNS server publishes; each way a message can fail is
//! judged with its id. Beneath a test root nothing is sent: the command says what it would
//! send and where it would read it back. (Sending through the real Postfix is the e2e's.)

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use mailsetup::check::{JobResult, Severity};
use mailsetup::dns::Authority;
use mailsetup::keys::PrivateKey;
use mailsetup::selftest::mailbox::{self, Mailbox};
use mailsetup::selftest::via_postfix::{self, Sent};
use mailsetup::settings::Settings;
use mailsetup::values::{Domain, KeyBits};

use crate::support::dns_server::zone;
use crate::support::lab::Lab;
use crate::support::{Tree, fixture_text};

const MBOX: &str = fixture_text!("lab/signed-messages.mbox");
const ZONE: &str = fixture_text!("lab/zone-example.test");
const SMTP_ID: &str = "<20261121185019.011970@vm>";
const SENDMAIL_ID: &str = "<20261121185019.0FE6EB4AB9@mail.example.test>";

/// The DKIM key record of the lab's zone, its quoted strings joined.
fn published_key() -> String {
    let start = ZONE.find("mail._domainkey").unwrap();
    let rest = &ZONE[start..ZONE[start..].find(')').unwrap() + start];
    rest.split('"').skip(1).step_by(2).collect()
}

/// DNS publishing `record` as example.test's DKIM key.
fn lab(rt: &tokio::runtime::Runtime, record: &str) -> Lab {
    let (a, b) = record.split_at(200);
    let dkim = format!("mail._domainkey IN TXT \"{a}\" \"{b}\"");
    rt.block_on(Lab::start(&[&zone("example.test", &[&dkim])]))
}

fn settings() -> Settings {
    Settings::new(
        Domain::parse("mail.example.test").unwrap(),
        vec![Domain::parse("example.test").unwrap()],
    )
}

/// The two probes for example.test, standing for the lab's two delivered messages.
fn sent(delivered: [Option<String>; 2]) -> Vec<Sent> {
    let mut probes = via_postfix::probes(&settings(), "root@localhost", "T", "-");
    probes[0].message_id = SMTP_ID.into();
    probes[1].message_id = SENDMAIL_ID.into();
    probes
        .into_iter()
        .zip(delivered)
        .map(|(probe, delivered)| Sent {
            probe,
            answer: Ok("250 2.0.0 Ok: queued as 077D2B4AB8".into()),
            delivered,
        })
        .collect()
}

fn judge(
    rt: &tokio::runtime::Runtime,
    lab: &Lab,
    sent: &[Sent],
    mailbox: Result<Mailbox, mailbox::NotHere>,
) -> Vec<JobResult> {
    let auth = Authority::new(lab.options()).unwrap();
    let settings = settings();
    rt.block_on(via_postfix::judge(
        sent,
        &mailbox,
        Duration::from_secs(30),
        &settings,
        &auth,
        &Default::default(),
    ))
}

fn ids(results: &[JobResult]) -> Vec<(String, &'static str)> {
    results
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| (f.subject.clone(), f.id)))
        .collect()
}

#[test]
fn delivered_messages_are_read_back_from_the_mbox_and_verified_against_the_published_key() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let spool = tree.path().join("root");
    std::fs::write(&spool, MBOX).unwrap();
    let mb = Mailbox::Mbox(spool);
    let mut sent = sent([None, None]);
    let from_the_start = mailbox::Mark::default();
    rt.block_on(via_postfix::collect(
        &mut sent,
        &mb,
        &from_the_start,
        Duration::ZERO,
    ))
    .unwrap();
    assert!(sent.iter().all(|s| s.delivered.is_some()), "both found");

    let published = lab(&rt, &published_key());
    let results = judge(&rt, &published, &sent, Ok(mb.clone()));
    assert_eq!(
        ids(&results),
        [
            ("example.test by SMTP".to_string(), "selftest.signed"),
            ("example.test by sendmail".to_string(), "selftest.signed")
        ]
    );
    let message = &results[0].findings[0].message;
    assert!(
        message.starts_with("d=example.test, s=mail, rsa-sha256: verified"),
        "{message}"
    );

    // another key published: the classic "published key is not the key in use"
    let other = PrivateKey::generate(KeyBits::B1024).unwrap();
    let stale = lab(&rt, &format!("v=DKIM1; k=rsa; p={}", other.public().p));
    let results = judge(&rt, &stale, &sent, Ok(mb.clone()));
    assert_eq!(results[0].findings[0].id, "selftest.dkim-fail-published");

    // delivered without a signature (the milter was not in the way), and not delivered
    let unsigned: String = sent[0]
        .delivered
        .as_ref()
        .unwrap()
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("DKIM-Signature") && !l.starts_with('\t') && !l.starts_with(' '))
        .collect();
    let broken = self::sent([Some(unsigned), None]);
    let results = judge(&rt, &published, &broken, Ok(mb.clone()));
    assert_eq!(
        ids(&results),
        [
            ("example.test by SMTP".to_string(), "selftest.unsigned"),
            (
                "example.test by sendmail".to_string(),
                "selftest.not-delivered"
            )
        ]
    );
    let fix = results[1].findings[0].fix.as_deref().unwrap();
    assert!(
        fix.contains("postqueue -p") && fix.contains(SENDMAIL_ID),
        "{fix}"
    );

    // refused by Postfix; and an address elsewhere: what to look for at the receiver
    let mut refused = self::sent([None, None]);
    refused[0].answer =
        Err("the SMTP server at 127.0.0.1:25 refused it: Connection refused".into());
    let results = judge(
        &rt,
        &published,
        &refused,
        Err(mailbox::NotHere::Elsewhere("not local".into())),
    );
    assert_eq!(results[0].findings[0].id, "selftest.not-sent");
    assert!(
        results[0].findings[0]
            .message
            .contains("Connection refused")
    );
    assert_eq!(results[1].findings[0].id, "selftest.sent");
    let fix = results[1].findings[0].fix.as_deref().unwrap();
    assert!(
        fix.contains("dkim=pass header.d=example.test (header.s=mail)"),
        "{fix}"
    );
    assert_eq!(results[1].findings[0].severity, Severity::Info);
    // delivered on this server, but where we cannot look (procmail, LMTP, …): not proven
    let unreadable = mailbox::NotHere::Unreadable("procmail".into());
    let results = judge(&rt, &published, &refused, Err(unreadable));
    assert_eq!(results[1].findings[0].id, "selftest.sent");
    assert_eq!(results[1].findings[0].severity, Severity::Warning);
}

#[test]
fn only_a_signature_by_the_key_in_question_counts() {
    // DNS publishes the key that signed the lab's message (s=mail, d=example.test); verifying
    // for another selector must not borrow that signature's pass
    let rt = tokio::runtime::Runtime::new().unwrap();
    let published = lab(&rt, &published_key());
    let auth = Authority::new(published.options()).unwrap();
    let messages = mailbox::mbox_messages(MBOX);
    let text = mailbox::find(&messages, SMTP_ID).unwrap();
    let dns = auth.first_hop();
    let other = PrivateKey::generate(KeyBits::B1024).unwrap();
    let record = format!("v=DKIM1; k=rsa; p={}", other.public().p);
    let verdict =
        rt.block_on(dns.dkim_verify(text.as_bytes(), "s2._domainkey.example.test", &record));
    assert_eq!(
        verdict,
        Err("there is no DKIM-Signature for s2._domainkey.example.test".into())
    );
    let verdict = rt.block_on(dns.dkim_verify(
        text.as_bytes(),
        "mail._domainkey.example.test",
        &published_key(),
    ));
    assert_eq!(
        verdict,
        Ok(("example.test".into(), "mail".into(), "rsa-sha256".into()))
    );
}

#[test]
fn messages_are_found_in_a_maildir_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut messages = mailbox::mbox_messages(MBOX);
    std::fs::create_dir_all(dir.path().join("new")).unwrap();
    std::fs::create_dir_all(dir.path().join("cur")).unwrap();
    std::fs::write(dir.path().join("new/1.host"), messages.remove(0)).unwrap();
    std::fs::write(dir.path().join("cur/2.host:2,S"), messages.remove(0)).unwrap();
    std::fs::create_dir(dir.path().join("new/not-a-message")).unwrap();
    let start = mailbox::Mark::default();
    let all = mailbox::read_since(&Mailbox::Maildir(dir.path().into()), &start).unwrap();
    assert_eq!(all.len(), 2, "files only");
    assert!(mailbox::find(&all, SMTP_ID).is_some());
    assert!(mailbox::find(&all, SENDMAIL_ID).is_some());
    let absent = Mailbox::Maildir(dir.path().join("absent"));
    let none = mailbox::read_since(&absent, &start).unwrap();
    assert!(none.is_empty(), "a Maildir not made yet holds nothing");
}

#[test]
fn beneath_a_test_root_nothing_is_sent_and_the_mailbox_is_named() {
    let tree = Tree::debian12();
    tree.write("/etc/aliases", "postmaster: root\n");
    let answers = tree.root().join("answers.toml");
    std::fs::write(
        &answers,
        "hostname = \"mail.example.org\"\nipv4 = \"192.0.2.10\"\nallow_private_ip = true\ndomains = [\"example.org\"]\n",
    )
    .unwrap();
    let answers = answers.display().to_string();
    let before = tree.snapshot();
    // selftest --via-postfix --to TO, with `first` before the subcommand
    let run_via = |first: &[&str], to: &str, last: &[&str]| {
        let mut args = first.to_vec();
        args.extend([
            "selftest",
            "--answers",
            &answers,
            "--via-postfix",
            "--to",
            to,
        ]);
        args.extend(last);
        tree.run(&args)
    };
    let via = |to: &str| {
        let run = run_via(&[], to, &[]);
        run.expect_code(1);
        run.stdout
    };
    let out = via("postmaster@localhost");
    for line in [
        "would send <selftest.",
        "(example.org by SMTP)",
        "(example.org by sendmail)",
        "would read them back from [ROOT]/var/mail/root", // Run shows the root so
        "nothing sent",
    ] {
        assert!(out.contains(line), "{line:?} not in {out}");
    }
    let run = run_via(&["--dry-run"], "root@localhost", &[]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("(nothing sent: --dry-run)"),
        "{}",
        run.stdout
    );
    let out = via("someone@example.com");
    let elsewhere =
        "someone@example.com is not a local mailbox: example.com is not in mydestination";
    assert!(out.contains(elsewhere), "{out}");
    assert_eq!(tree.snapshot(), before, "nothing written beneath the root");

    let run = run_via(&[], "no address", &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("--to \"no address\""), "{}", run.stderr);
    let run = run_via(&[], "root@localhost", &["--wait", "3601"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--wait"), "{}", run.stderr);
    let run = tree.run(&["selftest", "--answers", &answers, "--to", "root@localhost"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--via-postfix"), "{}", run.stderr);
}
