//! KeyTable / SigningTable / TrustedHosts editors: round trips, merge semantics, rejection.

use mailsetup::opendkim::tables::MAX_LINE;
use mailsetup::opendkim::{EditError, Ensure, KeyTable, SigningTable, TrustedHosts};
use proptest::prelude::*;

const KT_HEADER: &str = "# KeyTable: managed by mailsetup; operator entries are kept";

#[test]
fn key_table_merge_keeps_operator_entries() {
    let operator = "# operator's keys\nold._domainkey.other.test other.test:old:/etc/dkimkeys/other.private # rotated 2024\n\
                    mail._domainkey.example.test   example.test:mail:/etc/dkimkeys/example.test/mail.private\n";
    let mut kt = KeyTable::parse(operator);
    assert_eq!(kt.to_string(), operator);
    assert_eq!(
        kt.get("old._domainkey.other.test"),
        Some("other.test:old:/etc/dkimkeys/other.private")
    );

    // Same key, same value (whitespace differs): present, nothing changes.
    let r = kt.ensure_key(
        "example.test",
        "mail",
        "/etc/dkimkeys/example.test/mail.private",
    );
    assert_eq!(r, Ok(Ensure::Present));
    assert_eq!(kt.to_string(), operator);

    // Same key, other value: conflict, nothing changes.
    let r = kt.ensure(
        "MAIL._domainkey.example.test",
        "example.test:mail:/elsewhere/mail.private",
    );
    assert_eq!(
        r,
        Ok(Ensure::Conflict {
            existing: "example.test:mail:/etc/dkimkeys/example.test/mail.private".into()
        })
    );
    assert_eq!(kt.to_string(), operator);

    // Missing key: appended, once.
    let r = kt.ensure_key(
        "example.net",
        "s1",
        "/etc/opendkim/keys/example.net/s1.private",
    );
    assert_eq!(r, Ok(Ensure::Added));
    let expected = format!(
        "{operator}s1._domainkey.example.net example.net:s1:/etc/opendkim/keys/example.net/s1.private\n"
    );
    assert_eq!(kt.to_string(), expected);
    assert_eq!(
        kt.ensure_key(
            "example.net",
            "s1",
            "/etc/opendkim/keys/example.net/s1.private"
        ),
        Ok(Ensure::Present)
    );
    assert_eq!(kt.to_string(), expected, "no duplicate");
    assert_eq!(KeyTable::parse(&expected).entries().count(), 3);
}

#[test]
fn first_definition_wins_and_hash_anywhere_is_a_comment() {
    let kt = KeyTable::parse("k a.test:s:/one#/two\nk a.test:s:/three\n  k2   a.test:t:/p  \r\n");
    assert_eq!(kt.get("k"), Some("a.test:s:/one"));
    assert_eq!(
        kt.get("k2"),
        Some("a.test:t:/p"),
        "plain-file tables trim lines, CR included"
    );
    assert_eq!(KeyTable::parse("k\n").get("k"), Some(""));
    let mut kt = KeyTable::parse("k\n");
    assert_eq!(
        kt.ensure("k", "a.test:s:/p"),
        Ok(Ensure::Conflict {
            existing: String::new()
        })
    );
}

#[test]
fn new_file_starts_with_header_and_final_newline_is_added() {
    let mut kt = KeyTable::parse_or_new("", KT_HEADER).expect("valid header");
    assert_eq!(kt.to_string(), format!("{KT_HEADER}\n"));
    kt.ensure_key("example.test", "mail", "/k/mail.private")
        .expect("valid");
    assert_eq!(
        kt.to_string(),
        format!("{KT_HEADER}\nmail._domainkey.example.test example.test:mail:/k/mail.private\n")
    );

    let kt = KeyTable::parse_or_new("x a:b:/c\n", KT_HEADER).expect("valid header");
    assert_eq!(kt.to_string(), "x a:b:/c\n", "existing files get no header");

    let mut st = SigningTable::parse("*@a.test mail._domainkey.a.test");
    assert_eq!(st.ensure_domain("b.test", "mail"), Ok(Ensure::Added));
    assert_eq!(
        st.to_string(),
        "*@a.test mail._domainkey.a.test\n*@b.test mail._domainkey.b.test\n"
    );

    let mut th = TrustedHosts::parse("127.0.0.1\r\n::1");
    th.ensure("10.0.0.0/8").expect("valid");
    assert_eq!(
        th.to_string(),
        "127.0.0.1\r\n::1\r\n10.0.0.0/8\r\n",
        "CRLF style kept"
    );

    assert!(matches!(
        TrustedHosts::new_with_header("no hash"),
        Err(EditError::BadHeader { .. })
    ));
    assert!(matches!(
        SigningTable::parse_or_new("", "# a\nb"),
        Err(EditError::BadHeader { .. })
    ));
}

#[test]
fn signing_table_is_read_as_refile() {
    // In refile: tables an indented line has an empty pattern and is ignored by OpenDKIM.
    let text = "  *@example.test mail._domainkey.example.test\n";
    let mut st = SigningTable::parse(text);
    assert_eq!(st.get("*@example.test"), None);
    assert_eq!(st.ensure_domain("example.test", "mail"), Ok(Ensure::Added));
    assert_eq!(
        st.to_string(),
        format!("{text}*@example.test mail._domainkey.example.test\n")
    );

    let mut st = SigningTable::parse("*@Example.Test\tmail._domainkey.example.test  # ours\n");
    assert_eq!(
        st.ensure_domain("example.test", "mail"),
        Ok(Ensure::Present)
    );
    assert_eq!(
        st.ensure_domain("example.test", "s2"),
        Ok(Ensure::Conflict {
            existing: "mail._domainkey.example.test".into()
        })
    );
}

