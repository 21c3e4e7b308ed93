// Where a connector may connect. The address a staff member types is hostile until checked (SSRF):
// it may not resolve to loopback, a private, link-local, shared or reserved range unless the
// operator allowed that host or range (NUMOS_CONNECTOR_ALLOWED_HOSTS). The check runs at each call,
// on the addresses the connection will actually use (DNS may change between two calls), through
// the `lookup` hook of net/tls/http(s) connections: a name that resolves to a forbidden address
// is refused before any byte is sent.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ConnectorFailure, type NetworkPolicy } from './contract.js';

export type { NetworkPolicy };

/** Ranges no connector reaches unless allowed: loopback, private, link-local, shared, reserved, multicast. */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** `::ffff:10.0.0.1` is 10.0.0.1: mapped IPv4 addresses are judged as IPv4. */
const unmapped = (address: string) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;

/** The allowed ranges and names of a policy, parsed once per policy object. */
const parsed = new WeakMap<NetworkPolicy, { names: Set<string>; ranges: BlockList }>();

function allowed(policy: NetworkPolicy) {
  let entry = parsed.get(policy);
  if (!entry) {
    const names = new Set<string>();
    const ranges = new BlockList();
    for (const raw of policy.allowedHosts) {
      const value = raw.trim().toLowerCase();
      const [address = '', prefix] = value.split('/');
      const version = isIP(address);
      if (!version) names.add(value.replace(/\.$/, ''));
      else ranges.addSubnet(address, prefix === undefined ? (version === 4 ? 32 : 128) : Number(prefix), version === 4 ? 'ipv4' : 'ipv6');
    }
    entry = { names, ranges };
    parsed.set(policy, entry);
  }
  return entry;
}

/** Refuses an address the connector may not reach (the host name as typed, for an allowed name). */
export function checkAddress(policy: NetworkPolicy, host: string, address: string): void {
  const { names, ranges } = allowed(policy);
  if (names.has(host.toLowerCase().replace(/\.$/, ''))) return;
  const ip = unmapped(address);
  if (ranges.check(ip, family(ip))) return;
  if (FORBIDDEN.check(ip, family(ip))) {
    throw new ConnectorFailure(
      `L'adresse du système de la bibliothèque (${host}) mène à un réseau privé ou local : refusée (l'exploitant peut l'autoriser par NUMOS_CONNECTOR_ALLOWED_HOSTS).`,
      false,
    );
  }
}

/**
 * A `lookup` for net.connect, tls.connect and http(s) agents: resolves as usual, then refuses the
 * connection when any address it would use is forbidden. An address typed as such (no name to
 * resolve) must be checked by `checkHost` before connecting, since Node skips `lookup` then.
 */
export function guardedLookup(policy: NetworkPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as LookupAddress[];
      try {
        if (!list.length) throw new ConnectorFailure(`Le nom ${hostname} ne correspond à aucune adresse.`);
        for (const { address } of list) checkAddress(policy, hostname, address);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const [first] = list;
      callback(null, first!.address, first!.family);
    });
  };
}

/** Before connecting: a host typed as an address is checked here (a name is checked by `guardedLookup`). */
export function checkHost(policy: NetworkPolicy, host: string): void {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) checkAddress(policy, bare, bare);
}

/** Plain HTTP or TCP is refused unless the operator allowed it (NUMOS_CONNECTOR_ALLOW_PLAINTEXT). */
export function checkEncrypted(policy: NetworkPolicy, encrypted: boolean, what: string): void {
  if (!encrypted && !policy.allowPlaintext) {
    throw new ConnectorFailure(
      `${what} sans chiffrement est refusé : utilisez HTTPS ou TLS (l'exploitant peut l'autoriser par NUMOS_CONNECTOR_ALLOW_PLAINTEXT).`,
      false,
    );
  }
}
