/**
 * Redis key layout for channel adapters: `${keyPrefix}:<type>:…` (keyPrefix is QUEUE_PREFIX).
 *
 * State that belongs to a platform credential rather than to one channel instance — access tokens,
 * rate-limit logs, the DingTalk stream lease, kf cursors — is keyed by the platform's app/corp id,
 * not by the hub instance id, so two instances pointing at the same app share it, as the platform does.
 */

/** Build `prefix:part:part…`; a trailing `:` on the prefix is tolerated. */
export function redisKey(prefix: string, ...parts: (string | number)[]): string {
  return [prefix.replace(/:+$/, ''), ...parts].join(':');
}
