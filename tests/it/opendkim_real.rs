//! Checks with the real OpenDKIM (`opendkim -n -x <conf>`, postfix-opendkim.md §2.3) that the files
//! these editors write are what OpenDKIM parses. Skipped, with a note, when /usr/sbin/opendkim is
//! absent.

use std::path::Path;
use std::process::{Command, Output};

use mailsetup::opendkim::{Ensure, KeyTable, OpendkimConf, SigningTable, TrustedHosts};

use crate::support::fixture_text;

const STOCK: &str = fixture_text!("debian12/etc/opendkim.conf");
const OPENDKIM: &str = "/usr/sbin/opendkim";
const ROOT_KEY: &str = "/usr/share/dns/root.key";

fn opendkim_present() -> bool {
    let present = Path::new(OPENDKIM).exists();
    if !present {
        eprintln!("note: {OPENDKIM} not installed; skipping the real-OpenDKIM check");
    }
    present
}

fn check(conf: &Path) -> Output {
    Command::new(OPENDKIM)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C")
        .arg("-n")
        .arg("-x")
        .arg(conf)
        .output()
        .expect("run opendkim")
}

/// Writes the tables and an edited stock conf into `dir`; returns the conf path.
fn stage(dir: &Path, crlf: bool) -> std::path::PathBuf {
    let d = dir.display();
    let mut kt = KeyTable::new_with_header("# KeyTable: managed by mailsetup").expect("header");
    let key_path = format!("{d}/keys/example.test/mail.private");
    assert_eq!(
        kt.ensure_key("example.test", "mail", &key_path),
        Ok(Ensure::Added)
    );
    let mut st =
        SigningTable::new_with_header("# SigningTable: managed by mailsetup").expect("header");
    assert_eq!(st.ensure_domain("example.test", "mail"), Ok(Ensure::Added));
    let mut th =
        TrustedHosts::new_with_header("# TrustedHosts: managed by mailsetup").expect("header");
    for h in ["127.0.0.1", "::1", "localhost"] {
        assert_eq!(th.ensure(h), Ok(Ensure::Added));
    }
    std::fs::write(dir.join("KeyTable"), kt.to_string()).expect("write");
    std::fs::write(dir.join("SigningTable"), st.to_string()).expect("write");
    std::fs::write(dir.join("TrustedHosts"), th.to_string()).expect("write");

    let stock = if crlf {
        STOCK.replace('\n', "\r\n")
    } else {
        STOCK.to_string()
    };
    let mut conf = OpendkimConf::parse(&stock);
    let socket = format!("local:{d}/opendkim.sock");
    let key_table = format!("{d}/KeyTable");
    let signing_table = format!("refile:{d}/SigningTable");
    let trusted = format!("refile:{d}/TrustedHosts");
    let pid = format!("{d}/opendkim.pid");
    let mut entries = vec![
        ("Socket", socket.as_str()),
        ("PidFile", pid.as_str()),
        ("Canonicalization", "relaxed/relaxed"),
        ("KeyTable", key_table.as_str()),
        ("SigningTable", signing_table.as_str()),
        ("InternalHosts", trusted.as_str()),
        ("ExternalIgnoreList", trusted.as_str()),
        ("Mode", "sv"),
        ("LogWhy", "yes"),
        ("UMask", "007"),
    ];
    let empty_anchor = format!("{d}/root.key");
    if !Path::new(ROOT_KEY).exists() {
        eprintln!(
            "note: {ROOT_KEY} missing (dns-root-data not installed); using an empty trust anchor file"
        );
        std::fs::write(&empty_anchor, "").expect("write");
        entries.push(("TrustAnchorFile", empty_anchor.as_str()));
    }
    conf.set_all("# Added by mailsetup", &entries)
        .expect("valid settings");
    let path = dir.join("opendkim.conf");
    std::fs::write(&path, conf.to_string()).expect("write");
    path
}

#[test]
fn opendkim_accepts_edited_stock_conf_and_tables() {
    if !opendkim_present() {
        return;
    }
    for crlf in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = stage(dir.path(), crlf);
        let out = check(&conf);
        assert_eq!(
            out.status.code(),
            Some(0),
            "crlf={crlf}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn opendkim_rejects_a_bad_line() {
    if !opendkim_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = stage(dir.path(), false);
    let mut text = std::fs::read_to_string(&conf).expect("read");
    text.push_str("NoSuchOption\t\tyes\n");
    std::fs::write(&conf, &text).expect("write");
    let out = check(&conf);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized parameter"));
}

/// OpenDKIM names the KeyTable path it failed to open, so its error shows the exact value it
/// parsed from our rewritten line (trailing comment kept, not part of the value).
#[test]
fn opendkim_reads_the_value_we_rewrote() {
    if !opendkim_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let conf_path = stage(dir.path(), false);
    let mut text = std::fs::read_to_string(&conf_path).expect("read");
    text = text.replace(
        &format!("KeyTable\t\t{}/KeyTable\n", dir.path().display()),
        "KeyTable\t\t/old/KeyTable   # the operator's note\n",
    );
    let mut conf = OpendkimConf::parse(&text);
    let missing = format!("{}/missing/KeyTable", dir.path().display());
    conf.set("KeyTable", &missing).expect("valid");
    assert!(
        conf.to_string()
            .contains(&format!("KeyTable\t\t{missing}   # the operator's note\n"))
    );
    std::fs::write(&conf_path, conf.to_string()).expect("write");
    let out = check(&conf_path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains(&format!("{missing}: dkimf_db_open()")),
        "{stderr}"
    );
}

/// A value reaches OpenDKIM whole: a Boolean set through the editor is parsed (an illegal one is
/// reported at the edited line), so no comment or whitespace handling differs between us and it.
#[test]
fn opendkim_sees_boolean_we_wrote() {
    if !opendkim_present() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let conf_path = stage(dir.path(), false);
    let mut conf = OpendkimConf::parse(&std::fs::read_to_string(&conf_path).expect("read"));
    conf.set("Syslog", "maybe").expect("valid text");
    std::fs::write(&conf_path, conf.to_string()).expect("write");
    let out = check(&conf_path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("line 6: illegal value"), "{stderr}");
}

/// `opendkim -n` really opens the tables we named (refile: patterns are compiled): removing one
/// fails, and a regex character our editor refuses breaks OpenDKIM's pattern compile.
#[test]
fn opendkim_opens_the_tables_we_wrote() {
    if !opendkim_present() {
        return;
    }
    for table in ["KeyTable", "SigningTable", "TrustedHosts"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = stage(dir.path(), false);
        std::fs::remove_file(dir.path().join(table)).expect("remove");
        let out = check(&conf);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{table}: {stderr}");
        assert!(
            stderr.contains(&format!("/{table}: dkimf_db_open()")),
            "{stderr}"
        );
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let conf = stage(dir.path(), false);
    let st_path = dir.path().join("SigningTable");
    let mut st = SigningTable::parse(&std::fs::read_to_string(&st_path).expect("read"));
    assert!(
        st.ensure("*@a(.test", "mail._domainkey.a.test").is_err(),
        "editor refuses regex syntax"
    );
    let text = format!("{st}*@a(.test mail._domainkey.a.test\n");
    std::fs::write(&st_path, text).expect("write");
    let out = check(&conf);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("Error compiling regular expression"),
        "{stderr}"
    );
}
