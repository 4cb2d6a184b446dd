//! The probe's client code against an in-process SMTP listener on loopback (tokio-rustls on
//! the server side, a certificate made here): what it reads from the EHLO reply, the chain
//! it keeps, and a failing handshake. Postfix itself is the e2e's (tests/e2e/tls_checks.sh).

use std::sync::Arc;

use rcgen::{CertificateParams, KeyPair};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// How the test server behaves after EHLO.
#[derive(Clone, Copy)]
enum Server {
    /// Offers STARTTLS and does TLS with the certificate.
    Tls,
    /// Offers no STARTTLS.
    Plain,
    /// Offers STARTTLS, answers 220, then sends bytes that are no TLS.
    Garbage,
}

/// A one-connection SMTP server on 127.0.0.1; its address and the certificate it serves.
async fn serve(how: Server) -> (SocketAddr, CertificateDer<'static>) {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["mail.example.org".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = cert.der().clone();
    let pkcs8 = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(super::super::tls_cert::provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], pkcs8)
            .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        s.write_all(b"220 mail.example.org ESMTP\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf).await.unwrap(); // EHLO
        let tls = if matches!(how, Server::Plain) {
            ""
        } else {
            "250-STARTTLS\r\n"
        };
        let reply = format!("250-mail.example.org\r\n250-PIPELINING\r\n{tls}250 8BITMIME\r\n");
        s.write_all(reply.as_bytes()).await.unwrap();
        let n = s.read(&mut buf).await.unwrap();
        if &buf[..n] != b"STARTTLS\r\n" {
            return;
        }
        s.write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .await
            .unwrap();
        match how {
            Server::Garbage => {
                let _ = s.write_all(b"this is not TLS at all\r\n").await;
            }
            _ => {
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
                if let Ok(mut tls) = acceptor.accept(s).await {
                    let _ = tls.read(&mut buf).await; // QUIT
                }
            }
        }
    });
    (addr, der)
}

#[tokio::test]
async fn the_handshake_keeps_the_served_chain() {
    let (addr, der) = serve(Server::Tls).await;
    let outcome = gather(addr, "mail.example.org", "mail.example.org").await;
    match &outcome {
        Outcome::Served { chain, version } => {
            assert_eq!(chain, &[der]);
            assert_eq!(version, "TLSv1_3");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(judge(&outcome, "127.0.0.1:25", "mail.example.org"), []);
}

#[tokio::test]
async fn no_starttls_in_the_ehlo_reply_is_missing() {
    let (addr, _) = serve(Server::Plain).await;
    let outcome = gather(addr, "mail.example.org", "mail.example.org").await;
    assert_eq!(
        outcome,
        Outcome::NoStarttls {
            ehlo: vec!["PIPELINING".into(), "8BITMIME".into()]
        }
    );
    let f = judge(&outcome, &addr.to_string(), "mail.example.org");
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_STARTTLS_MISSING]
    );
}

#[tokio::test]
async fn a_broken_handshake_says_the_tls_error() {
    let (addr, _) = serve(Server::Garbage).await;
    let outcome = gather(addr, "mail.example.org", "mail.example.org").await;
    let Outcome::HandshakeFailed(why) = &outcome else {
        panic!("{outcome:?}")
    };
    let f = judge(&outcome, &addr.to_string(), "mail.example.org");
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_HANDSHAKE_FAILED]
    );
    assert!(f[0].message.contains(why.as_str()), "{}", f[0].message);
}

#[tokio::test]
async fn nothing_listening_is_missing_with_the_reason() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let outcome = gather(addr, "mail.example.org", "mail.example.org").await;
    assert!(
        matches!(outcome, Outcome::NoSmtp(ref why) if why.contains("cannot connect")),
        "{outcome:?}"
    );
    let f = judge(&outcome, &addr.to_string(), "mail.example.org");
    assert_eq!(
        f.iter().map(|f| f.id).collect::<Vec<_>>(),
        [ids::TLS_STARTTLS_MISSING]
    );
}
