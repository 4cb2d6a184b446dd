//! The check jobs: one [`Job`] per (check, subject), and [`join_all`] to run them
//! concurrently on the calling task.

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::task::Poll;

use super::{CheckInput, DomainInput, Finding, domain, host};
use crate::dns::Dns;

/// One check: its name, its subject, and how to run it.
pub(super) enum Job<'a> {
    A,
    Aaaa(Ipv6Addr),
    Ptr(IpAddr),
    Dkim(&'a DomainInput),
    Spf(&'a DomainInput),
    Dmarc(&'a DomainInput),
    Mx(&'a DomainInput),
}

/// The checks for `input`, in report order: host first, then each domain.
pub(super) fn jobs(input: &CheckInput) -> Vec<Job<'_>> {
    let mut jobs = vec![Job::A];
    jobs.extend(input.ipv6.map(Job::Aaaa));
    jobs.push(Job::Ptr(IpAddr::V4(input.ipv4)));
    jobs.extend(input.ipv6.map(|ip| Job::Ptr(IpAddr::V6(ip))));
    for d in &input.domains {
        jobs.extend([Job::Dkim(d), Job::Spf(d), Job::Dmarc(d), Job::Mx(d)]);
    }
    jobs
}

impl Job<'_> {
    pub(super) fn check(&self) -> &'static str {
        match self {
            Job::A => "a",
            Job::Aaaa(_) => "aaaa",
            Job::Ptr(_) => "ptr",
            Job::Dkim(_) => "dkim",
            Job::Spf(_) => "spf",
            Job::Dmarc(_) => "dmarc",
            Job::Mx(_) => "mx",
        }
    }

    pub(super) fn subject(&self, input: &CheckInput) -> String {
        match self {
            Job::A | Job::Aaaa(_) => input.hostname.to_string(),
            Job::Ptr(ip) => ip.to_string(),
            Job::Dkim(d) | Job::Spf(d) | Job::Dmarc(d) | Job::Mx(d) => d.domain.to_string(),
        }
    }

    pub(super) async fn run(&self, input: &CheckInput, dns: &Dns) -> Vec<Finding> {
        match self {
            Job::A => host::a(dns, &input.hostname, input.ipv4).await,
            Job::Aaaa(ip) => host::aaaa(dns, &input.hostname, *ip).await,
            Job::Ptr(ip) => host::ptr(dns, &input.hostname, *ip).await,
            Job::Dkim(d) => domain::dkim(dns, d).await,
            Job::Spf(d) => domain::spf(dns, input, d).await,
            Job::Dmarc(d) => domain::dmarc(dns, d).await,
            Job::Mx(d) => domain::mx(dns, &input.hostname, d).await,
        }
    }
}

/// Poll all futures concurrently on this task; outputs in input order.
pub(super) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn join_all_keeps_order_and_runs_concurrently() {
        use std::time::{Duration, Instant};
        let start = Instant::now();
        let futs: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|ms| async move {
                tokio::time::sleep(Duration::from_millis(ms * 5)).await;
                ms
            })
            .collect();
        assert_eq!(join_all(futs).await, vec![30, 10, 20]);
        // sequential would be 300 ms
        assert!(
            start.elapsed() < Duration::from_millis(280),
            "{:?}",
            start.elapsed()
        );
    }
}
