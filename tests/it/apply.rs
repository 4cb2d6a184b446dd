//! The non-interactive front end on a temporary Debian 12 tree: plan → apply → plan again →
//! rollback, with dry-run, bad answers, locks and unsafe targets.

use std::fs;
use std::os::unix::fs::MetadataExt;

use crate::support::{self, ANSWERS, Tree};

#[test]
fn plan_shows_diffs_writes_nothing_and_exits_1() {
    let tree = Tree::debian12();
    let before = tree.snapshot();
    let run = tree.run(&["plan", "--answers", ANSWERS]);
    run.expect_code(1);
    assert_eq!(tree.snapshot(), before, "plan must not write anything");
    // the apply it names carries --answers, the fixture's path in this checkout
    let stdout = run.stdout.replace(env!("CARGO_MANIFEST_DIR"), "[REPO]");
    insta::assert_snapshot!("plan_debian12", stdout);
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
    let fence =
        mailsetup::host::apply::fence::Fence::new(&mailsetup::host::system::Root::new(tree.root()))
            .expect("fence");
    let _held = mailsetup::host::apply::lock::Lock::take(&fence, std::time::SystemTime::now())
        .expect("lock");
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
    root: &mailsetup::host::system::Root,
    plan: &mailsetup::plan::Plan,
    accounts: &mailsetup::host::accounts::Accounts,
    now: std::time::SystemTime,
) -> mailsetup::error::Result<mailsetup::host::apply::Receipt> {
    let options = mailsetup::host::apply::Options {
        now,
        ..mailsetup::host::apply::Options::now("apply")
    };
    mailsetup::host::apply::apply(root, plan, accounts, &options)
}

