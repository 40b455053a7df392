//! `certbound demo`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use certbound_cli::demo::{self, DemoConfig, ProxyMode, selftest};
use certbound_extract::header::HeaderFormat;
use http::HeaderName;
use ipnet::IpNet;

use crate::input;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// Where to write the PKI (the demo CA's key ca.key and its CRL ca.crl
    /// included), clients.json and urls.json.
    #[arg(long, default_value = "certbound-demo")]
    out: PathBuf,
    /// The authorization server's plain-TLS host (discovery, /authorize).
    #[arg(long, default_value = "127.0.0.1:8443")]
    addr: SocketAddr,
    /// The authorization server's mTLS host (the mtls_endpoint_aliases).
    #[arg(long, default_value = "127.0.0.1:8444")]
    mtls_addr: SocketAddr,
    /// The resource server.
    #[arg(long, default_value = "127.0.0.1:8445")]
    rs_addr: SocketAddr,
    /// The plain-HTTP listener publishing the demo CA's CRL at /ca.crl (the
    /// client certificates' CRL distribution point; port 0 allowed).
    #[arg(long, default_value = "127.0.0.1:8446")]
    crl_addr: SocketAddr,
    /// How often, in seconds, the authorization server fetches the CRL again.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    crl_refresh: u64,
    /// Rotate the authorization server's signing key (new kid) every SECONDS;
    /// the resource server refetches an unknown kid at least that often.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    rotate_signing_key: Option<u64>,
    /// Run every scenario with the built-in client, print the table, exit
    /// 0 only when every row holds.
    #[arg(long)]
    self_test: bool,
    /// Serve everything on one plain-HTTP listener behind a TLS-terminating
    /// proxy that forwards the client certificate in a header.
    #[arg(long, requires_all = ["listen", "public_url", "trusted_proxy", "cert_header", "cert_format"])]
    behind_proxy: bool,
    /// With --behind-proxy: the plain-HTTP address to listen on.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// With --behind-proxy: the proxy's external base URL.
    #[arg(long)]
    public_url: Option<String>,
    /// With --behind-proxy: a proxy address range whose header is believed.
    #[arg(long)]
    trusted_proxy: Vec<IpNet>,
    /// With --behind-proxy: the header carrying the client certificate.
    #[arg(long)]
    cert_header: Option<HeaderName>,
    /// With --behind-proxy: its format (rfc9440, pem-urlencoded, pem, der-base64, xfcc).
    #[arg(long)]
    cert_format: Option<HeaderFormat>,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Add CLIENT's certificate to the demo CA's CRL in DIR (signed with the
    /// CA key the demo keeps there, DIR/ca.key); a running demo refuses the
    /// client after its next CRL refresh (--crl-refresh), without a restart.
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
struct RevokeArgs {
    /// The running demo's --out directory.
    #[arg(long, value_name = "DIR", default_value = "certbound-demo")]
    out: PathBuf,
    /// The client: pki-client, san-client or intruder (the certificates the
    /// demo CA issued).
    client: String,
}

pub(crate) fn run(args: Args) -> ExitCode {
    if let Some(Action::Revoke(revoke)) = args.action {
        return match demo::revoke(&revoke.out, &revoke.client) {
            Ok(()) => {
                outln!(
                    "{} revoked in {}; the running demo refuses it after its next CRL refresh",
                    revoke.client,
                    revoke.out.join(demo::pki::CRL_FILE).display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => input::bad_input(e),
        };
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CERTBOUND_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let behind_proxy = match (
        args.behind_proxy,
        args.listen,
        args.public_url,
        args.cert_header,
        args.cert_format,
    ) {
        (false, ..) => None,
        (true, Some(listen), Some(public_url), Some(cert_header), Some(cert_format)) => {
            Some(ProxyMode {
                listen,
                public_url,
                trusted_proxies: args.trusted_proxy,
                cert_header,
                cert_format,
            })
        }
        _ => {
            return input::bad_input(
                "--behind-proxy needs --listen, --public-url, --trusted-proxy, --cert-header and --cert-format",
            );
        }
    };
    let config = DemoConfig {
        out: args.out,
        addr: args.addr,
        mtls_addr: args.mtls_addr,
        rs_addr: args.rs_addr,
        behind_proxy,
        crl_addr: args.crl_addr,
        // The self-test revokes a client and rotates the key itself: short
        // intervals keep it fast.
        crl_refresh: Duration::from_secs(if args.self_test { 1 } else { args.crl_refresh }),
        rotate_signing_key: args.rotate_signing_key.map(Duration::from_secs),
        unknown_kid_interval: Duration::from_secs(if args.self_test { 1 } else { 10 }),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return input::bad_input(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let running = match demo::start(&config).await {
            Ok(r) => r,
            Err(e) => return input::bad_input(e),
        };
        if args.self_test {
            let rows = selftest::run_all(&running).await;
            out!("{}", selftest::table(&rows));
            return if rows.iter().all(|r| r.ok) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            };
        }
        out!("{}", demo::instructions(&running, &config.out));
        let _ = tokio::signal::ctrl_c().await;
        drop(running);
        ExitCode::SUCCESS
    })
}
