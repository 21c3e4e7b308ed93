// Host names, addresses and CIDR ranges as an operator writes them (NUMOS_CONNECTOR_ALLOWED_HOSTS).
import { isIP } from 'node:net';

/** Whether an entry is well formed: a host name, an address or a CIDR range. */
export function isAllowedHostEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.trim().split('/');
  const version = isIP(address);
  if (version) return extra === undefined && (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)));
  return prefix === undefined && /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i.test(address);
}
