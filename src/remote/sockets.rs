//! This process's connections to a worker: cutting them when it stopped answering, and
//! counting their bytes.
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

use crate::train::Traffic;

/// The established connections of this process to the worker at `url` (`ws://HOST:PORT`), as
/// file descriptors.
fn worker_fds(url: &str) -> Vec<i32> {
    let Some(authority) = url.split("://").nth(1) else {
        return Vec::new();
    };
    let authority = authority.split('/').next().unwrap_or_default();
    let Ok(addrs) = authority.to_socket_addrs() else {
        return Vec::new();
    };
    let addrs: Vec<SocketAddr> = addrs.collect();
    socket_fds(&connections_to(&addrs))
}

/// The bytes exchanged so far on this process's open connections to the worker at `url`
/// (`TCP_INFO`: `tcpi_bytes_acked`, `tcpi_bytes_received`).
pub(crate) fn traffic(url: &str) -> Traffic {
    let mut total = Traffic::default();
    for fd in worker_fds(url) {
        // SAFETY: all-zero bytes are a valid `tcp_info` (plain integers).
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: `info` is a writable buffer of `len` bytes; `getsockopt` writes at most `len`
        // bytes into it and only reads the socket's state.
        let ok = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                std::ptr::from_mut(&mut info).cast(),
                &raw mut len,
            )
        } == 0;
        if ok {
            total.sent += info.tcpi_bytes_acked;
            total.received += info.tcpi_bytes_received;
        }
    }
    total
}

/// Shut down this process's connections to the worker at `url` (`ws://HOST:PORT`); whether
/// one was found.
pub(crate) fn disconnect(url: &str) -> bool {
    let mut found = false;
    for fd in worker_fds(url) {
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
    fn a_connection_is_found_counted_and_shut_down() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        client.write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        peer.read_exact(&mut got).unwrap();
        peer.write_all(b"hi").unwrap();
        client.read_exact(&mut got[..2]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let url = format!("ws://{addr}");
        let t = traffic(&url);
        // Linux counts the SYN as one acknowledged byte.
        assert!(matches!((t.sent, t.received), (5 | 6, 2)), "{t:?}");
        assert!(disconnect(&url));
        // After shutdown the read returns end-of-stream at once instead of blocking.
        let mut buf = [0u8; 1];
        assert_eq!(client.read(&mut buf).unwrap(), 0);
        assert!(!disconnect("ws://127.0.0.1:1"));
    }
}
