//! MTA-STS and TLS-RPT (RFC 8461, RFC 8460) against real servers on loopback: the records
//! read from the in-process authoritative DNS server (`check`'s `mta-sts` and `tls-rpt`
//! lines), and the policy fetched over HTTPS from a loopback server whose certificate a test
//! CA signs (the `mta-sts-policy` line), `mta-sts.example.org` resolved through the same
//! DNS server.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use mailsetup::check::sts_policy::{FetchOptions, run as fetch_policies};
use mailsetup::check::{Report, Status, ids};
use mailsetup::dns::Authority;
use mailsetup::records::sts::{StsPolicy, mta_sts_value, policy_id, policy_text, policy_url};
use mailsetup::values::{Domain, StsMaxAge, StsMode};

use crate::support::dns_server::zone;
use crate::support::https::{HttpsServer, Serve, TestCa};
use crate::support::lab::Lab;
use crate::support::scenario::{check_with, forward, healthy_records, healthy_reverse, input};

const RPT: &str = "v=TLSRPTv1; rua=mailto:tlsrpt@example.org";

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

/// The check of the scenario zone with these `_mta-sts` / `_smtp._tls` lines; `managed`:
/// the input expects the records of [`policy`] (testing) and [`RPT`].
async fn check_records(sts: &[&str], rpt: &[&str], managed: bool) -> Report {
    let mut edits: Vec<(String, Option<String>)> = Vec::new();
    for (i, r) in sts.iter().enumerate() {
        edits.push((format!("sts{i}"), Some(format!("_mta-sts IN TXT \"{r}\""))));
    }
    for (i, r) in rpt.iter().enumerate() {
        edits.push((
            format!("rpt{i}"),
            Some(format!("_smtp._tls IN TXT \"{r}\"")),
        ));
    }
    let edits: Vec<(&str, Option<&str>)> = edits
        .iter()
        .map(|(k, l)| (k.as_str(), l.as_deref()))
        .collect();
    let mut input = input();
    if managed {
        input.domains[0].expected.mta_sts = mta_sts_value(&policy(StsMode::Testing).id);
        input.domains[0].expected.tls_rpt = RPT.to_string();
    }
    check_with(forward(&edits), healthy_reverse(), &input).await
}

fn line(r: &Report, check: &str) -> Status {
    r.checked.iter().find(|c| c.check == check).unwrap().status
}

fn found(r: &Report) -> Vec<&'static str> {
    let mut ids: Vec<&str> = r.findings.iter().map(|f| f.id).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn published_records_pass_and_broken_ones_fail_with_their_id() {
    let right = mta_sts_value(&policy(StsMode::Testing).id);
    let r = check_records(&[&right], &[RPT], true).await;
    assert_eq!(found(&r), Vec::<&str>::new(), "{:#?}", r.findings);
    assert_eq!(line(&r, "mta-sts"), Status::Pass);
    assert_eq!(line(&r, "tls-rpt"), Status::Pass);

    // absent: a finding only when the answers manage them
    let r = check_records(&[], &[], true).await;
    assert_eq!(found(&r), [ids::MTA_STS_MISSING, ids::TLS_RPT_MISSING]);
    assert_eq!(line(&r, "mta-sts"), Status::Warn);
    let fix = r.findings[0].fix.as_deref().unwrap();
    assert!(
        fix.contains(&format!("_mta-sts.example.org. IN TXT \"{right}\"")),
        "{fix}"
    );
    let r = check_records(&[], &[], false).await;
    assert_eq!(found(&r), Vec::<&str>::new());

    // broken: always
    for managed in [true, false] {
        for broken in ["id=abc", "v=STSv1; id=abc def"] {
            let r = check_records(&[broken], &[], managed).await;
            let want: Vec<&str> = if managed {
                vec![ids::MTA_STS_SYNTAX, ids::TLS_RPT_MISSING]
            } else {
                vec![ids::MTA_STS_SYNTAX]
            };
            assert_eq!(found(&r), want, "{broken}");
            assert_eq!(line(&r, "mta-sts"), Status::Fail);
            assert_eq!(r.exit_code(), 1);
        }
        let r = check_records(&[], &["rua=mailto:tlsrpt@example.org"], managed).await;
        assert!(found(&r).contains(&ids::TLS_RPT_SYNTAX), "{:?}", found(&r));
        let r = check_records(
            &["v=STSv1; id=a", "v=STSv1; id=b"],
            &[RPT, RPT.replace("tlsrpt", "x").as_str()],
            managed,
        )
        .await;
        assert_eq!(found(&r), [ids::MTA_STS_MULTIPLE, ids::TLS_RPT_MULTIPLE]);
    }

    // another valid id: stale only against the policy mailsetup prints
    let r = check_records(&["v=STSv1; id=20240101"], &[RPT], true).await;
    assert_eq!(found(&r), [ids::MTA_STS_ID_STALE]);
    let r = check_records(&["v=STSv1; id=20240101"], &[], false).await;
    assert_eq!(found(&r), Vec::<&str>::new());
}

