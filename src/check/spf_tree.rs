//! SPF record analysis for `mailsetup check` (RFC 7208): strict syntax of one record
//! ([`syntax()`]), an `all` that passes everyone ([`permissive_all`]), and the DNS lookups
//! the whole `include:` / `redirect=` tree costs a receiver ([`walk`], §4.6.4), for the
//! findings `spf.syntax`, `spf.permissive-all`, `spf.too-many-lookups` and
//! `spf.too-many-void-lookups`.
//!
//! [`walk`] is I/O (nested records and the targets of `a`, `mx`, `exists` are looked up);
//! a failed lookup is never a void lookup, it goes to [`SpfTree::unverifiable`].

mod syntax;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::{Macro, Mechanism, Spf};

use super::txt::is_spf;
use crate::dns::join_all;
use crate::dns::{Absence, Answer, Dns, LookupError, sanitize};

pub(super) use syntax::{permissive_all, syntax};

/// At most this many DNS-querying terms per evaluation, else permerror (RFC 7208 §4.6.4).
pub(super) const MAX_LOOKUPS: usize = 10;
/// At most this many void lookups per evaluation, else permerror (RFC 7208 §4.6.4, SHOULD).
pub(super) const MAX_VOID_LOOKUPS: usize = 2;
/// Once this many terms are counted, nested records are no longer fetched: the tree is
/// already far over [`MAX_LOOKUPS`].
const FOLLOW_LOOKUPS: usize = 20;
/// Records nested deeper than this (root = 0) are not fetched.
const FOLLOW_DEPTH: usize = 10;
/// An `mx` may look up the addresses of at most this many exchanges, else permerror
/// (RFC 7208 §4.6.4).
const MX_EXCHANGES: usize = 10;

/// The lookup count of an SPF record and everything it includes or redirects to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SpfTree {
    /// Terms that cause DNS queries (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`;
    /// RFC 7208 §4.6.4), over the whole tree. Compare with [`MAX_LOOKUPS`].
    pub lookups: usize,
    /// Of those, the ones whose lookup got NXDOMAIN or an empty answer (§4.6.4). Compare
    /// with [`MAX_VOID_LOOKUPS`].
    pub void_lookups: usize,
    /// One line per counted term, in record order, nested records indented two spaces per
    /// level below the term that includes them, e.g. `include:_spf.example.net (+3)` (the
    /// nested record's own count) or `a:gone.example.org (void: the name does not exist)`.
    /// Sanitized: usable as a finding's `found`.
    pub trail: Vec<String>,
    /// `<name>: <error>` per lookup that failed (timeout, SERVFAIL, REFUSED, …): the
    /// counts are then lower bounds ("could not verify", never a failure of the domain).
    pub unverifiable: Vec<String>,
    /// Names included (or redirected to) again from inside their own record: receivers
    /// loop until the limit of [`MAX_LOOKUPS`] and return permerror (§4.6.4). The loop is
    /// counted once in `lookups`. Sanitized.
    pub loops: Vec<String>,
}

impl SpfTree {
    fn line(line: String) -> SpfTree {
        SpfTree {
            trail: vec![line],
            ..SpfTree::default()
        }
    }

    fn absorb(&mut self, other: SpfTree) {
        self.lookups += other.lookups;
        self.void_lookups += other.void_lookups;
        self.trail.extend(other.trail);
        self.unverifiable.extend(other.unverifiable);
        self.loops.extend(other.loops);
    }
}

/// Walk `record` (the SPF record of `domain`, fetched by the caller) and every record it
/// includes or redirects to, counting DNS-querying terms and void lookups as RFC 7208
/// §4.6.4 does: `include`, `a`, `mx`, `ptr`, `exists` and `redirect` count 1 each; `ip4`,
/// `ip6`, `all` and `exp` count 0; an `mx`'s per-exchange address lookups do not count.
///
/// - `redirect=` is followed only when the record has no `all` (§6.1).
/// - Nested records are fetched with TXT lookups; targets of `a` (A and AAAA: void when
///   neither has a record), `mx` (MX) and `exists` (A, §5.7) are looked up to find void
///   lookups. `ptr` depends on the sender's address and is counted, not looked up; so are
///   terms whose target contains a macro (`%{i}` …).
/// - An include target without an SPF record, or with several, is a permerror for
///   receivers (§5.2, §4.5): noted in the trail, not followed.
/// - Loops are detected on the include path and not followed ([`SpfTree::loops`]); the
///   same name reached by two paths is walked twice, as receivers do.
/// - Nothing deeper than 10 records is fetched, and no nested record once 20 terms are
///   counted (which branches are then cut depends on answer order).
///
/// Siblings are looked up concurrently; the trail is in record order (depth first).
pub(super) async fn walk(dns: &Dns, domain: &str, record: &str) -> SpfTree {
    let walker = Walker {
        dns,
        counted: AtomicUsize::new(0),
    };
    let root = normalize(domain);
    walker
        .record(root.clone(), record.to_string(), 0, vec![root])
        .await
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

struct Walker<'a> {
    dns: &'a Dns,
    /// Terms counted so far over the whole walk, for the [`FOLLOW_LOOKUPS`] cap.
    counted: AtomicUsize,
}

