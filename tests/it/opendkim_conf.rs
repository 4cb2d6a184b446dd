//! opendkim.conf editor: round trips, exact edits on Debian's stock file, idempotence, rejection.

use mailsetup::opendkim::{Applied, EditError, OpendkimConf};
use proptest::prelude::*;

use crate::support::fixture_text;

const STOCK: &str = fixture_text!("debian12/etc/opendkim.conf");
const HEADER: &str = "# Added by mailsetup";

fn conf(text: &str) -> OpendkimConf {
    OpendkimConf::parse(text)
}

#[test]
fn stock_file_round_trips_and_reads() {
    let c = conf(STOCK);
    assert_eq!(c.to_string(), STOCK);
    assert_eq!(c.get("Socket"), Some("local:/run/opendkim/opendkim.sock"));
    assert_eq!(c.get("socket"), Some("local:/run/opendkim/opendkim.sock"));
    assert_eq!(c.get("UMask"), Some("007"));
    assert_eq!(c.get("Canonicalization"), Some("relaxed/simple"));
    assert_eq!(c.get("TrustAnchorFile"), Some("/usr/share/dns/root.key"));
    assert_eq!(c.get("LogWhy"), None, "#LogWhy is commented out");
    assert_eq!(c.get("InternalHosts"), None);
    let names: Vec<&str> = c.definitions().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "Syslog",
            "SyslogSuccess",
            "Canonicalization",
            "OversignHeaders",
            "UserID",
            "UMask",
            "Socket",
            "PidFile",
            "TrustAnchorFile"
        ]
    );
}

#[test]
fn get_follows_opendkim_line_rules() {
    let c =
        conf("Socket a # first\n  socket\tb\t# indented, lower case\r\nMode sv#x\nSubDomains\n");
    assert_eq!(
        c.get("SOCKET"),
        Some("b"),
        "last definition wins, case-insensitive"
    );
    assert_eq!(
        c.get("Mode"),
        Some("sv"),
        "# ends the value even without a space"
    );
    assert_eq!(c.get("SubDomains"), Some(""));
    assert_eq!(
        conf("Socket a\rb\n").get("Socket"),
        Some("a"),
        "CR ends the line"
    );
    assert_eq!(
        conf("Socket\u{b}a\n").get("Socket"),
        None,
        "\\v is not a separator"
    );
}

#[test]
fn set_existing_socket_on_stock_file() {
    let mut c = conf(STOCK);
    let r = c.set("Socket", "local:/var/spool/postfix/opendkim/opendkim.sock");
    assert_eq!(r, Ok(Applied::Rewritten));
    let expected = STOCK.replace(
        "\nSocket\t\t\tlocal:/run/opendkim/opendkim.sock\n",
        "\nSocket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock\n",
    );
    assert_ne!(expected, STOCK);
    assert_eq!(c.to_string(), expected);
}

#[test]
fn set_all_on_stock_file_gives_exact_text() {
    let mut c = conf(STOCK);
    let r = c.set_all(
        HEADER,
        &[
            ("Socket", "local:/var/spool/postfix/opendkim/opendkim.sock"),
            ("Canonicalization", "relaxed/relaxed"),
            ("UMask", "007"),
            ("KeyTable", "/etc/opendkim/KeyTable"),
            ("SigningTable", "refile:/etc/opendkim/SigningTable"),
            ("InternalHosts", "refile:/etc/opendkim/TrustedHosts"),
            ("ExternalIgnoreList", "refile:/etc/opendkim/TrustedHosts"),
            ("Mode", "sv"),
            ("LogWhy", "yes"),
        ],
    );
    use Applied::*;
    assert_eq!(
        r,
        Ok(vec![
            Rewritten, Rewritten, Unchanged, Appended, Appended, Appended, Appended, Appended,
            Appended
        ])
    );
    let expected = STOCK
        .replace(
            "\nSocket\t\t\tlocal:/run/opendkim/opendkim.sock\n",
            "\nSocket\t\t\tlocal:/var/spool/postfix/opendkim/opendkim.sock\n",
        )
        .replace(
            "\nCanonicalization\trelaxed/simple\n",
            "\nCanonicalization\trelaxed/relaxed\n",
        )
        + "\n# Added by mailsetup\n\
           KeyTable\t\t/etc/opendkim/KeyTable\n\
           SigningTable\t\trefile:/etc/opendkim/SigningTable\n\
           InternalHosts\t\trefile:/etc/opendkim/TrustedHosts\n\
           ExternalIgnoreList\trefile:/etc/opendkim/TrustedHosts\n\
           Mode\t\t\tsv\n\
           LogWhy\t\t\tyes\n";
    assert_eq!(c.to_string(), expected);

    // A second run with the same settings changes nothing and adds no second header.
    let before = c.to_string();
    let again = c.set_all(
        HEADER,
        &[
            ("Socket", "local:/var/spool/postfix/opendkim/opendkim.sock"),
            ("Mode", "sv"),
        ],
    );
    assert_eq!(again, Ok(vec![Unchanged, Unchanged]));
    assert_eq!(c.to_string(), before);
    assert_eq!(c.to_string().matches(HEADER).count(), 1);
}

