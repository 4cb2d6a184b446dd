//! Zone-file text as data (RFC 1035 §5): a line parsed into a resource record ([`Rr`]), a zone
//! as a list of them ([`Zone`]), the records a piece of prose names ([`records_in`], for a
//! finding's `fix`), and the comparison `check` uses when it shows a record ([`Rr::shown`]).
//! Enough for the zones the tests write and the lines mailsetup prints; not a full parser
//! (no `$INCLUDE`, no multi-line parentheses, no `\DDD` escapes).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::fmt;

/// The record types the tests publish.
const TYPES: &[&str] = &["A", "AAAA", "MX", "TXT", "PTR", "NS", "CNAME", "SOA"];

/// One resource record: the owner absolute (lowercase, no trailing dot), the type
/// (uppercase), the rdata as its fields; for TXT each character-string, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub owner: String,
    pub rtype: String,
    pub rdata: Vec<String>,
}

impl Rr {
    /// A TXT record at `owner` (absolute) holding `value`, in strings of at most 250 bytes.
    pub fn txt(owner: &str, value: &str) -> Rr {
        let rdata = value
            .as_bytes()
            .chunks(250)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        Rr {
            owner: owner.into(),
            rtype: "TXT".into(),
            rdata,
        }
    }

    /// The rdata as `check` shows a record in `found` (and as it compares them): a TXT
    /// record's strings joined; otherwise the fields, lowercase, names without their
    /// trailing dot, separated by one space.
    pub fn shown(&self) -> String {
        if self.rtype == "TXT" {
            self.rdata.concat()
        } else {
            normalized(&self.rdata.join(" "))
        }
    }

    /// Does `found` (one line of a finding's `found`) show this record?
    pub fn is_shown_by(&self, found: &str) -> bool {
        if self.rtype == "TXT" {
            self.shown() == found
        } else {
            self.shown() == normalized(found)
        }
    }

    /// Does `text` (an `expected`, say) show this record's value: contain it (a TXT value
    /// exactly; otherwise ignoring case and trailing dots)?
    pub fn is_named_by(&self, text: &str) -> bool {
        if self.rtype == "TXT" {
            text.contains(&self.shown())
        } else {
            normalized(text).contains(&self.shown())
        }
    }

    /// The record as one zone-file line with an absolute owner.
    pub fn line(&self) -> String {
        let rdata: Vec<String> = if self.rtype == "TXT" {
            self.rdata.iter().map(|s| quote(s)).collect()
        } else {
            self.rdata.clone()
        };
        format!("{}. IN {} {}", self.owner, self.rtype, rdata.join(" "))
    }
}

