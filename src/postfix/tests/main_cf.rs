//! main.cf: exact text after each kind of edit, reading rules, input validation.

use super::STOCK_MAIN;
use crate::postfix::{Change, EditError, MainCf, Shadowed, ValueProblem};

/// Parses `input`, applies `sets`, checks each reported change, returns the text.
fn edited(input: &str, sets: &[(&str, &str, Change)]) -> String {
    let mut doc = MainCf::parse(input);
    for (name, value, change) in sets {
        assert_eq!(doc.set(name, value).unwrap(), *change, "set {name}");
        assert_eq!(doc.get_raw(name), Some(*value), "{name} reads back");
    }
    doc.to_string()
}

const MILTERS: &str = "\n# Added by mailsetup\n\
    smtpd_milters = local:opendkim/opendkim.sock\n\
    non_smtpd_milters = $smtpd_milters\n\
    milter_default_action = accept\n\
    milter_protocol = 6\n";

fn set_milters(doc: &mut MainCf) {
    for (name, value) in [
        ("smtpd_milters", "local:opendkim/opendkim.sock"),
        ("non_smtpd_milters", "$smtpd_milters"),
        ("milter_default_action", "accept"),
        ("milter_protocol", "6"),
    ] {
        assert_eq!(doc.set(name, value).unwrap(), Change::Added);
    }
}

#[test]
fn stock_file_round_trips() {
    assert_eq!(MainCf::parse(STOCK_MAIN).to_string(), STOCK_MAIN);
}

#[test]
fn stock_file_reads_like_postconf_n() {
    let doc = MainCf::parse(STOCK_MAIN);
    assert_eq!(doc.names().count(), 22);
    assert_eq!(doc.get("inet_protocols").as_deref(), Some("all"));
    assert_eq!(
        doc.get("mydestination").as_deref(),
        Some("$myhostname, vm, localhost.localdomain, , localhost")
    );
    // `relayhost = ` (trailing space) is defined and empty; `#myorigin` is a comment.
    assert_eq!(doc.get_raw("relayhost"), Some(""));
    assert!(doc.defined("relayhost"));
    assert!(!doc.defined("myorigin"));
    assert_eq!(doc.get("myorigin"), None);
    assert_eq!(doc.line_of("inet_protocols"), Some(46));
    let first: Vec<_> = doc.iter().take(2).collect();
    assert_eq!(
        first,
        [
            ("alias_database", "hash:/etc/aliases".to_string()),
            ("alias_maps", "hash:/etc/aliases".to_string())
        ]
    );
}

#[test]
fn stock_set_existing_inet_protocols_rewrites_only_its_line() {
    let out = edited(STOCK_MAIN, &[("inet_protocols", "ipv4", Change::Rewritten)]);
    let head = STOCK_MAIN.strip_suffix("inet_protocols = all\n").unwrap();
    assert_eq!(out, format!("{head}inet_protocols = ipv4\n"));
}

#[test]
fn stock_add_milters_appends_under_one_header() {
    let mut doc = MainCf::parse(STOCK_MAIN);
    set_milters(&mut doc);
    assert_eq!(doc.to_string(), format!("{STOCK_MAIN}{MILTERS}"));
}

#[test]
fn later_run_appends_at_the_end_without_a_second_header() {
    let mut doc = MainCf::parse(STOCK_MAIN);
    set_milters(&mut doc);
    let mut later = MainCf::parse(&doc.to_string());
    assert_eq!(
        later.set("milter_protocol", "6").unwrap(),
        Change::Unchanged
    );
    assert_eq!(
        later.set("myorigin", "/etc/mailname").unwrap(),
        Change::Added
    );
    assert_eq!(
        later.to_string(),
        format!("{STOCK_MAIN}{MILTERS}myorigin = /etc/mailname\n")
    );
}

#[test]
fn setting_current_values_changes_nothing() {
    let mut doc = MainCf::parse(STOCK_MAIN);
    assert_eq!(doc.set("biff", "no").unwrap(), Change::Unchanged);
    // Stock `relayhost = ` has a trailing space: its value is already "".
    assert_eq!(doc.set("relayhost", "").unwrap(), Change::Unchanged);
    assert_eq!(doc.to_string(), STOCK_MAIN);
}