fn library_plan(
    tree: &Tree,
) -> (
    mailsetup::host::system::Root,
    mailsetup::plan::Plan,
    mailsetup::plan::Current,
) {
    let settings =
        mailsetup::answers::parse(&fs::read_to_string(ANSWERS).expect("answers")).expect("valid");
    let root = mailsetup::host::system::Root::new(tree.root());
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
    let fence = mailsetup::host::apply::fence::Fence::new(&root).expect("fence");
    let rec = mailsetup::host::apply::RunRecord::last_applied(&fence).expect("records");
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
    let root = mailsetup::host::system::Root::new(parts.root());
    let now = std::time::SystemTime::now(); // one second for all: run records must not collide
    let mut applied = 0;
    for part in Part::ALL {
        let current = Current::read(&root, &settings).expect("read");
        let plan = build_parts(&settings, &current, &[*part]).expect("plan");
        if *part == Part::InboundSpf && !settings.inbound_spf {
            // off in these answers: nothing to do (tests/it/inbound_spf.rs has it on)
            assert!(plan.is_empty(), "{part:?} with inbound_spf off: {plan}");
            continue;
        }
        if *part == Part::Signer {
            // no amavisd-new in the stock tree: one signer already
            assert!(plan.is_empty(), "{plan}");
            continue;
        }
        if *part == Part::InboundDmarc && !settings.inbound_dmarc {
            assert!(plan.is_empty(), "inbound DMARC off plans nothing:\n{plan}");
            continue;
        }
        assert!(
            !plan.is_empty(),
            "{part:?} has something to do on a stock tree"
        );
        lib_apply(&root, &plan, &current.accounts, now).unwrap_or_else(|e| panic!("{part:?}: {e}"));
        applied += 1;
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
    assert_eq!(runs, applied, "one run record per part, none overwritten");
}

/// What `tee -a main.cf` after a tutorial or two leaves: inet_protocols and smtpd_milters
/// (which mailsetup sets) defined again, the last smtpd_milters on two lines, and
/// smtpd_relay_restrictions (which it does not touch) defined again below it, so that its
/// line moves up when smtpd_milters is rewritten on one line.
const TEE_A: &str = "\n# DKIM, from a tutorial\n\
    smtpd_milters = inet:localhost:8891\n\
    inet_protocols = ipv6\n\
    smtpd_milters = inet:localhost:8892,\n\
    \x20   inet:localhost:8893\n\
    smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n";

#[test]
fn apply_comments_out_duplicates_of_what_it_sets_and_leaves_the_others() {
    let tree = Tree::debian12();
    let stock = tree.read("/etc/postfix/main.cf");
    tree.write("/etc/postfix/main.cf", &format!("{stock}{TEE_A}"));
    let run = tree.run(&["apply", "--yes", "--answers", ANSWERS]);
    run.expect_code(0);
    for note in [
        "note: main.cf defines inet_protocols 2 times and Postfix uses only the last one \
         (line 50); the earlier definition at line 46 is commented out \
         (`# mailsetup: shadowed by line 50: …`)",
        "note: main.cf defines smtpd_milters 2 times and Postfix uses only the last one \
         (line 51); the earlier definition at line 49 is commented out \
         (`# mailsetup: shadowed by line 51: …`)",
    ] {
        assert!(run.stdout.contains(note), "{note}\n{}", run.stdout);
    }
    let head = stock
        .strip_suffix("inet_protocols = all\n")
        .expect("stock tail");
    let head = head
        .replace("myhostname = vm\n", "myhostname = mail.example.org\n")
        .replace(
            "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n\
             smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\n",
            "smtpd_tls_cert_file = /etc/letsencrypt/live/mail.example.org/fullchain.pem\n\
             smtpd_tls_key_file = /etc/letsencrypt/live/mail.example.org/privkey.pem\n",
        );
    assert_eq!(
        tree.read("/etc/postfix/main.cf"),
        format!(
            "{head}# mailsetup: shadowed by line 50: inet_protocols = all\n\
             \n# DKIM, from a tutorial\n\
             # mailsetup: shadowed by line 51: smtpd_milters = inet:localhost:8891\n\
             inet_protocols = ipv4\n\
             smtpd_milters = inet:localhost:8892, inet:localhost:8893, \
             local:opendkim/opendkim.sock\n\
             smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n\
             \n# Added by mailsetup\n\
             non_smtpd_milters = local:opendkim/opendkim.sock\n\
             milter_default_action = accept\n\
             milter_protocol = 6\n\
             smtp_tls_loglevel = 1\n\
             smtpd_tls_protocols = >=TLSv1.2\n\
             smtpd_tls_mandatory_protocols = >=TLSv1.2\n\
             smtp_tls_protocols = >=TLSv1.2\n\
             smtp_tls_mandatory_protocols = >=TLSv1.2\n"
        )
    );
    let again = tree.run(&["plan", "--answers", ANSWERS]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    if have_postconf() {
        let out = std::process::Command::new("/usr/sbin/postconf")
            .arg("-c")
            .arg(tree.path("/etc/postfix"))
            .arg("-n")
            .output()
            .expect("postconf");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("overriding earlier entry: smtpd_relay_restrictions="));
        for name in ["smtpd_milters", "inet_protocols"] {
            let warning = format!("overriding earlier entry: {name}=");
            assert!(!stderr.contains(&warning), "{stderr}");
        }
    }
}

/// Snippets that guides tell to append to main.cf (`tee -a`, `cat >>`, `postconf -e` habits),
/// some on several lines, some as `name=value`.
const SNIPPETS: &[&str] = &[
    "milter_protocol = 2\nmilter_default_action = accept\nsmtpd_milters = inet:localhost:12301\n\
     non_smtpd_milters = inet:localhost:12301\n",
    "# OpenDKIM\nsmtpd_milters = local:opendkim/opendkim.sock\nnon_smtpd_milters = $smtpd_milters\n",
    "smtpd_milters = inet:localhost:11332\nnon_smtpd_milters = $smtpd_milters\n\
     milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}\n",
    "smtpd_milters = inet:127.0.0.1:8891,\n    inet:127.0.0.1:11332\nmilter_default_action=accept\n",
    "relayhost = [smtp.example.net]:587\nsmtp_sasl_auth_enable = yes\n\
     smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n\
     smtp_sasl_security_options = noanonymous\nsmtp_tls_security_level = encrypt\n",
    "smtpd_recipient_restrictions =\n    permit_mynetworks,\n    permit_sasl_authenticated,\n\
     \x20   # greylisting was here\n    reject_unauth_destination\n",
    "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination\n",
    "smtpd_relay_restrictions = permit_mynetworks,\n\tpermit_sasl_authenticated,\n\tdefer_unauth_destination\n",
    "myhostname = mail.example.com\nmydomain = example.com\nmyorigin = $mydomain\n",
    "inet_protocols = ipv4\n",
    "inet_interfaces = loopback-only\ninet_protocols = all\n",
    "smtpd_tls_cert_file=/etc/letsencrypt/live/mail.example.com/fullchain.pem\n\
     smtpd_tls_key_file=/etc/letsencrypt/live/mail.example.com/privkey.pem\n\
     smtpd_tls_security_level = may\n",
    "message_size_limit = 52428800\nmailbox_size_limit = 0\n",
    "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n    192.168.1.0/24\n",
    "milter_protocol = 6\n",
    "virtual_alias_maps = hash:/etc/postfix/virtual\nalias_maps = hash:/etc/aliases\n",
];

/// What mailsetup sets in main.cf (Identity and Milter parts).
const SET_BY_MAILSETUP: &[&str] = &[
    "myhostname",
    "inet_protocols",
    "smtpd_milters",
    "non_smtpd_milters",
    "milter_default_action",
    "milter_protocol",
];

/// A small deterministic generator (xorshift64*), so that a failure names its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// A main.cf shaped like real ones: Debian's stock file with one to five snippets appended
/// (most often) or put between its lines, some after a comment, so that parameters end up
/// defined twice or three times, on one line or several.
fn generated_main_cf(stock: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = stock.lines().map(|l| format!("{l}\n")).collect();
    for _ in 0..1 + rng.below(5) {
        let mut snippet = SNIPPETS[rng.below(SNIPPETS.len())].to_string();
        if rng.below(3) == 0 {
            snippet.insert_str(0, "\n# added by hand\n");
        }
        let at = if rng.below(3) == 0 {
            // Before a line that starts a definition, so as not to split one.
            let starts: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].starts_with(|c: char| c.is_ascii_alphabetic()))
                .collect();
            starts[rng.below(starts.len())]
        } else {
            lines.len()
        };
        let new: Vec<String> = snippet.lines().map(|l| format!("{l}\n")).collect();
        lines.splice(at..at, new);
    }
    lines.concat()
}

