/**
 * The API contract binds the server's shapers to the types the web UI reads: these assertions are
 * checked by `npx tsc --noEmit` (vitest's expectTypeOf is a no-op at run time), so a shaper that
 * drifts from the contract, or a contract field that loses its `null`, fails the type-check.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { DatabaseStatementRow, ErrorGroupRow, ExternalCallRow, MonitorStatus, OperationRow, OverviewGroup, OverviewPoint } from './contract.ts';
import { shapeDatabase, shapeExternal, shapeOperations, shapeOverview } from '../query/views/apm.ts';
import { shapeErrorGroups } from '../query/views/errors.ts';
import type { MonitorService } from '../monitors/service.ts';

describe('API contract', () => {
  it('server shapers return the contract types', () => {
    expectTypeOf(shapeOverview).returns.toEqualTypeOf<OverviewGroup[]>();
    expectTypeOf(shapeOperations).returns.toEqualTypeOf<OperationRow[]>();
    expectTypeOf(shapeDatabase).returns.toEqualTypeOf<DatabaseStatementRow[]>();
    expectTypeOf(shapeExternal).returns.toEqualTypeOf<ExternalCallRow[]>();
    expectTypeOf(shapeErrorGroups).returns.toEqualTypeOf<ErrorGroupRow[]>();
    expectTypeOf<ReturnType<MonitorService['stateOf']>>().toEqualTypeOf<MonitorStatus>();
  });

  it('figures the server may not have are nullable for every client (the UI once typed them as numbers)', () => {
    expectTypeOf<OverviewPoint['throughput_rps']>().toEqualTypeOf<number | null>();
    expectTypeOf<OperationRow['throughput_rps']>().toEqualTypeOf<number | null>();
    expectTypeOf<OperationRow['error_rate']>().toEqualTypeOf<number | null>();
    expectTypeOf<OperationRow['p95_ms']>().toEqualTypeOf<number | null>();
    expectTypeOf<DatabaseStatementRow['avg_ms']>().toEqualTypeOf<number | null>();
  });
});
