//! Records for a fleet (`records --fleet`): several servers that sign the same domains, each
//! described by its own `mailsetup records --json` (or its answers file), merged into the one
//! set of records the domains need. Reading a host's file ([`read`]) is parsing only; the
//! merge ([`merge`]) is a pure function over values.
//!
//! Merge rules, per domain: one SPF record (RFC 7208 §4.5: a domain has one) whose mechanisms
//! are the union of every host's (`a mx` and each host's `ip4:`/`ip6:`), with the `all`
//! qualifier the hosts agree on (hosts that disagree are an error: a stricter `-all` is the
//! operator's decision, not ours); one DKIM key record per selector (RFC 6376 §3.6.2.1: a
//! selector names one key, so two hosts with the same selector and different keys are an
//! error); DMARC, TLS-RPT and every other TXT record must be the same on every host; MX
//! records (each with its host's preference), the hostnames' A/AAAA and the PTR requests are
//! the union. MTA-STS (RFC 8461 §3.2): one policy per domain whose `mx:` lines name every MX
//! of the merged set, mode and `max_age` agreed, its id recomputed. A domain only some hosts
//! sign gets the records of those hosts.

use std::collections::BTreeSet;

use super::{MissingDkim, PtrRequest, Record, RecordSet, Rtype, dkim_selector_of, sts};
use crate::error::{Error, Result};
use crate::values::Domain;

mod input;

pub use input::{HostRecords, Source, from_answers, from_json, read};

/// What a record is for, as the merge treats it; also the order within a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Spf,
    Dkim,
    Dmarc,
    Mx,
    MtaSts,
    TlsRpt,
    Other,
    Address,
}

fn kind(r: &Record) -> Kind {
    match r.rtype {
        Rtype::A | Rtype::AAAA => Kind::Address,
        Rtype::MX => Kind::Mx,
        Rtype::TXT if is_spf(&r.value) => Kind::Spf,
        Rtype::TXT if dkim_selector_of(r).is_some() => Kind::Dkim,
        Rtype::TXT if r.name == "_dmarc" => Kind::Dmarc,
        Rtype::TXT if r.name == "_mta-sts" => Kind::MtaSts,
        Rtype::TXT if r.name == "_smtp._tls" => Kind::TlsRpt,
        Rtype::TXT => Kind::Other,
    }
}

/// `v=spf1` followed by a space or nothing (RFC 7208 §4.5), any case.
fn is_spf(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    v == "v=spf1" || v.starts_with("v=spf1 ")
}

/// An SPF record's terms without `v=spf1`, and its `all` term if any (the last one).
fn spf_terms(value: &str) -> (Vec<String>, Option<String>) {
    let mut terms: Vec<String> = value.split_whitespace().skip(1).map(String::from).collect();
    let is_all = |t: &str| {
        t.trim_start_matches(['+', '-', '~', '?'])
            .eq_ignore_ascii_case("all")
    };
    let all = match terms.last() {
        Some(t) if is_all(t) => terms.pop(),
        _ => None,
    };
    (terms, all)
}

/// One merged record and what it was merged from.
struct Slot {
    kind: Kind,
    record: Record,
    /// The first host that gave it, for messages.
    first: usize,
    /// SPF: the mechanisms so far and the `all` term.
    spf: Option<(Vec<String>, Option<String>)>,
}