/// Which definition each line belongs to, read as Postfix does (postconf(5)): a line starting
/// with a letter starts one; an indented line with text continues it; comment and blank lines
/// belong to none.
fn owners(lines: &[&str]) -> Vec<Option<(usize, String)>> {
    let mut current: Option<(usize, String)> = None;
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let text = line.trim_start();
            if text.is_empty() || text.starts_with('#') {
                None
            } else if line.starts_with([' ', '\t']) {
                current.clone()
            } else {
                let name = line
                    .split(['=', ' ', '\t'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                current = Some((i, name));
                current.clone()
            }
        })
        .collect()
}

/// The names defined more than once.
fn duplicated_names(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut names: Vec<String> = owners(&lines)
        .into_iter()
        .enumerate()
        .filter_map(|(i, o)| o.filter(|(start, _)| *start == i).map(|(_, n)| n))
        .collect();
    names.sort();
    let mut twice: Vec<String> = names
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].clone())
        .collect();
    twice.dedup();
    twice
}

/// Checks that `after` is `before` with only what mailsetup may do to the parameters it
/// sets: a definition kept, rewritten as `name = value` (its continuation lines dropped), or
/// commented out (`# mailsetup: shadowed by line N: …` naming the definition in effect, `#`
/// before each continuation line); then the appended block. Every other line is
/// byte-identical.
fn check_lossless(before: &str, after: &str) -> Result<(), String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Fate {
        Kept,
        Rewritten,
        Shadowed,
    }
    let (old, new): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let owner = owners(&old);
    let mut fate = None;
    let mut j = 0;
    for (i, line) in old.iter().enumerate() {
        let got = new.get(j).copied().unwrap_or("<end>");
        let fail = |what: &str| Err(format!("line {}: {line:?} {what}, got {got:?}", i + 1));
        let touched = owner[i]
            .clone()
            .filter(|(_, n)| SET_BY_MAILSETUP.contains(&n.as_str()));
        let Some((start, name)) = touched else {
            if got != *line {
                return fail("changed");
            }
            j += 1;
            continue;
        };
        if i == start {
            let shadowed = got
                .strip_prefix("# mailsetup: shadowed by line ")
                .and_then(|r| r.split_once(": "))
                .filter(|(_, text)| text == line)
                .and_then(|(n, _)| n.parse::<usize>().ok());
            fate = Some(if got == *line {
                Fate::Kept
            } else if let Some(n) = shadowed {
                let effective = new.get(n.wrapping_sub(1)).copied().unwrap_or("");
                if effective.split(['=', ' ']).next() != Some(name.as_str()) {
                    return fail(&format!("names line {n}, which is {effective:?}"));
                }
                Fate::Shadowed
            } else if got.starts_with(&format!("{name} = ")) {
                Fate::Rewritten
            } else {
                return fail("is not kept, rewritten or commented out");
            });
        } else {
            match fate {
                Some(Fate::Rewritten) => continue, // a continuation line: dropped
                Some(Fate::Kept) if got == *line => {}
                Some(Fate::Shadowed) if got == format!("#{line}") => {}
                _ => return fail("does not follow its definition's first line"),
            }
        }
        j += 1;
    }
    for line in &new[j..] {
        let name = line.split(" = ").next().unwrap_or("");
        if !(line.is_empty() || *line == "# Added by mailsetup" || SET_BY_MAILSETUP.contains(&name))
        {
            return Err(format!("unexpected appended line {line:?}"));
        }
    }
    Ok(())
}