#[test]
fn later_run_extends_existing_block() {
    let mut c = conf("Syslog yes\n");
    c.set_all(HEADER, &[("Mode", "sv")]).expect("valid");
    let operator = format!("{c}\n# operator's own\nAutoRestart yes\n");
    let mut c = conf(&operator);
    assert_eq!(
        c.set_all(HEADER, &[("Mode", "s"), ("LogWhy", "yes")]),
        Ok(vec![Applied::Rewritten, Applied::Appended])
    );
    assert_eq!(
        c.to_string(),
        "Syslog yes\n\n# Added by mailsetup\nMode\t\t\ts\nLogWhy\t\t\tyes\n\n# operator's own\nAutoRestart yes\n"
    );
}

#[test]
fn set_without_final_newline_and_on_empty_file() {
    let mut c = conf("Syslog yes");
    assert_eq!(c.set("Mode", "sv"), Ok(Applied::Appended));
    assert_eq!(c.to_string(), "Syslog yes\nMode\t\t\tsv\n");

    let mut c = conf("Syslog yes");
    c.set_all(HEADER, &[("Mode", "sv")]).expect("valid");
    assert_eq!(
        c.to_string(),
        "Syslog yes\n\n# Added by mailsetup\nMode\t\t\tsv\n"
    );

    let mut c = conf("");
    c.set_all(HEADER, &[("Mode", "sv")]).expect("valid");
    assert_eq!(c.to_string(), "# Added by mailsetup\nMode\t\t\tsv\n");

    let mut c = conf("Syslog yes\n\n");
    c.set_all(HEADER, &[("Mode", "sv")]).expect("valid");
    assert_eq!(
        c.to_string(),
        "Syslog yes\n\n# Added by mailsetup\nMode\t\t\tsv\n",
        "no second blank line"
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let mut c = conf("Syslog yes\r\nSocket a\r\n");
    assert_eq!(c.set("Socket", "b"), Ok(Applied::Rewritten));
    c.set_all(HEADER, &[("Mode", "sv")]).expect("valid");
    assert_eq!(
        c.to_string(),
        "Syslog yes\r\nSocket b\r\n\r\n# Added by mailsetup\r\nMode\t\t\tsv\r\n"
    );
    assert_eq!(c.set("Socket", "b"), Ok(Applied::Unchanged));

    let mut c = conf("Syslog yes\r\nUMask 007");
    c.set("Mode", "sv").expect("valid");
    assert_eq!(c.to_string(), "Syslog yes\r\nUMask 007\r\nMode\t\t\tsv\r\n");
}

#[test]
fn rewrite_keeps_layout_and_comment() {
    let mut c = conf("  Socket  local:/a   # old socket\nKeyTable\t/x\n");
    c.set("Socket", "inet:8891@localhost").expect("valid");
    assert_eq!(
        c.to_string(),
        "  Socket  inet:8891@localhost   # old socket\nKeyTable\t/x\n"
    );

    let mut c = conf("Socket\t# fill me in\n");
    c.set("Socket", "local:/x").expect("valid");
    assert_eq!(c.to_string(), "Socket\tlocal:/x # fill me in\n");

    let mut c = conf("Socket");
    c.set("Socket", "local:/x").expect("valid");
    assert_eq!(c.to_string(), "Socket\t\t\tlocal:/x");

    let mut c = conf("Socket x#c\n");
    assert_eq!(c.set("Socket", "x"), Ok(Applied::Unchanged));
    assert_eq!(c.to_string(), "Socket x#c\n");
}

#[test]
fn rewrite_uses_canonical_spelling_for_init_script() {
    // Debian's init script: awk '$1 == "Socket"'; a lower-case name would hide the socket from it.
    let mut c = conf("socket\tlocal:/a\n");
    assert_eq!(c.set("Socket", "local:/a"), Ok(Applied::Rewritten));
    assert_eq!(c.to_string(), "Socket\tlocal:/a\n");
    assert_eq!(c.set("Socket", "local:/a"), Ok(Applied::Unchanged));
}

#[test]
fn duplicates_rewrite_only_the_effective_one() {
    let mut c = conf("Socket a\n#Socket c\nSocket b\nMode v\n");
    c.set("Socket", "z").expect("valid");
    assert_eq!(c.to_string(), "Socket a\n#Socket c\nSocket z\nMode v\n");
    let mut c = conf("Syslog yes\n");
    let r = c.set_all(HEADER, &[("Mode", "v"), ("mode", "sv")]);
    assert_eq!(r, Ok(vec![Applied::Appended, Applied::Appended]));
    assert_eq!(
        c.to_string(),
        "Syslog yes\n\n# Added by mailsetup\nmode\t\t\tsv\n"
    );
}

#[test]
fn bad_keys_values_and_headers_are_rejected_without_change() {
    let mut c = conf(STOCK);
    for key in ["", "1Mode", "Mo de", "Mo_de", "Mode\n", "Modé", "-Mode"] {
        assert_eq!(
            c.set(key, "sv"),
            Err(EditError::BadKey {
                key: key.to_string()
            }),
            "{key:?}"
        );
    }
    for value in [
        "",
        " sv",
        "sv ",
        "s#v",
        "a\nSocket b",
        "a\tb",
        "a\rb",
        "a\u{2028}b",
        "a\u{85}b",
        "a\u{7f}",
        "a\0b",
    ] {
        assert!(
            matches!(c.set("Mode", value), Err(EditError::BadValue { .. })),
            "{value:?}"
        );
    }
    for header in ["Added by mailsetup", "# a\n# b", "# a\r", "# a ", ""] {
        assert!(
            matches!(
                c.set_all(header, &[("Mode", "sv")]),
                Err(EditError::BadHeader { .. })
            ),
            "{header:?}"
        );
    }
    let r = c.set_all(HEADER, &[("Socket", "local:/ok"), ("Mode", "s#v")]);
    assert!(r.is_err());
    assert_eq!(c.to_string(), STOCK, "a rejected set_all changes nothing");
}

fn text_strategy() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("Socket"),
        Just("socket"),
        Just("Mode"),
        Just("KeyTable"),
        Just(" "),
        Just("\t"),
        Just("#"),
        Just("\r"),
        Just("\n"),
        Just("\r\n"),
        Just("\0"),
        Just("é"),
        Just("local:/x"),
        Just("# Added by mailsetup"),
        Just("\u{b}"),
        Just("a"),
        Just("sv"),
    ];
    prop::collection::vec(frag, 0..40).prop_map(|v| v.concat())
}

