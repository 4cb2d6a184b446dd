//! The real `postconf` (Postfix 3.7) reads what we read, and reads back what we wrote.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;

use super::strategies::{KNOWN, collapse, main_file, master_file};
use super::{STOCK_MAIN, STOCK_MASTER, postconf};
use crate::postfix::{MainCf, MasterCf};

const MILTER_SETTINGS: &[(&str, &str)] = &[
    ("inet_protocols", "ipv4"),
    ("smtpd_milters", "local:opendkim/opendkim.sock"),
    ("non_smtpd_milters", "$smtpd_milters"),
    ("milter_default_action", "accept"),
    ("milter_protocol", "6"),
    ("myhostname", "mail.example.org"),
];

/// `postconf -n` as a map (without `config_directory`, which `-c` adds).
fn postconf_n(main: &str) -> Option<(BTreeMap<String, String>, String)> {
    let out = postconf(main, STOCK_MASTER, &["-n"])?;
    let map = out
        .stdout
        .lines()
        .filter_map(|l| {
            l.split_once(" = ")
                .or_else(|| l.strip_suffix(" =").map(|n| (n, "")))
        })
        .filter(|(n, _)| *n != "config_directory")
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    Some((map, out.stderr))
}

/// What we read, restricted to the names `postconf -n` lists.
fn ours(doc: &MainCf, names: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    doc.iter()
        .filter(|(n, _)| names.contains_key(*n))
        .map(|(n, v)| (n.to_string(), v))
        .collect()
}

/// Sets `settings`, then checks with postconf: every value we read equals postconf's, each set
/// value reads back with `-h`, and no warning appears except `allowed` ones.
fn check_main(input: &str, settings: &[(&str, &str)], allowed_warning: Option<&str>) {
    let Some((before, _)) = postconf_n(input) else {
        return;
    };
    assert_eq!(
        ours(&MainCf::parse(input), &before),
        before,
        "reading {input:?}"
    );

    let mut doc = MainCf::parse(input);
    for (name, value) in settings {
        doc.set(name, value).unwrap();
    }
    let text = doc.to_string();
    let (after, stderr) = postconf_n(&text).unwrap();
    assert_eq!(ours(&doc, &after), after, "after editing:\n{text}");
    assert_eq!(
        after.len(),
        doc.names().count(),
        "postconf -n lists every name we define"
    );
    for line in stderr.lines() {
        let ok = allowed_warning.is_some_and(|w| line.contains(w));
        assert!(ok, "unexpected postconf output {line:?} for:\n{text}");
    }
    let names: Vec<&str> = settings.iter().map(|(n, _)| *n).collect();
    let mut args = vec!["-h"];
    args.extend(&names);
    let shown = postconf(&text, STOCK_MASTER, &args).unwrap().stdout;
    let expected: String = settings.iter().map(|(_, v)| format!("{v}\n")).collect();
    assert_eq!(shown, expected, "postconf -h {names:?}");
}

#[test]
fn postconf_reads_back_milter_settings_on_the_stock_file() {
    check_main(STOCK_MAIN, MILTER_SETTINGS, None);
}

#[test]
fn postconf_reads_back_settings_on_continuation_lines() {
    let input = "mynetworks = 127.0.0.0/8\n    [::1]/128\n  # c\n\t[::ffff:127.0.0.0]/104\n\
                 # col0\n\n  10.0.0.0/8\nmyhostname = old.example\n\tcontinued\n";
    check_main(input, MILTER_SETTINGS, None);
    check_main(input, &[("mynetworks", "127.0.0.0/8")], None);
}

/// The earlier definitions of the names set are commented out: postconf no longer warns
/// "overriding earlier entry".
#[test]
fn postconf_reads_back_settings_on_duplicates_and_no_longer_warns() {
    let input = "myhostname = first.example\nmydomain = example.org\nmyhostname = second.example\n\
                 inet_protocols = all\ninet_protocols = ipv6\n";
    check_main(input, MILTER_SETTINGS, None);
}

#[test]
fn postconf_reads_back_settings_on_a_crlf_file() {
    let input = "# c\r\nmyhostname = a.example\r\n  \r\n  b\r\nmydomain = example.org\r\n\
                 inet_protocols = all\r\n";
    check_main(input, MILTER_SETTINGS, None);
}

#[test]
fn postconf_reads_back_settings_without_a_final_newline() {
    check_main(
        "mydomain = example.org\nrelayhost = b",
        MILTER_SETTINGS,
        None,
    );
    check_main(
        "mydomain = example.org\ninet_protocols = all",
        MILTER_SETTINGS,
        None,
    );
}

#[test]
fn postconf_reads_back_settings_next_to_a_hash_in_a_value() {
    let input = "smtpd_banner = $myhostname ESMTP # not a comment\n";
    check_main(input, MILTER_SETTINGS, None);
}

/// `postconf -P` as we would print it: per service in file order, its options sorted by name,
/// the last of a repeated name, whitespace collapsed.
fn our_p_listing(doc: &MasterCf) -> String {
    let mut out = String::new();
    for service in doc.services() {
        let options: BTreeMap<&str, &str> = service.options().collect();
        for (name, value) in options {
            let line = format!("{}/{}/{name} = {value}", service.name(), service.kind());
            out.push_str(&collapse(&line));
            out.push('\n');
        }
    }
    out
}

fn postconf_p(master: &str) -> Option<String> {
    postconf(STOCK_MAIN, master, &["-P"]).map(|o| o.stdout)
}

