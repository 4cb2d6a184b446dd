//! master.cf: reading services and options, exact text after each kind of edit, validation.

use super::STOCK_MASTER;
use crate::postfix::{Change, EditError, MasterCf, ValueProblem};

const SMTP_LINE: &str = "smtp      inet  n       -       y       -       -       smtpd\n";

/// Parses `input`, sets `-o name=value` on `service`/`kind`, checks the change, returns the text.
fn edited(
    input: &str,
    service: &str,
    kind: &str,
    name: &str,
    value: &str,
    change: Change,
) -> String {
    let mut doc = MasterCf::parse(input);
    assert_eq!(doc.set_option(service, kind, name, value).unwrap(), change);
    assert_eq!(doc.option(service, kind, name), Some(value));
    doc.to_string()
}

#[test]
fn stock_file_round_trips() {
    assert_eq!(MasterCf::parse(STOCK_MASTER).to_string(), STOCK_MASTER);
}

#[test]
fn stock_services_are_read() {
    let doc = MasterCf::parse(STOCK_MASTER);
    assert_eq!(doc.services().count(), 31);
    let smtp = doc.service("smtp", "inet").unwrap();
    assert_eq!(
        (smtp.name(), smtp.kind(), smtp.command(), smtp.line()),
        ("smtp", "inet", "smtpd", 12)
    );
    assert_eq!(
        (smtp.private(), smtp.unpriv(), smtp.chroot()),
        (Some(false), None, Some(true))
    );
    assert_eq!(smtp.options().count(), 0);
    let local = doc.service("local", "unix").unwrap();
    assert_eq!(local.chroot(), Some(false));
    assert_eq!(local.unpriv(), Some(false));
    let tlsmgr = doc.service("tlsmgr", "unix").unwrap();
    assert_eq!((tlsmgr.wakeup(), tlsmgr.maxproc()), ("1000?", "1"));
    assert_eq!(
        doc.service("postlog", "unix-dgram").unwrap().command(),
        "postlogd"
    );
    // The smtp client (unix) is another entry than the smtp server (inet).
    assert_eq!(doc.service("smtp", "unix").unwrap().command(), "smtp");
    // Commented-out examples are not services.
    assert!(doc.service("submission", "inet").is_none());
    assert!(doc.service("cyrus", "unix").is_none());
}

#[test]
fn stock_options_and_pipe_arguments_are_read() {
    let doc = MasterCf::parse(STOCK_MASTER);
    assert_eq!(
        doc.option("relay", "unix", "syslog_name"),
        Some("postfix/$service_name")
    );
    // The commented `#  -o smtp_helo_timeout=5` inside the entry is not an option.
    assert_eq!(doc.option("relay", "unix", "smtp_helo_timeout"), None);
    let maildrop = doc.service("maildrop", "unix").unwrap();
    assert_eq!(
        maildrop.args(),
        [
            "flags=DRXhu",
            "user=vmail",
            "argv=/usr/bin/maildrop",
            "-d",
            "${recipient}"
        ]
    );
    assert_eq!(maildrop.options().count(), 0);
}

#[test]
fn stock_add_option_to_smtp_inet_goes_right_below_its_line() {
    let out = edited(
        STOCK_MASTER,
        "smtp",
        "inet",
        "smtpd_milters",
        "local:opendkim/opendkim.sock",
        Change::Added,
    );
    let expected = STOCK_MASTER.replacen(
        SMTP_LINE,
        &format!("{SMTP_LINE}  -o smtpd_milters=local:opendkim/opendkim.sock\n"),
        1,
    );
    assert_ne!(expected, STOCK_MASTER);
    assert_eq!(out, expected);
}

#[test]
fn new_option_copies_the_indentation_of_the_entry_and_skips_trailing_comments() {
    let relay = "        -o syslog_name=postfix/$service_name\n";
    let out = edited(
        STOCK_MASTER,
        "relay",
        "unix",
        "smtp_helo_timeout",
        "5",
        Change::Added,
    );
    let expected = STOCK_MASTER.replacen(
        relay,
        &format!("{relay}        -o smtp_helo_timeout=5\n"),
        1,
    );
    assert_ne!(expected, STOCK_MASTER);
    assert_eq!(out, expected);
}

