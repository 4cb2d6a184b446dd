use super::*;

fn server(n: u8) -> ZoneServer {
    ZoneServer {
        name: format!("ns{n}.example.org"),
        addr: SocketAddr::from(([127, 0, 0, n], 53)),
    }
}

fn answer(records: &[&str]) -> Result<Answer<String>, LookupError> {
    Ok(Answer {
        records: records.iter().map(|r| r.to_string()).collect(),
        absent: records
            .is_empty()
            .then_some(super::super::Absence::NxDomain),
        ttl: 300,
    })
}

/// Three servers with these serials and answers; the first hop answers `first_hop`.
fn observed(
    serials: Vec<Serial>,
    answers: Vec<Result<Answer<String>, LookupError>>,
    first_hop: Result<Answer<String>, LookupError>,
) -> Observed<String> {
    Observed {
        name: "mail._domainkey.example.org".into(),
        zone: Arc::new(Zone {
            apex: "example.org".into(),
            negative_ttl: 300,
            servers: (1..=serials.len() as u8).map(server).collect(),
            unresolved: vec![],
        }),
        serials: Arc::new(serials),
        answers,
        first_hop,
    }
}

#[test]
fn the_newest_serial_is_judged_and_the_others_lag() {
    let o = observed(
        vec![Ok(1), Ok(3), Ok(2)],
        vec![answer(&[]), answer(&["new"]), answer(&["old"])],
        answer(&["new"]),
    );
    assert_eq!(o.best_index(), Some(1));
    assert_eq!(o.best().unwrap().records, ["new"]);
    let lagging: Vec<&str> = o
        .disagreeing()
        .iter()
        .map(|(s, _)| s.name.as_str())
        .collect();
    assert_eq!(lagging, ["ns1.example.org", "ns3.example.org"]);
    assert!(o.first_hop_differs().is_none());
}

#[test]
fn same_records_in_another_order_agree() {
    let o = observed(
        vec![Ok(1), Ok(1)],
        vec![answer(&["a", "b"]), answer(&["b", "a"])],
        answer(&["b", "a"]),
    );
    assert!(o.disagreeing().is_empty());
    assert!(o.first_hop_differs().is_none());
}

#[test]
fn failed_servers_are_skipped_and_lame_ones_not_reported_per_record() {
    let refused = LookupError::Server("REFUSED".into());
    let o = observed(
        vec![Err(refused.clone()), Ok(7), Err(LookupError::Timeout)],
        vec![Err(refused), answer(&["v"]), Err(LookupError::Timeout)],
        answer(&[]),
    );
    assert_eq!(o.best().unwrap().records, ["v"]);
    let failed: Vec<&str> = o.failed().iter().map(|(s, _)| s.name.as_str()).collect();
    assert_eq!(
        failed,
        ["ns3.example.org"],
        "the lame ns1 is the ns check's to report"
    );
    assert!(o.disagreeing().is_empty());
    assert_eq!(o.first_hop_differs().map(|a| a.is_empty()), Some(true));
}

#[test]
fn no_answer_at_all_is_an_error_not_an_absence() {
    let o = observed(vec![Ok(1)], vec![Err(LookupError::Timeout)], answer(&[]));
    assert_eq!(o.best(), Err(LookupError::Timeout));
    let none = observed(vec![], vec![], answer(&[]));
    assert!(none.best().is_err());
}

#[test]
fn lameness() {
    assert!(is_lame(&Err(LookupError::Server("REFUSED".into()))));
    assert!(is_lame(&Err(LookupError::Server("NOTAUTH".into()))));
    assert!(is_lame(&Err(LookupError::NotAuthoritative(
        "example.org".into()
    ))));
    assert!(!is_lame(&Err(LookupError::Timeout)));
    assert!(!is_lame(&Err(LookupError::Server("SERVFAIL".into()))));
    assert!(!is_lame(&Ok(1)));
}

#[tokio::test]
async fn join_all_keeps_order_and_runs_concurrently() {
    use std::time::Instant;
    let start = Instant::now();
    let futs: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| async move {
            tokio::time::sleep(Duration::from_millis(ms * 5)).await;
            ms
        })
        .collect();
    assert_eq!(join_all(futs).await, vec![30, 10, 20]);
    // one after another would be 300 ms
    assert!(
        start.elapsed() < Duration::from_millis(280),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn serial_arithmetic() {
    assert!(newer(2, 1));
    assert!(!newer(1, 2));
    assert!(!newer(5, 5));
    assert!(newer(1, u32::MAX)); // wrapped
    assert!(newer(2026112101, 2026112001));
}
