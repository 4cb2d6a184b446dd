//! [`judge`] of the `ptr` check over hand-built gathered values: no DNS server.

use super::super::fixtures::{answer, assert_unverifiable, ids_of, served, unasked};
use super::*;

const HOST: &str = "mail.example.org";
const REV4: &str = "25.2.0.192.in-addr.arpa";

/// [`super::judge`] with no provider named.
fn judge(g: &Gathered, hostname: &Domain, ip: IpAddr, has_ipv4: bool) -> Vec<Finding> {
    super::judge(g, hostname, ip, has_ipv4, None)
}

fn host() -> Domain {
    Domain::parse(HOST).unwrap()
}

fn v4() -> IpAddr {
    "192.0.2.25".parse().unwrap()
}

fn v6() -> IpAddr {
    "2001:db8::25".parse().unwrap()
}

fn ptr(names: &[&str], forward: Vec<(&str, Result<Answer<IpAddr>, LookupError>)>) -> Gathered {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    Gathered {
        ptr: served(REV4, &names),
        forward: forward
            .into_iter()
            .map(|(n, a)| (n.to_string(), a))
            .collect(),
    }
}

#[test]
fn a_ptr_naming_the_host_that_resolves_back_passes() {
    let g = ptr(&[HOST], vec![(HOST, Ok(answer(&[v4()])))]);
    assert_eq!(judge(&g, &host(), v4(), true), []);
}

#[test]
fn any_ptr_name_may_confirm() {
    let other: IpAddr = "198.51.100.7".parse().unwrap();
    let g = ptr(
        &["other.example.net", HOST],
        vec![
            ("other.example.net", Ok(answer(&[other]))),
            (HOST, Ok(answer(&[v4()]))),
        ],
    );
    assert_eq!(judge(&g, &host(), v4(), true), []);
}

#[test]
fn no_ptr_is_missing_with_a_request_to_the_provider() {
    let findings = judge(&ptr(&[], vec![]), &host(), v4(), true);
    assert_eq!(ids_of(&findings), [ids::PTR_MISSING]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.subject, "192.0.2.25");
    assert!(
        f.message.contains("(the name does not exist)"),
        "{}",
        f.message
    );
    assert_eq!(f.found, None);
    assert_eq!(f.expected.as_deref(), Some(HOST));
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .ends_with("25.2.0.192.in-addr.arpa. IN PTR mail.example.org."),
        "{:?}",
        f.fix
    );
}

#[test]
fn a_ptr_naming_another_host_is_a_mismatch() {
    let findings = judge(
        &ptr(&["host-25.provider.example"], vec![]),
        &host(),
        v4(),
        true,
    );
    assert_eq!(ids_of(&findings), [ids::PTR_MISMATCH]);
    assert_eq!(
        findings[0].found.as_deref(),
        Some("host-25.provider.example")
    );
    assert!(
        findings[0]
            .fix
            .as_deref()
            .unwrap()
            .starts_with("ask the provider")
    );
}

#[test]
fn ipv6_without_ptr_offers_both_ways_out() {
    let g = Gathered {
        ptr: served::<String>("5.2.0.0.ip6.arpa", &[]),
        forward: vec![],
    };
    let findings = judge(&g, &host(), v6(), true);
    assert_eq!(ids_of(&findings), [ids::IPV6_NO_PTR]);
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(fix.starts_with("either ask the provider"), "{fix}");
    assert!(fix.contains("inet_protocols = ipv4"), "{fix}");
}

/// On an IPv6-only server there is no IPv4 to fall back on: the PTR is the only way out.
#[test]
fn ipv6_only_without_ptr_is_ptr_missing_with_the_request_alone() {
    let g = Gathered {
        ptr: served::<String>("5.2.0.0.ip6.arpa", &[]),
        forward: vec![],
    };
    let findings = judge(&g, &host(), v6(), false);
    assert_eq!(ids_of(&findings), [ids::PTR_MISSING]);
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(fix.starts_with("ask the provider of 2001:db8::25"), "{fix}");
    assert!(fix.contains(".ip6.arpa. IN PTR mail.example.org."), "{fix}");
    assert!(!fix.contains("inet_protocols"), "{fix}");
}

