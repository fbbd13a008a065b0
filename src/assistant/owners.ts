// A daemon's name in claims and leases: host, process id and a random part, so two daemons never
// share one, and a daemon can tell that a claim's holder died on its own machine (its process is
// gone) without waiting for the lease to run out — the common case of a restart after a crash.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function daemonOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** True only when `owner` names a process of this machine that no longer exists. */
export function diedOnThisMachine(owner: string): boolean {
  const parts = owner.split(':');
  if (parts.length < 3) return false;
  const pid = Number(parts.at(-2));
  const host = parts.slice(0, -2).join(':');
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** "pid 1234 on host db-1", for messages. */
export function describeOwner(owner: string): string {
  const parts = owner.split(':');
  if (parts.length < 3) return owner;
  return `pid ${parts.at(-2)} on host ${parts.slice(0, -2).join(':')}`;
}