fn value_strategy() -> impl Strategy<Value = String> {
    "[a-z0-9:/._@-]{1,8}( [a-z0-9,/.]{1,8})?"
}

proptest! {
    #[test]
    fn any_text_round_trips(text in text_strategy()) {
        prop_assert_eq!(conf(&text).to_string(), text);
    }

    #[test]
    fn any_string_round_trips(text in any::<String>()) {
        prop_assert_eq!(conf(&text).to_string(), text);
    }

    #[test]
    fn set_is_effective_local_and_idempotent(
        text in text_strategy(),
        key in prop::sample::select(vec!["Socket", "Mode", "KeyTable", "LogWhy"]),
        value in value_strategy(),
    ) {
        let before = conf(&text);
        let mut c = before.clone();
        c.set_all(HEADER, &[(key, &value)]).expect("valid input");
        let out = c.to_string();
        let reparsed = conf(&out);
        prop_assert_eq!(reparsed.get(key), Some(value.as_str()));
        for other in ["Socket", "Mode", "KeyTable", "LogWhy", "Syslog"] {
            if !other.eq_ignore_ascii_case(key) {
                prop_assert_eq!(reparsed.get(other), before.get(other));
            }
        }
        let mut again = reparsed.clone();
        prop_assert_eq!(again.set_all(HEADER, &[(key, &value)]), Ok(vec![Applied::Unchanged]));
        prop_assert_eq!(again.to_string(), out);
    }
}
