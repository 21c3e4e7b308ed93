// The caller's address for throttling. X-Forwarded-For is believed only when the connection comes
// from a trusted proxy (TRUSTED_PROXIES), and then only up to the first address that is not one:
// anything further left could have been written by the caller.
import { BlockList, isIPv6 } from 'node:net';

export function trustedProxyList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

const bare = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

export function clientIp(list: BlockList, socketAddress: string | undefined, forwardedFor: string | null): string {
  let address = bare(socketAddress ?? 'unknown');
  if (!forwardedFor || address === 'unknown' || !isTrusted(list, address)) return address;
  const hops = forwardedFor
    .split(',')
    .map((h) => bare(h.trim()))
    .filter(Boolean);
  while (hops.length) {
    address = hops.pop()!;
    if (!isTrusted(list, address)) break;
  }
  return address;
}