/// A DNS lab with the healthy zone plus `mta-sts` at 127.0.0.1, and an HTTPS server there.
async fn lab_and_server(serve: Serve, cert_names: &[&str]) -> (Lab, HttpsServer, TestCa) {
    let ca = TestCa::new();
    let server = HttpsServer::start(&ca, cert_names, serve).await;
    let mut records: Vec<String> = healthy_records().into_iter().map(|(_, l)| l).collect();
    records.push("mta-sts IN A 127.0.0.1".into());
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let z = zone("example.org", &refs);
    let lab = Lab::start(&[&z]).await;
    (lab, server, ca)
}

async fn fetch(
    lab: &Lab,
    server: &HttpsServer,
    ca: Option<&TestCa>,
) -> (Status, Vec<&'static str>, Vec<String>) {
    let auth = Authority::new(lab.options()).unwrap();
    let options = FetchOptions {
        port: server.addr.port(),
        extra_roots: ca.map(|c| vec![c.cert.clone()]).unwrap_or_default(),
        ..FetchOptions::default()
    };
    let results = fetch_policies(&auth, &[policy(StsMode::Testing)], &options).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].checked.check, "mta-sts-policy");
    let ids = results[0].findings.iter().map(|f| f.id).collect();
    let messages = results[0]
        .findings
        .iter()
        .map(|f| f.message.clone())
        .collect();
    (results[0].checked.status, ids, messages)
}

const NAME: &[&str] = &["mta-sts.example.org"];

#[tokio::test]
async fn the_policy_served_over_https_passes() {
    let (lab, server, ca) =
        lab_and_server(Serve::policy(&policy(StsMode::Testing).text), NAME).await;
    let (status, ids, _) = fetch(&lab, &server, Some(&ca)).await;
    assert_eq!((status, ids), (Status::Pass, vec![]));
}

#[tokio::test]
async fn an_untrusted_or_wrong_name_certificate_makes_it_unreachable() {
    let text = policy(StsMode::Testing).text;
    let (lab, server, ca) = lab_and_server(Serve::policy(&text), NAME).await;
    let (status, ids, msg) = fetch(&lab, &server, None).await;
    assert_eq!(
        (status, ids),
        (Status::Fail, vec![ids::MTA_STS_POLICY_UNREACHABLE])
    );
    assert!(msg[0].contains("TLS failed"), "{msg:?}");
    drop(ca);
    let (lab, server, ca) = lab_and_server(Serve::policy(&text), &["www.example.org"]).await;
    let (_, ids, msg) = fetch(&lab, &server, Some(&ca)).await;
    assert_eq!(ids, [ids::MTA_STS_POLICY_UNREACHABLE], "{msg:?}");
}

#[tokio::test]
async fn a_bad_status_type_body_or_mode_has_its_finding() {
    let text = policy(StsMode::Testing).text;
    let cases = [
        (
            Serve {
                status: 404,
                ..Serve::policy(&text)
            },
            ids::MTA_STS_POLICY_UNREACHABLE,
            "HTTP 404",
        ),
        (
            Serve {
                status: 301,
                ..Serve::policy(&text)
            },
            ids::MTA_STS_POLICY_UNREACHABLE,
            "redirect",
        ),
        (
            Serve {
                content_type: "text/html",
                ..Serve::policy(&text)
            },
            ids::MTA_STS_POLICY_SYNTAX,
            "text/html",
        ),
        (
            Serve::policy("version: STSv1\nmode: testing\nmax_age: 86400\n"),
            ids::MTA_STS_POLICY_SYNTAX,
            "no mx:",
        ),
        (
            Serve::policy(&policy(StsMode::Enforce).text),
            ids::MTA_STS_POLICY_MISMATCH,
            "mode: enforce",
        ),
        (
            Serve::policy("version: STSv1\nmode: testing\nmx: mx.example.net\nmax_age: 86400\n"),
            ids::MTA_STS_POLICY_MISMATCH,
            "mail.example.org",
        ),
    ];
    for (serve, id, needle) in cases {
        let (lab, server, ca) = lab_and_server(serve, NAME).await;
        let (_, ids, msg) = fetch(&lab, &server, Some(&ca)).await;
        assert_eq!(ids, [id], "{msg:?}");
        assert!(msg[0].contains(needle), "{needle}: {msg:?}");
    }
}

#[tokio::test]
async fn no_address_for_the_policy_host_is_unreachable() {
    let records: Vec<String> = healthy_records().into_iter().map(|(_, l)| l).collect();
    let refs: Vec<&str> = records.iter().map(String::as_str).collect();
    let z = zone("example.org", &refs);
    let lab = Lab::start(&[&z]).await;
    let auth = Authority::new(lab.options()).unwrap();
    let results =
        fetch_policies(&auth, &[policy(StsMode::Testing)], &FetchOptions::default()).await;
    let ids: Vec<&str> = results[0].findings.iter().map(|f| f.id).collect();
    assert_eq!(ids, [ids::MTA_STS_POLICY_UNREACHABLE]);
    assert!(results[0].findings[0].message.contains("no A or AAAA"));
}

