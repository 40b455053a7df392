//! `certbound check-client`: runs the real authenticator on a certificate
//! and a client registration, and prints every check with its verdict.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};

use certbound_auth::{
    AuthError, Authenticator, ClientMetadata, EkuPolicy, SelfSignedTlsClientAuth, TlsClientAuth,
    TrustStore,
};
use certbound_cert::Certificate;
use certbound_extract::{CertSource, ClientCert};

use crate::input;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The client's registration: RFC 7591 / RFC 8705 JSON.
    #[arg(long, value_name = "FILE")]
    client: PathBuf,
    /// A trust anchor file (PEM, one or more CA certificates); repeatable.
    #[arg(long = "ca", value_name = "FILE")]
    cas: Vec<PathBuf>,
    /// An intermediate CA the server has configured (PEM or DER); repeatable.
    #[arg(long = "intermediate", value_name = "FILE")]
    intermediates: Vec<PathBuf>,
    /// A CRL (PEM or DER); repeatable.
    #[arg(long = "crl", value_name = "FILE")]
    crls: Vec<PathBuf>,
    /// Refuse a certificate whose issuer no given CRL covers (by default its
    /// revocation status is reported as unknown and accepted).
    #[arg(long)]
    refuse_unknown_revocation: bool,
    /// A certificate policy OID the leaf must carry; repeatable.
    #[arg(long = "policy", value_name = "OID")]
    policies: Vec<String>,
    /// Require an EKU extension listing clientAuth (by default clientAuth is
    /// required only when the leaf has an EKU extension).
    #[arg(long)]
    require_eku: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// The client certificate (PEM: the leaf, then the intermediates it presents; or DER).
    cert: PathBuf,
}

/// Runs a future whose steps are all ready: the registry is in memory and
/// there is no key set fetcher, so nothing here waits on I/O.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

fn prepare(args: &Args) -> Result<(Authenticator, String, ClientCert), String> {
    let json = input::read_bytes(Some(&args.client))?;
    let metadata: ClientMetadata = serde_json::from_slice(&json)
        .map_err(|e| format!("{}: not client metadata JSON: {e}", args.client.display()))?;
    let client = metadata
        .validate()
        .map_err(|e| format!("{}: {e}", args.client.display()))?;
    let client_id = client.client_id().to_owned();
    if !client.method().is_mtls() {
        return Err(format!(
            "{}: client {client_id:?} uses {}, not tls_client_auth or self_signed_tls_client_auth",
            args.client.display(),
            client.method()
        ));
    }

    let mut anchors = Vec::new();
    for path in &args.cas {
        anchors.extend(input::read_certificates(Some(path))?);
    }
    let store = TrustStore::from_certificates(anchors).map_err(|e| e.to_string())?;
    if matches!(
        client.method(),
        certbound_auth::TokenEndpointAuthMethod::TlsClientAuth
    ) && store.is_empty()
        && client.trust_anchors().is_none()
    {
        return Err(
            "tls_client_auth needs trust anchors: give --ca, or certbound_trust_anchors in the registration"
                .into(),
        );
    }
    let mut tls = TlsClientAuth::new(store).cache_capacity(0);
    for path in &args.intermediates {
        for cert in input::read_certificates(Some(path))? {
            tls = tls.intermediate(cert);
        }
    }
    for path in &args.crls {
        tls = tls.crl(&input::read_bytes(Some(path))?);
    }
    tls = tls.refuse_unknown_revocation_status(args.refuse_unknown_revocation);
    for oid in &args.policies {
        tls = tls.required_policy(oid);
    }
    if args.require_eku {
        tls = tls.eku(EkuPolicy::ClientAuthRequired);
    }

    let mut certs = input::read_certificates(Some(&args.cert))?.into_iter();
    let leaf: Certificate = certs
        .next()
        .ok_or_else(|| format!("{}: no certificate", args.cert.display()))?;
    let presented = ClientCert::new(leaf, certs.collect(), CertSource::Tls);

    let registry = HashMap::from([(client_id.clone(), client)]);
    let auth = Authenticator::builder(registry)
        .tls_client_auth(tls)
        .self_signed_tls_client_auth(SelfSignedTlsClientAuth::new())
        .build()
        .map_err(|e| e.to_string())?;
    Ok((auth, client_id, presented))
}

pub(crate) fn run(args: Args) -> ExitCode {
    let (auth, client_id, presented) = match prepare(&args) {
        Ok(v) => v,
        Err(e) => return input::bad_input(e),
    };
    let report = block_on(auth.explain(&client_id, Some(&presented)));
    if let Err(AuthError::Registry(e)) = &report.result {
        return input::bad_input(e);
    }
    if args.json {
        outln!("{:#}", report.to_json());
    } else {
        outln!("{report}");
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
