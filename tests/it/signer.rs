//! One DKIM signer (issue #14 item 3) on a Debian 12 tree with amavisd-new's stock conf.d
//! (`tests/fixtures/amavis/conf.d`, copied from Debian 12's amavisd-new 2.13): with
//! `signer = "opendkim"` the Signer step turns amavisd-new's signing off (a one-byte edit,
//! owner and mode kept, rolled back byte for byte); with `signer = "amavisd-new"` OpenDKIM
//! is left out of Postfix, and the records and the DKIM checks use amavisd-new's keys.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::os::unix::fs::PermissionsExt;

use crate::check_cli::{answers_2048, applied, command, field_of};
use crate::support::lab::Lab;
use crate::support::scenario::fixture_zones_keys;
use crate::support::{ANSWERS, Tree, fixture_path};

const CONF_D: &str = fixture_path!("amavis/conf.d");
const STOCK_50_USER: &str = include_str!(fixture_path!("amavis/conf.d/50-user"));

/// Debian's stock conf.d in the tree, and a 50-user that turns signing on for both fixture
/// domains (keys at /var/lib/amavis/dkim/<domain>.pem, selector `dkim`), as README.dkim
/// has it. Returns the 50-user text.
fn amavis_signing(tree: &Tree) -> String {
    for e in std::fs::read_dir(CONF_D).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        tree.write(
            &format!("/etc/amavis/conf.d/{name}"),
            &std::fs::read_to_string(e.path()).unwrap(),
        );
    }
    let user = STOCK_50_USER.replace(
        "#------------ Do not modify anything below this line -------------",
        "$enable_dkim_signing = 1;   # amavisd-new signs\n\
         dkim_key('example.org', 'dkim', '/var/lib/amavis/dkim/example.org.pem');\n\
         dkim_key('example.net', 'dkim', '/var/lib/amavis/dkim/example.net.pem');\n\n\
         #------------ Do not modify anything below this line -------------",
    );
    assert_ne!(user, STOCK_50_USER);
    tree.write("/etc/amavis/conf.d/50-user", &user);
    std::fs::set_permissions(
        tree.path("/etc/amavis/conf.d/50-user"),
        PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    user
}

/// amavisd-new's keys in the tree; their `p=` values (example.org, example.net).
fn amavis_keys(tree: &Tree) -> (String, String) {
    let mut ps = Vec::new();
    for d in ["example.org", "example.net"] {
        let key = mailsetup::keys::PrivateKey::generate(mailsetup::values::KeyBits::B2048).unwrap();
        tree.write(&format!("/var/lib/amavis/dkim/{d}.pem"), key.pem());
        ps.push(key.public().p.clone());
    }
    (ps[0].clone(), ps[1].clone())
}