#[test]
fn set_is_idempotent() {
    let mut doc = MainCf::parse(STOCK_MAIN);
    doc.set("inet_protocols", "ipv4").unwrap();
    doc.set("smtpd_milters", "inet:127.0.0.1:8891").unwrap();
    let once = doc.to_string();
    assert_eq!(
        doc.set("inet_protocols", "ipv4").unwrap(),
        Change::Unchanged
    );
    assert_eq!(
        doc.set("smtpd_milters", "inet:127.0.0.1:8891").unwrap(),
        Change::Unchanged
    );
    assert_eq!(doc.to_string(), once);
}

#[test]
fn continuation_lines_are_joined_and_replaced_but_inner_comments_kept() {
    let input = "mynetworks = 127.0.0.0/8\n    [::1]/128\n  # keep me\n\t[::ffff:127.0.0.0]/104\n\
                 relayhost =\n";
    let doc = MainCf::parse(input);
    assert_eq!(
        doc.get("mynetworks").as_deref(),
        Some("127.0.0.0/8 [::1]/128 [::ffff:127.0.0.0]/104")
    );
    assert_eq!(
        doc.get_raw("mynetworks"),
        Some("127.0.0.0/8    [::1]/128\t[::ffff:127.0.0.0]/104")
    );
    assert_eq!(
        edited(input, &[("mynetworks", "127.0.0.0/8", Change::Rewritten)]),
        "mynetworks = 127.0.0.0/8\n  # keep me\nrelayhost =\n"
    );
}

#[test]
fn column0_comments_and_blank_lines_do_not_end_a_continuation() {
    let input = "a = x\n# c\n\n  y\nb = 1\n";
    assert_eq!(MainCf::parse(input).get("a").as_deref(), Some("x y"));
    assert_eq!(
        edited(input, &[("a", "z", Change::Rewritten)]),
        "a = z\n# c\n\nb = 1\n"
    );
}

#[test]
fn tab_indented_definition_is_swallowed_by_the_previous_one() {
    let doc = MainCf::parse("smtpd_milters = x\n\tnon_smtpd_milters = y\n");
    assert_eq!(
        doc.get("smtpd_milters").as_deref(),
        Some("x non_smtpd_milters = y")
    );
    assert!(!doc.defined("non_smtpd_milters"));
}

#[test]
fn duplicates_last_wins_it_is_rewritten_and_the_earlier_one_commented_out() {
    let input = "myhostname = first\nmydomain = x\nmyhostname = second\n  .example\n";
    assert_eq!(
        MainCf::parse(input).get("myhostname").as_deref(),
        Some("second .example")
    );
    assert_eq!(
        edited(input, &[("myhostname", "third", Change::Rewritten)]),
        "# mailsetup: shadowed by line 3: myhostname = first\nmydomain = x\nmyhostname = third\n"
    );
}

/// What `tee -a main.cf` leaves after a tutorial: smtpd_milters twice, and an untouched
/// parameter twice.
const APPENDED_TWICE: &str = "smtpd_relay_restrictions = permit_mynetworks defer_unauth_destination\n\
    smtpd_milters = inet:localhost:8891\n\
    relayhost =\n\
    # DKIM\n\
    smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n\
    smtpd_milters = inet:localhost:8892\n";

#[test]
fn duplicate_smtpd_milters_earlier_line_commented_out_naming_the_effective_line() {
    let mut doc = MainCf::parse(APPENDED_TWICE);
    let ours = "inet:localhost:8892, local:opendkim/opendkim.sock";
    assert_eq!(doc.set("smtpd_milters", ours).unwrap(), Change::Rewritten);
    assert_eq!(
        doc.to_string(),
        "smtpd_relay_restrictions = permit_mynetworks defer_unauth_destination\n\
         # mailsetup: shadowed by line 6: smtpd_milters = inet:localhost:8891\n\
         relayhost =\n\
         # DKIM\n\
         smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n\
         smtpd_milters = inet:localhost:8892, local:opendkim/opendkim.sock\n"
    );
    assert_eq!(
        doc.shadowed(),
        [Shadowed {
            name: "smtpd_milters".into(),
            lines: vec![2],
            effective: 6
        }]
    );
    assert_eq!(doc.get_raw("smtpd_milters"), Some(ours));
    assert_eq!(MainCf::parse(&doc.to_string()), doc, "reads back the same");
}

#[test]
fn duplicate_of_an_untouched_parameter_stays_byte_for_byte() {
    let mut doc = MainCf::parse(APPENDED_TWICE);
    doc.set("milter_protocol", "6").unwrap();
    doc.set("relayhost", "[smtp.example.net]:587").unwrap();
    let out = doc.to_string();
    assert_eq!(
        out,
        "smtpd_relay_restrictions = permit_mynetworks defer_unauth_destination\n\
         smtpd_milters = inet:localhost:8891\n\
         relayhost = [smtp.example.net]:587\n\
         # DKIM\n\
         smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n\
         smtpd_milters = inet:localhost:8892\n\
         \n# Added by mailsetup\nmilter_protocol = 6\n"
    );
    assert_eq!(doc.shadowed(), []);
}

