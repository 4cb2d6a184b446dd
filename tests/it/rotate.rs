//! `mailsetup rotate` through the real binary on a `--root` tree, against two in-process
//! authoritative servers on loopback: the switch waits for the new record at both, names the
//! one that lags, resumes the same rotation when run again, and `--finish` retires the old
//! key; `plan` shows a rotation (not an error) when the answers ask for another key.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::support::dns_server::zone_with;
use crate::support::lab::Lab;
use crate::support::{ANSWERS, Run, Tree};

const TWO_NS: &[(&str, &str)] = &[("ns1", "127.0.0.1"), ("ns2", "127.0.0.2")];
const ORG_KEYS: &str = "/etc/opendkim/keys/example.org";

/// A tree set up by `apply` with the fixture answers saved where the wizard saves them.
fn applied() -> Tree {
    let tree = Tree::debian12();
    tree.write(
        "/etc/mailsetup/answers.toml",
        &std::fs::read_to_string(ANSWERS).unwrap(),
    );
    tree.run(&["apply", "--yes"]).expect_code(0);
    tree
}

fn p_of(tree: &Tree, key: &str) -> String {
    mailsetup::keys::public_from_pem(&tree.read(key)).unwrap().p
}

/// A DKIM record line for `selector` with key `p`, split into 200-character strings.
fn dkim(selector: &str, p: &str) -> String {
    let value = format!("v=DKIM1; k=rsa; p={p}");
    let (a, b) = value.split_at(200);
    format!("{selector}._domainkey IN TXT \"{a}\" \"{b}\"")
}

/// Two servers for example.org, both with the old record; `new[i]`: server i also serves
/// this record.
async fn lab(old: &str, new: [Option<&str>; 2]) -> Lab {
    let zones: Vec<Vec<String>> = new
        .iter()
        .map(|extra| {
            let mut records = vec![old.to_string()];
            records.extend(extra.map(str::to_string));
            let refs: Vec<&str> = records.iter().map(String::as_str).collect();
            vec![zone_with("example.org", 1, TWO_NS, &refs)]
        })
        .collect();
    Lab::several(&zones).await
}

