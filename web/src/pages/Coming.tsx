/** Placeholder for sections that are on their way. */
import { Link } from 'react-router-dom';
import { PageHead } from '../components/Layout.tsx';
import { Empty } from '../components/States.tsx';

const WHAT: Record<string, string> = {
  Alerts: 'Alert rules on error spikes, slow responses, downtime and resource use, with silences and notifications.',
  Incidents: 'Incidents with their timeline, diagnosis, runbooks and remediation actions.',
  Monitors: 'Uptime checks (HTTP, TCP, DNS, databases, multi-step workflows) and their history.',
  Knowledge: 'Postmortems and a searchable knowledge base, with similar past incidents.',
  Reports: 'MTTA/MTTR, alert noise and SLO reports.',
};

/** A "coming" empty state for a section of the shell. */
export function Coming({ what }: { what: string }) {
  if (what === 'Not found')
    return (
      <>
        <PageHead title="Page not found" />
        <Empty title="There is nothing at this address." action={<Link to="/">Go to the overview</Link>} />
      </>
    );
  return (
    <>
      <PageHead title={what} />
      <Empty title={`${what} are coming to the web UI.`}>
        <p>{WHAT[what]}</p>
        <p>
          Meanwhile, find what is wrong from the <Link to="/">overview</Link>, <Link to="/logs">logs</Link> and <Link to="/traces">traces</Link>.
        </p>
      </Empty>
    </>
  );
}
