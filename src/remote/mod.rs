//! Several machines through Burn's remote backend (feature `remote`).
//!
//! A **worker** ([`WorkerServer`], `ngmnn worker`) serves one device of its machine over Burn's
//! WebSocket transport. The controlling process connects to workers ([`connect`],
//! [`connect_workers`]); each connection is an ordinary Burn [`Device`], so a sharded fit
//! ([`crate::train::Training::on_workers`]) keeps a shard of the training rows resident
//! on each worker, runs every pass on all of them at once and merges the small moments on its
//! own host in f64. Burn has no cross-machine all-reduce, and the fit needs none.
//!
//! Client and worker must be built from the same Burn release (ngmnn uses Burn 0.22.1): a
//! worker of another release is refused at connection with one line naming both protocol
//! versions. The transport is **unencrypted**: run workers on a private network or behind a
//! tunnel; a token ([`WorkerServer::bind`], [`connect`]) only stops stray clients.

#[cfg(target_os = "linux")]
mod sockets;
#[cfg(target_os = "linux")]
pub(crate) use sockets::{disconnect, traffic};

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::Path;

use burn::remote::{ConnectError, RemoteHost};
use burn::server::{RemoteServer, ServeError, TokenAuthorizer, WebSocketTransport};
use burn::tensor::Device;

use crate::error::{NgmnnError, Result};
use crate::train::{Worker, Workers};

/// A worker bound to its address, ready to serve one device.
#[derive(Debug)]
pub struct WorkerServer {
    listener: TcpListener,
    device: Device,
    token: Option<String>,
}

/// The address `listen` names: `ADDR:PORT`, a host name with a port, or a bare port (bound on
/// 127.0.0.1, never on every interface unless asked with `0.0.0.0:PORT`).
///
/// # Errors
/// [`NgmnnError::InvalidConfig`] if it names no address.
pub fn listen_address(listen: &str) -> Result<SocketAddr> {
    if let Ok(port) = listen.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    listen
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            NgmnnError::config(
                "listen",
                listen,
                "expected ADDR:PORT (e.g. 127.0.0.1:4000, 10.0.0.5:4000) or a port",
            )
        })
}

impl WorkerServer {
    /// Bind `addr` for a worker serving `device`, accepting only clients that present `token`
    /// when one is given. Port 0 picks a free port ([`WorkerServer::url`] tells which).
    ///
    /// # Errors
    /// [`NgmnnError::Worker`] if the address cannot be bound (a port in use, an address not of
    /// this machine), [`NgmnnError::InvalidConfig`] for an empty token.
    pub fn bind(addr: SocketAddr, device: Device, token: Option<String>) -> Result<Self> {
        if token.as_deref().is_some_and(str::is_empty) {
            return Err(NgmnnError::config("token", "\"\"", "must not be empty"));
        }
        let listener = TcpListener::bind(addr).map_err(|e| NgmnnError::Worker {
            worker: format!("ws://{addr}"),
            reason: match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "the port is in use (another worker or program listens there): choose \
                     another port with --listen"
                        .into()
                }
                std::io::ErrorKind::AddrNotAvailable => {
                    "the address is not one of this machine's: listen on one of its own \
                     addresses, or on 0.0.0.0 for all of them"
                        .into()
                }
                _ => format!("cannot listen there: {e}"),
            },
        })?;
        Ok(Self {
            listener,
            device,
            token,
        })
    }

    /// The bound address.
    ///
    /// # Errors
    /// [`NgmnnError::Worker`] if the socket cannot say (never for a bound TCP socket).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().map_err(|e| NgmnnError::Worker {
            worker: "the worker".into(),
            reason: format!("cannot read its own address: {e}"),
        })
    }

    /// The URL clients connect to, `ws://ADDR:PORT`.
    ///
    /// # Errors
    /// As [`WorkerServer::local_addr`].
    pub fn url(&self) -> Result<String> {
        Ok(format!("ws://{}", self.local_addr()?))
    }

    /// Serve until the process receives Ctrl-C or SIGTERM. Every client session gets the one
    /// device; tensors a client uploads stay on it until the client drops them or disconnects.
    ///
    /// # Errors
    /// [`NgmnnError::Worker`] if Burn's server cannot start (a device it cannot serve, such as
    /// libtorch).
    pub fn serve(self) -> Result<()> {
        let url = self.url()?;
        let mut server = RemoteServer::new([self.device]);
        if let Some(token) = self.token {
            let authorizer = TokenAuthorizer::new(token)
                .map_err(|_| NgmnnError::config("token", "\"\"", "must not be empty"))?;
            server = server.with_authorizer(authorizer);
        }
        server
            .serve(WebSocketTransport::from_listener(self.listener))
            .map_err(|e| NgmnnError::Worker {
                worker: url,
                reason: serve_reason(&e),
            })
    }
}

fn serve_reason(e: &ServeError) -> String {
    match e {
        ServeError::UnsupportedDevice { reason } => {
            format!(
                "this backend cannot serve remote sessions ({reason}): use flex, ndarray, wgpu or cuda"
            )
        }
        other => other.to_string(),
    }
}