/// The real binary: `records` prints the records and the policy for answers with `mta_sts`
/// and `tls_rpt_rua`; served (DNS lab, HTTPS on loopback with the test CA given by
/// `--tls-ca`), `check --json` passes their lines; `--offline` leaves the fetch out; a
/// broken `_mta-sts` record fails with `mta-sts.syntax`.
#[tokio::test(flavor = "multi_thread")]
async fn records_printed_and_served_pass_the_binary_check() {
    use crate::support::scenario::fixture_zones;
    use crate::support::{ANSWERS, Tree};

    let tree = Tree::debian12_fast();
    let answers = tree.root().join("answers-sts.toml");
    let text = format!(
        "{}mta_sts = \"testing\"\ntls_rpt_rua = \"mailto:tlsrpt@example.org\"\n",
        std::fs::read_to_string(ANSWERS).unwrap()
    );
    std::fs::write(&answers, text).unwrap();
    let answers = answers.display().to_string();
    let out = tree.run(&["records", "--answers", &answers, "--format", "json"]);
    out.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let value = |zone: &str, name: &str| {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["domain"] == zone && r["name"] == name)
            .map(|r| r["value"].as_str().unwrap().to_string())
            .unwrap()
    };
    let policy_text = v["mta_sts_policies"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(policy_text, policy(StsMode::Testing).text);

    let ca = TestCa::new();
    let names = ["mta-sts.example.org", "mta-sts.example.net"];
    let server = HttpsServer::start(&ca, &names, Serve::policy(&policy_text)).await;
    let ca_file = tree.root().join("test-ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let ca_file = ca_file.display().to_string();
    let port = server.addr.port().to_string();

    let serve = |org_sts: &str| {
        let mut zones = fixture_zones(true);
        for (i, d) in ["example.org", "example.net"].iter().enumerate() {
            let sts = if i == 0 {
                org_sts.to_string()
            } else {
                value(d, "_mta-sts")
            };
            zones[i].push_str(&format!(
                "_mta-sts IN TXT \"{sts}\"\n_smtp._tls IN TXT \"{}\"\nmta-sts IN A 127.0.0.1\n",
                value(d, "_smtp._tls")
            ));
        }
        zones
    };
    let lines = |stdout: &str| -> Vec<(String, String, String)> {
        let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
        v["checked"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["check"].as_str().unwrap().starts_with("mta-sts") || c["check"] == "tls-rpt"
            })
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap().to_string();
                (s("check"), s("subject"), s("status"))
            })
            .collect()
    };
    let ids = |stdout: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .filter(|id| id.starts_with("mta-sts") || id.starts_with("tls-rpt"))
            .collect()
    };

    let zones = serve(&value("example.org", "_mta-sts"));
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let mut args = vec!["check", "--json", "--answers", &answers];
    let dns = lab.args();
    args.extend(dns.iter().map(String::as_str));
    let fetch = [
        "--tls-ca",
        ca_file.as_str(),
        "--mta-sts-port",
        port.as_str(),
    ];
    let run = tree.run(&[&args[..], &fetch[..]].concat());
    let pass = |c: &str, d: &str| (c.to_string(), d.to_string(), "pass".to_string());
    assert_eq!(
        lines(&run.stdout),
        [
            pass("mta-sts", "example.org"),
            pass("tls-rpt", "example.org"),
            pass("mta-sts", "example.net"),
            pass("tls-rpt", "example.net"),
            pass("mta-sts-policy", "example.org"),
            pass("mta-sts-policy", "example.net"),
        ],
        "{}{}",
        run.stdout,
        run.stderr
    );
    let offline = tree.run(&[&args[..], &fetch[..], &["--offline"][..]].concat());
    assert_eq!(lines(&offline.stdout).len(), 4, "{}", offline.stdout);
    // without the test CA the certificate is not trusted
    let untrusted = tree.run(&[&args[..], &["--mta-sts-port", port.as_str()][..]].concat());
    assert_eq!(
        ids(&untrusted.stdout),
        [
            ids::MTA_STS_POLICY_UNREACHABLE,
            ids::MTA_STS_POLICY_UNREACHABLE
        ]
    );
    drop(lab);

    let zones = serve("v=STSv1; id=abc def");
    let refs: Vec<&str> = zones.iter().map(String::as_str).collect();
    let lab = Lab::start(&refs).await;
    let dns = lab.args();
    let mut args = vec!["check", "--json", "--offline", "--answers", &answers];
    args.extend(dns.iter().map(String::as_str));
    let run = tree.run(&args);
    assert_eq!(ids(&run.stdout), [ids::MTA_STS_SYNTAX], "{}", run.stdout);
    assert_eq!(run.code, 1);
}
