//! proptest strategies: messy text, and main.cf / master.cf files in every layout Postfix accepts.

use proptest::prelude::*;
use proptest::sample::select;

/// Pieces that matter to the parsers: line breaks, blanks, `#`, `=`, braces, NUL, `\v`, words.
const FRAGMENTS: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "#",
    "=",
    " = ",
    "{",
    "}",
    ",",
    "-o",
    "-vo",
    "\0",
    "\x0b",
    "é",
    "myhostname",
    "mydomain",
    "smtp",
    "inet",
    "unix",
    "n",
    "y",
    "-",
    "smtpd",
    "pipe",
    "a=b",
];

/// Any text, biased towards what the parsers look at.
pub fn messy_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                4 => select(FRAGMENTS).prop_map(str::to_string),
                1 => "[a-z_]{1,8}",
                1 => any::<char>().prop_map(String::from),
            ],
            0..80
        )
        .prop_map(|v| v.concat()),
    ]
}

/// A value `MainCf::set` accepts: no control characters, no surrounding whitespace.
pub fn main_value() -> impl Strategy<Value = String> {
    "[a-z0-9#={}$:/,. é]{0,14}".prop_map(|s| s.trim().to_string())
}

/// A value `MasterCf::set_option` accepts: no whitespace, balanced braces.
pub fn master_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9#=$:/,.é-]{0,12}",
        "[a-z0-9:/.]{0,5}".prop_map(|s| format!("${{{s}}}")),
    ]
}

/// Parameters `postconf -n` lists and whose odd values it does not reject.
pub const KNOWN: &[&str] = &[
    "relayhost",
    "smtpd_banner",
    "mynetworks",
    "alias_maps",
    "biff",
    "smtpd_milters",
    "milter_protocol",
    "readme_directory",
    "recipient_delimiter",
];

fn ending() -> impl Strategy<Value = &'static str> {
    select(&["\n", "\n", "\n", "\r\n"][..])
}

fn blanks() -> impl Strategy<Value = &'static str> {
    select(&[" ", "  ", "\t", " \t"][..])
}

fn word() -> impl Strategy<Value = String> {
    "[a-z0-9.:/#,=-]{1,8}"
}

/// Up to 3 more words, each after blanks.
fn words() -> impl Strategy<Value = String> {
    prop::collection::vec((blanks(), word()), 0..4).prop_map(|v| {
        v.into_iter()
            .map(|(b, w)| format!("{b}{w}"))
            .collect::<String>()
    })
}

/// One main.cf line (without its ending).
fn main_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (select(KNOWN), select(&["=", " = ", "  =\t", " =", "= "][..]), word(), words(),
              select(&["", " ", "\t"][..]))
            .prop_map(|(n, eq, w, rest, tail)| format!("{n}{eq}{w}{rest}{tail}")),
        2 => (blanks(), word(), words()).prop_map(|(b, w, rest)| format!("{b}{w}{rest}")),
        1 => (select(&["", "  ", "\t"][..]), "[ a-z=#]{0,10}")
            .prop_map(|(i, t)| format!("{i}#{t}")),
        1 => select(&["", " ", "\t", "\r"][..]).prop_map(str::to_string),
    ]
}

/// A main.cf that `postconf` reads without a fatal error, in any layout.
pub fn main_file() -> impl Strategy<Value = String> {
    (
        (select(KNOWN), word()).prop_map(|(n, w)| format!("{n} = {w}")),
        prop::collection::vec((main_line(), ending()), 0..14),
        any::<bool>(),
    )
        .prop_map(|(first, lines, last_newline)| assemble(first, lines, last_newline))
}

fn assemble(first: String, lines: Vec<(String, &str)>, last_newline: bool) -> String {
    let mut text = format!("{first}\n");
    for (line, end) in lines {
        text.push_str(&line);
        text.push_str(end);
    }
    if !last_newline {
        text.truncate(text.trim_end_matches(['\n', '\r']).len());
    }
    text
}

/// One daemon argument or a non-option argument, as master.cf may write them.
fn master_arg() -> impl Strategy<Value = String> {
    let name = || select(&["smtpd_a", "smtpd_b", "syslog_name"][..]);
    let value = "[a-z0-9.:/=]{0,6}";
    prop_oneof![
        4 => (name(), value).prop_map(|(n, v)| format!("-o {n}={v}")),
        // Attached: no `o` after the option letter, which `postconf -P` would misread.
        1 => (select(&["smtpd_a", "smtpd_b"][..]), "[a-np-z0-9.:/=]{0,6}")
            .prop_map(|(n, v)| format!("-o{n}={v}")),
        1 => (name(), value).prop_map(|(n, v)| format!("-vo {n}={v}")),
        1 => (name(), value, value).prop_map(|(n, a, b)| format!("-o {{ {n} = {a}  {b} }}")),
        1 => Just("-v".to_string()),
        1 => Just("flags=R".to_string()),
    ]
}

fn master_entry(index: usize) -> impl Strategy<Value = Vec<String>> {
    let head = (
        select(&["inet", "unix"][..]),
        select(&["-", "y", "n"][..]),
        select(&["-", "y", "n"][..]),
        select(&["-", "60"][..]),
        select(&["smtpd", "smtp", "pipe"][..]),
        blanks(),
        prop::collection::vec(master_arg(), 0..3),
    )
        .prop_map(move |(kind, p, c, w, cmd, sep, args)| {
            let mut line = [
                format!("s{index}"),
                kind.into(),
                p.into(),
                "-".into(),
                c.into(),
            ]
            .join(sep);
            line.push_str(&format!("{sep}{w}{sep}-{sep}{cmd}"));
            for arg in args {
                line.push_str(&format!(" {arg}"));
            }
            line
        });
    let extra = prop_oneof![
        3 => (blanks(), prop::collection::vec(master_arg(), 1..3))
            .prop_map(|(b, args)| format!("{b}{}", args.join(" "))),
        1 => "#[ a-z=-]{0,10}",
        1 => select(&["", "  "][..]).prop_map(str::to_string),
    ];
    (head, prop::collection::vec(extra, 0..4)).prop_map(|(head, mut rest)| {
        rest.insert(0, head);
        rest
    })
}

/// A master.cf that `postconf` reads without a fatal error: 1 to 5 services (`s0`, `s1`, …)
/// with options in every form, comments and blank lines, any line endings.
pub fn master_file() -> impl Strategy<Value = String> {
    (1..6usize)
        .prop_flat_map(|n| {
            let entries: Vec<_> = (0..n).map(master_entry).collect();
            (entries, prop::collection::vec(ending(), 40), any::<bool>())
        })
        .prop_map(|(entries, endings, last_newline)| {
            let lines = entries.into_iter().flatten();
            let mut text: String = lines
                .zip(endings.into_iter().cycle())
                .map(|(l, e)| format!("{l}{e}"))
                .collect();
            if !last_newline {
                text.truncate(text.trim_end_matches(['\n', '\r']).len());
            }
            text
        })
}

/// `postconf` output form of a value: whitespace runs shown as one space (`pcf_print_line`).
pub fn collapse(text: &str) -> String {
    text.split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