#[test]
fn opendkim_signs_and_amavis_signing_is_turned_off_losslessly_then_rolled_back() {
    let tree = Tree::debian12();
    let user = amavis_signing(&tree);
    let before = tree.snapshot_without_state();
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    plan.expect_code(1);
    assert!(
        plan.stdout
            .contains("-$enable_dkim_signing = 1;   # amavisd-new signs\n+$enable_dkim_signing = 0;   # amavisd-new signs\n"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("then restart amavisd-new"),
        "{}",
        plan.stdout
    );
    assert_eq!(tree.snapshot_without_state(), before, "plan writes nothing");

    let run = tree.run(&["apply", "--yes", "--answers", ANSWERS]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("would restart amavisd-new"),
        "beneath a root only reported: {}",
        run.stdout
    );
    let after = tree.read("/etc/amavis/conf.d/50-user");
    assert_eq!(
        after,
        user.replace("$enable_dkim_signing = 1;", "$enable_dkim_signing = 0;"),
        "only the value changed"
    );
    let mode = std::fs::metadata(tree.path("/etc/amavis/conf.d/50-user"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o640, "the file's mode is kept");
    // OpenDKIM is wired in as without amavisd-new
    assert!(
        tree.read("/etc/postfix/main.cf")
            .contains("\nsmtpd_milters = local:opendkim/opendkim.sock\n")
    );
    for name in ["01-debian", "15-content_filter_mode", "20-debian_defaults"] {
        let path = format!("/etc/amavis/conf.d/{name}");
        assert_eq!(
            tree.read(&path),
            std::fs::read_to_string(format!("{CONF_D}/{name}")).unwrap()
        );
    }
    let again = tree.run(&["plan", "--answers", ANSWERS]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );

    let rb = tree.run(&["rollback", "--yes"]);
    rb.expect_code(0);
    assert!(rb.stdout.contains("amavisd-new"), "{}", rb.stdout);
    assert_eq!(tree.snapshot_without_state(), before, "{}", rb.stdout);
}

#[test]
fn the_stock_conf_d_does_not_sign_and_nothing_is_planned_for_it() {
    let tree = Tree::debian12();
    amavis_signing(&tree);
    tree.write("/etc/amavis/conf.d/50-user", STOCK_50_USER);
    let plan = tree.run(&["plan", "--answers", ANSWERS]);
    plan.expect_code(1);
    assert!(!plan.stdout.contains("/etc/amavis"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("amavisd-new"), "{}", plan.stdout);
}

/// The 2048-bit answers of [`applied`] with `signer = "amavisd-new"`, beside the tree.
fn amavis_answers(tree: &Tree) -> String {
    let path = tree.root().join("answers-amavis.toml");
    let text = std::fs::read_to_string(answers_2048(tree)).unwrap() + "signer = \"amavisd-new\"\n";
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn amavis_signs_opendkim_is_unwired_and_the_records_are_amavis_keys() {
    // OpenDKIM set up and signing, then amavisd-new set up to sign too
    let (tree, _opendkim_lab) = applied(true).await;
    amavis_signing(&tree);
    let (org, net) = amavis_keys(&tree);
    let answers = amavis_answers(&tree);
    let zones: Vec<String> = fixture_zones_keys(&org, Some(&net))
        .into_iter()
        .map(|z| z.replace("mail._domainkey", "dkim._domainkey"))
        .collect();
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;

    // the records name amavisd-new's selector and key
    let records = command(&tree, &lab, "records", &answers, &[]);
    records.expect_code(0);
    assert!(
        records.stdout.contains("dkim._domainkey"),
        "{}",
        records.stdout
    );
    assert!(
        !records.stdout.contains("mail._domainkey"),
        "{}",
        records.stdout
    );
    let flat: String = records.stdout.split('"').collect::<Vec<_>>().join("");
    let flat: String = flat.split_whitespace().collect();
    assert!(flat.contains(&org[..60]), "{}", records.stdout);

    // both sign: signer.double, and no complaint that OpenDKIM is not wired
    let run = command(&tree, &lab, "check", &answers, &["--json"]);
    let ids = field_of(&run.stdout, "findings", "id");
    assert_eq!(ids, ["signer.double"], "{}", run.stdout);

    // fix: the Signer step brings the Milter step, which takes OpenDKIM out of main.cf
    let main_cf = tree.read("/etc/postfix/main.cf");
    let run = command(&tree, &lab, "fix", &answers, &["signer.double", "--yes"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("signer.double: cleared"),
        "{}",
        run.stdout
    );
    let unwired = tree.read("/etc/postfix/main.cf");
    assert!(
        unwired.contains("\nsmtpd_milters = \n") || unwired.contains("\nsmtpd_milters =\n"),
        "{unwired}"
    );
    assert!(!unwired.contains("opendkim.sock"), "{unwired}");
    assert_eq!(
        tree.read("/etc/amavis/conf.d/50-user")
            .matches("$enable_dkim_signing = 1;")
            .count(),
        1,
        "amavisd-new keeps signing"
    );
    let plan = command(&tree, &lab, "plan", &answers, &[]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);

    // the DKIM checks judge amavisd-new's keys: all pass
    let run = command(&tree, &lab, "check", &answers, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // a record that is not amavisd-new's key is a mismatch
    let wrong: Vec<String> = fixture_zones_keys(&net, Some(&net))
        .into_iter()
        .map(|z| z.replace("mail._domainkey", "dkim._domainkey"))
        .collect();
    let refs: Vec<&str> = wrong.iter().map(String::as_str).collect();
    let wrong_lab = Lab::start(&refs).await;
    let run = command(&tree, &wrong_lab, "check", &answers, &["--json"]);
    let ids = field_of(&run.stdout, "findings", "id");
    assert!(
        ids.iter().any(|i| i == "dkim.key-mismatch"),
        "{}",
        run.stdout
    );

    // rollback puts OpenDKIM back in main.cf
    tree.run(&["rollback", "--yes"]).expect_code(0);
    assert_eq!(tree.read("/etc/postfix/main.cf"), main_cf);
}

#[test]
fn with_amavis_signing_opendkim_is_never_wired_and_other_milters_stay_in_order() {
    let tree = Tree::debian12();
    amavis_signing(&tree);
    amavis_keys(&tree);
    let main_cf = tree.read("/etc/postfix/main.cf")
        + "smtpd_milters = unix:/run/clamav/clamav-milter.ctl, local:opendkim/opendkim.sock, \
           inet:127.0.0.1:54321\nnon_smtpd_milters = $smtpd_milters\n";
    tree.write("/etc/postfix/main.cf", &main_cf);
    let answers = tree.root().join("answers-amavis.toml");
    std::fs::write(
        &answers,
        std::fs::read_to_string(ANSWERS).unwrap() + "signer = \"amavisd-new\"\n",
    )
    .unwrap();
    let answers = answers.display().to_string();
    let before = tree.snapshot();
    let run = tree.run(&["apply", "--yes", "--answers", &answers]);
    run.expect_code(0);
    let after = tree.read("/etc/postfix/main.cf");
    assert!(
        after.contains(
            "\nsmtpd_milters = unix:/run/clamav/clamav-milter.ctl, inet:127.0.0.1:54321\n\
             non_smtpd_milters = $smtpd_milters\n"
        ),
        "{after}"
    );
    assert!(
        !after.contains("milter_protocol"),
        "nothing else for OpenDKIM: {after}"
    );
    // no OpenDKIM file, key or directory was touched, and no group changed
    for (path, entry) in tree.snapshot() {
        let p = path.to_string_lossy();
        if p.starts_with("etc/opendkim")
            || p.starts_with("etc/default/opendkim")
            || p.starts_with("etc/group")
            || p.starts_with("var/spool/postfix/opendkim")
        {
            assert_eq!(before.get(&path), Some(&entry), "{p} changed");
        }
    }
    assert!(!tree.path("/etc/opendkim/keys").exists());
    let again = tree.run(&["plan", "--answers", &answers]);
    again.expect_code(0);
}