#[test]
fn existing_option_is_rewritten_in_place() {
    let out = edited(
        STOCK_MASTER,
        "relay",
        "unix",
        "syslog_name",
        "postfix/relay",
        Change::Rewritten,
    );
    assert_eq!(
        out,
        STOCK_MASTER.replacen(
            "-o syslog_name=postfix/$service_name",
            "-o syslog_name=postfix/relay",
            1
        )
    );
}

#[test]
fn option_for_a_pipe_service_goes_before_its_non_option_arguments() {
    let out = edited(
        STOCK_MASTER,
        "maildrop",
        "unix",
        "maildrop_destination_recipient_limit",
        "1",
        Change::Added,
    );
    let flags = "  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n";
    let expected = STOCK_MASTER.replacen(
        flags,
        &format!("  -o maildrop_destination_recipient_limit=1\n{flags}"),
        1,
    );
    assert_ne!(expected, STOCK_MASTER);
    assert_eq!(out, expected);
    let doc = MasterCf::parse(&out);
    assert_eq!(
        doc.service("maildrop", "unix").unwrap().args()[2],
        "flags=DRXhu"
    );
}

#[test]
fn non_option_argument_on_the_first_line_gets_the_option_inline() {
    assert_eq!(
        edited(
            "p unix - n n - - pipe flags=R user=x\n",
            "p",
            "unix",
            "a",
            "b",
            Change::Added
        ),
        "p unix - n n - - pipe -o a=b flags=R user=x\n"
    );
}

#[test]
fn trailing_dangling_dash_o_does_not_swallow_the_new_option() {
    assert_eq!(
        edited(
            "s inet n - y - - smtpd -o\n",
            "s",
            "inet",
            "a",
            "b",
            Change::Added
        ),
        "s inet n - y - - smtpd -o a=b -o\n"
    );
}

#[test]
fn brace_form_is_read_and_rewritten_as_name_equals_value() {
    let input = "s inet n - y - - smtpd -o { smtpd_banner = hello   world } -o x=1\n";
    let doc = MasterCf::parse(input);
    assert_eq!(
        doc.option("s", "inet", "smtpd_banner"),
        Some("hello   world")
    );
    assert_eq!(
        doc.service("s", "inet").unwrap().args(),
        ["-o", "smtpd_banner = hello   world", "-o", "x=1"]
    );
    assert_eq!(
        edited(input, "s", "inet", "smtpd_banner", "hi", Change::Rewritten),
        "s inet n - y - - smtpd -o smtpd_banner=hi -o x=1\n"
    );
}

#[test]
fn attached_and_combined_option_forms_are_read_and_rewritten_in_place() {
    let input = "s inet n - y - - smtpd -osmtpd_x=1 -vo smtpd_y=2 -vosmtpd_z=3\n";
    let doc = MasterCf::parse(input);
    let s = doc.service("s", "inet").unwrap();
    assert_eq!(
        s.options().collect::<Vec<_>>(),
        [("smtpd_x", "1"), ("smtpd_y", "2"), ("smtpd_z", "3")]
    );
    // Attached values are rewritten in the separate form every reader agrees on.
    assert_eq!(
        edited(input, "s", "inet", "smtpd_x", "9", Change::Rewritten),
        "s inet n - y - - smtpd -o smtpd_x=9 -vo smtpd_y=2 -vosmtpd_z=3\n"
    );
    assert_eq!(
        edited(input, "s", "inet", "smtpd_y", "9", Change::Rewritten),
        "s inet n - y - - smtpd -osmtpd_x=1 -vo smtpd_y=9 -vosmtpd_z=3\n"
    );
    assert_eq!(
        edited(input, "s", "inet", "smtpd_z", "9", Change::Rewritten),
        "s inet n - y - - smtpd -osmtpd_x=1 -vo smtpd_y=2 -vo smtpd_z=9\n"
    );
}

