//! postconf warnings compared by parameter and message: literal samples printed by postconf
//! 3.7.11, then the real postconf on a live and a staged main.cf.

use super::{STOCK_MAIN, STOCK_MASTER, postconf, postconf_fresh};
use crate::postfix::MainCf;
use crate::postfix::warnings::{Diagnostic, added};

fn lines(text: &[&str]) -> Vec<String> {
    text.iter().map(|l| l.to_string()).collect()
}

fn diagnostic(
    severity: &str,
    file: Option<&str>,
    parameter: Option<&str>,
    message: &str,
) -> Diagnostic {
    Diagnostic {
        severity: severity.into(),
        file: file.map(str::to_string),
        parameter: parameter.map(str::to_string),
        message: message.into(),
    }
}

#[test]
fn each_shape_postconf_prints_is_read_without_its_location() {
    let cases = [
        (
            "/usr/sbin/postconf: warning: /tmp/pcs/main.cf, line 3: overriding earlier entry: myhostname=first.example",
            diagnostic(
                "warning",
                Some("main.cf"),
                Some("myhostname"),
                "overriding earlier entry",
            ),
        ),
        (
            // Continuation lines joined as Postfix stores the value.
            "postconf: warning: DIR/main.cf, line 7: overriding earlier entry: smtpd_milters=a,  b",
            diagnostic(
                "warning",
                Some("main.cf"),
                Some("smtpd_milters"),
                "overriding earlier entry",
            ),
        ),
        (
            "/usr/sbin/postconf: warning: /tmp/pcs/main.cf: unused parameter: foo_custom=x",
            diagnostic(
                "warning",
                Some("main.cf"),
                Some("foo_custom"),
                "unused parameter",
            ),
        ),
        (
            "/usr/sbin/postconf: warning: /tmp/pcs/master.cf: unused parameter: smtp_bogus_xyz=1",
            diagnostic(
                "warning",
                Some("master.cf"),
                Some("smtp_bogus_xyz"),
                "unused parameter",
            ),
        ),
        (
            "/usr/sbin/postconf: warning: /tmp/pcs/main.cf: undefined parameter: undefined_x",
            diagnostic(
                "warning",
                Some("main.cf"),
                Some("undefined_x"),
                "undefined parameter",
            ),
        ),
        (
            "/usr/sbin/postconf: fatal: file /tmp/pcs/master.cf: line 139: bad field count",
            diagnostic("fatal", Some("master.cf"), None, "bad field count"),
        ),
        (
            "/usr/sbin/postconf: fatal: unknown inet_protocols value \"ipv5\" in \"ipv5\"",
            diagnostic(
                "fatal",
                None,
                None,
                "unknown inet_protocols value \"ipv5\" in \"ipv5\"",
            ),
        ),
        (
            "postconf exited with exit status: 1",
            diagnostic("", None, None, "postconf exited with exit status: 1"),
        ),
    ];
    for (line, want) in cases {
        assert_eq!(Diagnostic::parse(line), want, "{line}");
    }
}

/// Live main.cf: the stock file with `smtpd_relay_restrictions` defined again at line 47.
/// Staged: the same duplicate with lines shifted, written just now, so that postconf read it
/// five times and also reported the first definition (line 36) "overriding" the last value.
#[test]
fn a_duplicate_the_live_file_has_is_not_added_wherever_it_moved() {
    let now = lines(&[
        "/usr/sbin/postconf: warning: DIR/main.cf, line 47: overriding earlier entry: smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
    ]);
    let staged = lines(&[
        "/usr/sbin/postconf: warning: DIR/main.cf, line 36: overriding earlier entry: smtpd_relay_restrictions=permit_mynetworks reject_unauth_destination",
        "/usr/sbin/postconf: warning: DIR/main.cf, line 52: overriding earlier entry: smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
        "/usr/sbin/postconf: warning: DIR/main.cf, line 36: overriding earlier entry: smtpd_relay_restrictions=permit_mynetworks reject_unauth_destination",
    ]);
    assert_eq!(added(&now, &staged), Vec::<String>::new());
}

#[test]
fn a_duplicate_of_another_parameter_is_added_once_as_printed() {
    let now = lines(&[
        "postconf: warning: DIR/main.cf, line 3: overriding earlier entry: myhostname=first.example",
    ]);
    let new = "postconf: warning: DIR/main.cf, line 49: overriding earlier entry: smtpd_milters=inet:localhost:8891";
    let staged = lines(&[
        "postconf: warning: DIR/main.cf, line 3: overriding earlier entry: myhostname=first.example",
        new,
        new,
    ]);
    assert_eq!(added(&now, &staged), [new]);
}