#[test]
fn ipv6_only_with_a_ptr_naming_another_host_is_a_mismatch() {
    let g = Gathered {
        ptr: served(
            "5.2.0.0.ip6.arpa",
            &["host-25.provider.example".to_string()],
        ),
        forward: vec![],
    };
    let findings = judge(&g, &host(), v6(), false);
    assert_eq!(ids_of(&findings), [ids::PTR_MISMATCH]);
    assert!(
        !findings[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("inet_protocols")
    );
}

#[test]
fn a_hostname_resolving_elsewhere_is_a_mismatch_fixed_by_the_a_record() {
    let other: IpAddr = "198.51.100.7".parse().unwrap();
    let g = ptr(&[HOST], vec![(HOST, Ok(answer(&[other])))]);
    let findings = judge(&g, &host(), v4(), true);
    assert_eq!(ids_of(&findings), [ids::PTR_MISMATCH]);
    let f = &findings[0];
    assert!(
        f.message.contains("(mail.example.org → 198.51.100.7)"),
        "{}",
        f.message
    );
    // found and expected show the forward lookup, which is what is wrong (the PTR is right)
    assert_eq!(f.found.as_deref(), Some("mail.example.org → 198.51.100.7"));
    assert_eq!(f.expected.as_deref(), Some("mail.example.org → 192.0.2.25"));
    assert_eq!(f.fix.as_deref(), Some("mail.example.org. IN A 192.0.2.25"));
}

#[test]
fn a_forward_lookup_that_failed_does_not_confirm_nor_disprove() {
    for e in super::super::fixtures::could_not_ask() {
        let g = ptr(&[HOST], vec![(HOST, Err(e))]);
        let findings = judge(&g, &host(), v4(), true);
        assert_eq!(ids_of(&findings), [ids::DNS_UNVERIFIABLE]);
        assert!(
            findings[0]
                .message
                .starts_with("could not verify that mail.example.org resolves back to 192.0.2.25: mail.example.org: "),
            "{}",
            findings[0].message
        );
        assert_eq!(
            crate::check::status(&findings),
            crate::check::Status::Unknown
        );
    }
    // nothing followed forward confirms nothing
    let findings = judge(&ptr(&[HOST], vec![]), &host(), v4(), true);
    assert_eq!(ids_of(&findings), [ids::PTR_MISMATCH]);
}

#[test]
fn could_not_ask_is_unverifiable_never_a_pass() {
    for seen in unasked::<String>(REV4) {
        let g = Gathered {
            ptr: seen,
            forward: vec![],
        };
        assert_unverifiable(&judge(&g, &host(), v4(), true));
    }
}

#[test]
fn the_answers_provider_gives_its_procedure() {
    let findings = super::judge(
        &ptr(&[], vec![]),
        &host(),
        v4(),
        true,
        Some(Provider::Hetzner),
    );
    assert_eq!(ids_of(&findings), [ids::PTR_MISSING]);
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(fix.starts_with("ask the provider of 192.0.2.25"), "{fix}");
    assert!(
        fix.contains("hcloud server set-rdns SERVER --ip 192.0.2.25 --hostname mail.example.org"),
        "{fix}"
    );
    assert!(!fix.contains("guessed"), "{fix}");
}

#[test]
fn the_provider_is_guessed_from_the_ptr_name_it_has_now() {
    let g = ptr(&["ec2-192-0-2-25.compute-1.amazonaws.com"], vec![]);
    let findings = judge(&g, &host(), v4(), true);
    assert_eq!(ids_of(&findings), [ids::PTR_MISMATCH]);
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(fix.contains("Elastic IP"), "{fix}");
    assert!(fix.contains("guessed from its PTR name"), "{fix}");
    // the answers' provider wins over the guess
    let findings = super::judge(&g, &host(), v4(), true, Some(Provider::Ovh));
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(
        fix.contains("OVHcloud") && !fix.contains("Elastic IP"),
        "{fix}"
    );
    // IPv6 with an IPv4 to fall back on: the procedure is in the first way out
    let g = ptr(&["vmi1.contaboserver.net"], vec![]);
    let findings = judge(&g, &host(), v6(), true);
    assert_eq!(ids_of(&findings), [ids::IPV6_NO_PTR]);
    let fix = findings[0].fix.as_deref().unwrap();
    assert!(fix.contains("Reverse DNS Management"), "{fix}");
    assert!(fix.contains("\nor send over IPv4 only"), "{fix}");
}