#[test]
fn postconf_reads_back_an_option_added_to_the_stock_smtp_service() {
    let mut doc = MasterCf::parse(STOCK_MASTER);
    doc.set_option(
        "smtp",
        "inet",
        "smtpd_milters",
        "local:opendkim/opendkim.sock",
    )
    .unwrap();
    doc.set_option("relay", "unix", "syslog_name", "postfix/relay")
        .unwrap();
    let text = doc.to_string();
    let Some(out) = postconf(STOCK_MAIN, &text, &["-P", "smtp/inet/smtpd_milters"]) else {
        return;
    };
    assert_eq!(
        out.stdout,
        "smtp/inet/smtpd_milters = local:opendkim/opendkim.sock\n"
    );
    assert_eq!(out.stderr, "");
    assert_eq!(postconf_p(&text).unwrap(), our_p_listing(&doc));
    let m = postconf(STOCK_MAIN, &text, &["-M", "smtp/inet"]).unwrap();
    assert_eq!(
        m.stdout,
        "smtp       inet  n       -       y       -       -       smtpd \
         -o smtpd_milters=local:opendkim/opendkim.sock\n"
    );
}

#[test]
fn postconf_sees_an_option_added_to_a_pipe_service_as_a_daemon_option() {
    let mut doc = MasterCf::parse(STOCK_MASTER);
    doc.set_option(
        "maildrop",
        "unix",
        "maildrop_destination_recipient_limit",
        "1",
    )
    .unwrap();
    let text = doc.to_string();
    let Some(out) = postconf(STOCK_MAIN, &text, &["-M", "maildrop/unix"]) else {
        return;
    };
    assert_eq!(
        out.stdout,
        "maildrop   unix  -       n       n       -       -       pipe \
         -o maildrop_destination_recipient_limit=1 flags=DRXhu user=vmail \
         argv=/usr/bin/maildrop -d ${recipient}\n"
    );
    assert_eq!(postconf_p(&text).unwrap(), our_p_listing(&doc));
}

#[test]
fn postconf_reads_back_options_on_awkward_master_files() {
    let inputs = [
        "s inet n - y - - smtpd\r\n\t-o smtpd_a=1\r\nt unix - - y - - smtp\r\n",
        "s inet n - y - - smtpd",
        "s inet n - y - - smtpd -o { smtpd_a = x  y } -osmtpd_b=2 -vo syslog_name=z\n",
        "s inet n - y - - smtpd\n# c\n\n  -o smtpd_a=1\n#  -o smtpd_b=2\n",
        "p unix - n n - - pipe flags=R -o smtpd_a=not_an_option\n",
    ];
    for input in inputs {
        let Some(before) = postconf_p(input) else {
            return;
        };
        let mut doc = MasterCf::parse(input);
        assert_eq!(before, our_p_listing(&doc), "reading {input:?}");
        let (svc, kind) = {
            let s = doc.services().next().unwrap();
            (s.name().to_string(), s.kind().to_string())
        };
        doc.set_option(&svc, &kind, "smtpd_a", "new").unwrap();
        doc.set_option(&svc, &kind, "smtpd_milters", "inet:127.0.0.1:8891")
            .unwrap();
        let text = doc.to_string();
        assert_eq!(
            postconf_p(&text).unwrap(),
            our_p_listing(&doc),
            "after editing:\n{text}"
        );
        assert_eq!(doc.option(&svc, &kind, "smtpd_a"), Some("new"));
    }
}

fn postconf_value() -> impl Strategy<Value = String> {
    "[a-z0-9#=:/,. ]{0,14}".prop_map(|s| s.trim().to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Generated main.cf files in every layout: what we read is what postconf reads, before and
    /// after edits.
    #[test]
    fn postconf_agrees_on_generated_main_cf(
        text in main_file(),
        sets in prop::collection::vec((select(KNOWN), postconf_value()), 0..4),
    ) {
        let Some((before, _)) = postconf_n(&text) else { return Ok(()) };
        let mut doc = MainCf::parse(&text);
        prop_assert_eq!(ours(&doc, &before), before);
        for (name, value) in &sets {
            doc.set(name, value).unwrap();
        }
        let edited = doc.to_string();
        let (after, _) = postconf_n(&edited).unwrap();
        prop_assert_eq!(ours(&doc, &after), after);
        prop_assert_eq!(doc.names().count(), doc.names().filter(|n| KNOWN.contains(n)).count());
    }

    /// Generated master.cf files: `postconf -P` lists exactly our options, before and after
    /// setting one.
    #[test]
    fn postconf_agrees_on_generated_master_cf(
        text in master_file(),
        pick in any::<prop::sample::Index>(),
        name in select(&["smtpd_a", "smtpd_b", "syslog_name"][..]),
        value in "[a-z0-9:/.=]{0,8}",
    ) {
        let Some(before) = postconf_p(&text) else { return Ok(()) };
        let mut doc = MasterCf::parse(&text);
        prop_assert_eq!(&before, &our_p_listing(&doc));
        let services: Vec<_> = doc
            .services()
            .map(|s| (s.name().to_string(), s.kind().to_string()))
            .collect();
        prop_assume!(!services.is_empty());
        let (svc, kind) = &services[pick.index(services.len())];
        doc.set_option(svc, kind, name, &value).unwrap();
        let edited = doc.to_string();
        prop_assert_eq!(postconf_p(&edited).unwrap(), our_p_listing(&doc));
        prop_assert_eq!(doc.option(svc, kind, name), Some(value.as_str()));
    }
}