#[test]
fn trusted_hosts_membership() {
    let text = "# hosts\n127.0.0.1\nLocalHost\n::1 # loopback\n  192.0.2.1\n";
    let mut th = TrustedHosts::parse(text);
    assert_eq!(
        th.entries().collect::<Vec<_>>(),
        ["127.0.0.1", "LocalHost", "::1"]
    );
    assert!(th.contains("localhost"));
    assert!(
        !th.contains("192.0.2.1"),
        "indented line is ignored in refile: form"
    );
    for present in ["127.0.0.1", "localhost", "::1"] {
        assert_eq!(th.ensure(present), Ok(Ensure::Present), "{present}");
    }
    assert_eq!(th.to_string(), text);
    assert_eq!(th.ensure("2001:db8::/32"), Ok(Ensure::Added));
    assert_eq!(th.ensure("2001:DB8::/32"), Ok(Ensure::Present));
    assert_eq!(th.to_string(), format!("{text}2001:db8::/32\n"));
}

#[test]
fn injection_and_malformed_input_is_rejected_without_change() {
    let text = "*@a.test mail._domainkey.a.test\n";
    let mut st = SigningTable::parse(text);
    for key in [
        "",
        "*@a.test|.*",
        "*@a.test #",
        "*@a test",
        "*@a.test\n*",
        "*@(a).test",
        "*@a.test$",
        "*@a.test\u{2028}",
        "a\\.test",
    ] {
        assert!(
            matches!(
                st.ensure(key, "mail._domainkey.a.test"),
                Err(EditError::BadValue { .. })
            ),
            "{key:?}"
        );
    }
    for value in ["", " x", "x ", "x#y", "x\ty", "x\ny"] {
        assert!(
            matches!(
                st.ensure("*@b.test", value),
                Err(EditError::BadValue { .. })
            ),
            "{value:?}"
        );
    }
    assert_eq!(st.to_string(), text);

    let mut kt = KeyTable::parse("");
    for value in [
        "a.test:mail",
        "a.test:mail:relative/key",
        "a.test::/k",
        ":mail:/k",
        "MIIEvQIBADANBg",
    ] {
        assert!(
            matches!(
                kt.ensure("mail._domainkey.a.test", value),
                Err(EditError::BadValue { .. })
            ),
            "{value:?}"
        );
    }
    let mut th = TrustedHosts::parse("");
    for entry in ["", "10.0.0.0/8 #", "a b", "host\u{85}", "x|y"] {
        assert!(
            matches!(th.ensure(entry), Err(EditError::BadValue { .. })),
            "{entry:?}"
        );
    }
    assert_eq!(kt.to_string(), "");
    assert_eq!(th.to_string(), "");
}

#[test]
fn lines_opendkim_would_split_are_refused() {
    let mut kt = KeyTable::parse("");
    let long_path = format!("/{}", "k".repeat(MAX_LINE));
    let r = kt.ensure(
        "mail._domainkey.a.test",
        &format!("a.test:mail:{long_path}"),
    );
    assert!(matches!(
        r,
        Err(EditError::LineTooLong { max: MAX_LINE, .. })
    ));
    // Exactly MAX_LINE bytes is fine.
    let key = "mail._domainkey.a.test";
    let fixed = key.len() + 1 + "a.test:mail:".len();
    let path = format!("/{}", "k".repeat(MAX_LINE - fixed - 1));
    assert_eq!(
        kt.ensure(key, &format!("a.test:mail:{path}")),
        Ok(Ensure::Added)
    );
    assert_eq!(kt.to_string().len(), MAX_LINE + 1);
}

fn table_text() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("*@a.test"),
        Just("k"),
        Just("a.test:s:/p"),
        Just(" "),
        Just("\t"),
        Just("#"),
        Just("\r"),
        Just("\n"),
        Just("\u{b}"),
        Just("\0"),
        Just("é"),
        Just("127.0.0.1"),
    ];
    prop::collection::vec(frag, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn tables_round_trip(text in any::<String>()) {
        prop_assert_eq!(KeyTable::parse(&text).to_string(), text.clone());
        prop_assert_eq!(SigningTable::parse(&text).to_string(), text.clone());
        prop_assert_eq!(TrustedHosts::parse(&text).to_string(), text);
    }

    #[test]
    fn ensure_merges_without_losing_or_duplicating(
        text in table_text(),
        key in prop::sample::select(vec!["*@a.test", "k", "*@b.test"]),
        value in "[a-z0-9._:/]{1,10}( [a-z0-9@.]{1,6})?",
    ) {
        let before = SigningTable::parse(&text);
        let mut st = before.clone();
        let r = st.ensure(key, &value).expect("valid input");
        let out = st.to_string();
        match &r {
            Ensure::Added => {
                prop_assert!(out.starts_with(&text));
                let reparsed = SigningTable::parse(&out);
                prop_assert_eq!(reparsed.get(key), Some(value.as_str()));
            }
            Ensure::Present | Ensure::Conflict { .. } => prop_assert_eq!(&out, &text),
        }
        // Every entry OpenDKIM saw before is still there, in order, with its value.
        let old: Vec<_> = before.entries().collect();
        let reparsed = SigningTable::parse(&out);
        let new: Vec<_> = reparsed.entries().collect();
        prop_assert_eq!(&new[..old.len()], &old[..]);
        prop_assert!(new.len() <= old.len() + 1);
        let mut again = reparsed.clone();
        let second = again.ensure(key, &value).expect("valid input");
        prop_assert_ne!(second, Ensure::Added);
        prop_assert_eq!(again.to_string(), out);
    }
}