/// `postconf -c DIR -n`'s warnings on `main`, as apply's validation collects them: on files
/// dated a minute ago (as a live main.cf usually is), or `fresh` ones (as apply's staged copy
/// is: postconf then reads main.cf again every 300 ms for 1.5 s, and warns more).
fn postconf_warnings(main: &str, master: &str, fresh: bool) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    for (name, text) in [("main.cf", main), ("master.cf", master)] {
        let path = dir.path().join(name);
        fs::write(&path, text).expect("write");
        if !fresh {
            fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(past))
                .expect("date");
        }
    }
    let out = std::process::Command::new("/usr/sbin/postconf")
        .env("LC_ALL", "C")
        .arg("-c")
        .arg(dir.path())
        .arg("-n")
        .output()
        .expect("postconf");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("warning:") || l.contains("fatal:"))
        .map(|l| l.replace(&dir.path().display().to_string(), "DIR"))
        .collect();
    if !out.status.success() {
        lines.push(format!("postconf exited with {}", out.status));
    }
    lines
}

/// 150 generated main.cf files with duplicates of every kind: the plan edits each one (no
/// refusal by the postconf comparison apply makes), keeping every untouched line as it was.
#[test]
fn generated_main_cf_files_with_duplicates_are_all_edited() {
    use mailsetup::plan::{Current, Part, build_parts};
    let postconf = std::path::Path::new("/usr/sbin/postconf").exists();
    if !postconf {
        eprintln!("note: postconf is not installed; the sweep checks the edits only");
    }
    let settings =
        mailsetup::answers::parse(&fs::read_to_string(ANSWERS).expect("answers")).expect("valid");
    let tree = Tree::debian12();
    let root = mailsetup::host::system::Root::new(tree.root());
    let stock = tree.read("/etc/postfix/main.cf");
    let master = tree.read("/etc/postfix/master.cf");
    let (mut generated, mut refused, mut with_duplicates, mut commented) = (0, 0, 0, 0);
    let (mut untouched_only, mut left) = (0, 0);
    let mut fresh = Vec::new();
    for seed in 1..=150u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let before = generated_main_cf(&stock, &mut rng);
        generated += 1;
        let duplicated = duplicated_names(&before);
        with_duplicates += usize::from(!duplicated.is_empty());
        untouched_only += usize::from(
            !duplicated.is_empty()
                && duplicated
                    .iter()
                    .all(|n| !SET_BY_MAILSETUP.contains(&n.as_str())),
        );
        tree.write("/etc/postfix/main.cf", &before);
        let current = Current::read(&root, &settings).expect("read");
        let plan = build_parts(&settings, &current, &[Part::Identity, Part::Milter])
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{before}"));
        let after = plan
            .files
            .iter()
            .find(|f| f.path == std::path::Path::new("/etc/postfix/main.cf"))
            .map_or(before.clone(), |f| f.after.clone());
        commented += usize::from(after.contains("# mailsetup: shadowed by line "));
        left += usize::from(
            duplicated_names(&after)
                .iter()
                .any(|n| SET_BY_MAILSETUP.contains(&n.as_str())),
        );
        if let Err(e) = check_lossless(&before, &after) {
            panic!("seed {seed}: {e}\n--- before\n{before}--- after\n{after}");
        }
        if postconf {
            let now = postconf_warnings(&before, &master, false);
            if seed % 10 == 0 {
                fresh.push((seed, now, after)); // checked below, all at once
                continue;
            }
            let staged = postconf_warnings(&after, &master, false);
            let added = mailsetup::postfix::warnings::added(&now, &staged);
            if !added.is_empty() {
                refused += 1;
                eprintln!("seed {seed} would be refused: {added:#?}\n{after}");
            }
        }
    }
    // One in ten with the staged copy just written, as apply writes it; in parallel, since
    // postconf mostly waits then.
    std::thread::scope(|scope| {
        let runs: Vec<_> = fresh
            .iter()
            .map(|(seed, now, after)| {
                let master = &master;
                scope.spawn(move || {
                    let staged = postconf_warnings(after, master, true);
                    (*seed, mailsetup::postfix::warnings::added(now, &staged))
                })
            })
            .collect();
        for run in runs {
            let (seed, added) = run.join().expect("postconf thread");
            if !added.is_empty() {
                refused += 1;
                eprintln!("seed {seed} would be refused (fresh staged copy): {added:#?}");
            }
        }
    });
    println!(
        "main.cf sweep: {generated} generated ({} checked on a fresh staged copy), {refused} \
         refused; {with_duplicates} had a \
         duplicate ({untouched_only} only of parameters mailsetup does not set); {commented} \
         got definitions commented out; {left} keep a duplicate of a parameter mailsetup sets",
        fresh.len()
    );
    assert_eq!((refused, left), (0, 0));
    assert!(with_duplicates > generated / 2 && commented > generated / 4);
}