#[test]
fn other_new_warnings_are_added_and_old_ones_are_not() {
    let now = lines(&[
        "postconf: warning: /etc/postfix/main.cf: unused parameter: foo_custom=x",
        "postconf: warning: /etc/postfix/master.cf: unused parameter: smtp_bogus_xyz=1",
    ]);
    let staged = lines(&[
        "postconf: warning: DIR/main.cf: unused parameter: foo_custom=x",
        // The same parameter, but in main.cf now: new.
        "postconf: warning: DIR/main.cf: unused parameter: smtp_bogus_xyz=1",
        "postconf: warning: DIR/main.cf: undefined parameter: undefined_x",
        "postconf: fatal: unknown inet_protocols value \"ipv5\" in \"ipv5\"",
        "postconf exited with exit status: 1",
    ]);
    assert_eq!(added(&now, &staged), staged[1..]);
}

const TOUCHED: &[(&str, &str)] = &[
    ("myhostname", "mail.example.org"),
    ("inet_protocols", "ipv4"),
    (
        "smtpd_milters",
        "inet:localhost:8892, local:opendkim/opendkim.sock",
    ),
    ("non_smtpd_milters", "$smtpd_milters"),
    ("milter_default_action", "accept"),
    ("milter_protocol", "6"),
];

fn stderr_lines(stderr: &str) -> Vec<String> {
    stderr.lines().map(str::to_string).collect()
}

/// The real postconf on a live main.cf with duplicates (old, as /etc/postfix/main.cf is) and on
/// its edit (fresh, as apply's staged copy is): the duplicates of the parameters set are gone,
/// the untouched one stays and is not counted as added, though its lines do not match.
#[test]
fn real_postconf_the_edit_removes_touched_duplicates_and_keeps_an_untouched_one() {
    let live = format!(
        "{STOCK_MAIN}smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n\
         smtpd_milters = inet:localhost:8891,\n    inet:localhost:8893\n\
         myhostname = one.example\n\
         smtpd_milters = inet:localhost:8892\n"
    );
    let Some(now) = postconf(&live, STOCK_MASTER, &["-n"]) else {
        return;
    };
    assert!(
        now.stderr
            .contains("overriding earlier entry: smtpd_milters="),
        "{}",
        now.stderr
    );
    let mut doc = MainCf::parse(&live);
    for (name, value) in TOUCHED {
        doc.set(name, value).unwrap();
    }
    let edited = doc.to_string();
    let staged = postconf_fresh(&edited, STOCK_MASTER, &["-n"]).unwrap();
    for (name, _) in TOUCHED {
        assert!(
            !staged
                .stderr
                .contains(&format!("overriding earlier entry: {name}=")),
            "{name} is still defined twice:\n{}\n{edited}",
            staged.stderr
        );
    }
    assert!(
        staged
            .stderr
            .contains("overriding earlier entry: smtpd_relay_restrictions=")
    );
    let (now, staged) = (stderr_lines(&now.stderr), stderr_lines(&staged.stderr));
    assert!(
        staged.iter().any(|l| !now.contains(l)),
        "the lines differ, as they do in apply: {staged:#?}"
    );
    assert_eq!(added(&now, &staged), Vec::<String>::new());
}

/// A duplicate the staged file brings, and an unknown parameter, are reported by the real
/// postconf and counted as added.
#[test]
fn real_postconf_a_duplicate_the_staged_file_adds_is_added() {
    let live = format!(
        "{STOCK_MAIN}smtpd_milters = inet:localhost:8891\nmyhostname = a.example\nmyhostname = b.example\n"
    );
    let Some(now) = postconf(&live, STOCK_MASTER, &["-n"]) else {
        return;
    };
    let staged_text =
        format!("# moved\n{live}smtpd_milters = inet:localhost:8892\nfoo_custom = 1\n");
    let staged = postconf(&staged_text, STOCK_MASTER, &["-n"]).unwrap();
    let new = added(&stderr_lines(&now.stderr), &stderr_lines(&staged.stderr));
    assert_eq!(new.len(), 2, "{new:#?}");
    assert!(
        new[0].ends_with(", line 51: overriding earlier entry: smtpd_milters=inet:localhost:8891"),
        "{new:#?}"
    );
    assert!(
        new[1].ends_with("main.cf: unused parameter: foo_custom=1"),
        "{new:#?}"
    );
}