#[test]
fn multi_line_earlier_definition_is_commented_line_by_line() {
    let input = "smtpd_recipient_restrictions = permit_mynetworks,\n\
                 \tpermit_sasl_authenticated,\r\n\
                 \x20 # a note inside\n\
                 \n\
                 \x20   reject_unauth_destination\n\
                 mydomain = example.org\n\
                 smtpd_recipient_restrictions = permit_mynetworks\n";
    let out = edited(
        input,
        &[(
            "smtpd_recipient_restrictions",
            "permit_mynetworks, reject_unauth_destination",
            Change::Rewritten,
        )],
    );
    assert_eq!(
        out,
        "# mailsetup: shadowed by line 7: smtpd_recipient_restrictions = permit_mynetworks,\n\
         #\tpermit_sasl_authenticated,\r\n\
         \x20 # a note inside\n\
         \n\
         #    reject_unauth_destination\n\
         mydomain = example.org\n\
         smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n"
    );
    for line in out.lines().take(5) {
        assert!(
            line.trim_start().is_empty() || line.trim_start().starts_with('#'),
            "{line:?}"
        );
    }
}

#[test]
fn three_definitions_two_commented_out_both_naming_the_last() {
    let input = "myhostname = a.example\nmyhostname = b.example\n  # keep\nbiff = no\n\
                 myhostname = c.example\n\tcontinued\nrelayhost =\n";
    let mut doc = MainCf::parse(input);
    doc.set("myhostname", "mail.example.org").unwrap();
    assert_eq!(
        doc.to_string(),
        "# mailsetup: shadowed by line 5: myhostname = a.example\n\
         # mailsetup: shadowed by line 5: myhostname = b.example\n  # keep\nbiff = no\n\
         myhostname = mail.example.org\nrelayhost =\n"
    );
    assert_eq!(
        doc.shadowed(),
        [Shadowed {
            name: "myhostname".into(),
            lines: vec![1, 2],
            effective: 5
        }]
    );
}

#[test]
fn line_numbers_in_shadow_comments_follow_later_edits() {
    // Setting inet_protocols last removes its continuation lines, which are above the
    // definitions in effect of myhostname and mydomain.
    let input = "myhostname = a\nmydomain = x\ninet_protocols = all\n  ipv6\n  ipv4\n\
                 mydomain = y\nmyhostname = b\n";
    let mut doc = MainCf::parse(input);
    doc.set("myhostname", "m.example").unwrap();
    doc.set("mydomain", "example.org").unwrap();
    doc.set("inet_protocols", "ipv4").unwrap();
    assert_eq!(
        doc.to_string(),
        "# mailsetup: shadowed by line 5: myhostname = a\n\
         # mailsetup: shadowed by line 4: mydomain = x\n\
         inet_protocols = ipv4\nmydomain = example.org\nmyhostname = m.example\n"
    );
    let lines: Vec<_> = doc
        .shadowed()
        .into_iter()
        .map(|s| (s.lines, s.effective))
        .collect();
    assert_eq!(lines, [(vec![1], 5), (vec![2], 4)]);
}

#[test]
fn shadow_comments_below_removed_lines_keep_their_place() {
    // smtpd_milters' comment sits below myhostname, whose continuation lines go later.
    let input = "myhostname = a\n  b\n  c\nsmtpd_milters = x\nsmtpd_milters = y\n";
    let mut doc = MainCf::parse(input);
    doc.set("smtpd_milters", "z").unwrap();
    doc.set("myhostname", "m.example").unwrap();
    assert_eq!(
        doc.to_string(),
        "myhostname = m.example\n# mailsetup: shadowed by line 3: smtpd_milters = x\n\
         smtpd_milters = z\n"
    );
}

#[test]
fn crlf_duplicate_keeps_its_line_endings_when_commented() {
    let input = "smtpd_milters = a\r\n  b\r\nsmtpd_milters = c\r\n";
    assert_eq!(
        edited(input, &[("smtpd_milters", "d", Change::Rewritten)]),
        "# mailsetup: shadowed by line 3: smtpd_milters = a\r\n#  b\r\nsmtpd_milters = d\r\n"
    );
}

