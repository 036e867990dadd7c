//! The TLS listener's side of a connection: the rustls configuration (TLS 1.2 and 1.3, ALPN
//! `h2` and `http/1.1`, a client certificate requested when the snapshot has a client CA), the
//! SNI resolver over the snapshot's and the directory's certificates, and the handshake.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{CertificateTable, ClientCertificate};
use crate::runtime::Runtime;

/// A client that has not finished its handshake by then is dropped, so that idle sockets
/// cannot hold a worker's connections open.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS for the proxy's TLS listener, shared by every worker.
pub struct EdgeTls {
    resolver: Arc<SniResolver>,
    runtime: Arc<Runtime>,
    /// The rustls configuration for the client verifier of the snapshot in force; rebuilt only
    /// when a snapshot brings another one (certificates change without it: the resolver reads
    /// them on each handshake).
    config: ArcSwap<Configured>,
}

struct Configured {
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    config: Arc<ServerConfig>,
}

/// A connection after its handshake.
pub struct TlsConnection {
    pub stream: TlsStream<TcpStream>,
    /// The leaf certificate the client presented, if it presented one.
    pub client_certificate: Option<ClientCertificate>,
}

impl EdgeTls {
    /// TLS over the certificates of `runtime`'s snapshot and of its certificate directory
    /// (`Runtime::tls_files`, swapped by `tls::watch_dir`; empty for none).
    pub fn new(runtime: Arc<Runtime>) -> EdgeTls {
        let resolver = Arc::new(SniResolver {
            runtime: runtime.clone(),
            files: runtime.tls_files.clone(),
        });
        let config = build_config(&resolver, None);
        EdgeTls {
            resolver,
            runtime,
            config: ArcSwap::from_pointee(Configured { verifier: None, config }),
        }
    }

    /// Runs the handshake on an accepted connection.
    pub async fn accept(&self, stream: TcpStream) -> std::io::Result<TlsConnection> {
        let acceptor = TlsAcceptor::from(self.current_config());
        let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        let client_certificate = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|der| client_certificate(der));
        Ok(TlsConnection {
            stream,
            client_certificate,
        })
    }

    fn current_config(&self) -> Arc<ServerConfig> {
        let loaded = self.runtime.current();
        let wanted = &loaded.compiled.tls.client_verifier;
        let configured = self.config.load();
        let same = match (&configured.verifier, wanted) {
            (None, None) => true,
            (Some(have), Some(want)) => Arc::ptr_eq(have, want),
            _ => false,
        };
        if same {
            return configured.config.clone();
        }
        let config = build_config(&self.resolver, wanted.clone());
        self.config.store(Arc::new(Configured {
            verifier: wanted.clone(),
            config: config.clone(),
        }));
        config
    }
}

fn build_config(resolver: &Arc<SniResolver>, verifier: Option<Arc<dyn ClientCertVerifier>>) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the ring provider supports TLS 1.2 and 1.3");
    let builder = match verifier {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(resolver.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

fn client_certificate(der: &[u8]) -> ClientCertificate {
    let sha256: [u8; 32] = Sha256::digest(der).into();
    ClientCertificate {
        der: der.into(),
        sha256,
        sha256_hex: hex::encode(sha256),
        // The verifier has parsed it already; a subject x509-cert cannot read is left empty.
        subject: super::certificate::describe(der)
            .map(|info| info.subject)
            .unwrap_or_default(),
    }
}

/// The verifier of client certificates for a PEM CA bundle: a certificate is requested, not
/// required, so that callers with keys or tokens still connect.
pub(super) fn client_verifier(pem: &str) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    for certificate in super::certificate::read_chain(pem, "client_ca_pem").map_err(|error| error.message)? {
        roots
            .add(certificate)
            .map_err(|error| format!("holds a certificate that cannot be a CA: {error}"))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::new(rustls::crypto::ring::default_provider()))
        .allow_unauthenticated()
        .build()
        .map_err(|error| error.to_string())
}

/// Picks a handshake's certificate: the snapshot's for the name, then the directory's, then the
/// snapshot's default, then the directory's.
struct SniResolver {
    runtime: Arc<Runtime>,
    files: Arc<ArcSwap<CertificateTable>>,
}

impl fmt::Debug for SniResolver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SniResolver")
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let loaded = self.runtime.current();
        let snapshot = &loaded.compiled.tls.table;
        let files = self.files.load();
        let by_name = hello
            .server_name()
            .and_then(|name| snapshot.find(name).or_else(|| files.find(name)));
        by_name
            .or_else(|| snapshot.default_certificate())
            .or_else(|| files.default_certificate())
            .cloned()
    }
}
