//! [`judge`] of the `mta-sts-policy` check over hand-built gathered values: no DNS, no HTTPS.

use super::super::fixtures::{assert_unverifiable, ids_of, served, unasked};
use super::*;
use crate::records::sts::{policy_id, policy_text, policy_url};
use crate::values::{Domain, StsMaxAge, StsMode};

fn policy(mode: StsMode) -> StsPolicy {
    let domain = Domain::parse("example.org").unwrap();
    let mx = Domain::parse("mail.example.org").unwrap();
    let text = policy_text(mode, &[&mx], StsMaxAge::DEFAULT);
    StsPolicy {
        url: policy_url(&domain),
        id: policy_id(&text),
        domain,
        mode,
        text,
    }
}

fn mx(hosts: &[&str]) -> Seen<Mx> {
    let records: Vec<Mx> = hosts
        .iter()
        .map(|h| Mx {
            preference: 10,
            exchange: h.to_string(),
        })
        .collect();
    served("example.org", &records)
}

fn gathered(fetched: Option<Result<Fetched, String>>, hosts: &[&str]) -> Gathered {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    Gathered {
        a: served("mta-sts.example.org", &[ip]),
        aaaa: served("mta-sts.example.org", &[]),
        fetched,
        mx: mx(hosts),
    }
}

fn text(body: &str) -> Option<Result<Fetched, String>> {
    Some(Ok(Fetched {
        content_type: "text/plain; charset=utf-8".into(),
        body: body.into(),
    }))
}

#[test]
fn the_printed_policy_passes() {
    let p = policy(StsMode::Testing);
    let f = judge(&gathered(text(&p.text), &["mail.example.org"]), &p);
    assert_eq!(f, []);
    // a wildcard pattern covers it too
    let wild = "version: STSv1\nmode: testing\nmx: *.example.org\nmax_age: 86400\n";
    assert_eq!(judge(&gathered(text(wild), &["mail.example.org"]), &p), []);
}

#[test]
fn unreachable_syntax_and_mismatch() {
    let p = policy(StsMode::Testing);
    let cases = [
        (
            Some(Err("127.0.0.1 port 443: cannot connect".to_string())),
            vec!["mail.example.org"],
            vec![ids::MTA_STS_POLICY_UNREACHABLE],
        ),
        (
            text("<html>hi</html>"),
            vec!["mail.example.org"],
            vec![ids::MTA_STS_POLICY_SYNTAX],
        ),
        (
            Some(Ok(Fetched {
                content_type: "text/html".into(),
                body: p.text.clone(),
            })),
            vec!["mail.example.org"],
            vec![ids::MTA_STS_POLICY_SYNTAX],
        ),
        (
            text(&policy(StsMode::Enforce).text),
            vec!["mail.example.org"],
            vec![ids::MTA_STS_POLICY_MISMATCH],
        ),
        (
            text(&p.text),
            vec!["mail.example.org", "mx2.example.net"],
            vec![ids::MTA_STS_POLICY_MISMATCH],
        ),
    ];
    for (fetched, hosts, want) in cases {
        let f = judge(&gathered(fetched.clone(), &hosts), &p);
        assert_eq!(ids_of(&f), want, "{fetched:?} {hosts:?}");
        assert!(
            f[0].fix
                .as_deref()
                .unwrap()
                .contains("version: STSv1\nmode: testing")
        );
    }
    let uncovered = judge(
        &gathered(text(&p.text), &["mail.example.org", "mx2.example.net"]),
        &p,
    );
    assert!(
        uncovered[0].message.contains("mx2.example.net"),
        "{}",
        uncovered[0].message
    );
    assert_eq!(uncovered[0].severity, Severity::Error);
}

#[test]
fn no_address_is_unreachable_and_no_answer_is_unverifiable() {
    let p = policy(StsMode::Testing);
    let mut g = gathered(None, &["mail.example.org"]);
    g.a = served("mta-sts.example.org", &[]);
    assert_eq!(ids_of(&judge(&g, &p)), [ids::MTA_STS_POLICY_UNREACHABLE]);
    for (a, aaaa) in unasked("mta-sts.example.org")
        .into_iter()
        .zip(unasked("mta-sts.example.org"))
    {
        g.a = a;
        g.aaaa = aaaa;
        assert_unverifiable(&judge(&g, &p));
    }
}
