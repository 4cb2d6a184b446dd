//! A real HTTPS server on loopback for the MTA-STS policy fetch: a test CA made with rcgen,
//! a certificate it signs for the names asked, rustls (ring) and hyper serving one file at
//! `/.well-known/mta-sts.txt` with the status and Content-Type asked (every other path: 404).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

/// A test CA: its certificate (the root to trust) and what signs with it.
pub struct TestCa {
    pub cert: CertificateDer<'static>,
    /// The certificate in PEM (for `--tls-ca`).
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "mailsetup test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `names` and its key.
    pub fn leaf(&self, names: &[&str]) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (cert.der().clone(), key)
    }
}

/// What the server answers for the policy path.
#[derive(Clone)]
pub struct Serve {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Serve {
    /// 200, text/plain, `body`.
    pub fn policy(body: &str) -> Serve {
        Serve {
            status: 200,
            content_type: "text/plain",
            body: body.to_string(),
        }
    }
}

/// An HTTPS server on 127.0.0.1 (a free port), with a certificate for `names` signed by
/// `ca`, answering `serve`. Stops when dropped.
pub struct HttpsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsServer {
    pub async fn start(ca: &TestCa, names: &[&str], serve: Serve) -> HttpsServer {
        let (cert, key) = ca.leaf(names);
        #[allow(deprecated)] // rustls 0.23.48: the ring provider is the project's choice
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert, ca.cert.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let serve = serve.clone();
                tokio::spawn(async move {
                    // a client that refuses the certificate ends the handshake: nothing to serve
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |req: Request<_>| {
                        let serve = serve.clone();
                        async move { Ok::<_, Infallible>(answer(&req, &serve)) }
                    });
                    let io = hyper_util::rt::TokioIo::new(tls);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        HttpsServer { addr, task }
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn answer<B>(req: &Request<B>, serve: &Serve) -> Response<Full<Bytes>> {
    if req.uri().path() != "/.well-known/mta-sts.txt" {
        return Response::builder()
            .status(404)
            .body(Full::new(Bytes::from_static(b"not found")))
            .unwrap();
    }
    Response::builder()
        .status(serve.status)
        .header("content-type", serve.content_type)
        .body(Full::new(Bytes::from(serve.body.clone())))
        .unwrap()
}
