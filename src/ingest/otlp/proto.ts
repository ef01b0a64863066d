import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

/** The OTLP message types Vigil reads and writes, compiled once from otlp.proto at first use. */
export interface OtlpTypes {
  traces: { request: protobuf.Type; response: protobuf.Type };
  metrics: { request: protobuf.Type; response: protobuf.Type };
  logs: { request: protobuf.Type; response: protobuf.Type };
  status: protobuf.Type;
}

let types: OtlpTypes | undefined;

/** Returns the compiled OTLP protobuf types. */
export function otlpTypes(): OtlpTypes {
  if (types) return types;
  const source = readFileSync(new URL('./otlp.proto', import.meta.url), 'utf8');
  const root = protobuf.parse(source, { keepCase: false }).root;
  const t = (name: string) => root.lookupType(`vigil.otlp.${name}`);
  types = {
    traces: { request: t('ExportTraceServiceRequest'), response: t('ExportTraceServiceResponse') },
    metrics: { request: t('ExportMetricsServiceRequest'), response: t('ExportMetricsServiceResponse') },
    logs: { request: t('ExportLogsServiceRequest'), response: t('ExportLogsServiceResponse') },
    status: t('RpcStatus'),
  };
  return types;
}
