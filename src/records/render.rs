//! Renderings of a [`RecordSet`]: BIND zone lines (RFC 1035 §5 master file format), a table to
//! paste into web DNS panels (one string per value), and JSON for scripts.

use std::fmt::Write as _;

use serde_json::json;

use super::{RecordSet, Rtype, sts};

/// A TXT character-string holds at most 255 bytes (RFC 1035 §3.3); BIND rejects a longer one with a
/// bare "syntax error". Chunks of 250 match what `opendkim-genkey` prints.
const TXT_CHUNK: usize = 250;

/// BIND zone lines, one `$ORIGIN` section per zone, relative owner names, a `;` comment saying what
/// each record is for; long TXT values are split into ≤255-byte strings on one line. The PTR
/// requests are printed as comments: they belong in the provider's reverse zone.
pub fn zone(set: &RecordSet) -> String {
    let mut out = String::new();
    for z in set.zones() {
        let _ = writeln!(out, "; records for {z} (mailsetup)");
        let _ = writeln!(out, "$ORIGIN {z}.");
        for r in set.records.iter().filter(|r| &r.zone == z) {
            let _ = writeln!(out, "; {}", r.why);
            let value = match r.rtype {
                Rtype::TXT => txt_strings(&r.value),
                _ => r.value.clone(),
            };
            let _ = writeln!(out, "{}\tIN\t{}\t{value}", r.name, r.rtype.as_str());
        }
        for d in set.missing_keys.iter().filter(|d| *d == z) {
            if !set.missing_dkim.iter().any(|m| &m.domain == d) {
                let _ = writeln!(
                    out,
                    "; DKIM: no key for {d} yet; run `mailsetup apply` first"
                );
            }
        }
        for m in set.missing_dkim.iter().filter(|m| &m.domain == z) {
            let _ = writeln!(out, "; DKIM of {}: not known; {}", m.host, m.fix);
        }
        for p in set.policies.iter().filter(|p| &p.domain == z) {
            let _ = writeln!(
                out,
                "; MTA-STS policy file of {z}, exactly (served, not in DNS):"
            );
            for line in p.text.lines() {
                let _ = writeln!(out, ";   {line}");
            }
            for line in wrap(&sts::serving_notes(p)) {
                let _ = writeln!(out, "; {line}");
            }
        }
        out.push('\n');
    }
    for p in &set.ptr {
        let _ = writeln!(
            out,
            "; PTR: ask the provider of {} to set its reverse DNS (not part of your zone):\n;   {}\tIN\tPTR\t{}",
            p.ip, p.name, p.value
        );
        if let Some(steps) = p.steps() {
            let _ = writeln!(out, ";   {steps}");
        }
    }
    out
}

/// A TXT value as zone-file character-strings on one line: one quoted string when it fits, else
/// several (`"v=DKIM1; k=rsa; " "p=…" "…"`), which a resolver joins with no separator (RFC 7208
/// §3.3, RFC 6376 §3.6.2.2). One line, no parentheses: every zone parser reads it the same way.
pub fn txt_strings(value: &str) -> String {
    if value.len() <= TXT_CHUNK {
        return format!("\"{value}\"");
    }
    // Keep `v=DKIM1; k=rsa; ` apart from the key, as opendkim-genkey does, then 250-byte chunks.
    let (head, rest) = match value.find("p=") {
        Some(i) if i > 0 => value.split_at(i),
        _ => ("", value),
    };
    let mut parts: Vec<&str> = Vec::new();
    if !head.is_empty() {
        parts.push(head);
    }
    parts.extend(chunks(rest, TXT_CHUNK));
    let quoted: Vec<String> = parts.iter().map(|p| format!("\"{p}\"")).collect();
    quoted.join(" ")
}

