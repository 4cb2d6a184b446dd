//! Properties over arbitrary input: lossless round trips, and edits that change only what they
//! must, read back, and are idempotent.

use proptest::prelude::*;
use proptest::sample::select;

use super::strategies::{main_file, main_value, master_file, master_value, messy_text};
use crate::postfix::lines::{self, Kind};
use crate::postfix::{Change, EditError, MainCf, MasterCf};

fn any_main_text() -> impl Strategy<Value = String> {
    prop_oneof![messy_text(), main_file()]
}

fn any_master_text() -> impl Strategy<Value = String> {
    prop_oneof![messy_text(), master_file()]
}

/// master.cf text with at least one service most of the time, messy text around it.
fn master_text_with_services() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => master_file(),
        1 => (master_file(), messy_text()).prop_map(|(a, b)| a + &b),
        1 => (messy_text(), master_file()).prop_map(|(a, b)| format!("{a}\n{b}")),
    ]
}

fn main_name() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "myhostname",
                "mydomain",
                "relayhost",
                "smtpd_banner",
                "biff",
                "a"
            ][..]
        )
        .prop_map(str::to_string),
        "[A-Za-z0-9_]{1,6}",
    ]
}

/// The text `MainCf::set(name, value)` must produce when `name` is defined: the start line of
/// its last definition (`old_line`, 0-based) replaced, its continuation lines dropped, its
/// comment/blank lines kept (all of it kept when it already has `value`); each earlier
/// definition of `name` commented out (its start line as `# mailsetup: shadowed by line N: …`,
/// its continuation lines with `#` in front); every other line unchanged.
fn expected_rewrite(old: &str, old_line: usize, name: &str, value: &str) -> String {
    let lines = lines::split(old);
    let same = MainCf::parse(old).get_raw(name) == Some(value);
    let end = (old_line + 1..lines.len())
        .find(|&i| lines[i].kind() == Kind::Start)
        .unwrap_or(lines.len());
    let earlier: Vec<_> = lines::logical_lines(&lines)
        .into_iter()
        .filter(|l| l.first() < old_line)
        .filter(|l| lines::split_nameval(&l.text).is_some_and(|(n, _)| n == name))
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let text = if i == old_line && !same {
            format!("{name} = {value}{}", line.cr())
        } else if !same && i > old_line && i < end && line.kind() == Kind::Continuation {
            continue;
        } else if earlier.iter().any(|l| l.first() == i) {
            format!(
                "# mailsetup: shadowed by line {}: {}",
                old_line + 1,
                line.text
            )
        } else if earlier.iter().any(|l| l.continuations().contains(&i)) {
            format!("#{}", line.text)
        } else {
            line.text.clone()
        };
        out.push_str(&text);
        if line.newline {
            out.push('\n');
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn main_cf_round_trips_any_text(text in any_main_text()) {
        let doc = MainCf::parse(&text);
        prop_assert_eq!(doc.to_string(), text);
    }

    #[test]
    fn master_cf_round_trips_any_text(text in any_master_text()) {
        let doc = MasterCf::parse(&text);
        prop_assert_eq!(doc.to_string(), text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn main_set_changes_only_its_own_lines(
        text in any_main_text(),
        name in main_name(),
        value in main_value(),
    ) {
        let mut doc = MainCf::parse(&text);
        let before = doc.clone();
        let change = doc.set(&name, &value).unwrap();
        let out = doc.to_string();

        // It reads back, here and after re-parsing the text; nothing else changed meaning.
        prop_assert_eq!(doc.get_raw(&name), Some(value.as_str()));
        prop_assert_eq!(&MainCf::parse(&out), &doc);
        let others_before: Vec<_> = before.names().filter(|n| *n != name)
            .map(|n| (n.to_string(), before.get_raw(n).map(str::to_string))).collect();
        let others_after: Vec<_> = doc.names().filter(|n| *n != name)
            .map(|n| (n.to_string(), doc.get_raw(n).map(str::to_string))).collect();
        prop_assert_eq!(others_before, others_after);

        // Only the lines it must.
        match (change, before.line_of(&name)) {
            (Change::Unchanged, _) => prop_assert_eq!(&out, &text),
            (Change::Rewritten, Some(line)) => {
                prop_assert_eq!(&out, &expected_rewrite(&text, line - 1, &name, &value));
            }
            (Change::Added, None) => {
                let tail = out.strip_prefix(text.as_str()).unwrap();
                let body = format!("{name} = {value}");
                let mut allowed = Vec::new();
                for e in ["\n", "\r\n"] {
                    let header = format!("# Added by mailsetup{e}");
                    for t in ["", "\n", "\r\n"] {
                        for h in [String::new(), header.clone(), format!("{e}{header}")] {
                            allowed.push(format!("{t}{h}{body}{e}"));
                        }
                    }
                }
                prop_assert!(allowed.into_iter().any(|a| a == tail), "unexpected tail {:?}", tail);
            }
            (change, line) => prop_assert!(false, "{:?} with line {:?}", change, line),
        }

        // Idempotent.
        prop_assert_eq!(doc.set(&name, &value).unwrap(), Change::Unchanged);
        prop_assert_eq!(doc.to_string(), out);
    }

    #[test]
    fn master_set_option_changes_only_one_line_or_adds_one(
        text in master_text_with_services(),
        pick in any::<prop::sample::Index>(),
        name in select(&["smtpd_a", "smtpd_milters", "syslog_name"][..]),
        value in master_value(),
    ) {
        let mut doc = MasterCf::parse(&text);
        let services: Vec<_> = doc
            .services()
            .map(|s| (s.name().to_string(), s.kind().to_string()))
            .collect();
        prop_assume!(!services.is_empty());
        let (svc, kind) = &services[pick.index(services.len())];
        let before = doc.clone();
        let change = match doc.set_option(svc, kind, name, &value) {
            Err(EditError::MalformedEntry { .. }) => {
                prop_assert_eq!(&doc, &before);
                return Ok(());
            }
            other => other.unwrap(),
        };
        let out = doc.to_string();

        prop_assert_eq!(doc.option(svc, kind, name), Some(value.as_str()));
        prop_assert_eq!(&MasterCf::parse(&out), &doc);
        let idx = services.iter().rposition(|s| s == &(svc.clone(), kind.clone())).unwrap();
        for (i, (now, was)) in doc.services().zip(before.services()).enumerate() {
            prop_assert_eq!(now.name(), was.name());
            prop_assert_eq!(now.kind(), was.kind());
            prop_assert_eq!(now.command(), was.command());
            if i != idx {
                prop_assert_eq!(now.args(), was.args());
                let (now_opts, was_opts): (Vec<_>, Vec<_>) =
                    (now.options().collect(), was.options().collect());
                prop_assert_eq!(now_opts, was_opts);
            }
        }
        prop_assert_eq!(doc.services().count(), services.len());

        // One line rewritten, or one line inserted (plus a final newline).
        let old: Vec<&str> = text.split_inclusive('\n').collect();
        let new: Vec<&str> = out.split_inclusive('\n').collect();
        let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
        let suffix = old[prefix..].iter().rev().zip(new[prefix..].iter().rev())
            .take_while(|(a, b)| a == b).count();
        let old_mid = &old[prefix..old.len() - suffix];
        let new_mid = &new[prefix..new.len() - suffix];
        match change {
            Change::Unchanged => prop_assert_eq!(&out, &text),
            _ => {
                prop_assert!(old_mid.len() <= 1 && new_mid.len() <= 2 && !new_mid.is_empty(),
                    "old {:?} new {:?}", old_mid, new_mid);
                if new_mid.len() == 2 {
                    let (was, now) = (old_mid[0], new_mid[0]);
                    let terminated = now == format!("{was}\n") || now == format!("{was}\r\n");
                    prop_assert!(terminated, "{:?} became {:?}", was, now);
                }
                let setting = format!("{name}={value}");
                prop_assert!(new_mid.concat().contains(&setting));
            }
        }

        prop_assert_eq!(doc.set_option(svc, kind, name, &value).unwrap(), Change::Unchanged);
        prop_assert_eq!(doc.to_string(), out);
    }
}