/// A term that costs a DNS lookup, with its target.
enum Counted {
    Include(Target),
    Redirect(Target),
    A(Target),
    Mx(Target),
    Exists(Target),
    Ptr,
}

/// The name a term looks up.
enum Target {
    /// No domain-spec: the current domain (RFC 7208 §4.8).
    Current(String),
    /// A literal domain-spec.
    Named(String),
    /// A domain-spec with a macro variable: depends on the message (§7).
    Macro,
}

impl<'a> Walker<'a> {
    /// The counted terms of `text` (the record of `domain`, `depth` records below the
    /// root, `path` = the names from the root down to `domain`), looked up concurrently.
    fn record(
        &'a self,
        domain: String,
        text: String,
        depth: usize,
        path: Vec<String>,
    ) -> BoxFuture<'a, SpfTree> {
        Box::pin(async move {
            let indent = "  ".repeat(depth);
            let Ok(whole) = Spf::parse(text.as_bytes()) else {
                let line = format!("{indent}(the SPF record of {domain} does not parse)");
                return SpfTree::line(sanitize(&line));
            };
            let has_all = whole
                .directives
                .iter()
                .any(|d| d.mechanism == Mechanism::All);
            let mut terms = Vec::new();
            for term in text.split_ascii_whitespace().skip(1) {
                match counted(term, &domain) {
                    Some(Counted::Redirect(_)) if has_all => {}
                    Some(c) => terms.push((sanitize(term), c)),
                    None => {}
                }
            }
            self.counted.fetch_add(terms.len(), Ordering::Relaxed);
            let futures: Vec<BoxFuture<'a, SpfTree>> = terms
                .into_iter()
                .map(|(term, c)| self.term(format!("{indent}{term}"), c, depth, &path))
                .collect();
            let mut tree = SpfTree::default();
            for sub in join_all(futures).await {
                tree.absorb(sub);
            }
            tree
        })
    }

    /// One counted term: 1 lookup, its void/failed lookup, and a nested record's tree.
    /// `line` is the indented, sanitized term text.
    fn term(
        &'a self,
        line: String,
        term: Counted,
        depth: usize,
        path: &[String],
    ) -> BoxFuture<'a, SpfTree> {
        let path = path.to_vec();
        Box::pin(async move {
            let mut tree = match term {
                Counted::Ptr => SpfTree::line(format!(
                    "{line} (not looked up: it depends on the sender's address)"
                )),
                Counted::Include(Target::Macro)
                | Counted::Redirect(Target::Macro)
                | Counted::A(Target::Macro)
                | Counted::Mx(Target::Macro)
                | Counted::Exists(Target::Macro) => {
                    SpfTree::line(format!("{line} (a macro: not looked up)"))
                }
                Counted::Include(Target::Current(name) | Target::Named(name))
                | Counted::Redirect(Target::Current(name) | Target::Named(name)) => {
                    self.nested(line, name, depth, path).await
                }
                Counted::A(target) => {
                    let name = target.name();
                    let (a, aaaa) = tokio::join!(self.dns.a(name), self.dns.aaaa(name));
                    leaf(line, &target, [presence(a), presence(aaaa)])
                }
                Counted::Mx(target) => {
                    let mx = self.dns.mx(target.name()).await;
                    let many = mx.as_ref().map_or(0, |m| m.records.len());
                    let mut tree = leaf(line, &target, [presence(mx)]);
                    if many > MX_EXCHANGES
                        && let Some(l) = tree.trail.first_mut()
                    {
                        l.push_str(&format!(
                            " ({many} MX records: over the limit of {MX_EXCHANGES}, \
                             receivers return permerror, RFC 7208 §4.6.4)"
                        ));
                    }
                    tree
                }
                Counted::Exists(target) => {
                    let a = self.dns.a(target.name()).await;
                    leaf(line, &target, [presence(a)])
                }
            };
            tree.lookups += 1;
            tree
        })
    }

    /// An `include:` / `redirect=` target: fetch and walk its record (`line` first).
    async fn nested(
        &'a self,
        line: String,
        name: String,
        depth: usize,
        path: Vec<String>,
    ) -> SpfTree {
        let key = normalize(&name);
        let shown = sanitize(&name);
        if path.contains(&key) {
            let mut tree = SpfTree::line(format!(
                "{line} (loop: {shown} is already being evaluated; receivers return permerror)"
            ));
            tree.loops.push(shown);
            return tree;
        }
        if depth + 1 > FOLLOW_DEPTH {
            return SpfTree::line(format!(
                "{line} (not followed: nested deeper than {FOLLOW_DEPTH} records)"
            ));
        }
        if self.counted.load(Ordering::Relaxed) >= FOLLOW_LOOKUPS {
            return SpfTree::line(format!(
                "{line} (not followed: already {FOLLOW_LOOKUPS} lookups or more)"
            ));
        }
        let answer = match self.dns.txt(&name).await {
            Ok(answer) => answer,
            Err(e) => return failed(line, &shown, &e),
        };
        if let Some(why) = answer.absent {
            return void(format!("{line} (void: {why})"));
        }
        let records: Vec<&String> = answer.records.iter().filter(|r| is_spf(r)).collect();
        match records.as_slice() {
            [] => SpfTree::line(format!(
                "{line} (no SPF record at {shown}: receivers return permerror)"
            )),
            [record] => {
                let mut child_path = path;
                child_path.push(key);
                let child = self
                    .record(name.clone(), (*record).clone(), depth + 1, child_path)
                    .await;
                let mut tree = SpfTree::line(format!("{line} (+{})", child.lookups));
                tree.absorb(child);
                tree
            }
            many => SpfTree::line(format!(
                "{line} ({} SPF records at {shown}: receivers return permerror)",
                many.len()
            )),
        }
    }
}