/// `s` cut into pieces of at most `max` bytes, on character boundaries.
pub fn chunks(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

/// One block per record: zone, relative name and FQDN, type, then the value as ONE string (what
/// web DNS panels want; they split long TXT values themselves).
pub fn table(set: &RecordSet) -> String {
    let mut out = String::new();
    for z in set.zones() {
        let _ = writeln!(out, "{z}");
        for r in set.records.iter().filter(|r| &r.zone == z) {
            let _ = writeln!(
                out,
                "  {:<5} name: {}   ({})",
                r.rtype.as_str(),
                r.name,
                r.fqdn
            );
            let _ = writeln!(out, "        value: {}", r.value);
        }
        for d in set.missing_keys.iter().filter(|d| *d == z) {
            if !set.missing_dkim.iter().any(|m| &m.domain == d) {
                let _ = writeln!(
                    out,
                    "  DKIM  no key for {d} yet: run `mailsetup apply` first"
                );
            }
        }
        for m in set.missing_dkim.iter().filter(|m| &m.domain == z) {
            let _ = writeln!(out, "  DKIM  of {}: not known: {}", m.host, m.fix);
        }
        for p in set.policies.iter().filter(|p| &p.domain == z) {
            let _ = writeln!(out, "  MTA-STS policy file ({}):", p.url);
            for line in p.text.lines() {
                let _ = writeln!(out, "        | {line}");
            }
            for line in wrap(&sts::serving_notes(p)) {
                let _ = writeln!(out, "        {line}");
            }
        }
        out.push('\n');
    }
    for p in &set.ptr {
        let _ = writeln!(
            out,
            "PTR (ask the provider of {}): {} -> {}",
            p.ip, p.name, p.value
        );
        if let Some(steps) = p.steps() {
            let _ = writeln!(out, "  {steps}");
        }
    }
    out
}

/// `{"records":[{"domain","name","fqdn","type","value","why","hosts"[,"selector"]}],
/// "ptr":[{"ip","name","value","provider","steps"}],
/// "missing_keys":[…],
/// "mta_sts_policies":[{"domain","url","mode","id","text","notes"}],
/// "hosts":[{"hostname","addresses"}],
/// "missing_dkim":[{"domain","host","selector","fix"}]}`.
///
/// `hosts` of a record: the hostnames of the servers that ask for it; `selector`: on DKIM
/// records only (`<selector>._domainkey`). The top-level `hosts`: the servers the records
/// are for, each with its public addresses; what `records --fleet` reads back
/// ([`super::fleet`]). `missing_dkim`: a fleet's DKIM records its inputs did not give
/// (`selector`: where it goes, when known, else null).
pub fn json(set: &RecordSet) -> String {
    let records: Vec<_> = set
        .records
        .iter()
        .map(|r| {
            let mut v = json!({
                "domain": r.zone.as_str(),
                "name": r.name,
                "fqdn": r.fqdn,
                "type": r.rtype.as_str(),
                "value": r.value,
                "why": r.why,
                "hosts": r.hosts.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
            });
            if let Some(selector) = super::dkim_selector_of(r) {
                v["selector"] = selector.into();
            }
            v
        })
        .collect();
    let ptr: Vec<_> = set
        .ptr
        .iter()
        .map(|p| {
            json!({
                "ip": p.ip.to_string(),
                "name": p.name,
                "value": p.value,
                "provider": p.provider.map(|p| p.key()),
                "steps": p.steps(),
            })
        })
        .collect();
    let missing: Vec<&str> = set.missing_keys.iter().map(|d| d.as_str()).collect();
    let policies: Vec<_> = set
        .policies
        .iter()
        .map(|p| {
            json!({
                "domain": p.domain.as_str(),
                "url": p.url,
                "mode": p.mode.as_str(),
                "id": p.id,
                "text": p.text,
                "notes": sts::serving_notes(p),
            })
        })
        .collect();
    let hosts: Vec<_> = set
        .servers
        .iter()
        .map(|s| {
            json!({
                "hostname": s.hostname.as_str(),
                "addresses": s.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let missing_dkim: Vec<_> = set
        .missing_dkim
        .iter()
        .map(|m| {
            json!({
                "domain": m.domain.as_str(),
                "host": m.host.as_str(),
                "selector": m.selector.as_ref().map(|s| s.as_str()),
                "fix": m.fix,
            })
        })
        .collect();
    let doc = json!({
        "records": records,
        "ptr": ptr,
        "missing_keys": missing,
        "mta_sts_policies": policies,
        "hosts": hosts,
        "missing_dkim": missing_dkim,
    });
    format!("{doc:#}\n")
}

/// `text` in lines of at most 88 characters, broken at spaces (a newline kept as a break).
fn wrap(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split(' ') {
            if !line.is_empty() && line.len() + 1 + word.len() > 88 {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_txt_is_split_into_strings_of_at_most_255_bytes() {
        let p = "A".repeat(392);
        let v = format!("v=DKIM1; k=rsa; p={p}");
        let z = txt_strings(&v);
        let strings: Vec<&str> = z.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.concat(), v, "the strings join back to the value");
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(strings.len(), 3);
        assert_eq!(strings[0], "v=DKIM1; k=rsa; ");
        assert!(!z.contains('\n') && !z.contains('('), "one line: {z}");
    }

    #[test]
    fn short_txt_is_one_string() {
        assert_eq!(txt_strings("v=spf1 mx ~all"), "\"v=spf1 mx ~all\"");
    }
}