#[test]
fn options_are_read_as_the_daemons_getopt_reads_them() {
    // postconf -P would split `-osyslog_name=…` again at the `o` of "syslog"; the daemon
    // (getopt) takes everything after `-o`.
    let doc = MasterCf::parse("s inet n - y - - smtpd -osyslog_name=postfix/x\n");
    assert_eq!(doc.option("s", "inet", "syslog_name"), Some("postfix/x"));
    // `-s` takes a value, so `2` is not the first non-option: new options go at the end.
    assert_eq!(
        edited(
            "s inet n - y - - smtpd -s 2\n",
            "s",
            "inet",
            "a",
            "b",
            Change::Added
        ),
        "s inet n - y - - smtpd -s 2\n  -o a=b\n"
    );
    // Options end at `--` and at a lone `-`.
    assert_eq!(
        edited(
            "s unix - n n - - pipe -- -o a=1\n",
            "s",
            "unix",
            "a",
            "2",
            Change::Added
        ),
        "s unix - n n - - pipe -o a=2 -- -o a=1\n"
    );
    assert_eq!(
        MasterCf::parse("s unix - n n - - x - -o a=1\n").option("s", "unix", "a"),
        None
    );
    // master(8) unwraps only whole `{ }` arguments, so the daemon gets `{ a = 1 }` here and
    // cannot split it: not an option.
    assert_eq!(
        MasterCf::parse("s inet n - y - - smtpd -o{ a = 1 }\n").option("s", "inet", "a"),
        None
    );
}

#[test]
fn repeated_option_last_one_wins_and_is_the_one_rewritten() {
    let input = "s inet n - y - - smtpd\n  -o a=1\n  -o a=2\n";
    assert_eq!(MasterCf::parse(input).option("s", "inet", "a"), Some("2"));
    assert_eq!(
        edited(input, "s", "inet", "a", "3", Change::Rewritten),
        "s inet n - y - - smtpd\n  -o a=1\n  -o a=3\n"
    );
}

#[test]
fn repeated_service_the_last_entry_is_edited() {
    let input = "s inet n - y - - smtpd\ns inet n - y - - smtpd\n";
    assert_eq!(
        edited(input, "s", "inet", "a", "1", Change::Added),
        "s inet n - y - - smtpd\ns inet n - y - - smtpd\n  -o a=1\n"
    );
}

#[test]
fn brace_value_spanning_lines_is_overridden_by_a_later_option() {
    let input = "s inet n - y - - smtpd\n  -o { smtpd_banner = a\n   b }\n";
    assert_eq!(
        MasterCf::parse(input).option("s", "inet", "smtpd_banner"),
        Some("a   b")
    );
    assert_eq!(
        edited(input, "s", "inet", "smtpd_banner", "x", Change::Rewritten),
        "s inet n - y - - smtpd\n  -o { smtpd_banner = a\n   b }\n   -o smtpd_banner=x\n"
    );
}

#[test]
fn comments_and_blank_lines_inside_an_entry_are_kept_and_skipped() {
    let input = "s inet n - y - - smtpd\n# note\n\n  -o a=1\n#  -o b=2\nt unix - - y - - x\n";
    let doc = MasterCf::parse(input);
    assert_eq!(doc.option("s", "inet", "a"), Some("1"));
    assert_eq!(doc.option("s", "inet", "b"), None);
    assert_eq!(
        edited(input, "s", "inet", "b", "3", Change::Added),
        "s inet n - y - - smtpd\n# note\n\n  -o a=1\n  -o b=3\n#  -o b=2\nt unix - - y - - x\n"
    );
}