/// Whether a lookup found records, found none (why), or failed.
enum Presence {
    Found,
    Absent(Absence),
    Failed(LookupError),
}

fn presence<T>(answer: Result<Answer<T>, LookupError>) -> Presence {
    match answer {
        Ok(Answer { absent: None, .. }) => Presence::Found,
        Ok(Answer {
            absent: Some(why), ..
        }) => Presence::Absent(why),
        Err(e) => Presence::Failed(e),
    }
}

/// The line of an `a` / `mx` / `exists` term from its lookups: found when any found
/// records, else failed when any failed, else void (NXDOMAIN if any said so). The name is
/// shown in a void line when the term does not spell it (`a`, `mx`).
fn leaf<const N: usize>(line: String, target: &Target, answers: [Presence; N]) -> SpfTree {
    let name = sanitize(target.name());
    if answers.iter().any(|p| matches!(p, Presence::Found)) {
        return SpfTree::line(line);
    }
    if let Some(e) = answers.iter().find_map(|p| match p {
        Presence::Failed(e) => Some(e),
        _ => None,
    }) {
        return failed(line, &name, e);
    }
    let why = if answers
        .iter()
        .any(|p| matches!(p, Presence::Absent(Absence::NxDomain)))
    {
        Absence::NxDomain
    } else {
        Absence::NoData
    };
    if let Target::Current(_) = target {
        void(format!("{line} (void: {name}: {why})"))
    } else {
        void(format!("{line} (void: {why})"))
    }
}

fn void(line: String) -> SpfTree {
    SpfTree {
        void_lookups: 1,
        ..SpfTree::line(line)
    }
}

fn failed(line: String, shown: &str, e: &LookupError) -> SpfTree {
    SpfTree {
        unverifiable: vec![format!("{shown}: {e}")],
        ..SpfTree::line(format!("{line} (could not look up {shown}: {e})"))
    }
}

/// The DNS-querying term `term` stands for, if any, with its target name resolved against
/// `domain` (RFC 7208 §4.8: no domain-spec means the current domain).
fn counted(term: &str, domain: &str) -> Option<Counted> {
    let spf = Spf::parse(format!("v=spf1 {term}").as_bytes()).ok()?;
    if let Some(m) = &spf.redirect {
        return Some(Counted::Redirect(target(m, domain)));
    }
    Some(match &spf.directives.first()?.mechanism {
        Mechanism::Include { macro_string } => Counted::Include(target(macro_string, domain)),
        Mechanism::A { macro_string, .. } => Counted::A(target(macro_string, domain)),
        Mechanism::Mx { macro_string, .. } => Counted::Mx(target(macro_string, domain)),
        Mechanism::Exists { macro_string } => Counted::Exists(target(macro_string, domain)),
        Mechanism::Ptr { .. } => Counted::Ptr,
        Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => return None,
    })
}

/// The target of a domain-spec: `domain` for none, the text of a literal (a list of
/// literals joined), else a macro.
fn target(m: &Macro, domain: &str) -> Target {
    let literal = |m: &Macro| match m {
        Macro::Literal(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    };
    match m {
        Macro::None => Target::Current(domain.to_string()),
        Macro::List(parts) => parts
            .iter()
            .map(literal)
            .collect::<Option<String>>()
            .map_or(Target::Macro, Target::Named),
        other => literal(other).map_or(Target::Macro, Target::Named),
    }
}

impl Target {
    /// The name to look up (empty for a macro, which is never looked up).
    fn name(&self) -> &str {
        match self {
            Target::Current(n) | Target::Named(n) => n,
            Target::Macro => "",
        }
    }
}

/// A name as compared for loops: lowercase, no trailing dot.
fn normalize(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    lower.strip_suffix('.').map(str::to_string).unwrap_or(lower)
}
