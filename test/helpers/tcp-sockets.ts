// What Linux says of a process's TCP connections (/proc), for socket options Node does not report,
// such as keepalive.
import fs from 'node:fs';

export interface TcpConnection {
  localPort: number;
  /** SO_KEEPALIVE: the kernel's keepalive timer runs (the timer column reads 2 on an idle socket). */
  keepalive: boolean;
}

/** The established TCP connections of process `pid` to port `remotePort`, IPv4 and IPv6. */
export function tcpConnections(pid: number, remotePort: number): TcpConnection[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket) inodes.add(socket[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const port = (address: string) => parseInt(address.split(':').at(-1)!, 16);
  const found: TcpConnection[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = fs.existsSync(table) ? fs.readFileSync(table, 'utf8').split('\n').slice(1) : [];
    for (const line of lines) {
      // sl, local address, remote address, state (01: established), queues, timer:when, …, inode.
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '01' || !inodes.has(fields[9]) || port(fields[2]) !== remotePort) continue;
      found.push({ localPort: port(fields[1]), keepalive: fields[5].startsWith('02:') });
    }
  }
  return found;
}