#[test]
fn a_drifted_opendkim_directory_is_repaired_and_a_safe_choice_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let dir = tree.path("/etc/opendkim");
    // what a killed run of an older version left: OpenDKIM cannot reach its keys
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    plan.expect_code(1);
    assert!(
        plan.stdout.contains(
            "fix directory /etc/opendkim (root:root 0755): OpenDKIM cannot pass through it"
        ),
        "{}",
        plan.stdout
    );
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    assert_eq!(fs::metadata(&dir).expect("md").mode() & 0o7777, 0o755);
    // world-writable: refused by OpenDKIM's key walk
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    assert!(
        plan.stdout.contains("someone other than root may write it"),
        "{}",
        plan.stdout
    );
    // an operator's 0750 with OpenDKIM's group (when the tests can set owners): left alone
    if nix::unistd::geteuid().is_root() {
        nix::unistd::chown(&dir, Some(0.into()), Some(107.into())).expect("chown");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).expect("chmod");
        tree.run(&["plan", "--answers", ANSWERS]).expect_code(0);
    }
}

#[test]
fn a_changed_key_size_is_said_not_silently_ignored() {
    let tree = Tree::debian12();
    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let bigger = tree.root().join("bigger.toml");
    let text = fs::read_to_string(ANSWERS).expect("answers");
    assert!(text.contains("key_bits = 1024"), "the fixture's key size");
    fs::write(&bigger, text.replace("key_bits = 1024", "key_bits = 2048")).expect("write");
    let plan = tree.run(&["plan", "--answers", bigger.to_str().expect("utf-8")]);
    // pending: a rotation (a new key under a new selector), never an overwrite
    plan.expect_code(1);
    assert!(
        plan.stdout.contains(
            "rotate the DKIM key of example.org: the key of selector mail has 1024 bits, but \
             key_bits asks for 2048"
        ),
        "{}",
        plan.stdout
    );
    // the same answers as the keys: no word
    let same = tree.run(&["plan", "--answers", ANSWERS]);
    assert!(
        !same.stdout.contains("key_bits asks for"),
        "{}",
        same.stdout
    );
}