#[test]
fn crlf_file_gets_crlf_lines() {
    let input = "s inet n - y - - smtpd\r\n\t-o a=1\r\nt unix - - y - - x\r\n";
    assert_eq!(
        edited(input, "s", "inet", "b", "2", Change::Added),
        "s inet n - y - - smtpd\r\n\t-o a=1\r\n\t-o b=2\r\nt unix - - y - - x\r\n"
    );
    assert_eq!(
        edited(input, "s", "inet", "a", "9", Change::Rewritten),
        "s inet n - y - - smtpd\r\n\t-o a=9\r\nt unix - - y - - x\r\n"
    );
}

#[test]
fn no_final_newline_gets_one_before_the_new_line() {
    assert_eq!(
        edited(
            "s inet n - y - - smtpd",
            "s",
            "inet",
            "a",
            "1",
            Change::Added
        ),
        "s inet n - y - - smtpd\n  -o a=1\n"
    );
}

#[test]
fn set_option_is_idempotent() {
    let mut doc = MasterCf::parse(STOCK_MASTER);
    doc.set_option("smtp", "inet", "smtpd_milters", "inet:127.0.0.1:8891")
        .unwrap();
    let once = doc.to_string();
    assert_eq!(
        doc.set_option("smtp", "inet", "smtpd_milters", "inet:127.0.0.1:8891")
            .unwrap(),
        Change::Unchanged
    );
    assert_eq!(doc.to_string(), once);
    let mut again = MasterCf::parse(&once);
    assert_eq!(
        again
            .set_option("smtp", "inet", "smtpd_milters", "inet:127.0.0.1:8891")
            .unwrap(),
        Change::Unchanged
    );
}

#[test]
fn lines_that_are_not_entries_are_kept_and_ignored() {
    let input = "  -o orphan=1\nshort line\nsmtp inet n - y - - smtpd\n";
    let doc = MasterCf::parse(input);
    assert_eq!(
        doc.services().map(|s| s.name()).collect::<Vec<_>>(),
        ["smtp"]
    );
    assert_eq!(doc.to_string(), input);
}

#[test]
fn missing_service_is_an_error() {
    let mut doc = MasterCf::parse(STOCK_MASTER);
    let err = doc.set_option("submission", "inet", "a", "b").unwrap_err();
    assert_eq!(
        err,
        EditError::NoSuchService {
            service: "submission".into(),
            kind: "inet".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "master.cf has no `submission/inet` service"
    );
    assert!(doc.set_option("smtp", "unix-dgram", "a", "b").is_err());
    assert_eq!(doc.to_string(), STOCK_MASTER);
}

#[test]
fn values_and_names_that_would_break_the_entry_are_refused() {
    let mut doc = MasterCf::parse(STOCK_MASTER);
    let cases = [
        ("a b", ValueProblem::Whitespace),
        ("a\u{a0}b", ValueProblem::Whitespace),
        ("a\tb", ValueProblem::ControlCharacter),
        ("a\nsmtp", ValueProblem::ControlCharacter),
        ("{a", ValueProblem::UnbalancedBraces),
        ("a}", ValueProblem::UnbalancedBraces),
    ];
    for (value, problem) in cases {
        assert_eq!(
            doc.set_option("smtp", "inet", "x", value).unwrap_err(),
            EditError::InvalidValue {
                name: "x".into(),
                value: value.into(),
                problem
            }
        );
    }
    assert!(matches!(
        doc.set_option("smtp", "inet", "a=b", "c"),
        Err(EditError::InvalidName { .. })
    ));
    assert_eq!(doc.to_string(), STOCK_MASTER);
    // Balanced braces and `$` are fine.
    doc.set_option("smtp", "inet", "syslog_name", "postfix/${service_name}")
        .unwrap();
}

#[test]
fn entry_with_an_unclosed_brace_is_refused_unchanged() {
    let input = "s inet n - y - - smtpd -o {unclosed\n";
    let mut doc = MasterCf::parse(input);
    let err = doc.set_option("s", "inet", "a", "b").unwrap_err();
    assert_eq!(
        err,
        EditError::MalformedEntry {
            service: "s".into(),
            kind: "inet".into(),
            line: 1
        }
    );
    assert_eq!(doc.to_string(), input);
}