/// Merge the hosts' records into those their domains need (see the module comment for the
/// rules): records by zone as they first appear, within a zone SPF, DKIM, DMARC, MX, MTA-STS,
/// TLS-RPT, others, addresses; each record's `hosts` the hosts that ask for it.
///
/// Errors ([`Error::Fleet`], naming the hosts and their files): no host; a hostname twice;
/// two hosts with the same DKIM selector for a domain and different keys; hosts that disagree
/// on a domain's SPF `all`, its DMARC, TLS-RPT or another TXT record, or its MTA-STS mode or
/// `max_age`; two hosts giving the same address.
pub fn merge(hosts: &[HostRecords]) -> Result<RecordSet> {
    if hosts.is_empty() {
        return Err(Error::Fleet {
            problem: "no host given".into(),
            fix: "pass one file per host: `mailsetup records --fleet mx1.json mx2.json …`".into(),
        });
    }
    for (i, h) in hosts.iter().enumerate() {
        if let Some(other) = hosts[..i].iter().find(|o| o.hostname() == h.hostname()) {
            return Err(Error::Fleet {
                problem: format!(
                    "{} and {} both describe the host {}",
                    other.file,
                    h.file,
                    h.hostname()
                ),
                fix: "pass each host once; two servers need two hostnames (`hostname` in \
                      their answers)"
                    .into(),
            });
        }
    }
    let mut slots: Vec<Slot> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for r in &h.set.records {
            merge_record(&mut slots, hosts, i, r)?;
        }
    }
    let mut set = RecordSet {
        records: Vec::new(),
        ptr: merge_ptr(hosts)?,
        missing_keys: Vec::new(),
        policies: Vec::new(),
        servers: hosts.iter().map(|h| h.set.servers[0].clone()).collect(),
        missing_dkim: Vec::new(),
    };
    for h in hosts {
        for d in &h.set.missing_keys {
            set.missing_dkim.push(MissingDkim {
                domain: d.clone(),
                host: h.hostname().clone(),
                selector: None,
                fix: format!(
                    "{} has no key for it yet: run `mailsetup apply` there, then its \
                     `mailsetup records --json` again",
                    h.hostname()
                ),
            });
        }
        set.missing_dkim.extend(h.set.missing_dkim.iter().cloned());
    }
    for m in &mut set.missing_dkim {
        if !set.missing_keys.contains(&m.domain) {
            set.missing_keys.push(m.domain.clone());
        }
        // a host known only by its answers, on a selector another host publishes a key at:
        // unless the two share the key, they clash (as in [`merge_record`])
        let Some(selector) = &m.selector else {
            continue;
        };
        let taken = slots.iter().find(|s| {
            s.kind == Kind::Dkim
                && s.record.zone == m.domain
                && dkim_selector_of(&s.record) == Some(selector.as_str())
        });
        if let Some(s) = taken {
            m.fix.push_str(&format!(
                "; note: {} publishes a key at the same selector `{selector}`: unless {} holds \
                 that very key, give it its own selector (`mailsetup rotate --selector {}` there)",
                hosts[s.first].hostname(),
                m.host,
                short_name(&m.host)
            ));
        }
    }
    let mut zones: Vec<Domain> = Vec::new();
    for s in &slots {
        if !zones.contains(&s.record.zone) {
            zones.push(s.record.zone.clone());
        }
    }
    slots.sort_by_key(|s| (zones.iter().position(|z| *z == s.record.zone), s.kind));
    set.records = slots
        .into_iter()
        .map(|mut s| {
            if let Some((terms, all)) = s.spf.take() {
                let mut v = String::from("v=spf1");
                for t in terms.iter().chain(all.as_ref()) {
                    v.push(' ');
                    v.push_str(t);
                }
                s.record.value = v;
            }
            if s.kind == Kind::Mx {
                s.record.why = "MX: a server of the fleet that receives mail for the domain, at \
                                its preference (skip it if another provider receives your mail)"
                    .into();
            }
            s.record
        })
        .collect();
    merge_policies(&mut set, hosts)?;
    Ok(set)
}

/// Fold host `i`'s record `r` into `slots`.
fn merge_record(slots: &mut Vec<Slot>, hosts: &[HostRecords], i: usize, r: &Record) -> Result<()> {
    let k = kind(r);
    let same = |s: &Slot| {
        s.kind == k
            && s.record.fqdn.eq_ignore_ascii_case(&r.fqdn)
            && s.record.rtype == r.rtype
            && match k {
                Kind::Mx | Kind::Address => s.record.value.eq_ignore_ascii_case(&r.value),
                _ => true,
            }
    };
    let host = hosts[i].hostname();
    let Some(slot) = slots.iter_mut().find(|s| same(s)) else {
        let spf = (k == Kind::Spf).then(|| spf_terms(&r.value));
        slots.push(Slot {
            kind: k,
            record: r.clone(),
            first: i,
            spf,
        });
        return Ok(());
    };
    let first = &hosts[slot.first];
    match k {
        Kind::Spf => {
            let (terms, all) = spf_terms(&r.value);
            let (have, have_all) = slot.spf.as_mut().expect("an SPF slot has its terms");
            if *have_all != all {
                return Err(Error::Fleet {
                    problem: format!(
                        "the SPF record of {} ends in `{}` on {} but `{}` on {}; one record \
                         holds one `all`",
                        r.zone,
                        have_all.as_deref().unwrap_or("(no all)"),
                        first.who(),
                        all.as_deref().unwrap_or("(no all)"),
                        hosts[i].who()
                    ),
                    fix: "set the same `spf_all` (\"~all\" or \"-all\") in every host's answers, \
                          then gather their records again"
                        .into(),
                });
            }
            for t in terms {
                if !have.iter().any(|h| h.eq_ignore_ascii_case(&t)) {
                    have.push(t);
                }
            }
        }
        Kind::Dkim if !same_value(&slot.record.value, &r.value) => {
            let selector = dkim_selector_of(r).unwrap_or_default();
            return Err(Error::Fleet {
                problem: format!(
                    "{} and {} both sign {} with the DKIM selector `{selector}` but with \
                     different keys; the one record {} can hold only one key, so the mail of \
                     the other host would fail DKIM",
                    first.who(),
                    hosts[i].who(),
                    r.zone,
                    r.fqdn
                ),
                fix: format!(
                    "give each host its own selector, e.g. its short hostname: on {host} run \
                     `mailsetup rotate --selector {short}` (a new key under the new selector; \
                     its old selector stays with {first_host}), then gather its records again",
                    short = short_name(host),
                    first_host = first.hostname()
                ),
            });
        }
        Kind::Dmarc | Kind::TlsRpt | Kind::Other if !same_value(&slot.record.value, &r.value) => {
            let field = match k {
                Kind::Dmarc => "`dmarc_policy` and `dmarc_rua`",
                Kind::TlsRpt => "`tls_rpt_rua`",
                _ => "the answers that make it",
            };
            return Err(Error::Fleet {
                problem: format!(
                    "the hosts disagree on {} {}: {} asks for `{}`, {} for `{}`",
                    r.rtype.as_str(),
                    r.fqdn,
                    first.who(),
                    slot.record.value,
                    hosts[i].who(),
                    r.value
                ),
                fix: format!(
                    "make {field} the same in every host's answers, then gather their records \
                     again"
                ),
            });
        }
        _ => {}
    }
    if !slot.record.hosts.contains(host) {
        slot.record.hosts.push(host.clone());
    }
    Ok(())
}