impl fmt::Display for Rr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// `s` lowercase, each whitespace-separated word without a trailing dot.
fn normalized(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.trim_end_matches('.').to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A character-string in zone-file syntax: quoted, `"` and `\` escaped.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A token of a zone-file line: a bare word or a quoted character-string (unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Word(s) | Token::Quoted(s) => s,
        }
    }

    fn word(&self) -> Option<&str> {
        match self {
            Token::Word(s) => Some(s),
            Token::Quoted(_) => None,
        }
    }
}

/// The tokens of `line`: words and quoted strings (`\x` escapes `x`); a `;` outside quotes
/// starts a comment when `comments`.
fn tokens(line: &str, comments: bool) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == ';' && comments {
            break;
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => s.extend(chars.next()),
                    '"' => break,
                    c => s.push(c),
                }
            }
            out.push(Token::Quoted(s));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' || (c == ';' && comments) {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push(Token::Word(s));
        }
    }
    out
}

/// `name` made absolute under `origin` (`@` is the origin), lowercase, no trailing dot.
fn absolute(name: &str, origin: &str) -> String {
    let name = name.to_ascii_lowercase();
    if name == "@" {
        origin.to_string()
    } else if let Some(abs) = name.strip_suffix('.') {
        abs.to_string()
    } else {
        format!("{name}.{origin}")
    }
}

/// The record of `tokens` from `i` on: `[TTL] [IN] TYPE rdata…` (TTL and class in either
/// order) owned by `owner`; `None` when no known type follows.
fn record_at(tokens: &[Token], mut i: usize, owner: String) -> Option<Rr> {
    while let Some(w) = tokens.get(i).and_then(Token::word) {
        if w.eq_ignore_ascii_case("IN") || w.chars().all(|c| c.is_ascii_digit()) {
            i += 1;
        } else {
            break;
        }
    }
    let rtype = tokens.get(i)?.word()?.to_ascii_uppercase();
    if !TYPES.contains(&rtype.as_str()) {
        return None;
    }
    let rdata = tokens[i + 1..]
        .iter()
        .map(|t| t.text().to_string())
        .collect();
    Some(Rr {
        owner,
        rtype,
        rdata,
    })
}

/// The record of one zone-file line under `origin` (`owner [TTL] [IN] TYPE rdata`; a line that
/// starts with whitespace belongs to `previous`, the owner of the line before). `None` for a
/// blank line, a comment or a directive.
pub fn parse_line(line: &str, origin: &str, previous: Option<&str>) -> Option<Rr> {
    let t = tokens(line, true);
    let first = t.first()?.word()?;
    if first.starts_with('$') {
        return None;
    }
    if line.starts_with(char::is_whitespace) {
        return record_at(&t, 0, previous?.to_string());
    }
    record_at(&t, 1, absolute(first, origin))
}

/// Every record a piece of prose spells in zone-file form, at most one per line, in order:
/// `owner. IN TYPE rdata` anywhere in the line (the owner absolute, ending in a dot; the rdata
/// up to the end of the line), e.g. the record in "ask the provider … to set its reverse DNS
/// to mail.example.org: 10.2.0.192.in-addr.arpa. IN PTR mail.example.org.".
pub fn records_in(text: &str) -> Vec<Rr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = tokens(line, false);
        for i in 1..t.len().saturating_sub(1) {
            let class = t[i].word().is_some_and(|w| w == "IN");
            let owner = t[i - 1].word().filter(|w| w.len() > 1 && w.ends_with('.'));
            if let (true, Some(owner)) = (class, owner) {
                let owner = owner.trim_end_matches('.').to_ascii_lowercase();
                if let Some(rr) = record_at(&t, i, owner) {
                    out.push(rr);
                    break;
                }
            }
        }
    }
    out
}

/// A zone: its origin, its `$TTL`, its records (the SOA among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Lowercase, no trailing dot.
    pub origin: String,
    pub ttl: Option<String>,
    pub records: Vec<Rr>,
}

impl Zone {
    /// Parse zone text with a `$ORIGIN` line (as [`super::dns_server::zone`] writes it, or
    /// `mailsetup records --format zone` prints it).
    pub fn parse(text: &str) -> Zone {
        let mut origin = String::new();
        let mut ttl = None;
        let mut records: Vec<Rr> = Vec::new();
        for line in text.lines() {
            let t = tokens(line, true);
            match t.first().and_then(Token::word) {
                Some("$ORIGIN") => {
                    origin = absolute(t[1].text(), "");
                }
                Some("$TTL") => ttl = Some(t[1].text().to_string()),
                _ => {
                    let previous = records.last().map(|r| r.owner.clone());
                    if let Some(rr) = parse_line(line, &origin, previous.as_deref()) {
                        records.push(rr);
                    }
                }
            }
        }
        assert!(!origin.is_empty(), "zone text without $ORIGIN:\n{text}");
        Zone {
            origin,
            ttl,
            records,
        }
    }

    /// The zone as master-file text for [`super::dns_server::TestDns`].
    pub fn text(&self) -> String {
        let mut out = format!("$ORIGIN {}.\n", self.origin);
        if let Some(ttl) = &self.ttl {
            out.push_str(&format!("$TTL {ttl}\n"));
        }
        for rr in &self.records {
            out.push_str(&rr.line());
            out.push('\n');
        }
        out
    }

    /// Is `name` in this zone (the origin or beneath it)?
    pub fn contains(&self, name: &str) -> bool {
        name == self.origin || name.ends_with(&format!(".{}", self.origin))
    }

    /// The records at `owner` of type `rtype`.
    pub fn at<'a>(&'a self, owner: &'a str, rtype: &'a str) -> impl Iterator<Item = &'a Rr> {
        self.records
            .iter()
            .filter(move |r| r.owner == owner && r.rtype == rtype)
    }

    /// Add `rr` unless the zone has it already (an RRset holds each record once).
    pub fn add(&mut self, rr: Rr) {
        if !self.records.contains(&rr) {
            self.records.push(rr);
        }
    }

    /// A record from a zone-file line relative to this zone's origin, added.
    pub fn add_line(&mut self, line: &str) {
        let rr = parse_line(line, &self.origin.clone(), None)
            .unwrap_or_else(|| panic!("not a record: {line}"));
        self.add(rr);
    }

    /// Remove the records for which `drop` holds; how many went.
    pub fn remove(&mut self, drop: impl Fn(&Rr) -> bool) -> usize {
        let before = self.records.len();
        self.records.retain(|r| !drop(r));
        before - self.records.len()
    }

    /// The SOA serial.
    pub fn serial(&self) -> u32 {
        self.soa().rdata[2].parse().unwrap()
    }

    /// Bump the SOA serial by one, as a DNS panel does on every change.
    pub fn bump(&mut self) {
        let serial = self.serial() + 1;
        let origin = self.origin.clone();
        let soa = self
            .records
            .iter_mut()
            .find(|r| r.rtype == "SOA" && r.owner == origin)
            .unwrap();
        soa.rdata[2] = serial.to_string();
    }

    fn soa(&self) -> &Rr {
        self.at(&self.origin, "SOA")
            .next()
            .unwrap_or_else(|| panic!("zone {} has no SOA", self.origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_relative_and_absolute() {
        let rr = parse_line(
            "mail._domainkey\tIN\tTXT\t\"v=DKIM1; k=rsa; \" \"p=QU\\\"JD\"",
            "example.org",
            None,
        )
        .unwrap();
        assert_eq!(rr.owner, "mail._domainkey.example.org");
        assert_eq!(rr.shown(), "v=DKIM1; k=rsa; p=QU\"JD");
        assert_eq!(
            rr.line(),
            "mail._domainkey.example.org. IN TXT \"v=DKIM1; k=rsa; \" \"p=QU\\\"JD\""
        );
        let mx = parse_line("@ 300 IN MX 10 Mail.Example.org.", "example.org", None).unwrap();
        assert_eq!(
            (mx.owner.as_str(), mx.shown()),
            ("example.org", "10 mail.example.org".into())
        );
        assert!(mx.is_shown_by("10 mail.example.org."));
        assert_eq!(parse_line("; comment", "example.org", None), None);
    }

    #[test]
    fn records_are_found_in_prose() {
        let fix = "ask the provider of 192.0.2.10 (hosting company or ISP) to set its reverse DNS \
                   to mail.example.org: 10.2.0.192.in-addr.arpa. IN PTR mail.example.org.\n\
                   or in a web form: name @, type TXT, value v=spf1 -all";
        let rrs = records_in(fix);
        assert_eq!(rrs.len(), 1);
        assert_eq!(rrs[0].owner, "10.2.0.192.in-addr.arpa");
        assert_eq!(rrs[0].rtype, "PTR");
        assert_eq!(rrs[0].shown(), "mail.example.org");
        let txt = records_in("example.org. IN TXT \"v=spf1 a; -all\" \"x\"");
        assert_eq!(txt[0].shown(), "v=spf1 a; -allx");
    }
}
