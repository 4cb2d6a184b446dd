//! The non-interactive front end on a temporary Debian 12 tree: plan → apply → plan again →
//! rollback, with dry-run, bad answers, locks and unsafe targets.

mod support;

use std::fs;
use std::os::unix::fs::MetadataExt;

use support::{ANSWERS, Tree};

#[test]
fn plan_shows_diffs_writes_nothing_and_exits_1() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let run = tree.run(&["plan", "--answers", ANSWERS]);
    run.expect_code(1);
    assert_eq!(tree.snapshot(), before, "plan must not write anything");
    insta::assert_snapshot!("plan_debian12", run.stdout);
}

#[test]
fn apply_dry_run_is_plan() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let dry = tree.run(&["apply", "--dry-run", "--answers", ANSWERS]);
    dry.expect_code(1);
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    assert_eq!(dry.stdout, plan.stdout);
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn apply_then_plan_is_empty_and_a_second_apply_writes_nothing() {
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let main_cf = tree.read("/etc/postfix/main.cf");
    assert!(
        main_cf.contains("\nsmtpd_milters = local:opendkim/opendkim.sock\n"),
        "{main_cf}"
    );
    assert!(main_cf.contains("\nnon_smtpd_milters = local:opendkim/opendkim.sock\n"));
    assert!(main_cf.contains("\ninet_protocols = ipv4\n"));
    assert!(main_cf.contains("\nmyhostname = mail.example.org\n"));
    assert!(
        main_cf.contains("\nmilter_protocol = 6\n")
            && main_cf.contains("\nmilter_default_action = accept\n")
    );
    let conf = tree.read("/etc/opendkim.conf");
    assert!(
        conf.contains("\nSocket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock\n"),
        "{conf}"
    );
    assert!(
        tree.read("/etc/default/opendkim")
            .contains("\nSOCKET=local:/var/spool/postfix/opendkim/opendkim.sock\n")
    );
    let kt = tree.read("/etc/opendkim/KeyTable");
    assert!(kt.contains(
        "mail._domainkey.example.org example.org:mail:/etc/opendkim/keys/example.org/mail.private\n"
    ));
    assert!(kt.contains(
        "mail._domainkey.example.net example.net:mail:/etc/opendkim/keys/example.net/mail.private\n"
    ));
    let st = tree.read("/etc/opendkim/SigningTable");
    assert!(
        st.contains("*@example.org mail._domainkey.example.org\n")
            && st.contains("*@example.net mail._domainkey.example.net\n")
    );
    assert!(
        tree.read("/etc/group").contains("opendkim:x:107:postfix\n"),
        "postfix joined group opendkim in the tree"
    );

    for d in ["example.org", "example.net"] {
        let key = tree.path(&format!("/etc/opendkim/keys/{d}/mail.private"));
        let md = fs::metadata(&key).expect("key exists");
        assert_eq!(md.mode() & 0o7777, 0o600, "key mode");
        if nix::unistd::geteuid().is_root() {
            assert_eq!(
                (md.uid(), md.gid()),
                (103, 107),
                "key owned by the tree's opendkim user"
            );
        }
        let txt = tree.read(&format!("/etc/opendkim/keys/{d}/mail.txt"));
        assert!(
            txt.starts_with("mail._domainkey\tIN\tTXT\t\"v=DKIM1; k=rsa; p=MIGf"),
            "{txt}"
        );
        let dir = fs::metadata(tree.path(&format!("/etc/opendkim/keys/{d}"))).expect("dir");
        assert_eq!(dir.mode() & 0o7777, 0o750);
    }
    let sock = fs::metadata(tree.path("/var/spool/postfix/opendkim")).expect("socket dir");
    assert_eq!(sock.mode() & 0o7777, 0o750);

    let after = tree.snapshot();
    let again = tree.run(&["plan", "--answers", ANSWERS]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    assert_eq!(tree.snapshot(), after, "a second apply writes nothing");
}

#[test]
fn rollback_restores_the_tree_byte_identically() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let run = tree.run(&["rollback", "--yes"]);
    run.expect_code(0);
    // What may stay: mailsetup's own state and backups of earlier runs, nothing else.
    let after = tree.snapshot_without_state();
    assert_eq!(after, before, "rollback output:\n{}", run.stdout);
    let again = tree.run(&["rollback", "--yes"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to roll back"),
        "{}",
        again.stdout
    );

    // The restored files are single files again: a new apply and its rollback work too.
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    tree.run(&["rollback", "--yes"]).expect_code(0);
    let third = tree.snapshot_without_state();
    assert_eq!(third, before);
}

#[test]
fn rollback_refuses_files_edited_by_hand_unless_forced() {
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let edited = format!("{}# my edit\n", tree.read("/etc/postfix/main.cf"));
    tree.write("/etc/postfix/main.cf", &edited);
    let run = tree.run(&["rollback", "--yes"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("/etc/postfix/main.cf") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(tree.read("/etc/postfix/main.cf"), edited);
    tree.run(&["rollback", "--yes", "--force"]).expect_code(0);
    assert_eq!(
        tree.read("/etc/postfix/main.cf"),
        fs::read_to_string(format!("{}/etc/postfix/main.cf", support::FIXTURE)).expect("fixture")
    );
}

#[test]
fn apply_without_yes_and_without_a_terminal_refuses() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let run = tree.run(&["apply", "--answers", ANSWERS]);
    run.expect_code(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn existing_key_is_reused_never_overwritten() {
    let tree = Tree::debian12();
    let key =
        mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).expect("key");
    tree.write("/etc/opendkim/keys/example.org/mail.private", key.pem());
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    assert_eq!(
        tree.read("/etc/opendkim/keys/example.org/mail.private"),
        key.pem()
    );
    let mode = fs::metadata(tree.path("/etc/opendkim/keys/example.org/mail.private"))
        .expect("md")
        .mode()
        & 0o7777;
    assert_eq!(
        mode, 0o600,
        "an existing key's mode is corrected to what OpenDKIM accepts"
    );
    assert_published(&tree, &key);
}

#[test]
fn a_symlinked_main_cf_is_refused_and_nothing_is_written() {
    let tree = Tree::debian12();
    let real = tree.path("/etc/postfix/main.cf.real");
    fs::rename(tree.path("/etc/postfix/main.cf"), &real).expect("mv");
    std::os::unix::fs::symlink("main.cf.real", tree.path("/etc/postfix/main.cf")).expect("symlink");
    let before = tree.snapshot();
    let run = tree.run(&["apply", "--yes", "--answers", ANSWERS]);
    run.expect_code(2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(tree.snapshot(), before);
}

#[test]
fn a_second_run_is_refused_while_the_lock_is_held() {
    let tree = Tree::debian12();
    let fence = mailsetup::apply::fence::Fence::new(&mailsetup::system::Root::new(tree.root()))
        .expect("fence");
    let _held =
        mailsetup::apply::lock::Lock::take(&fence, std::time::SystemTime::now()).expect("lock");
    let run = tree.run(&["apply", "--yes", "--answers", ANSWERS]);
    run.expect_code(2);
    assert!(run.stderr.contains("holds the lock"), "{}", run.stderr);
    assert!(!tree.path("/etc/opendkim/KeyTable").exists());
}

#[test]
fn postconf_reads_the_values_we_wrote() {
    if !have_postconf() {
        return;
    }
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let dir = tree.path("/etc/postfix");
    for (name, want) in [
        ("smtpd_milters", "local:opendkim/opendkim.sock"),
        ("non_smtpd_milters", "local:opendkim/opendkim.sock"),
        ("inet_protocols", "ipv4"),
        ("milter_protocol", "6"),
        ("milter_default_action", "accept"),
        ("myhostname", "mail.example.org"),
    ] {
        let out = std::process::Command::new("/usr/sbin/postconf")
            .arg("-c")
            .arg(&dir)
            .args(["-h", name])
            .output()
            .expect("postconf");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{name}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("warning"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The library's apply of a whole plan, as `mailsetup apply --yes` does it.
fn lib_apply(
    root: &mailsetup::system::Root,
    plan: &mailsetup::plan::Plan,
    accounts: &mailsetup::accounts::Accounts,
    now: std::time::SystemTime,
) -> mailsetup::error::Result<mailsetup::apply::Receipt> {
    let options = mailsetup::apply::Options {
        now,
        ..mailsetup::apply::Options::now("apply")
    };
    mailsetup::apply::apply(root, plan, accounts, &options)
}

fn library_plan(
    tree: &Tree,
) -> (
    mailsetup::system::Root,
    mailsetup::plan::Plan,
    mailsetup::plan::Current,
) {
    let settings =
        mailsetup::answers::parse(&fs::read_to_string(ANSWERS).expect("answers")).expect("valid");
    let root = mailsetup::system::Root::new(tree.root());
    let current = mailsetup::plan::Current::read(&root, &settings).expect("read");
    let plan = mailsetup::plan::build(&settings, &current).expect("plan");
    (root, plan, current)
}

#[test]
fn a_file_changed_after_the_plan_is_refused_and_nothing_is_written() {
    let tree = Tree::debian12();
    let (root, plan, current) = library_plan(&tree);
    let edited = format!("{}# edited meanwhile\n", tree.read("/etc/opendkim.conf"));
    tree.write("/etc/opendkim.conf", &edited);
    let before = tree.snapshot();
    let err = lib_apply(
        &root,
        &plan,
        &current.accounts,
        std::time::SystemTime::now(),
    );
    assert!(
        matches!(err, Err(mailsetup::error::Error::ChangedSincePlan { .. })),
        "{err:?}"
    );
    assert_eq!(tree.snapshot(), before, "nothing written");
}

#[test]
fn a_failure_in_the_middle_of_apply_undoes_what_was_done() {
    let tree = Tree::debian12();
    let (root, mut plan, current) = library_plan(&tree);
    let before = tree.snapshot();
    // Files, directories and keys are written first; this permission change then fails.
    plan.perms.push(mailsetup::plan::PermChange {
        path: "/etc/opendkim/no-such-file".into(),
        owner: mailsetup::plan::Owner::OPENDKIM,
        mode: 0o600,
        why: "test".into(),
    });
    let err = lib_apply(
        &root,
        &plan,
        &current.accounts,
        std::time::SystemTime::now(),
    );
    assert!(err.is_err(), "the apply must fail");
    let after = tree.snapshot_without_state();
    assert_eq!(after, before, "every file, key and directory undone");
    let fence = mailsetup::apply::fence::Fence::new(&root).expect("fence");
    let rec = mailsetup::apply::RunRecord::last_applied(&fence).expect("records");
    assert!(rec.is_none(), "the failed run is not recorded as applied");
}

#[test]
fn a_staged_main_cf_that_postconf_warns_about_is_refused_and_nothing_is_written() {
    if !have_postconf() {
        return;
    }
    let tree = Tree::debian12();
    let (root, mut plan, current) = library_plan(&tree);
    let main_cf = plan
        .files
        .iter_mut()
        .find(|f| f.path == std::path::Path::new("/etc/postfix/main.cf"))
        .expect("main.cf change");
    main_cf.after.push_str("mailsetup_typo_parameter = 1\n");
    let before = tree.snapshot();
    let err = lib_apply(
        &root,
        &plan,
        &current.accounts,
        std::time::SystemTime::now(),
    );
    match err {
        Err(mailsetup::error::Error::Validation { output, .. }) => {
            assert!(output.contains("mailsetup_typo_parameter"), "{output}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    let after = tree.snapshot_without_state();
    assert_eq!(after, before, "nothing written");
}

#[test]
fn a_key_the_operator_already_listed_in_the_key_table_is_adopted() {
    let tree = Tree::debian12();
    let key =
        mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B1024).expect("key");
    tree.write("/etc/dkimkeys/example.org.private", key.pem());
    let table =
        "# mine\nmail._domainkey.example.org example.org:mail:/etc/dkimkeys/example.org.private\n";
    tree.write("/etc/opendkim/KeyTable", table);
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    assert!(
        !tree
            .path("/etc/opendkim/keys/example.org/mail.private")
            .exists(),
        "no second key is made for a domain the KeyTable already has"
    );
    let kt = tree.read("/etc/opendkim/KeyTable");
    assert!(
        kt.starts_with(table),
        "operator lines kept as they were:\n{kt}"
    );
    assert_eq!(
        kt.matches("mail._domainkey.example.org ").count(),
        1,
        "{kt}"
    );
    assert_published(&tree, &key);
}

#[test]
fn a_conflicting_signing_table_entry_stops_the_run_and_nothing_is_written() {
    let tree = Tree::debian12();
    tree.write(
        "/etc/opendkim/SigningTable",
        "*@example.org other._domainkey.example.org\n",
    );
    let before = tree.snapshot();
    let run = tree.run(&["apply", "--yes", "--answers", ANSWERS]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("SigningTable") && run.stderr.contains("other._domainkey.example.org"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "no diff for a plan that cannot be made"
    );
    assert_eq!(tree.snapshot(), before);
}

/// `records` publishes this key's `p=`.
fn assert_published(tree: &Tree, key: &mailsetup::keys::PrivateKey) {
    let json = tree.run(&["records", "--answers", ANSWERS, "--format", "json"]);
    json.expect_code(0);
    assert!(
        json.stdout.contains(&key.public().p),
        "records must publish the key on disk:\n{}",
        json.stdout
    );
}

/// Tests that ask the real `postconf` run where Postfix is installed (CI installs it).
fn have_postconf() -> bool {
    let there = std::path::Path::new("/usr/sbin/postconf").exists();
    if !there {
        eprintln!("skipped: postconf is not installed");
    }
    there
}

#[test]
fn applying_the_parts_one_by_one_ends_where_the_whole_plan_does() {
    use mailsetup::plan::{Current, Part, build_parts};
    let settings =
        mailsetup::answers::parse(&fs::read_to_string(ANSWERS).expect("answers")).expect("valid");
    let whole = Tree::debian12();
    let (root, plan, current) = library_plan(&whole);
    lib_apply(
        &root,
        &plan,
        &current.accounts,
        std::time::SystemTime::now(),
    )
    .expect("apply the whole plan");

    let parts = Tree::debian12();
    let root = mailsetup::system::Root::new(parts.root());
    let now = std::time::SystemTime::now(); // one second for all: run records must not collide
    for part in Part::ALL {
        let current = Current::read(&root, &settings).expect("read");
        let plan = build_parts(&settings, &current, &[*part]).expect("plan");
        assert!(
            !plan.is_empty(),
            "{part:?} has something to do on a stock tree"
        );
        lib_apply(&root, &plan, &current.accounts, now).unwrap_or_else(|e| panic!("{part:?}: {e}"));
        let again = build_parts(
            &settings,
            &Current::read(&root, &settings).expect("read"),
            &[*part],
        )
        .expect("plan");
        assert!(
            again.is_empty(),
            "{part:?} is done after its apply:\n{again}"
        );
    }
    assert_eq!(parts.snapshot_comparable(), whole.snapshot_comparable());
    let runs = fs::read_dir(parts.root().join("var/lib/mailsetup/runs"))
        .expect("runs")
        .count();
    assert_eq!(
        runs,
        Part::ALL.len(),
        "one run record per part, none overwritten"
    );
}
