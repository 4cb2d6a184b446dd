use super::*;

#[test]
fn reverse_names() {
    let v4: IpAddr = "192.0.2.25".parse().unwrap();
    assert_eq!(reverse_name(v4), "25.2.0.192.in-addr.arpa");
    let v6: IpAddr = "2001:db8::25".parse().unwrap();
    assert_eq!(
        reverse_name(v6),
        "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    );
}

#[test]
fn names_are_made_absolute() {
    assert_eq!(fqdn("example.org").unwrap().to_ascii(), "example.org.");
    assert_eq!(fqdn("example.org.").unwrap().to_ascii(), "example.org.");
    assert!(fqdn("a..b").is_err());
}

#[test]
fn spf_outcome_names_are_rfc7208() {
    let names: Vec<String> = [
        SpfOutcome::None,
        SpfOutcome::Neutral,
        SpfOutcome::Pass,
        SpfOutcome::Fail,
        SpfOutcome::SoftFail,
        SpfOutcome::TempError,
        SpfOutcome::PermError,
    ]
    .iter()
    .map(|o| o.to_string())
    .collect();
    assert_eq!(
        names,
        [
            "none",
            "neutral",
            "pass",
            "fail",
            "softfail",
            "temperror",
            "permerror"
        ]
    );
}
