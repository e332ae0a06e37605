//! Cutting the connection to a worker that stopped answering.
//!
//! A worker whose process is frozen (stopped, deadlocked, swapping) keeps its TCP connection
//! open: the kernel still answers keep-alive probes, so Burn's client waits for its answer
//! forever, and Burn 0.22.1 has no call to abort a remote session. The fit's watchdog
//! ([`crate::train::Workers`]) therefore shuts the connection down at the socket level: it
//! finds this process's established TCP connections to the worker's address
//! (`/proc/self/net/tcp*`, matched to file descriptors through `/proc/self/fd`) and calls
//! `shutdown(2)` on them. Burn's reader then sees the connection end, the pending read fails,
//! and the fit treats the worker as lost. Linux only; elsewhere a frozen worker is noticed
//! only when its machine stops answering TCP (Burn's keep-alive, about 30 s).

use std::net::{SocketAddr, ToSocketAddrs};

/// Shut down this process's connections to the worker at `url` (`ws://HOST:PORT`); whether
/// one was found.
pub(crate) fn disconnect(url: &str) -> bool {
    let Some(authority) = url.split("://").nth(1) else {
        return false;
    };
    let authority = authority.split('/').next().unwrap_or_default();
    let Ok(addrs) = authority.to_socket_addrs() else {
        return false;
    };
    let addrs: Vec<SocketAddr> = addrs.collect();
    let inodes = connections_to(&addrs);
    let mut found = false;
    for fd in socket_fds(&inodes) {
        // SAFETY: `shutdown` only changes the state of the socket behind `fd`, which the
        // listing above found open and connected to the worker; it closes no descriptor, so
        // the owner (Burn's runtime) keeps a valid descriptor and sees end-of-stream.
        found |= unsafe { libc::shutdown(fd, libc::SHUT_RDWR) } == 0;
    }
    found
}

/// Inodes of the established TCP connections whose remote end is one of `addrs`.
fn connections_to(addrs: &[SocketAddr]) -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if fields.len() < 10 || fields[3] != "01" {
                continue;
            }
            if parse_addr(fields[2]).is_some_and(|a| addrs.contains(&a))
                && let Ok(inode) = fields[9].parse()
            {
                inodes.push(inode);
            }
        }
    }
    inodes
}

/// A `/proc/net/tcp*` address, `HEXADDR:HEXPORT` (the address in the kernel's byte order).
fn parse_addr(field: &str) -> Option<SocketAddr> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip: std::net::IpAddr = match addr.len() {
        8 => std::net::Ipv4Addr::from(u32::from_str_radix(addr, 16).ok()?.to_le_bytes()).into(),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                let word = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
                chunk.copy_from_slice(&word.to_le_bytes());
            }
            let v6 = std::net::Ipv6Addr::from(bytes);
            v6.to_ipv4_mapped().map_or(v6.into(), Into::into)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// This process's file descriptors that are the sockets `inodes`.
fn socket_fds(inodes: &[u64]) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let entry = entry.ok()?;
        let target = std::fs::read_link(entry.path()).ok()?;
        let inode: u64 = target
            .to_str()?
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()?;
        inodes
            .contains(&inode)
            .then(|| entry.file_name().to_str()?.parse().ok())?
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_addresses_parse() {
        assert_eq!(
            parse_addr("0100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_addr("0000000000000000FFFF00000100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_addr("00000000000000000000000001000000:0050"),
            Some("[::1]:80".parse().unwrap())
        );
        assert_eq!(parse_addr("zz:1"), None);
    }

    #[test]
    fn a_connection_is_found_and_shut_down() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let (_server, _) = listener.accept().unwrap();
        assert!(disconnect(&format!("ws://{addr}")));
        use std::io::Read;
        let mut buf = [0u8; 1];
        // After shutdown the read returns end-of-stream at once instead of blocking.
        assert_eq!(client.read(&mut buf).unwrap(), 0);
        assert!(!disconnect("ws://127.0.0.1:1"));
    }
}