#[test]
fn duplicates_are_commented_out_also_when_the_last_already_has_the_value() {
    let input = "smtpd_milters = a\nsmtpd_milters = local:opendkim/opendkim.sock\n";
    let mut doc = MainCf::parse(input);
    let change = doc.set("smtpd_milters", "local:opendkim/opendkim.sock");
    assert_eq!(change.unwrap(), Change::Rewritten);
    assert_eq!(
        doc.to_string(),
        "# mailsetup: shadowed by line 2: smtpd_milters = a\n\
         smtpd_milters = local:opendkim/opendkim.sock\n"
    );
    let change = doc.set("smtpd_milters", "local:opendkim/opendkim.sock");
    assert_eq!(change.unwrap(), Change::Unchanged, "then defined once");
}

#[test]
fn the_last_definition_holding_the_value_keeps_its_form() {
    let input = "milter_protocol=2\nmilter_protocol=6\n  \n";
    assert_eq!(
        edited(input, &[("milter_protocol", "6", Change::Rewritten)]),
        "# mailsetup: shadowed by line 2: milter_protocol=2\nmilter_protocol=6\n  \n"
    );
}

#[test]
fn crlf_file_keeps_crlf_in_rewritten_and_new_lines() {
    let input = "# c\r\nmyhostname = a\r\n  b\r\nrelayhost = \r\n";
    let doc = MainCf::parse(input);
    assert_eq!(doc.get("myhostname").as_deref(), Some("a b"));
    assert_eq!(doc.get_raw("relayhost"), Some(""));
    assert_eq!(
        edited(
            input,
            &[
                ("myhostname", "mail.example.org", Change::Rewritten),
                ("smtpd_milters", "inet:127.0.0.1:8891", Change::Added),
            ]
        ),
        "# c\r\nmyhostname = mail.example.org\r\nrelayhost = \r\n\
         \r\n# Added by mailsetup\r\nsmtpd_milters = inet:127.0.0.1:8891\r\n"
    );
}

#[test]
fn mostly_lf_file_with_a_stray_crlf_line_gets_lf() {
    let input = "a = 1\r\nb = 2\nc = 3\n";
    assert_eq!(
        edited(input, &[("d", "4", Change::Added)]),
        "a = 1\r\nb = 2\nc = 3\n\n# Added by mailsetup\nd = 4\n"
    );
}

#[test]
fn no_final_newline_gets_one_before_appending() {
    assert_eq!(
        edited(
            "myhostname = a\nmydomain = b",
            &[("relayhost", "", Change::Added)]
        ),
        "myhostname = a\nmydomain = b\n\n# Added by mailsetup\nrelayhost = \n"
    );
    assert_eq!(
        edited("mydomain = b\r\nx = y", &[("relayhost", "", Change::Added)]),
        "mydomain = b\r\nx = y\r\n\r\n# Added by mailsetup\r\nrelayhost = \r\n"
    );
}

#[test]
fn rewriting_the_unterminated_last_line_keeps_it_unterminated() {
    assert_eq!(
        edited(
            "myhostname = a\nmydomain = b",
            &[("mydomain", "c", Change::Rewritten)]
        ),
        "myhostname = a\nmydomain = c"
    );
}

#[test]
fn appending_to_an_empty_file_or_one_ending_blank_adds_no_extra_blank_line() {
    assert_eq!(
        edited("", &[("a", "b", Change::Added)]),
        "# Added by mailsetup\na = b\n"
    );
    assert_eq!(
        edited("a = 1\n\n", &[("b", "2", Change::Added)]),
        "a = 1\n\n# Added by mailsetup\nb = 2\n"
    );
}

#[test]
fn hash_after_a_value_is_part_of_the_value() {
    let input = "inet_protocols = ipv4 # trailing comment?\n";
    assert_eq!(
        MainCf::parse(input).get("inet_protocols").as_deref(),
        Some("ipv4 # trailing comment?")
    );
    assert_eq!(
        edited(input, &[("inet_protocols", "ipv4", Change::Rewritten)]),
        "inet_protocols = ipv4\n"
    );
    assert_eq!(
        edited("", &[("smtpd_banner", "$myhostname #1", Change::Added)]),
        "# Added by mailsetup\nsmtpd_banner = $myhostname #1\n"
    );
}

#[test]
fn commented_out_parameter_is_left_alone_and_the_setting_appended() {
    let input = "#myorigin = /etc/mailname\n";
    assert_eq!(
        edited(input, &[("myorigin", "example.org", Change::Added)]),
        "#myorigin = /etc/mailname\n\n# Added by mailsetup\nmyorigin = example.org\n"
    );
}