/// Two TXT values that mean the same: equal but for whitespace.
fn same_value(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

/// The first label of a hostname: `mx2` of `mx2.example.org`.
fn short_name(host: &Domain) -> &str {
    host.as_str().split('.').next().unwrap_or(host.as_str())
}

/// Every host's PTR requests; an address given by two hosts is an error (a PTR names one).
fn merge_ptr(hosts: &[HostRecords]) -> Result<Vec<PtrRequest>> {
    let mut out: Vec<(usize, PtrRequest)> = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for p in &h.set.ptr {
            if let Some((j, _)) = out.iter().find(|(_, o)| o.ip == p.ip) {
                return Err(Error::Fleet {
                    problem: format!(
                        "{} and {} both give the address {}; its reverse DNS (PTR) can name \
                         only one of them",
                        hosts[*j].who(),
                        h.who(),
                        p.ip
                    ),
                    fix: "give each host its own public address (`ipv4`/`ipv6` in its answers)"
                        .into(),
                });
            }
            out.push((i, p.clone()));
        }
    }
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// One MTA-STS policy per domain naming every MX of the merged set; the `_mta-sts` record's
/// id follows its text. Errors: hosts disagree on the mode or `max_age`.
fn merge_policies(set: &mut RecordSet, hosts: &[HostRecords]) -> Result<()> {
    let mut domains: Vec<Domain> = Vec::new();
    for h in hosts {
        for p in &h.set.policies {
            if !domains.contains(&p.domain) {
                domains.push(p.domain.clone());
            }
        }
    }
    for d in domains {
        let mut given = hosts
            .iter()
            .flat_map(|h| h.set.policies.iter().map(move |p| (h, p)))
            .filter(|(_, p)| p.domain == d);
        let (first_host, first) = given.next().expect("the domain has a policy");
        let max_age = |text: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix("max_age:"))
                .map(|v| v.trim().to_string())
        };
        for (h, p) in given {
            let field = if p.mode != first.mode {
                Some((
                    "mta_sts",
                    p.mode.as_str().to_string(),
                    first.mode.as_str().to_string(),
                ))
            } else if max_age(&p.text) != max_age(&first.text) {
                Some((
                    "mta_sts_max_age",
                    max_age(&p.text).unwrap_or_default(),
                    max_age(&first.text).unwrap_or_default(),
                ))
            } else {
                None
            };
            if let Some((field, theirs, ours)) = field {
                return Err(Error::Fleet {
                    problem: format!(
                        "the MTA-STS policy of {d}: {} has `{field}` {ours}, {} has {theirs}",
                        first_host.who(),
                        h.who()
                    ),
                    fix: format!(
                        "make `{field}` the same in every host's answers, then gather their \
                         records again"
                    ),
                });
            }
        }
        let mut mx: BTreeSet<String> = first
            .text
            .lines()
            .filter_map(|l| l.strip_prefix("mx:"))
            .map(|m| m.trim().to_ascii_lowercase())
            .collect();
        for r in set
            .records
            .iter()
            .filter(|r| r.rtype == Rtype::MX && r.zone == d)
        {
            if let Some(host) = r.value.split_whitespace().nth(1) {
                mx.insert(host.trim_end_matches('.').to_ascii_lowercase());
            }
        }
        let mut text = String::new();
        for line in first.text.lines() {
            if line.starts_with("mx:") {
                continue;
            }
            if line.starts_with("max_age:") {
                for m in &mx {
                    text.push_str(&format!("mx: {m}\n"));
                }
            }
            text.push_str(line);
            text.push('\n');
        }
        let id = sts::policy_id(&text);
        for r in set
            .records
            .iter_mut()
            .filter(|r| r.zone == d && kind(r) == Kind::MtaSts)
        {
            r.value = sts::mta_sts_value(&id);
        }
        set.policies.push(sts::StsPolicy {
            domain: d.clone(),
            mode: first.mode,
            text,
            id,
            url: first.url.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
