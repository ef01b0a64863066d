/**
 * The first-run monitors file for the demo: the key user workflows of the demo LMS (log in → register
 * for a course) and RMS (calculate royalties → pay a batch). The demo services listen on ephemeral
 * ports, so each workflow's first step asks the demo's admin API (`GET /status`) for the service URL
 * and keeps it in a variable — plain workflow features, no special resolver.
 */

/** The YAML text of `demo.yaml`, for a demo admin API on `adminPort`. */
export function demoMonitorsYaml(adminPort: number): string {
  const admin = `http://127.0.0.1:${adminPort}`;
  return `# Monitors of the demo systems, written on first run because the demo is enabled.
# Edit freely: this directory is monitors as code, reloaded on change. Delete the file to drop them.
monitors:
  - id: lms-login-register
    name: LMS login and course registration
    system: lms
    type: workflow
    interval: 30s
    timeout: 15s
    retries: 1
    steps:
      - name: find the LMS
        url: ${admin}/status
        extract: { lms: services.lms-api.url }
      - name: log in
        method: POST
        url: "{{lms}}/api/login"
        body: { email: sami.kowalski.300@uni.example, password: pw-300-2126 }
        expect: { status: [200], maxResponseTime: 2s }
        extract: { token: token }
      - name: register for a course
        method: POST
        url: "{{lms}}/api/courses/1/registrations"
        headers: { authorization: "Bearer {{token}}" }
        body: {}
        expect: { status: [201, 409], maxResponseTime: 2s }

  - id: rms-calculate-pay
    name: RMS royalty calculation and payment
    system: rms
    type: workflow
    interval: 30s
    timeout: 20s
    retries: 1
    steps:
      - name: find the RMS
        url: ${admin}/status
        extract: { rms: services.rms-api.url }
      - name: calculate royalties
        method: POST
        url: "{{rms}}/api/royalties/calculate"
        body: { period: "2025-11" }
        expect: { status: [200], json: [{ path: runId }], maxResponseTime: 5s }
      - name: pay a batch
        method: POST
        url: "{{rms}}/api/payments/batches"
        body: { period: "2025-11", limit: 2 }
        expect: { status: [201], maxResponseTime: 5s }
`;
}
