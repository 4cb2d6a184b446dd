//! /etc/default/opendkim editor: round trips, SOCKET= reading and rewriting, and a check with the
//! real /bin/sh that sourcing the file yields what `socket_expanded()` says.

use std::path::Path;
use std::process::Command;

use mailsetup::opendkim::{Applied, DefaultFile, EditError};
use proptest::prelude::*;

use crate::support::fixture_text;

const STOCK: &str = fixture_text!("debian12/etc/default/opendkim");

/// `$SOCKET` after `. file` in /bin/sh with an empty environment; `None` if /bin/sh is absent.
fn shell_socket(text: &str) -> Option<String> {
    if !Path::new("/bin/sh").exists() {
        eprintln!("note: /bin/sh absent, shell check skipped");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("opendkim");
    std::fs::write(&file, text).expect("write");
    let out = Command::new("/bin/sh")
        .env_clear()
        .arg("-c")
        .arg(r#". "$1" && printf %s "$SOCKET""#)
        .arg("sh")
        .arg(&file)
        .output()
        .expect("run /bin/sh");
    assert!(
        out.status.success(),
        "sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

#[test]
fn stock_file_round_trips_and_reads() {
    let f = DefaultFile::parse(STOCK);
    assert_eq!(f.to_string(), STOCK);
    assert_eq!(f.socket(), Some("local:$RUNDIR/opendkim.sock"));
    assert_eq!(
        f.socket_expanded().as_deref(),
        Some("local:/run/opendkim/opendkim.sock")
    );
    if let Some(sh) = shell_socket(STOCK) {
        assert_eq!(sh, "local:/run/opendkim/opendkim.sock");
    }
}

#[test]
fn set_socket_on_stock_file() {
    let mut f = DefaultFile::parse(STOCK);
    assert_eq!(
        f.set_socket("local:/var/spool/postfix/opendkim/opendkim.sock"),
        Ok(Applied::Rewritten)
    );
    let expected = STOCK.replace(
        "\nSOCKET=local:$RUNDIR/opendkim.sock\n",
        "\nSOCKET=local:/var/spool/postfix/opendkim/opendkim.sock\n",
    );
    assert_ne!(expected, STOCK);
    assert_eq!(f.to_string(), expected);
    assert_eq!(
        f.socket(),
        Some("local:/var/spool/postfix/opendkim/opendkim.sock")
    );
    assert_eq!(
        f.set_socket("local:/var/spool/postfix/opendkim/opendkim.sock"),
        Ok(Applied::Unchanged)
    );
    assert_eq!(f.to_string(), expected);
    if let Some(sh) = shell_socket(&expected) {
        assert_eq!(sh, "local:/var/spool/postfix/opendkim/opendkim.sock");
    }
}

#[test]
fn quoted_exported_and_commented_assignments() {
    let text = "RUNDIR='/r d'\nexport SOCKET=\"local:${RUNDIR}/s\"  # comment\n#SOCKET=inet:1\n";
    let mut f = DefaultFile::parse(text);
    assert_eq!(f.socket(), Some("local:${RUNDIR}/s"));
    assert_eq!(f.socket_expanded().as_deref(), Some("local:/r d/s"));
    assert_eq!(
        shell_socket(text).as_deref().unwrap_or("local:/r d/s"),
        "local:/r d/s"
    );

    assert_eq!(f.set_socket("inet:8891@localhost"), Ok(Applied::Rewritten));
    assert_eq!(
        f.to_string(),
        "RUNDIR='/r d'\nexport SOCKET=inet:8891@localhost  # comment\n#SOCKET=inet:1\n"
    );

    let mut f = DefaultFile::parse("SOCKET='local:/x'\n");
    assert_eq!(
        f.set_socket("local:/x"),
        Ok(Applied::Unchanged),
        "same value, only quoted"
    );
    assert_eq!(f.to_string(), "SOCKET='local:/x'\n");

    let f = DefaultFile::parse("RUNDIR=/a\nSOCKET='local:$RUNDIR/x'\n");
    assert_eq!(
        f.socket_expanded().as_deref(),
        Some("local:$RUNDIR/x"),
        "no expansion in single quotes"
    );

    let f = DefaultFile::parse("SOCKET=local:$RUNDIR/x\nRUNDIR=/late\n");
    assert_eq!(
        f.socket_expanded().as_deref(),
        Some("local:/x"),
        "only earlier RUNDIR counts"
    );
}

#[test]
fn assignments_inside_quotes_are_not_assignments() {
    let text = "DAEMON_OPTS=\"-x\nSOCKET=evil\"\nSOCKET=local:/ok\n";
    let f = DefaultFile::parse(text);
    assert_eq!(f.socket(), Some("local:/ok"));
    let f = DefaultFile::parse("X='\nSOCKET=inet:1\n'\n");
    assert_eq!(f.socket(), None);
    if let Some(sh) = shell_socket("X='\nSOCKET=inet:1\n'\n") {
        assert_eq!(sh, "");
    }
}

#[test]
fn appends_when_absent() {
    let mut f = DefaultFile::parse("RUNDIR=/run/opendkim");
    assert_eq!(f.set_socket("inet:8891@localhost"), Ok(Applied::Appended));
    assert_eq!(
        f.to_string(),
        "RUNDIR=/run/opendkim\nSOCKET=inet:8891@localhost\n"
    );
    let mut f = DefaultFile::parse("");
    f.set_socket("inet:8891").expect("valid");
    assert_eq!(f.to_string(), "SOCKET=inet:8891\n");
}

#[test]
fn unsafe_values_and_files_are_refused() {
    let mut f = DefaultFile::parse(STOCK);
    for bad in [
        "",
        "local:/x y",
        "$(reboot)",
        "a;b",
        "`id`",
        "'a'",
        "a\nb",
        "local:/é",
        "a\"b",
        "~root",
    ] {
        assert!(
            matches!(f.set_socket(bad), Err(EditError::BadValue { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(f.to_string(), STOCK);

    for text in [
        "X='open\n",
        "X=\"open\n",
        "X=a \\\n",
        "SOCKET=a touch /tmp/x\n",
        "SOCKET='a\nb'\n",
    ] {
        let mut f = DefaultFile::parse(text);
        assert!(
            matches!(f.set_socket("local:/x"), Err(EditError::UnsafeShell { .. })),
            "{text:?}"
        );
        assert_eq!(f.to_string(), text);
    }
}

proptest! {
    #[test]
    fn any_string_round_trips(text in any::<String>()) {
        prop_assert_eq!(DefaultFile::parse(&text).to_string(), text);
    }

    #[test]
    fn shell_like_text_round_trips_and_set_is_idempotent(
        parts in prop::collection::vec(prop_oneof![
            Just("SOCKET="), Just("RUNDIR="), Just("export "), Just("'"), Just("\""), Just("\\"),
            Just("#"), Just(" "), Just("\n"), Just("\r\n"), Just("$RUNDIR"), Just("local:/x"),
        ], 0..30),
        value in "[A-Za-z0-9:/._@-]{1,12}",
    ) {
        let text = parts.concat();
        let f = DefaultFile::parse(&text);
        prop_assert_eq!(f.to_string(), text.clone());
        let mut g = f.clone();
        if g.set_socket(&value).is_ok() {
            let out = g.to_string();
            let reparsed = DefaultFile::parse(&out);
            prop_assert_eq!(reparsed.socket(), Some(value.as_str()));
            let mut h = reparsed.clone();
            prop_assert_eq!(h.set_socket(&value), Ok(Applied::Unchanged));
            prop_assert_eq!(h.to_string(), out);
        } else {
            prop_assert_eq!(g.to_string(), text);
        }
    }
}

/// `$SOCKET` as /bin/sh sees it after sourcing `text`, or `None` when sh is absent or fails.
fn shell_socket_lenient(text: &str) -> Option<String> {
    if !Path::new("/bin/sh").exists() {
        return None;
    }
    let dir = tempfile::tempdir().ok()?;
    let file = dir.path().join("opendkim");
    std::fs::write(&file, text).ok()?;
    let out = Command::new("/bin/sh")
        .env_clear()
        .current_dir(dir.path())
        .arg("-c")
        .arg(r#". "$1" >/dev/null 2>&1; printf '\n@@SOCKET=%s' "$SOCKET""#)
        .arg("sh")
        .arg(&file)
        .output()
        .ok()?;
    let stdout = String::from_utf8(out.stdout).ok()?;
    // A syntax error aborts the whole `sh -c` script: no marker, no verdict.
    stdout
        .rsplit_once("\n@@SOCKET=")
        .map(|(_, v)| v.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever `set_socket` accepts, the real shell then reads exactly that value.
    #[test]
    fn shell_reads_what_set_socket_wrote(
        parts in prop::collection::vec(prop_oneof![
            Just("SOCKET="), Just("RUNDIR="), Just("export "), Just("'"), Just("\""), Just("\\"),
            Just("#"), Just(" "), Just("\n"), Just("\n"), Just("$RUNDIR"), Just("local:/x"), Just(";"),
        ], 0..30),
        value in "[A-Za-z0-9:/._@-]{1,12}",
    ) {
        let mut f = DefaultFile::parse(&parts.concat());
        if f.set_socket(&value).is_ok()
            && let Some(sh) = shell_socket_lenient(&f.to_string())
        {
            prop_assert_eq!(sh, value, "file: {:?}", f.to_string());
        }
    }
}

/// Found by the property above: a `\` continuation inside a word carries the next line's
/// `#` into that word (`$RUNDIR#SOCKET=A` for the shell), so the `SOCKET=` line after it is
/// no assignment and the editor must not take it for one.
#[test]
fn a_continuation_inside_a_word_is_not_followed_by_a_comment() {
    let text = "$RUNDIR\\\n#\\\nSOCKET=A\n";
    let mut f = DefaultFile::parse(text);
    assert!(f.set_socket("B").is_err(), "{f}");
    assert_eq!(f.to_string(), text, "nothing changed");
    if let Some(sh) = shell_socket_lenient(text) {
        assert_eq!(sh, "", "the shell never assigns SOCKET here");
    }
}