#[test]
fn name_value_without_spaces_and_equals_on_a_continuation_line() {
    let doc = MainCf::parse("biff=no\nmydomain\n  = late\n");
    assert_eq!(doc.get("biff").as_deref(), Some("no"));
    assert_eq!(doc.get("mydomain").as_deref(), Some("late"));
    assert_eq!(
        edited(
            "mydomain\n  = late\n",
            &[("mydomain", "x", Change::Rewritten)]
        ),
        "mydomain = x\n"
    );
}

#[test]
fn lines_postfix_rejects_or_discards_define_nothing_and_are_kept() {
    let input = "  orphan = 1\ngarbage\n=x\nmyhostname = a\x00b c\n";
    let doc = MainCf::parse(input);
    assert_eq!(doc.names().collect::<Vec<_>>(), ["myhostname"]);
    // Postfix reads a C string: text after a NUL is ignored.
    assert_eq!(doc.get("myhostname").as_deref(), Some("a"));
    assert_eq!(doc.to_string(), input);
}

#[test]
fn invalid_names_are_refused_and_nothing_changes() {
    let mut doc = MainCf::parse(STOCK_MAIN);
    for name in ["", "-a", "a b", "a\nb", "a=b", "é", "#x"] {
        assert_eq!(
            doc.set(name, "x"),
            Err(EditError::InvalidName {
                name: name.to_string()
            })
        );
    }
    assert_eq!(doc.to_string(), STOCK_MAIN);
    // a parameter derived from a master.cf service name keeps the service's `-`
    assert_eq!(doc.set("policyd-spf_time_limit", "3600"), Ok(Change::Added));
    assert_eq!(doc.get("policyd-spf_time_limit").as_deref(), Some("3600"));
}

#[test]
fn values_that_would_break_the_file_are_refused() {
    let mut doc = MainCf::parse(STOCK_MAIN);
    let cases = [
        ("a\nmydomain = evil", ValueProblem::ControlCharacter),
        ("a\rb", ValueProblem::ControlCharacter),
        ("a\tb", ValueProblem::ControlCharacter),
        ("a\0b", ValueProblem::ControlCharacter),
        ("a\u{7f}", ValueProblem::ControlCharacter),
        (" a", ValueProblem::SurroundingWhitespace),
        ("a ", ValueProblem::SurroundingWhitespace),
        ("a\u{a0}", ValueProblem::SurroundingWhitespace),
    ];
    for (value, problem) in cases {
        let err = doc.set("inet_protocols", value).unwrap_err();
        assert_eq!(
            err,
            EditError::InvalidValue {
                name: "inet_protocols".into(),
                value: value.into(),
                problem
            }
        );
    }
    assert_eq!(doc.to_string(), STOCK_MAIN);
}

#[test]
fn error_messages_name_the_problem() {
    let mut doc = MainCf::parse("");
    assert_eq!(
        doc.set("a b", "x").unwrap_err().to_string(),
        "invalid parameter name `a b`: use only letters, digits and `_` (and `-` after the \
         first character)"
    );
    assert_eq!(
        doc.set("myhostname", "a\nb").unwrap_err().to_string(),
        "invalid value `a\\nb` for `myhostname`: \
         it contains a control character (line break, tab, ...)"
    );
}

#[test]
fn comment_out_earlier_keeps_the_last_definition_as_it_is() {
    let input = "non_smtpd_milters = inet:localhost:12301\nbiff = no\n\
                 non_smtpd_milters = $smtpd_milters,\n\tinet:localhost:11332\n";
    let mut doc = MainCf::parse(input);
    assert_eq!(
        doc.comment_out_earlier("non_smtpd_milters"),
        Change::Rewritten
    );
    assert_eq!(
        doc.to_string(),
        "# mailsetup: shadowed by line 3: non_smtpd_milters = inet:localhost:12301\nbiff = no\n\
         non_smtpd_milters = $smtpd_milters,\n\tinet:localhost:11332\n"
    );
    let text = doc.to_string();
    assert_eq!(
        doc.comment_out_earlier("non_smtpd_milters"),
        Change::Unchanged
    );
    assert_eq!(doc.comment_out_earlier("biff"), Change::Unchanged);
    assert_eq!(doc.comment_out_earlier("relayhost"), Change::Unchanged);
    assert_eq!(doc.to_string(), text);
}
