/**
 * The rules Vigil writes once, as `<rulesDir>/defaults.yml`, on first start (as the demo monitors
 * are): error rate, a jump in client errors, slow responses and latency regressions per service and
 * route, monitors down, services that stop reporting, a service's processes using far more CPU or
 * memory than over their last hour, and host CPU, memory and disk.
 *
 * Written once means once: a marker file (`.initialised`) records that the directory was set up, so a
 * user who deletes or edits defaults.yml keeps that choice across restarts. A directory that already
 * holds rule files when Vigil first sees it belongs to someone who brought their own rules; it gets the
 * marker but no defaults.
 *
 * Anomaly rules compare a series with its own recent past (robust z-score over the baseline windows)
 * and ask for a minimum volume, so a quiet service at night does not page anyone.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The name of the defaults file in the rules directory. */
export const DEFAULT_RULES_FILE = 'defaults.yml';
/** The marker that the rules directory was set up (hidden: the directory loader skips dot-files). */
export const INITIALISED_MARKER = '.initialised';

/** The text of defaults.yml: a commented rule file (see docs/alerting-rules.md). */
export const DEFAULT_RULES_YAML = `# Vigil's default alerting rules, written once on first start. Edit them here or in the UI
# (Alerts → Rules): comments and order are kept. Delete this file to go without them; it is not
# written again. The format is Prometheus's rule-file format with Vigil's query language in expr:
# see docs/alerting-rules.md.
#
# Fields a condition can read: the query's columns (value, n, …) and, with baseline:, baseline (the
# median of the baseline windows' values), baseline_mad, zscore (robust z-score) and baseline_samples.
# With no baseline samples yet, baseline is null and comparisons with it are false.
groups:
  - name: applications
    interval: 15s
    rules:
      # Server spans failing (span status error, or an HTTP 5xx) per service and route. Needs 20
      # requests in 5 minutes; resolves only below 2%, so a rate hovering at 5% does not flap.
      - alert: HighErrorRate
        expr: 'from spans kind=server | eval e = if(status = "error" or http.response.status_code >= 500, 1, 0) | stats avg(e) as value count() as n by service.name, http.route | where n >= 20 and value > 0.05'
        range: 5m
        for: 1m
        keep_firing_for: 2m
        resolve_when: 'value < 0.02'
        labels:
          severity: critical
        annotations:
          summary: '{{ $labels.service_name }} {{ $labels.http_route }}: {{ humanizePercentage $value }} of requests fail'
          description: 'More than 5% of server requests to {{ $labels.http_route }} on {{ $labels.service_name }} ended in an error (span status error or HTTP 5xx) over the last 5 minutes.'

      # The share of 4xx answers jumps against the operation's own last hour: a role or permission
      # fault answering 403 to most users looks like success to the error rate.
      - alert: ClientErrorSpike
        expr: 'from spans kind=server | eval c = if(http.response.status_code >= 400 and http.response.status_code < 500, 1, 0) | stats avg(c) as value count() as n by service.name, http.route'
        range: 5m
        for: 1m
        baseline: { windows: 12, days: 0 }
        condition: 'n >= 20 and value > 0.2 and value > baseline + 0.15 and zscore > 4'
        resolve_when: 'value < baseline + 0.05'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }} {{ $labels.http_route }}: {{ humanizePercentage $value }} of requests answered 4xx'
          description: 'The share of client errors (HTTP 4xx) on {{ $labels.http_route }} of {{ $labels.service_name }} is far above its level over the previous hour. Check recent permission, role, validation or client changes.'

      # p95 over 5 seconds, with at least 10 requests in 5 minutes.
      - alert: SlowResponses
        expr: 'from spans kind=server | stats p95(duration_ms) as value count() as n by service.name, http.route | where n >= 10 and value > 5000'
        range: 5m
        for: 1m
        resolve_when: 'value < 4000'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }} {{ $labels.http_route }}: p95 {{ $value | humanize }} ms'
          description: 'The 95th percentile response time of {{ $labels.http_route }} on {{ $labels.service_name }} is over 5 s.'

      # p95 several times its usual level (the last hour and the same time on the previous 7 days),
      # and at least 250 ms slower, so fast endpoints getting a little slower do not page.
      - alert: LatencyRegression
        expr: 'from spans kind=server | stats p95(duration_ms) as value count() as n by service.name, http.route'
        range: 5m
        for: 1m
        baseline: { windows: 12, days: 7 }
        condition: 'n >= 20 and value > 3 * baseline and value - baseline > 250 and zscore > 4'
        resolve_when: 'value < 2 * baseline'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }} {{ $labels.http_route }}: p95 {{ $value | humanize }} ms, several times its usual level'
          description: 'The 95th percentile response time of {{ $labels.http_route }} on {{ $labels.service_name }} is more than 3 times its baseline (the previous hour and the same time on previous days).'

      # Calls to other services (client spans naming peer.service) per request served jump against the
      # last hour: validation repeated at every step, a retry storm, remote calls in a loop. The callee
      # gets several times the load for the same traffic, and each request waits on every call.
      - alert: CallFanOut
        expr: 'from spans kind=server OR kind=client | eval req = if(lower(kind) = "server", 1, 0) | stats count(peer.service) as calls sum(req) as n by service.name | eval value = calls / n'
        range: 5m
        for: 1m
        baseline: { windows: 12, days: 0 }
        condition: 'n >= 20 and value > 2 * baseline and value - baseline > 0.5 and zscore > 4'
        resolve_when: 'value < 1.5 * baseline'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }}: {{ $value | humanize }} calls to other services per request, far above its usual level'
          description: 'Each request to {{ $labels.service_name }} makes more than twice as many calls to other services as over the previous hour. Look for repeated validation, retries or remote calls in a loop.'

      # A service that was sending spans over the last half hour sends none now. Resolves when its
      # spans come back.
      - alert: ServiceNoData
        expr: 'from spans | stats count() as value by service.name'
        range: 5m
        for: 5m
        baseline: { windows: 6, fill_missing: true }
        condition: 'value = 0 and baseline >= 10'
        resolve_when: 'value > 0'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }} sends no spans'
          description: '{{ $labels.service_name }} sent spans over the previous half hour and none in the last 5 minutes: it may be down, or its telemetry export broken.'

  - name: monitors
    interval: 15s
    rules:
      # Any monitor (HTTP check, workflow, …) in state down. The monitor's own retries decide when it is down.
      - alert: MonitorDown
        monitor: { states: [down] }
        labels:
          severity: critical
        annotations:
          summary: 'Monitor {{ $labels.monitor_name }} ({{ $labels.system }}) is down'
          description: 'The monitor {{ $labels.monitor }} of {{ $labels.system }} reports down.'

  - name: processes
    interval: 30s
    rules:
      # A service's processes using far more CPU than over their last hour (process.cpu.utilization,
      # averaged per service): a runaway loop, a hot path, a garbage collector at work. At least 0.2
      # (a fifth of a core, or of the machine where the metric is normalised), so idle services do not page.
      - alert: ProcessCpuHigh
        metric: { name: process.cpu.utilization, agg: avg, group_by: service.name }
        range: 5m
        for: 5m
        baseline: { windows: 12, days: 0 }
        condition: 'value > 0.2 and value > 3 * baseline and zscore > 4'
        resolve_when: 'value < 2 * baseline'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }}: process CPU {{ humanizePercentage $value }}, several times its usual level'
          description: 'The processes of {{ $labels.service_name }} use more than 3 times the CPU they used over the previous hour.'

      # A service's resident memory (process.memory.usage) half again above its last hour and 100 MiB
      # more: a leak or an unbounded cache, before the process runs out of memory.
      - alert: ProcessMemoryGrowth
        metric: { name: process.memory.usage, agg: avg, group_by: service.name }
        range: 5m
        for: 5m
        baseline: { windows: 12, days: 0 }
        condition: 'value > 1.5 * baseline and value - baseline > 104857600 and zscore > 4'
        resolve_when: 'value < 1.2 * baseline'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.service_name }}: process memory {{ $value | humanize1024 }}B, far above its usual level'
          description: 'The resident memory of {{ $labels.service_name }} is more than 1.5 times (and 100 MiB above) what it was over the previous hour: look for a leak or an unbounded cache.'

  - name: hosts
    interval: 30s
    rules:
      # Idle CPU under 10% (CPU over 90% busy) for 10 minutes; resolves above 20% idle.
      - alert: HostCpuHigh
        metric: { name: system.cpu.utilization, agg: avg, where: { cpu.mode: idle }, group_by: host.name }
        range: 2m
        for: 10m
        condition: 'value < 0.1'
        resolve_when: 'value > 0.2'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.host_name }}: CPU only {{ humanizePercentage $value }} idle'
          description: 'The CPU of {{ $labels.host_name }} has been more than 90% busy for 10 minutes.'

      - alert: HostMemoryHigh
        metric: { name: system.memory.utilization, agg: avg, where: { system.memory.state: used }, group_by: host.name }
        range: 2m
        for: 5m
        condition: 'value > 0.9'
        resolve_when: 'value < 0.85'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.host_name }}: memory {{ humanizePercentage $value }} used'
          description: 'More than 90% of the memory of {{ $labels.host_name }} has been in use for 5 minutes.'

      - alert: HostDiskHigh
        metric: { name: system.filesystem.utilization, agg: avg, group_by: system.filesystem.mountpoint }
        range: 5m
        condition: 'value > 0.85'
        resolve_when: 'value < 0.8'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.system_filesystem_mountpoint }}: disk {{ humanizePercentage $value }} full'
          description: 'The file system mounted at {{ $labels.system_filesystem_mountpoint }} is more than 85% full.'

      # The disk's usage over the last 6 hours, projected in a straight line, reaches 100% within 24 hours.
      - alert: HostDiskFullSoon
        metric: { name: system.filesystem.utilization, agg: predict_linear, horizon: 24h, group_by: system.filesystem.mountpoint }
        range: 6h
        for: 30m
        condition: 'value >= 1'
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.system_filesystem_mountpoint }} will be full within 24 hours'
          description: 'At the rate of the last 6 hours, the file system mounted at {{ $labels.system_filesystem_mountpoint }} fills up within a day.'
`;

/**
 * Writes `<dir>/defaults.yml` when the directory has never been set up (no `.initialised` marker),
 * then marks it; see the module comment. Returns whether the defaults were written.
 */
export function writeDefaultRulesOnce(dir: string): boolean {
  const marker = join(dir, INITIALISED_MARKER);
  if (existsSync(marker)) return false;
  mkdirSync(dir, { recursive: true });
  const hasRules = readdirSync(dir).some((f) => /\.ya?ml$/i.test(f) && !f.startsWith('.'));
  let written = false;
  if (!hasRules) {
    // Temporary dot-file + rename: the directory watcher never reads half a file.
    const tmp = join(dir, `.${DEFAULT_RULES_FILE}.${process.pid}.tmp`);
    writeFileSync(tmp, DEFAULT_RULES_YAML);
    renameSync(tmp, join(dir, DEFAULT_RULES_FILE));
    written = true;
  }
  writeFileSync(marker, `Vigil set up this rules directory${written ? ` and wrote ${DEFAULT_RULES_FILE}` : ''}; it is not written again.\n`);
  return written;
}
