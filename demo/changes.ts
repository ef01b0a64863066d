/**
 * Change events (deploys, config changes) announced to Vigil's `POST /api/v1/changes` (docs/changes.md) so
 * root-cause analysis can ask "what changed?". `source` names the demo (Vigil keeps it as the attribute
 * `reporter`). A refusal or an unreachable Vigil is ignored: the demo never waits on its observer.
 */

/** One change as the demo reports it. */
export interface ChangeEvent {
  service: string;
  namespace: string;
  kind: 'deploy' | 'config' | 'rollback' | 'restart';
  version?: string;
  previousVersion?: string;
  description: string;
  timestamp?: string;
  /** What changed, as a configuration system names it: `{key: 'role_mappings'}` for a config change. */
  attributes?: Record<string, string | number | boolean>;
}

/** Posts `change` to `${vigilUrl}/api/v1/changes`; returns whether Vigil accepted it. Never throws. */
export async function announceChange(vigilUrl: string | undefined, token: string, change: ChangeEvent): Promise<boolean> {
  if (!vigilUrl) return false;
  try {
    const res = await fetch(`${vigilUrl.replace(/\/+$/, '')}/api/v1/changes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ ...change, timestamp: change.timestamp ?? new Date().toISOString(), source: 'vigil-demo' }),
      signal: AbortSignal.timeout(2000),
    });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