/// Read a token file: its contents without surrounding whitespace.
///
/// # Errors
/// [`NgmnnError::Io`] if it cannot be read, [`NgmnnError::InvalidConfig`] if it is empty.
pub fn read_token(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| NgmnnError::Io {
        path: path.to_owned(),
        source,
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(NgmnnError::config(
            "token_file",
            path.display(),
            "the file holds no token",
        ));
    }
    Ok(token.to_owned())
}

/// Connect to the worker at `url` (`ws://HOST:PORT`), presenting `token` if given.
///
/// # Errors
/// [`NgmnnError::InvalidConfig`] for a URL that is not `ws://` or `wss://`;
/// [`NgmnnError::Worker`] with one line saying why it cannot be used: unreachable, a refused
/// token, another Burn release, not a worker.
pub fn connect(url: &str, token: Option<&str>) -> Result<Worker> {
    if !(url.starts_with("ws://") || url.starts_with("wss://")) || url.contains(',') {
        return Err(NgmnnError::config(
            "workers",
            url,
            "a worker is ws://HOST:PORT (as `ngmnn worker` prints it)",
        ));
    }
    let mut host = RemoteHost::websocket(url);
    if let Some(token) = token {
        host = host.with_credential(token);
    }
    let device = Device::remote_options(&host)
        .init()
        .map_err(|e| NgmnnError::Worker {
            worker: url.to_owned(),
            reason: connect_reason(&e, token.is_some()),
        })?;
    Ok(Worker::new(url, device))
}

/// Connect to every worker of `urls` (the fit's devices) and `spares` (devices that take over
/// a lost worker's rows), in that order.
///
/// # Errors
/// As [`connect`], for the first worker that cannot be used; [`NgmnnError::InvalidConfig`]
/// for no workers or a worker named twice.
pub fn connect_workers(urls: &[String], spares: &[String], token: Option<&str>) -> Result<Workers> {
    if urls.is_empty() {
        return Err(NgmnnError::config(
            "workers",
            "[]",
            "name at least one worker",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = urls.iter().chain(spares).find(|u| !seen.insert(u.as_str())) {
        return Err(NgmnnError::config(
            "workers",
            twice,
            "a worker may be named only once (a worker serves one device; start another worker \
             for another shard)",
        ));
    }
    let active = urls
        .iter()
        .map(|u| connect(u, token))
        .collect::<Result<Vec<_>>>()?;
    let spares = spares
        .iter()
        .map(|u| connect(u, token))
        .collect::<Result<Vec<_>>>()?;
    Ok(Workers::new(active).with_spares(spares))
}

/// One line for a failed connection.
fn connect_reason(e: &ConnectError, with_token: bool) -> String {
    match e {
        ConnectError::Unreachable { reason } => {
            format!("cannot be reached ({reason}): is `ngmnn worker` running there?")
        }
        ConnectError::Unauthorized if with_token => {
            "refused the token: give it the token it was started with (--token-file)".into()
        }
        ConnectError::Unauthorized => {
            "requires a token: pass the worker's token with --token-file".into()
        }
        ConnectError::IncompatibleProtocol {
            client_version,
            server_version,
        } => format!(
            "it speaks version {server_version} of Burn's remote protocol and this program \
             version {client_version}: build the worker and this program from the same Burn \
             release (ngmnn uses Burn 0.22.1)"
        ),
        ConnectError::Handshake { reason } => format!(
            "the session handshake failed ({reason}): is it an ngmnn worker built from the same \
             Burn release (0.22.1)?"
        ),
        ConnectError::NoSuchDevice { device_count } => {
            format!("it serves {device_count} device(s), not the one asked for")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_one_line_each_naming_the_remedy() {
        let other_release = connect_reason(
            &ConnectError::IncompatibleProtocol {
                client_version: 3,
                server_version: 4,
            },
            false,
        );
        assert!(
            other_release.contains("version 4") && other_release.contains("version 3"),
            "{other_release}"
        );
        assert!(
            other_release.contains("same Burn release"),
            "{other_release}"
        );
        let wrong = connect_reason(&ConnectError::Unauthorized, true);
        assert!(wrong.contains("refused the token"), "{wrong}");
        let missing = connect_reason(&ConnectError::Unauthorized, false);
        assert!(missing.contains("--token-file"), "{missing}");
        let gone = connect_reason(
            &ConnectError::Unreachable {
                reason: "connection refused".into(),
            },
            false,
        );
        assert!(gone.contains("ngmnn worker"), "{gone}");
        for line in [other_release, wrong, missing, gone] {
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn listen_addresses_default_to_loopback() {
        assert_eq!(
            listen_address("4000").unwrap(),
            "127.0.0.1:4000".parse().unwrap()
        );
        assert_eq!(
            listen_address("0.0.0.0:4000").unwrap(),
            "0.0.0.0:4000".parse().unwrap()
        );
        assert!(matches!(
            listen_address("nowhere"),
            Err(NgmnnError::InvalidConfig { .. })
        ));
    }
}