/// Each part's prerequisites are brought along only while they have changes pending, and a
/// selection that leaves a pending prerequisite out is refused, naming both steps.
#[test]
fn a_part_brings_the_pending_parts_it_needs() {
    use mailsetup::plan::{
        Current, Part, check_selection, with_earlier_prerequisites, with_prerequisites,
    };
    let settings =
        mailsetup::answers::parse(&fs::read_to_string(ANSWERS).expect("answers")).expect("valid");
    let tree = Tree::debian12();
    let root = mailsetup::host::system::Root::new(tree.root());
    let stock = Current::read(&root, &settings).expect("read");
    let dkim = [Part::Opendkim, Part::Milter, Part::Tables, Part::Keys];
    let need = |cur: &Current, part| with_prerequisites(&settings, cur, &[part]).expect("plan");
    assert_eq!(need(&stock, Part::Milter), dkim);
    assert_eq!(
        need(&stock, Part::Opendkim),
        [Part::Opendkim, Part::Tables, Part::Keys]
    );
    assert_eq!(
        need(&stock, Part::Keys),
        [Part::Opendkim, Part::Tables, Part::Keys]
    );
    assert_eq!(need(&stock, Part::Identity), [Part::Identity]);
    // the wizard: a later prerequisite has its own step still to come
    let earlier = |part| with_earlier_prerequisites(&settings, &stock, part).expect("plan");
    assert_eq!(earlier(Part::Milter), [Part::Opendkim, Part::Milter]);
    assert_eq!(earlier(Part::Opendkim), [Part::Opendkim]);
    assert_eq!(
        earlier(Part::Keys),
        [Part::Opendkim, Part::Tables, Part::Keys]
    );
    let refused = check_selection(&settings, &stock, &[Part::Milter]).expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("the Milter wiring step needs the OpenDKIM configuration step"),
        "{refused}"
    );
    check_selection(&settings, &stock, &dkim).expect("all together");
    check_selection(&settings, &stock, &[Part::Identity]).expect("needs nothing");

    tree.run(&["apply", "--yes", "--answers", ANSWERS])
        .expect_code(0);
    let applied = Current::read(&root, &settings).expect("read");
    for part in dkim {
        assert_eq!(
            need(&applied, part),
            [part],
            "nothing pending: {part:?} alone"
        );
        check_selection(&settings, &applied, &[part]).expect("nothing pending");
    }
}