fn rotate(tree: &Tree, lab: &Lab, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec!["rotate".into(), "--domain".into(), "example.org".into()];
    args.extend(lab.args());
    args.extend(["--yes", "--interval", "1"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    tree.run(&refs)
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_waits_for_every_server_then_switches_and_finish_retires_the_old_key() {
    let tree = applied();
    let old_p = p_of(&tree, &format!("{ORG_KEYS}/mail.private"));
    let old = dkim("mail", &old_p);
    let tables_before = (
        tree.read("/etc/opendkim/KeyTable"),
        tree.read("/etc/opendkim/SigningTable"),
    );

    // nothing published yet: the key is made, the state kept, nothing switched
    let first = lab(&old, [None, None]).await;
    let run = rotate(&tree, &first, &["--selector", "s2", "--timeout", "1"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("s2._domainkey 3600 IN TXT"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ns2.example.org (127.0.0.2"),
        "{}",
        run.stdout
    );
    let new_p = p_of(&tree, &format!("{ORG_KEYS}/s2.private"));
    assert!(run.stdout.contains(&format!("p={new_p}")), "{}", run.stdout);
    let meta = std::fs::metadata(tree.path(&format!("{ORG_KEYS}/s2.private"))).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    assert!(tree.path("/var/lib/mailsetup/rotation.json").exists());
    drop(first);

    // published at ns1 only: ns2 is named, the old selector keeps signing; the same
    // rotation resumes (same key, no --selector needed)
    let new = dkim("s2", &new_p);
    let half = lab(&old, [Some(&new), None]).await;
    let run = rotate(&tree, &half, &["--timeout", "1"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("resuming the rotation of example.org from mail to s2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("ns2.example.org (127.0.0.2"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("ns1.example.org (127.0.0.1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("the old key keeps signing"),
        "{}",
        run.stdout
    );
    assert_eq!(p_of(&tree, &format!("{ORG_KEYS}/s2.private")), new_p);
    assert_eq!(
        (
            tree.read("/etc/opendkim/KeyTable"),
            tree.read("/etc/opendkim/SigningTable")
        ),
        tables_before
    );
    // `check` reports the rotation with the lagging server
    let mut args = vec![
        "check".to_string(),
        "--domain".into(),
        "example.org".into(),
        "--offline".into(),
    ];
    args.extend(half.args());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = tree.run(&refs);
    assert!(
        check.stdout.contains("dkim.rotation-pending"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("ns2.example.org (127.0.0.2"),
        "{}",
        check.stdout
    );
    drop(half);

    // published at both: the switch
    let both = lab(&old, [Some(&new), Some(&new)]).await;
    let run = rotate(&tree, &both, &["--timeout", "5"]);
    run.expect_code(0);
    let st = tree.read("/etc/opendkim/SigningTable");
    assert!(
        st.contains("*@example.org s2._domainkey.example.org\n"),
        "{st}"
    );
    assert!(
        st.contains("*@example.net mail._domainkey.example.net"),
        "{st}"
    );
    let kt = tree.read("/etc/opendkim/KeyTable");
    assert!(
        kt.contains(
            "s2._domainkey.example.org example.org:s2:/etc/opendkim/keys/example.org/s2.private"
        ),
        "{kt}"
    );
    assert!(
        kt.contains("mail._domainkey.example.org"),
        "the old line stays until --finish: {kt}"
    );
    assert!(tree.path(&format!("{ORG_KEYS}/mail.private")).exists());
    assert!(
        tree.read("/etc/mailsetup/answers.toml")
            .contains("selector = \"s2\"")
    );
    assert!(
        run.stdout
            .contains("Keep the record mail._domainkey.example.org published until"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("restart opendkim"), "{}", run.stdout);

    // check: an info until --finish, with the date the old record may go
    let mut args = vec![
        "check".to_string(),
        "--domain".into(),
        "example.org".into(),
        "--offline".into(),
    ];
    args.extend(both.args());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let check = tree.run(&refs);
    assert!(
        check.stdout.contains("info dkim.rotation-pending: OpenDKIM signs with s2; the old key of mail waits for `mailsetup rotate --finish`, and its record may be deleted after"),
        "{}",
        check.stdout
    );

    // finish: the old key retired, its KeyTable line gone, the record to delete printed
    let run = rotate(&tree, &both, &["--finish"]);
    run.expect_code(0);
    assert!(!tree.path(&format!("{ORG_KEYS}/mail.private")).exists());
    let kt = tree.read("/etc/opendkim/KeyTable");
    assert!(!kt.contains("mail._domainkey.example.org"), "{kt}");
    assert!(kt.contains("mail._domainkey.example.net"), "{kt}");
    let retired = std::fs::read_dir(tree.path("/var/lib/mailsetup/retired-keys"))
        .unwrap()
        .map(|e| e.unwrap().path().join("example.org/mail.private"))
        .find(|p| p.exists())
        .expect("the old key is under retired-keys");
    assert_eq!(
        mailsetup::keys::public_from_pem(&std::fs::read_to_string(retired).unwrap())
            .unwrap()
            .p,
        old_p
    );
    assert!(
        run.stdout.contains("delete the record mail._domainkey"),
        "{}",
        run.stdout
    );
    assert!(!tree.path("/var/lib/mailsetup/rotation.json").exists());
}

#[test]
fn finish_before_the_switch_changes_nothing() {
    let tree = applied();
    let run = tree.run(&["rotate", "--finish", "--yes"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("no rotation in progress") || run.stdout.is_empty(),
        "{}",
        run.stdout
    );
    assert!(tree.path(&format!("{ORG_KEYS}/mail.private")).exists());
}

#[test]
fn dry_run_writes_nothing() {
    let tree = applied();
    let before = tree.snapshot();
    let run = tree.run(&["rotate", "--domain", "example.org", "--dry-run"]);
    run.expect_code(1);
    assert!(run.stdout.contains("selector mail -> s"), "{}", run.stdout);
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn plan_with_a_changed_key_size_shows_a_rotation_not_an_error() {
    let tree = applied();
    let answers = tree
        .read("/etc/mailsetup/answers.toml")
        .replace("key_bits = 1024", "key_bits = 2048");
    tree.write("/etc/mailsetup/answers.toml", &answers);
    let run = tree.run(&["plan"]);
    run.expect_code(1);
    assert!(
        run.stdout
            .contains("rotate: run `mailsetup --root [ROOT] rotate --domain example.org`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1024 bits, but key_bits asks for 2048"),
        "{}",
        run.stdout
    );

    let answers = answers.replace("selector = \"mail\"", "selector = \"s9\"");
    tree.write("/etc/mailsetup/answers.toml", &answers);
    let run = tree.run(&["plan"]);
    run.expect_code(1);
    assert!(!run.stderr.contains("already maps"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("the answers' selector is s9, but OpenDKIM signs with mail"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("new key /etc"),
        "no key outside a rotation: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("SigningTable"), "{}", run.stdout);
}

#[test]
fn a_domain_not_signed_yet_is_refused_and_nothing_is_written() {
    let tree = Tree::debian12();
    tree.write(
        "/etc/mailsetup/answers.toml",
        &std::fs::read_to_string(ANSWERS).unwrap(),
    );
    let before = tree.snapshot();
    let run = tree.run(&["rotate", "--yes", "--timeout", "0"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("example.org is not signed yet"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("mailsetup --root [ROOT] apply"),
        "{}",
        run.stderr
    );
    assert_eq!(tree.snapshot(), before);
}

/// Feed each effect to the wizard's runtime and its message back to the wizard, until no
/// effect is left.
async fn drive(
    w: &mut mailsetup::wizard::Wizard,
    ctx: &std::sync::Arc<mailsetup::flows::Context>,
    mut effects: Vec<mailsetup::wizard::Effect>,
) {
    while let Some(e) = effects.pop() {
        if let Some(msg) = mailsetup::tui::effects::run(e, ctx.clone()).await {
            effects.extend(w.update(msg));
        }
    }
}

/// The wizard's `r` on the Keys step runs the same rotation in-process, each change shown
/// before it is made: a preview writes nothing; the `r` after it makes the key (the lagging
/// server named, the tables untouched); once both servers serve the record, the preview
/// says it would switch and the next `r` switches; the wizard's answers then name the new
/// selector.
#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_rotates_showing_each_change_first() {
    use mailsetup::wizard::{Effect, Key, Msg, Options, Step, Wizard};
    let tree = applied();
    let old_p = p_of(&tree, &format!("{ORG_KEYS}/mail.private"));
    let old = dkim("mail", &old_p);
    let lab_none = lab(&old, [None, None]).await;
    let mut settings =
        mailsetup::answers::parse(&tree.read("/etc/mailsetup/answers.toml")).unwrap();
    settings.domains.retain(|d| d.as_str() == "example.org");
    let invocation = mailsetup::invocation::Invocation {
        root: Some(tree.root().to_path_buf()),
        answers: None,
        nameserver: Some(format!("127.0.0.1:{}", lab_none.port())),
        authoritative_port: Some(lab_none.port()),
    };
    let ctx = std::sync::Arc::new(mailsetup::flows::Context {
        root: mailsetup::host::system::Root::new(tree.root()),
        dns: lab_none.options(),
        session: None,
        demo: None,
        rotate: Some(mailsetup::commands::rotate_for_wizard),
    });
    let (mut w, _) = Wizard::new(Options {
        answers: Some(settings),
        invocation,
        ..Options::default()
    });
    let effects = w.goto(Step::Keys);
    drive(&mut w, &ctx, effects).await;
    assert!(
        w.rotation_offered(),
        "the keys exist: {:?}",
        w.plans.get(&Step::Keys)
    );

    // the first r previews: the new key and its record, nothing written
    let before = tree.snapshot();
    let effects = w.update(Msg::Key(Key::Char('r')));
    assert!(
        matches!(&effects[..], [Effect::Rotate(r)] if r.preview),
        "{effects:?}"
    );
    drive(&mut w, &ctx, effects).await;
    let shown = w.rotation.clone().unwrap();
    assert_eq!(shown.result, Ok(1), "{}", shown.text);
    assert!(shown.text.contains("selector mail -> s"), "{}", shown.text);
    assert_eq!(tree.snapshot(), before, "a preview writes nothing");

    // the r after it makes the key and names the server that lags
    let effects = w.update(Msg::Key(Key::Char('r')));
    assert!(
        matches!(&effects[..], [Effect::Rotate(r)] if !r.preview),
        "{effects:?}"
    );
    drive(&mut w, &ctx, effects).await;
    let started = w.rotation.clone().unwrap();
    assert_eq!(started.result, Ok(1), "{}", started.text);
    assert!(
        started.text.contains("ns2.example.org (127.0.0.2"),
        "{}",
        started.text
    );
    let state = tree.read("/var/lib/mailsetup/rotation.json");
    let new_selector = state
        .split("\"new_selector\":")
        .nth(1)
        .and_then(|s| s.split('"').nth(1))
        .unwrap()
        .to_string();
    let new_p = p_of(&tree, &format!("{ORG_KEYS}/{new_selector}.private"));
    assert!(
        started.text.contains(&format!("p={new_p}")),
        "{}",
        started.text
    );
    assert_eq!(w.settings.as_ref().unwrap().selector.as_str(), "mail");
    drop(lab_none);

    // both servers serve it: r previews the switch, the next r switches
    let new = dkim(&new_selector, &new_p);
    let both = lab(&old, [Some(&new), Some(&new)]).await;
    w.invocation.nameserver = Some(format!("127.0.0.1:{}", both.port()));
    w.invocation.authoritative_port = Some(both.port());
    let tables = tree.read("/etc/opendkim/SigningTable");
    let effects = w.update(Msg::Key(Key::Char('r')));
    assert!(
        matches!(&effects[..], [Effect::Rotate(r)] if r.preview),
        "{effects:?}"
    );
    drive(&mut w, &ctx, effects).await;
    let preview = w.rotation.clone().unwrap();
    assert!(preview.text.contains("would switch"), "{}", preview.text);
    assert_eq!(tree.read("/etc/opendkim/SigningTable"), tables);
    let effects = w.update(Msg::Key(Key::Char('r')));
    drive(&mut w, &ctx, effects).await;
    let switched = w.rotation.clone().unwrap();
    assert_eq!(switched.result, Ok(0), "{}", switched.text);
    assert!(
        tree.read("/etc/opendkim/SigningTable")
            .contains(&format!("{new_selector}._domainkey.example.org")),
        "{}",
        tree.read("/etc/opendkim/SigningTable")
    );
    assert_eq!(
        w.settings.as_ref().unwrap().selector.as_str(),
        new_selector,
        "the wizard's answers name the selector that signs now"
    );
}
